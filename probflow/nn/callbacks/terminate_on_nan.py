"""`TerminateOnNaN`: stop training once the loss stops being finite."""

from __future__ import annotations

import math

from probflow.nn.callbacks.base import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops training at the end of the first epoch whose loss is NaN or infinite.

    It checks epoch logs, not batch logs, so it keeps the fused one-scan-per-epoch
    path; the epoch whose mean loss is not finite is the last one run.

    Example:
        >>> class _M:
        ...     stop_training = False
        >>> cb = TerminateOnNaN()
        >>> cb.set_model(_M())
        >>> cb.on_epoch_end(0, {"loss": float("nan")})
        >>> cb.model.stop_training, cb.stopped_epoch
        (True, 0)
    """

    def __init__(self):
        super().__init__()
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stopped_epoch = epoch
            self.model.stop_training = True
