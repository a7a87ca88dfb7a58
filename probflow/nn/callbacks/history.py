"""`History`: the per-epoch logs that `Model.fit` returns."""

from __future__ import annotations

from probflow.nn.callbacks.base import Callback

__all__ = ["History"]


class History(Callback):
    """Records every epoch's logs, as Keras does.

    `Model.fit` creates a fresh one per fit and runs it after every other callback, so
    it records the keys they add to an epoch's logs (``"learning_rate"``,
    ``"kl_weight"``); `BackupAndRestore` may pre-fill it with a resumed run's epochs.

    Attributes:
        history: dict metric name -> list of per-epoch Python floats (``"loss"``,
            ``"nll"``, ``"kl"``, metric names, and ``"val_..."`` entries).
        epoch: list of the epoch indices recorded.

    Example:
        >>> h = History()
        >>> h.on_epoch_end(0, {"loss": 2.0})
        >>> h.on_epoch_end(1, {"loss": 1.5})
        >>> h.history["loss"], h.epoch
        ([2.0, 1.5], [0, 1])
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
