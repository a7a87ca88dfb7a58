"""Training callbacks: hooks that run in Python between compiled training epochs.

Example:
    >>> from probflow.nn import callbacks
    >>> h = callbacks.History()
"""

# -- core: base, list, History, ProgressBar, TerminateOnNaN ----------------------------
from probflow.nn.callbacks.base import Callback, CallbackList, overrides_hook
from probflow.nn.callbacks.history import History
from probflow.nn.callbacks.progress import ProgressBar
from probflow.nn.callbacks.terminate_on_nan import TerminateOnNaN

# -- more callbacks: EarlyStopping, ModelCheckpoint, schedulers, loggers, KLAnnealing --

__all__ = [name for name in dir() if not name.startswith("_")]
