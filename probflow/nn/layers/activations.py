"""Activation functions by name, and the `Activation` and `LeakyReLU` layers.

Example:
    >>> import jax.numpy as jnp
    >>> float(get_activation("relu")(jnp.asarray(-1.0)))
    0.0
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.nn.layers.layer import Layer
from probflow.nn.layers.registry import register_layer

__all__ = ["Activation", "LeakyReLU", "get_activation", "activation_name", "register_activation"]


def linear(x):
    """The identity."""
    return x


def gelu(x):
    """Exact (erf) GELU, Keras' default."""
    return jax.nn.gelu(x, approximate=False)


def softmax(x):
    """Softmax over the last axis."""
    return jax.nn.softmax(x, axis=-1)


def log_softmax(x):
    """Log-softmax over the last axis."""
    return jax.nn.log_softmax(x, axis=-1)


_ACTIVATIONS = {
    "linear": linear,
    "relu": jax.nn.relu,
    "relu6": jax.nn.relu6,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "softplus": jax.nn.softplus,
    "softsign": jax.nn.soft_sign,
    "gelu": gelu,
    "swish": jax.nn.silu,
    "silu": jax.nn.silu,
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "exponential": jnp.exp,
    "softmax": softmax,
    "log_softmax": log_softmax,
}


def register_activation(name: str, fn):
    """Registers `fn` under `name`, so layers using it can be saved and loaded.

    Example:
        >>> register_activation("square", lambda x: x * x)  # doctest: +ELLIPSIS
        <function <lambda> at ...>
    """
    if not callable(fn):
        raise TypeError(f"register_activation: `fn` must be callable; got {fn!r}")
    _ACTIVATIONS[name] = fn
    return fn


def get_activation(spec):
    """Returns an activation function from a name, a callable, or None (identity).

    Args:
        spec: ``None``, a registered name (relu, tanh, sigmoid, softplus, gelu, swish,
            softmax, ...), or a callable on arrays.

    Returns:
        The function.

    Example:
        >>> import jax.numpy as jnp
        >>> get_activation("relu")(jnp.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    if spec is None:
        return linear
    if callable(spec):
        return spec
    if isinstance(spec, str) and spec in _ACTIVATIONS:
        return _ACTIVATIONS[spec]
    raise ValueError(
        f"`activation` must be None, a callable, or one of {sorted(_ACTIVATIONS)}; got {spec!r}"
    )


def activation_name(spec):
    """The JSON form of an activation: its registered name."""
    if spec is None or isinstance(spec, str):
        return spec
    for name, fn in _ACTIVATIONS.items():
        if fn is spec:
            return name
    raise ValueError(
        f"cannot serialise custom activation {spec!r}; register it with "
        "probflow.nn.layers.register_activation(name, fn) and pass the name"
    )


@register_layer
class Activation(Layer):
    """Applies an activation function elementwise (softmax: over the last axis).

    Args:
        activation: a name (relu, tanh, sigmoid, softplus, gelu, swish, softmax, ...)
            or a callable.
        name: layer name; Keras-style automatic when None.

    Example:
        >>> import jax.numpy as jnp
        >>> layer = Activation("relu")
        >>> layer.apply({}, {}, jnp.asarray([[-1.0, 2.0]]))[0]
        Array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, *, name=None):
        super().__init__(name=name)
        self.activation = get_activation(activation)
        self._config = {"activation": activation}

    def _json_value(self, argument, value):
        return activation_name(value) if argument == "activation" else super()._json_value(
            argument, value)

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        return self.activation(x), state


@register_layer
class LeakyReLU(Layer):
    """Leaky ReLU: ``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: slope for negative inputs (Keras default 0.3), >= 0.
        name: layer name.

    Example:
        >>> import jax.numpy as jnp
        >>> LeakyReLU(0.5).apply({}, {}, jnp.asarray([[-2.0, 2.0]]))[0]
        Array([[-1.,  2.]], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, *, name=None):
        super().__init__(name=name)
        negative_slope = float(negative_slope)
        if not negative_slope >= 0:
            raise ValueError(f"LeakyReLU: `negative_slope` must be >= 0; got {negative_slope}")
        self.negative_slope = negative_slope
        self._config = {"negative_slope": negative_slope}

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        return jnp.where(x >= 0, x, self.negative_slope * x), state
