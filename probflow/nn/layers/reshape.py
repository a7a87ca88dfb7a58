"""Shape-only layers: `Flatten` and `Reshape` (the first axis of `x` is the batch)."""

from __future__ import annotations

import math

import jax.numpy as jnp

from probflow.nn.layers.layer import Layer
from probflow.nn.layers.registry import register_layer

__all__ = ["Flatten", "Reshape"]


@register_layer
class Flatten(Layer):
    """Flattens each example to one axis.

    Args:
        name: layer name.

    Example:
        >>> import jax.numpy as jnp
        >>> Flatten().output_shape((4, 4, 3))
        (48,)
        >>> Flatten().apply({}, {}, jnp.ones((2, 4, 4, 3)))[0].shape
        (2, 48)
    """

    def _output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        x = jnp.asarray(x)
        return x.reshape(x.shape[:1] + (-1,)), state


@register_layer
class Reshape(Layer):
    """Reshapes each example to `target_shape` (one entry may be -1).

    Args:
        target_shape: the per-example output shape.
        name: layer name.

    Example:
        >>> Reshape((-1, 2)).output_shape((3, 4))
        (6, 2)
    """

    def __init__(self, target_shape, *, name=None):
        super().__init__(name=name)
        owner = f"Reshape {self.name!r}"
        try:
            target = tuple(int(s) for s in target_shape)
        except TypeError:
            raise TypeError(f"{owner}: `target_shape` must be a tuple of ints; got {target_shape!r}") from None
        if sum(s == -1 for s in target) > 1 or any(s == 0 or s < -1 for s in target):
            raise ValueError(
                f"{owner}: `target_shape` must hold positive ints and at most one -1; got {target}"
            )
        self.target_shape = target
        self._config = {"target_shape": target}

    def _output_shape(self, input_shape):
        size = math.prod(input_shape)
        known = math.prod(s for s in self.target_shape if s != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(self._mismatch(input_shape))
            return tuple(size // known if s == -1 else s for s in self.target_shape)
        if known != size:
            raise ValueError(self._mismatch(input_shape))
        return self.target_shape

    def _check_input_shape(self, input_shape):
        self._output_shape(input_shape)

    def _mismatch(self, input_shape):
        return (
            f"Reshape {self.name!r}: `target_shape` {self.target_shape} does not fit an input "
            f"of shape {input_shape} ({math.prod(input_shape)} values per example)"
        )

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        x = jnp.asarray(x)
        return x.reshape(x.shape[:1] + self.target_shape), state
