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
from probflow.nn.layers.bayesian_conv import (
    Conv1DFlipout,
    Conv1DReparameterization,
    Conv2DFlipout,
    Conv2DReparameterization,
)
from probflow.nn.layers.bayesian_dense import DenseFlipout, DenseReparameterization
from probflow.nn.layers.conv import Conv1D, Conv2D
from probflow.nn.layers.dense import Dense
from probflow.nn.layers.dropout import Dropout
from probflow.nn.layers.initializers import get_initializer
from probflow.nn.layers.layer import Layer
from probflow.nn.layers.normalization import BatchNormalization
from probflow.nn.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from probflow.nn.layers.posteriors import MeanFieldNormal
from probflow.nn.layers.registry import get_layer_class, register_layer, registered_layers
from probflow.nn.layers.reshape import Flatten, Reshape

# -- merge layers and Lambda (Keras vocabulary, issue 16) ------------------------------
# isort: split
from probflow.nn.layers.lambda_layer import Lambda, register_lambda_function
from probflow.nn.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

# Explicit: dir() would also list the submodules, which `from ... import *` must not spread.
__all__ = [
    "Activation",
    "AveragePooling1D",
    "AveragePooling2D",
    "BatchNormalization",
    "Conv1D",
    "Conv1DFlipout",
    "Conv1DReparameterization",
    "Conv2D",
    "Conv2DFlipout",
    "Conv2DReparameterization",
    "Dense",
    "DenseFlipout",
    "DenseReparameterization",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Layer",
    "LeakyReLU",
    "MaxPooling1D",
    "MaxPooling2D",
    "MeanFieldNormal",
    "Reshape",
    "get_activation",
    "get_initializer",
    "get_layer_class",
    "register_activation",
    "register_layer",
    "registered_layers",
    # merge layers and Lambda
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Lambda",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "register_lambda_function",
]
