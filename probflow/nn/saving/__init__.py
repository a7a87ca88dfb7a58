"""Saving and loading models: one atomic zip archive, never a pickle.

Example:
    >>> from probflow.nn.saving import load_model, save_model
"""

from probflow.nn.saving.archive import atomic_write, read_archive, write_archive
from probflow.nn.saving.model_io import load_model, load_weights, save_model, save_weights

__all__ = [name for name in dir() if not name.startswith("_")]
