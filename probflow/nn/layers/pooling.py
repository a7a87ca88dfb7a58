"""Pooling, channels-last: Max/AveragePooling1D/2D and the global average/max poolings.

Average pooling with ``padding="same"`` divides by the number of real (unpadded)
inputs in each window, as Keras does.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from probflow.nn.layers.conv import as_tuple, check_padding, conv_output_length, flatten_batch
from probflow.nn.layers.layer import Layer
from probflow.nn.layers.registry import register_layer

__all__ = [
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
]


class _Pooling(Layer):
    """Abstract: windowed max or mean over `_spatial_rank` axes."""

    _spatial_rank = 2
    _reduction = "max"

    def __init__(self, pool_size=2, *, strides=None, padding="valid", name=None):
        super().__init__(name=name)
        owner = f"{type(self).__name__} {self.name!r}"
        rank = self._spatial_rank
        self.pool_size = as_tuple(pool_size, rank, "pool_size", owner)
        self.strides = self.pool_size if strides is None else as_tuple(strides, rank, "strides", owner)
        self.padding = check_padding(padding, ("valid", "same"), owner)
        self._config = {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}

    def _spatial_out(self, input_shape):
        return tuple(
            conv_output_length(n, p, s, 1, self.padding)
            for n, p, s in zip(input_shape[:-1], self.pool_size, self.strides)
        )

    def _check_input_shape(self, input_shape):
        rank = self._spatial_rank
        self._require_rank(input_shape, rank + 1, "spatial dims then channels")
        if any(n <= 0 for n in self._spatial_out(input_shape)):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `input_shape` {input_shape} is smaller "
                f"than the pool {self.pool_size} with padding 'valid'"
            )

    def _output_shape(self, input_shape):
        return self._spatial_out(input_shape) + (input_shape[-1],)

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        rank = self._spatial_rank
        flat, batch = flatten_batch(jnp.asarray(x), rank)
        window = (1,) + self.pool_size + (1,)
        strides = (1,) + self.strides + (1,)
        padding = self.padding.upper()
        if self._reduction == "max":
            y = lax.reduce_window(flat, -jnp.inf, lax.max, window, strides, padding)
        else:
            total = lax.reduce_window(flat, 0.0, lax.add, window, strides, padding)
            ones = jnp.ones((1,) + flat.shape[1:-1] + (1,), flat.dtype)
            count = lax.reduce_window(ones, 0.0, lax.add, window, strides, padding)
            y = total / count
        return y.reshape(batch + y.shape[1:]), state


class _GlobalPooling(Layer):
    """Abstract: mean or max over all spatial axes."""

    _spatial_rank = 2
    _reduction = "mean"

    def __init__(self, *, keepdims=False, name=None):
        super().__init__(name=name)
        self.keepdims = bool(keepdims)
        self._config = {"keepdims": self.keepdims}

    def _check_input_shape(self, input_shape):
        self._require_rank(input_shape, self._spatial_rank + 1, "spatial dims then channels")

    def _output_shape(self, input_shape):
        if self.keepdims:
            return (1,) * self._spatial_rank + (input_shape[-1],)
        return (input_shape[-1],)

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        x = jnp.asarray(x)
        axes = tuple(range(x.ndim - 1 - self._spatial_rank, x.ndim - 1))
        reduce = jnp.mean if self._reduction == "mean" else jnp.max
        return reduce(x, axis=axes, keepdims=self.keepdims), state


def _pool_doc(kind, rank):
    shape = "(4, 6)" if rank == 1 else "(4, 6, 3)"
    out = "(2, 6)" if rank == 1 else "(2, 3, 3)"
    return f"""{kind} pooling over {"width" if rank == 1 else "height and width"}, channels last.

    Args:
        pool_size: int or tuple, the window (default 2).
        strides: int or tuple; defaults to `pool_size`.
        padding: "valid" or "same".
        name: layer name.

    Example:
        >>> {kind.split()[0]}Pooling{rank}D().output_shape({shape})
        {out}
    """


def _global_doc(kind, rank):
    shape = "(4, 6)" if rank == 1 else "(4, 6, 3)"
    return f"""Global {kind.lower()} pooling over all spatial axes, channels last.

    Args:
        keepdims: keep the spatial axes with size 1.
        name: layer name.

    Example:
        >>> Global{kind}Pooling{rank}D().output_shape({shape})
        ({shape.rstrip(")").split(", ")[-1]},)
    """


@register_layer
class MaxPooling1D(_Pooling):
    __doc__ = _pool_doc("Max", 1)
    _spatial_rank, _reduction = 1, "max"


@register_layer
class MaxPooling2D(_Pooling):
    __doc__ = _pool_doc("Max", 2)
    _spatial_rank, _reduction = 2, "max"


@register_layer
class AveragePooling1D(_Pooling):
    __doc__ = _pool_doc("Average", 1)
    _spatial_rank, _reduction = 1, "mean"


@register_layer
class AveragePooling2D(_Pooling):
    __doc__ = _pool_doc("Average", 2)
    _spatial_rank, _reduction = 2, "mean"


@register_layer
class GlobalAveragePooling1D(_GlobalPooling):
    __doc__ = _global_doc("Average", 1)
    _spatial_rank, _reduction = 1, "mean"


@register_layer
class GlobalAveragePooling2D(_GlobalPooling):
    __doc__ = _global_doc("Average", 2)
    _spatial_rank, _reduction = 2, "mean"


@register_layer
class GlobalMaxPooling1D(_GlobalPooling):
    __doc__ = _global_doc("Max", 1)
    _spatial_rank, _reduction = 1, "max"


@register_layer
class GlobalMaxPooling2D(_GlobalPooling):
    __doc__ = _global_doc("Max", 2)
    _spatial_rank, _reduction = 2, "max"
