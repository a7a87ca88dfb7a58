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
from probflow.nn.callbacks.backup_and_restore import BackupAndRestore
from probflow.nn.callbacks.csv_logger import CSVLogger
from probflow.nn.callbacks.early_stopping import EarlyStopping
from probflow.nn.callbacks.kl_annealing import KLAnnealing
from probflow.nn.callbacks.lambda_callback import LambdaCallback
from probflow.nn.callbacks.lr_scheduler import LearningRateScheduler
from probflow.nn.callbacks.model_checkpoint import ModelCheckpoint
from probflow.nn.callbacks.reduce_lr import ReduceLROnPlateau
from probflow.nn.callbacks.tensorboard import TensorBoard

__all__ = [name for name in dir() if not name.startswith("_")]
