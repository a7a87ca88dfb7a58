"""`ReduceLROnPlateau`: lower the learning rate when a metric stops improving."""

from __future__ import annotations

import math
import warnings

from probflow.nn.callbacks.base import Callback
from probflow.nn.callbacks.early_stopping import monitor_better

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` after `patience` epochs without improvement.

    Same rules as Keras: an improvement beats the best by more than `min_delta`; after a
    reduction, `cooldown` epochs pass before waiting starts again; the rate never goes
    below `min_lr`. The rate lives in the optimizer state, so nothing recompiles.

    Args:
        monitor: log name to watch.
        factor: multiplier in (0, 1).
        patience: epochs without improvement before a reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction.
        min_lr: lower bound on the rate.
        verbose: 1 prints a line per reduction.

    Example:
        >>> class _M:
        ...     learning_rate = 1.0
        >>> cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
        >>> cb.set_model(_M()); cb.on_train_begin()
        >>> for epoch, loss in enumerate([1.0, 1.0, 0.5, 0.6]):
        ...     cb.on_epoch_end(epoch, {"loss": loss})
        >>> cb.model.learning_rate
        0.25
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto", *,
                 min_delta=1e-4, cooldown=0, min_lr=0.0, verbose=0):
        super().__init__()
        if not 0.0 < factor < 1.0:
            raise ValueError(f"`factor` must be in (0, 1); got {factor}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"`patience` must be an int >= 0; got {patience!r}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = patience
        self.min_delta = float(min_delta)
        self.cooldown = cooldown
        self.min_lr = float(min_lr)
        self.verbose = verbose
        self._better = monitor_better(mode, monitor)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        lr = self.model.learning_rate
        if lr is None:
            raise ValueError("ReduceLROnPlateau needs the learning rate in the optimizer "
                             "state: compile with a named optimizer or wrap yours with "
                             "optax.inject_hyperparams")
        logs["learning_rate"] = lr
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: `monitor`={self.monitor!r} is not in the logs "
                          f"(available: {sorted(logs)})", stacklevel=2)
            return
        if math.isnan(current):
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.best is None or self._better(current, self.best, self.min_delta):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new_lr = max(lr * self.factor, self.min_lr)
                self.model.learning_rate = new_lr
                self.cooldown_counter, self.wait = self.cooldown, 0
                if self.verbose:
                    print(f"ReduceLROnPlateau: epoch {epoch + 1}: learning rate -> {new_lr:.6g}")
