"""`BackupAndRestore`: resume a killed training run exactly where it stopped."""

from __future__ import annotations

import contextlib
import math
import os

from probflow.nn.callbacks.base import Callback

__all__ = ["BackupAndRestore"]

BACKUP_FORMAT = "probflow.backup"
BACKUP_NAME = "backup.probflow"


def _encode(value):
    # JSON has no NaN/inf; History may hold them (a diverged epoch).
    return value if math.isfinite(value) else repr(value)


def _decode(value, source):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    raise ValueError(f"{source}: history values must be numbers; got {value!r:.100}")


class BackupAndRestore(Callback):
    """Backs up the whole train state after every epoch and restores it on restart.

    At the end of each epoch the `TrainState` (params, layer state, optimizer state,
    RNG key, counters, KL weight) and the `History` so far are written atomically to
    ``backup_dir/backup.probflow``. When `fit` starts and a backup exists, it is loaded
    and the completed epochs are skipped, so a run killed at any moment (even by
    SIGKILL) and started again with the same call ends with exactly the weights of an
    uninterrupted run. The backup is deleted when `fit` completes (also after an early
    stop), and kept after Ctrl-C or an error.

    Put it last in `callbacks` when other callbacks change the train state at epoch
    end (ReduceLROnPlateau), so the backup includes their change. The internal
    counters of other callbacks (EarlyStopping's patience) are not backed up.

    Args:
        backup_dir: folder for the backup file (created as needed).
        save_freq: back up every `save_freq` epochs.
        delete_checkpoint: delete the backup when training completes.

    Example:
        >>> import tempfile
        >>> cb = BackupAndRestore(tempfile.mkdtemp())
        >>> cb.has_backup()
        False
    """

    def __init__(self, backup_dir, *, save_freq=1, delete_checkpoint=True):
        super().__init__()
        if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1:
            raise ValueError(f"`save_freq` must be an int >= 1 (epochs); got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.restored_epoch = None

    @property
    def path(self) -> str:
        """The backup file."""
        return os.path.join(self.backup_dir, BACKUP_NAME)

    def has_backup(self) -> bool:
        """Whether a backup file exists."""
        return os.path.isfile(self.path)

    def on_train_begin(self, logs=None):
        self.restored_epoch = None
        if self.has_backup():
            self._restore()

    def _restore(self):
        from probflow.nn.saving.archive import read_archive
        from probflow.nn.saving.train_state_io import unpack_train_state

        model, source = self.model, self.path
        config, arrays = read_archive(source)
        if config.get("format") != BACKUP_FORMAT:
            raise ValueError(f"{source}: not a BackupAndRestore file (format="
                             f"{config.get('format')!r:.100})")
        next_epoch = config.get("next_epoch")
        if isinstance(next_epoch, bool) or not isinstance(next_epoch, int) or next_epoch < 0:
            raise ValueError(f"{source}: next_epoch must be an int >= 0; got "
                             f"{next_epoch!r:.100}")
        try:
            state = unpack_train_state(model.train_state, arrays, config.get("key_impl"),
                                       source=source)
        except ValueError as err:
            raise ValueError(f"{err}. The backup belongs to a different model or optimizer; "
                             f"delete {self.backup_dir!r} to start afresh") from None
        history, epochs = config.get("history") or {}, config.get("history_epochs") or []
        if not (isinstance(history, dict) and isinstance(epochs, list)
                and all(isinstance(v, list) for v in history.values())):
            raise ValueError(f"{source}: malformed history")
        model.train_state = state
        model.initial_epoch = next_epoch
        if model.history is not None:
            model.history.history = {str(k): [_decode(v, source) for v in values]
                                     for k, values in history.items()}
            model.history.epoch = [int(e) for e in epochs]
        self.restored_epoch = next_epoch

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.save_freq:
            return
        from probflow.nn.saving.archive import write_archive
        from probflow.nn.saving.train_state_io import pack_train_state

        arrays, key_impl = pack_train_state(self.model.train_state)
        # History runs after every other callback, so this epoch is not in it yet.
        history = self.model.history
        records = {k: list(v) for k, v in (history.history if history else {}).items()}
        for name, value in (logs or {}).items():
            records.setdefault(name, []).append(value)
        config = {
            "format": BACKUP_FORMAT,
            "format_version": 1,
            "next_epoch": epoch + 1,
            "key_impl": key_impl,
            "history": {k: [_encode(v) for v in values] for k, values in records.items()},
            "history_epochs": (list(history.epoch) if history else []) + [epoch],
        }
        write_archive(self.path, config, arrays)

    def on_train_end(self, logs=None):
        # Only a run that finished (not Ctrl-C, not an error) drops its backup.
        if self.delete_checkpoint and getattr(self.model, "training_completed", False):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
            with contextlib.suppress(OSError):
                os.rmdir(self.backup_dir)
