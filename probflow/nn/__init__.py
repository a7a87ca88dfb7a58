"""Keras-style neural networks with Bayesian layers.

Example:
    >>> from probflow import nn
"""

# -- layers (deterministic and Bayesian) -----------------------------------------------
from probflow.nn import layers
from probflow.nn.layers import *  # noqa: F403  (every public layer, listed in layers.__all__)

# -- models, training, likelihoods, callbacks, saving ----------------------------------
# isort: split
from probflow.nn import callbacks, likelihoods, metrics
from probflow.nn.functional import Input
from probflow.nn.model import Model
from probflow.nn.saving import load_model
from probflow.nn.sequential import Sequential
from probflow.nn.convert import clone_model, to_bayesian
from probflow.nn.utils import to_categorical

# `training` is the trainer's machinery, loaded by model.py: internal, not exported.
__all__ = [name for name in dir() if not name.startswith("_") and name != "training"]
