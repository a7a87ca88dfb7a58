"""`ModelCheckpoint`: save the model (or its weights) after epochs, optionally the best."""

from __future__ import annotations

import math
import os
import warnings

from probflow.nn.callbacks.base import Callback
from probflow.nn.callbacks.early_stopping import monitor_better

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """Writes ``model.save(path)`` (or ``save_weights``) at the end of epochs.

    `filepath` is a `str.format` template filled with ``epoch`` (1-based, as in Keras)
    and the epoch's logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.3f}.probflow"``. Every
    write is atomic, so an interrupted save never corrupts the previous checkpoint.

    Args:
        filepath: file name template (folders are created as needed).
        monitor: log name compared when `save_best_only`.
        save_best_only: write only when `monitor` improves on the best so far.
        save_weights_only: write `save_weights` archives instead of whole models.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_freq: save every `save_freq` epochs (int >= 1).
        initial_value_threshold: the value to beat before the first save (best only).
        verbose: 1 prints a line per save.

    Attributes:
        saved: the paths written, in order.

    Example:
        >>> cb = ModelCheckpoint("ckpt-{epoch:02d}-{val_loss:.3f}.probflow")
        >>> cb.format_path(2, {"val_loss": 0.12345})
        'ckpt-03-0.123.probflow'
    """

    def __init__(self, filepath, monitor="val_loss", *, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq=1,
                 initial_value_threshold=None, verbose=0):
        super().__init__()
        self.filepath = os.fspath(filepath)
        if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1:
            raise ValueError(f"`save_freq` must be an int >= 1 (epochs); got {save_freq!r}")
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.verbose = verbose
        self._better = monitor_better(mode, monitor)
        self.best = initial_value_threshold
        self.saved = []

    def format_path(self, epoch: int, logs: dict) -> str:
        """The file name for 0-based `epoch` and its `logs`."""
        try:
            return self.filepath.format(epoch=epoch + 1, **(logs or {}))
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"ModelCheckpoint: `filepath` {self.filepath!r} cannot be filled from epoch "
                f"and logs {sorted(logs or {})}: {type(err).__name__}: {err}"
            ) from None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if (epoch + 1) % self.save_freq:
            return
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: `monitor`={self.monitor!r} is not in the "
                              f"logs (available: {sorted(logs)}); skipping", stacklevel=2)
                return
            if math.isnan(current) or (self.best is not None
                                       and not self._better(current, self.best, 0.0)):
                return
            self.best = current
        path = self.format_path(epoch, logs)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        self.saved.append(path)
        if self.verbose:
            print(f"ModelCheckpoint: epoch {epoch + 1}: saved {path}")
