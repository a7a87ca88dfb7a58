"""`CSVLogger`: one CSV row per epoch (epoch, then the logs)."""

from __future__ import annotations

import csv
import os

from probflow.nn.callbacks.base import Callback

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Streams epoch logs to a CSV file, flushed after every row.

    Columns are ``epoch`` then the log names (sorted), fixed by the first epoch written;
    a log missing later is written as ``NA``. Floats are written with `repr`, so reading
    them back gives the exact values of `History`.

    Args:
        filename: the CSV file.
        separator: column separator.
        append: append to an existing file (no second header) instead of overwriting.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> cb = CSVLogger(path)
        >>> cb.on_train_begin(); cb.on_epoch_end(0, {"loss": 0.5}); cb.on_train_end()
        >>> open(path).read().splitlines()
        ['epoch,loss', '0,0.5']
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        has_rows = (self.append and os.path.isfile(self.filename)
                    and os.path.getsize(self.filename) > 0)
        self.keys = None
        if has_rows:
            with open(self.filename, newline="") as file:
                header = next(csv.reader(file, delimiter=self.separator), None)
            if header and header[0] == "epoch":
                self.keys = header[1:]
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")
        self._write_header = self.keys is None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._write_header:
            self._writer.writerow(["epoch"] + self.keys)
            self._write_header = False
        self._writer.writerow([epoch] + [repr(float(logs[k])) if k in logs else "NA"
                                         for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None
