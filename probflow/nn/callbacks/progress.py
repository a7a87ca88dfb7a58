"""`ProgressBar`: a Keras-like progress display, one update per epoch."""

from __future__ import annotations

import sys

from probflow.nn.callbacks.base import Callback

__all__ = ["ProgressBar", "format_logs"]


def format_logs(logs: dict) -> str:
    """Formats epoch logs as Keras does: ``"loss: 0.1234 - accuracy: 0.9000"``.

    Example:
        >>> format_logs({"loss": 0.12345, "val_loss": 0.2})
        'loss: 0.1235 - val_loss: 0.2000'
    """
    return " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())


class ProgressBar(Callback):
    """Shows training progress: a tqdm bar over epochs, or one line per epoch.

    Only epoch hooks are used, so showing progress never forces the per-batch Python
    loop (an epoch stays one compiled program).

    Args:
        mode: ``"bar"`` (tqdm bar over epochs with the latest logs; `verbose=1`) or
            ``"line"`` (one printed line per epoch; `verbose=2`).
        file: where to write; default `sys.stderr` for the bar, `sys.stdout` for lines.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> pb = ProgressBar(mode="line", file=out)
        >>> pb.set_params({"epochs": 2})
        >>> pb.on_epoch_end(0, {"loss": 1.0})
        >>> out.getvalue().strip()
        'Epoch 1/2 - loss: 1.0000'
    """

    def __init__(self, mode: str = "bar", *, file=None):
        super().__init__()
        if mode not in ("bar", "line"):
            raise ValueError(f"`mode` must be 'bar' or 'line'; got {mode!r}")
        self.mode = mode
        self.file = file
        self._bar = None

    def on_train_begin(self, logs=None):
        if self.mode != "bar":
            return
        from tqdm.auto import tqdm

        epochs = self.params.get("epochs", 1)
        # BackupAndRestore may have moved the start after fit began.
        initial = getattr(self.model, "initial_epoch", None) or self.params.get("initial_epoch", 0)
        self._bar = tqdm(
            total=epochs, initial=initial, unit="epoch", file=self.file or sys.stderr,
            dynamic_ncols=True, leave=True,
        )

    def on_epoch_end(self, epoch, logs=None):
        text = format_logs(logs or {})
        if self.mode == "line":
            epochs = self.params.get("epochs", "?")
            print(f"Epoch {epoch + 1}/{epochs} - {text}", file=self.file or sys.stdout)
            return
        if self._bar is not None:
            self._bar.set_description(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}")
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
