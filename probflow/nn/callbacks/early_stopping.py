"""`EarlyStopping`: stop when a monitored quantity stops improving."""

from __future__ import annotations

import math
import warnings

from probflow.nn.callbacks.base import Callback

__all__ = ["EarlyStopping", "monitor_better"]


def monitor_better(mode: str, monitor: str):
    """``better(current, reference, min_delta) -> bool`` for a mode ("min" / "max" / "auto").

    ``"auto"`` maximises accuracy-like names and minimises everything else.

    Example:
        >>> better = monitor_better("auto", "val_accuracy")
        >>> better(0.9, 0.8, 0.0), better(0.8, 0.9, 0.0)
        (True, False)
    """
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"`mode` must be 'auto', 'min' or 'max'; got {mode!r}")
    if mode == "auto":
        name = monitor.removeprefix("val_")
        mode = "max" if name in ("accuracy", "acc") or name.startswith("accuracy_") else "min"
    if mode == "min":
        return lambda current, reference, min_delta: current < reference - min_delta
    return lambda current, reference, min_delta: current > reference + min_delta


class EarlyStopping(Callback):
    """Stops training once `monitor` has not improved for `patience` epochs (Keras rules).

    An epoch improves when the monitored value beats the best so far by more than
    `min_delta`. After `patience` epochs without improvement the model's
    ``stop_training`` is set. With `restore_best_weights`, the params and layer state of
    the best epoch are put back when training ends (the optimizer state is kept).

    Args:
        monitor: log name, e.g. ``"val_loss"``, ``"loss"``, ``"val_accuracy"``.
        min_delta: smallest change that counts as an improvement (>= 0).
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy names).
        baseline: epochs that do not beat it count as waiting even when they improve on
            the best so far, so training stops after `patience` epochs unless it is beaten
            (None: no baseline).
        restore_best_weights: restore the best epoch's weights at the end.
        start_from_epoch: epochs of warm-up before improvement is tracked.
        verbose: 1 prints a line when it stops.

    Attributes:
        stopped_epoch: the epoch after which training stopped (None when it ran out).
        best: best monitored value; best_epoch: its epoch.

    Example:
        >>> class _M:
        ...     stop_training = False
        >>> cb = EarlyStopping(monitor="loss", patience=1)
        >>> cb.set_model(_M()); cb.on_train_begin()
        >>> for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.4]):
        ...     cb.on_epoch_end(epoch, {"loss": loss})
        ...     if cb.model.stop_training:
        ...         break
        >>> cb.stopped_epoch, cb.best_epoch
        (2, 1)
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", *,
                 baseline=None, restore_best_weights=False, start_from_epoch=0, verbose=0):
        super().__init__()
        if not min_delta >= 0:
            raise ValueError(f"`min_delta` must be >= 0; got {min_delta}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"`patience` must be an int >= 0; got {patience!r}")
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.patience = patience
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose
        self._better = monitor_better(mode, monitor)
        self._warned = False
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.best = None
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            if not self._warned:
                warnings.warn(f"EarlyStopping: `monitor`={self.monitor!r} is not in the logs "
                              f"(available: {sorted(logs or {})}); not stopping", stacklevel=2)
                self._warned = True
            return
        if epoch < self.start_from_epoch or math.isnan(current):
            return
        self.wait += 1
        if self.best is None or self._better(current, self.best, self.min_delta):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights and self.model.train_state is not None:
                # Arrays are immutable: keeping references is a snapshot.
                state = self.model.train_state
                self.best_weights = (state.params, state.layer_state)
            # An epoch that fails to beat the baseline is the best so far yet still counts
            # as waiting, so a run that never reaches the baseline stops after `patience`.
            if self.baseline is None or self._better(current, self.baseline, self.min_delta):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"EarlyStopping: stopped after epoch {self.stopped_epoch + 1}; best "
                  f"{self.monitor} = {self.best:.6g} at epoch {self.best_epoch + 1}")
        if self.restore_best_weights and self.best_weights is not None:
            params, layer_state = self.best_weights
            self.model.train_state = self.model.train_state._replace(
                params=params, layer_state=layer_state)
