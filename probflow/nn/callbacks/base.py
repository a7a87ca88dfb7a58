"""The `Callback` base class and the `CallbackList` the trainer drives.

Callbacks run in Python, outside the compiled training program, and read plain Python
floats in `logs`. A hook that no callback overrides is never called, and the trainer
asks `CallbackList.has_batch_hooks` before each fit: when no callback overrides a
training-batch hook (`on_train_batch_begin`/`_end` or their older names
`on_batch_begin`/`_end`), an epoch stays one compiled `lax.scan` over batches;
otherwise the trainer falls back to a Python loop calling the same jitted step.

Every Keras hook name exists. `on_train_batch_*` and `on_batch_*` are one event: a
callback that overrides `on_train_batch_end` gets it, else one that overrides
`on_batch_end` does (never both for one callback, as in Keras). A method named `on_*`
that is no hook (a typo such as `on_epoch_ends`) would never run, so `CallbackList`
warns about it.
"""

from __future__ import annotations

import warnings

__all__ = ["Callback", "CallbackList", "overrides_hook"]

_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)
# What a callback must offer to be accepted (objects written before the Keras aliases).
_REQUIRED_HOOKS = _HOOKS[:6] + ("on_predict_begin", "on_predict_end")
# Training-batch events: (Keras name, older alias). Either override receives the event.
_TRAIN_BATCH = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
# Backwards-compatible name: the two events whose listeners force the Python batch loop.
_BATCH_HOOKS = tuple(_TRAIN_BATCH)


class Callback:
    """Base class of training callbacks: override the hooks you need.

    The trainer calls `set_model` before training. Inside a hook, `self.model` is the
    `probflow.nn.Model` being fitted: read `model.params`, `model.train_state`, set
    `model.stop_training = True` to stop after the current epoch (or batch, on the
    batch-loop path), or change `model.learning_rate` / `model.kl_weight` (traced
    values of the train state, so no recompilation).

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, round(logs["loss"], 2))
        >>> PrintLoss().on_epoch_end(0, {"loss": 1.234})
        0 1.23
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model) -> None:
        """Attaches the model being trained."""
        self.model = model

    def set_params(self, params: dict) -> None:
        """Receives the fit settings (epochs, steps per epoch, verbose, ...)."""
        self.params = dict(params)

    def on_train_begin(self, logs=None):
        """Called once before the first epoch."""

    def on_train_end(self, logs=None):
        """Called once after the last epoch (also after a stop or Ctrl-C)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch (0-based `epoch`)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with the epoch's training/validation logs."""

    def on_batch_begin(self, batch, logs=None):
        """Called before each training step; overriding it disables the fused epoch."""

    def on_batch_end(self, batch, logs=None):
        """Called after each training step with that batch's logs; see `on_batch_begin`."""

    def on_train_batch_begin(self, batch, logs=None):
        """Keras's name for `on_batch_begin` (the default forwards to it)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Keras's name for `on_batch_end` (the default forwards to it)."""
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None):
        """Called before the validation pass of each epoch (and around `evaluate`)."""

    def on_test_end(self, logs=None):
        """Called after the validation pass with its logs (``loss``, metrics; no prefix)."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch (where the evaluation loop dispatches it)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch (where the evaluation loop dispatches it)."""

    def on_predict_begin(self, logs=None):
        """Called at the start of `predict` / `predictive`."""

    def on_predict_end(self, logs=None):
        """Called at the end of `predict` / `predictive`."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch (where the predict loop dispatches it)."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch (where the predict loop dispatches it)."""


def overrides_hook(callback, hook: str) -> bool:
    """Whether `callback` implements `hook` itself rather than inheriting the no-op.

    Args:
        callback: a `Callback` (or any object with the hook methods).
        hook: a hook name such as ``"on_batch_end"``.

    Returns:
        True when the class overrides it or the instance carries its own function
        (as a lambda-based callback does).

    Example:
        >>> class C(Callback):
        ...     def on_batch_end(self, batch, logs=None):
        ...         pass
        >>> overrides_hook(C(), "on_batch_end"), overrides_hook(C(), "on_epoch_end")
        (True, False)
    """
    if hook not in _HOOKS:
        raise ValueError(f"`hook` must be one of {_HOOKS}; got {hook!r}")
    if hook in getattr(callback, "__dict__", {}):
        return True
    method = getattr(type(callback), hook, None)
    return method is not None and method is not getattr(Callback, hook)


def _warn_unknown_hooks(callback) -> None:
    """Warns about `on_*` methods that no event calls (typos, TF-only names)."""
    names = {n for n in dir(type(callback)) if n.startswith("on_")}
    names |= {n for n in getattr(callback, "__dict__", {}) if n.startswith("on_")}
    unknown = sorted(n for n in names if n not in _HOOKS and callable(getattr(callback, n)))
    if unknown:
        warnings.warn(
            f"callback {type(callback).__name__} defines {unknown}, which no training, "
            f"evaluation or prediction event calls; the hooks are {list(_HOOKS)}",
            UserWarning, stacklevel=3,
        )


class CallbackList:
    """Dispatches hooks to several callbacks, skipping those that do not override them.

    Args:
        callbacks: an iterable of `Callback`s (None for none).
        model: the model to attach with `set_model`.
        params: the fit settings handed to `set_params`.

    Example:
        >>> cbs = CallbackList([Callback()])
        >>> cbs.has_batch_hooks
        False
    """

    def __init__(self, callbacks=None, *, model=None, params=None):
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not all(hasattr(cb, hook) for hook in _REQUIRED_HOOKS):
                raise TypeError(
                    "`callbacks` must hold probflow.nn.callbacks.Callback instances; "
                    f"got {type(cb).__name__}"
                )
            _warn_unknown_hooks(cb)
        self.callbacks = callbacks
        # Resolved once: the per-event subscriber lists keep dispatch cheap.
        self._subscribers = {
            hook: [getattr(cb, hook) for cb in callbacks if overrides_hook(cb, hook)]
            for hook in _HOOKS if hook not in _TRAIN_BATCH.values()
        }
        for keras_name, alias in _TRAIN_BATCH.items():
            self._subscribers[keras_name] = [
                getattr(cb, keras_name) if overrides_hook(cb, keras_name) else getattr(cb, alias)
                for cb in callbacks
                if overrides_hook(cb, keras_name) or overrides_hook(cb, alias)
            ]
        if model is not None:
            for cb in callbacks:
                cb.set_model(model)
        if params is not None:
            for cb in callbacks:
                cb.set_params(params)

    @property
    def has_batch_hooks(self) -> bool:
        """Whether any callback needs per-training-batch calls (forces the Python loop)."""
        return any(self._subscribers[hook] for hook in _BATCH_HOOKS)

    @property
    def has_test_batch_hooks(self) -> bool:
        """Whether any callback listens to evaluation batches."""
        return any(self._subscribers[h] for h in ("on_test_batch_begin", "on_test_batch_end"))

    @property
    def has_predict_batch_hooks(self) -> bool:
        """Whether any callback listens to prediction batches."""
        return any(self._subscribers[h] for h in ("on_predict_batch_begin",
                                                   "on_predict_batch_end"))

    def _dispatch(self, hook, *args):
        for fn in self._subscribers[hook]:
            fn(*args)

    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._dispatch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._dispatch("on_train_batch_end", batch, logs)

    # The older names are the same event: one call per callback either way.
    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_begin(self, logs=None):
        self._dispatch("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._dispatch("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._dispatch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._dispatch("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._dispatch("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._dispatch("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._dispatch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._dispatch("on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)
