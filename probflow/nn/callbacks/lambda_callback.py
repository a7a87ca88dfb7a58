"""`LambdaCallback`: a callback made of plain functions."""

from __future__ import annotations

from probflow.nn.callbacks.base import _HOOKS, Callback

__all__ = ["LambdaCallback"]


class LambdaCallback(Callback):
    """Builds a callback from functions passed by hook name.

    Only the hooks given are installed, so a LambdaCallback without batch functions
    keeps training on the fused one-program-per-epoch path.

    Args:
        **hooks: ``on_epoch_end=fn(epoch, logs)``, ``on_train_batch_end=fn(batch, logs)``
            (or its alias ``on_batch_end``), ``on_train_begin=fn(logs)``,
            ``on_test_end=fn(logs)``, ``on_predict_batch_end=fn(batch, logs)``, ... (every
            Keras hook name; see `Callback`).

    Example:
        >>> seen = []
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> cb.on_epoch_end(3, {})
        >>> seen
        [3]
    """

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; expected one of "
                                f"{list(_HOOKS)}")
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: `{name}` must be callable; got "
                                f"{type(fn).__name__}")
            # An instance attribute is what `overrides_hook` looks for.
            setattr(self, name, fn)
