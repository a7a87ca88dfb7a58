"""Deterministic and Bayesian layers (config + pure `init` / `apply`).

Example:
    >>> from probflow.nn import layers
    >>> layers.Dense(3).output_shape((5,))
    (3,)
"""

from probflow.nn.layers.activations import (
    Activation,
    LeakyReLU,
    get_activation,
    register_activation,
)
from probflow.nn.layers.bayesian_dense import DenseFlipout, DenseReparameterization
from probflow.nn.layers.dense import Dense
from probflow.nn.layers.initializers import get_initializer
from probflow.nn.layers.layer import Layer
from probflow.nn.layers.posteriors import MeanFieldNormal
from probflow.nn.layers.registry import get_layer_class, register_layer, registered_layers

__all__ = [name for name in dir() if not name.startswith("_")]
