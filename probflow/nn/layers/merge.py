"""Merge layers: combine a list of inputs (Keras's Concatenate, Add, ..., Dot).

A merge layer is called on a list of symbolic tensors (``nn.Add()([a, b])``), so it
receives a list of per-example shapes in `init` / `output_shape` and a list of arrays
in `apply`. The elementwise merges broadcast per-example shapes as numpy does, aligned
from the right (a size-1 axis stretches; an input of lower rank gains leading size-1
axes after its batch axis), which is Keras's rule.

Example:
    >>> import jax.numpy as jnp
    >>> Add().output_shape([(3,), (1,)])
    (3,)
    >>> Concatenate().apply({}, {}, [jnp.ones((2, 3)), jnp.zeros((2, 1))])[0].shape
    (2, 4)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.nn.layers.layer import Layer, as_input_shape
from probflow.nn.layers.registry import register_layer

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract"]


class _Merge(Layer):
    """Base of the merge layers: validates a list of shapes and merges a list of arrays."""

    #: exact number of inputs, or None for "one or more".
    num_inputs = None

    def _owner(self):
        return f"{type(self).__name__} {self.name!r}"

    def _validated_shape(self, input_shape):
        owner = self._owner()
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
                isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"{owner} must be called on a list of inputs, e.g. "
                             f"{type(self).__name__}()([a, b]); got input shape {input_shape!r}")
        if self.num_inputs is not None and len(input_shape) != self.num_inputs:
            raise ValueError(f"{owner} takes exactly {self.num_inputs} inputs; got "
                             f"{len(input_shape)} (shapes {list(input_shape)})")
        shapes = [as_input_shape(s, owner) for s in input_shape]
        self._check_input_shape(shapes)
        return shapes

    def _output_shape(self, input_shape):
        return _broadcast_shapes(self._owner(), input_shape)

    def _check_input_shape(self, input_shape):
        self._output_shape(input_shape)

    def apply(self, params, state, x, *, key=None, training=False):
        del params, key, training
        if not isinstance(x, (list, tuple)):
            raise TypeError(f"{self._owner()} must be applied to a list of arrays; got "
                            f"{type(x).__name__}")
        return self._merge([jnp.asarray(a) for a in x]), state

    def _merge(self, arrays):
        raise NotImplementedError


def _broadcast_shapes(owner, shapes):
    """Numpy broadcasting of per-example shapes, with an error naming the layer."""
    out = ()
    for shape in shapes:
        if len(shape) > len(out):
            out, shape = shape, out
        tail = []
        for a, b in zip(out[len(out) - len(shape):], shape):
            if a != b and 1 not in (a, b):
                raise ValueError(f"{owner}: inputs of per-example shapes {list(shapes)} cannot be "
                                 "broadcast together (each axis must match or be 1, aligned "
                                 "from the right)")
            tail.append(max(a, b) if 1 in (a, b) else a)
        out = out[:len(out) - len(shape)] + tuple(tail)
    return out


def _align(arrays):
    """Gives lower-rank inputs size-1 axes after the batch axis (Keras's reshape)."""
    rank = max(a.ndim for a in arrays)
    return [a.reshape(a.shape[:1] + (1,) * (rank - a.ndim) + a.shape[1:]) for a in arrays]


def _reduce(fn, arrays):
    arrays = _align(arrays)
    out = arrays[0]
    for a in arrays[1:]:
        out = fn(out, a)
    return out


@register_layer
class Add(_Merge):
    """Elementwise sum of the inputs.

    Example:
        >>> import jax.numpy as jnp
        >>> Add().apply({}, {}, [jnp.ones((1, 2)), jnp.ones((1, 2))])[0].tolist()
        [[2.0, 2.0]]
    """

    def _merge(self, arrays):
        return _reduce(jnp.add, arrays)


@register_layer
class Subtract(_Merge):
    """First input minus the second (exactly two inputs).

    Example:
        >>> import jax.numpy as jnp
        >>> Subtract().apply({}, {}, [jnp.ones((1, 2)), 3 * jnp.ones((1, 2))])[0].tolist()
        [[-2.0, -2.0]]
    """

    num_inputs = 2

    def _merge(self, arrays):
        return _reduce(jnp.subtract, arrays)


@register_layer
class Multiply(_Merge):
    """Elementwise product of the inputs.

    Example:
        >>> import jax.numpy as jnp
        >>> Multiply().apply({}, {}, [2 * jnp.ones((1, 2)), 3 * jnp.ones((1, 1))])[0].tolist()
        [[6.0, 6.0]]
    """

    def _merge(self, arrays):
        return _reduce(jnp.multiply, arrays)


@register_layer
class Average(_Merge):
    """Elementwise mean of the inputs.

    Example:
        >>> import jax.numpy as jnp
        >>> Average().apply({}, {}, [jnp.zeros((1, 2)), jnp.ones((1, 2))])[0].tolist()
        [[0.5, 0.5]]
    """

    def _merge(self, arrays):
        return _reduce(jnp.add, arrays) / len(arrays)


@register_layer
class Maximum(_Merge):
    """Elementwise maximum of the inputs.

    Example:
        >>> import jax.numpy as jnp
        >>> Maximum().apply({}, {}, [jnp.array([[1.0, 5.0]]), jnp.array([[3.0, 2.0]])])[0].tolist()
        [[3.0, 5.0]]
    """

    def _merge(self, arrays):
        return _reduce(jnp.maximum, arrays)


@register_layer
class Minimum(_Merge):
    """Elementwise minimum of the inputs.

    Example:
        >>> import jax.numpy as jnp
        >>> Minimum().apply({}, {}, [jnp.array([[1.0, 5.0]]), jnp.array([[3.0, 2.0]])])[0].tolist()
        [[1.0, 2.0]]
    """

    def _merge(self, arrays):
        return _reduce(jnp.minimum, arrays)


def _per_example_axis(owner, argname, axis, rank):
    """A Keras axis (counting the batch axis as 0) as an axis of one example."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"{owner}: `{argname}` must be an int; got {axis!r}")
    if axis == 0 or not -rank <= (axis - 1 if axis > 0 else axis) < rank:
        raise ValueError(f"{owner}: `{argname}`={axis} is not an axis of inputs with "
                         f"{rank} per-example dims (axis 0 is the batch axis)")
    return (axis - 1) % rank if axis > 0 else axis % rank


@register_layer
class Concatenate(_Merge):
    """Joins the inputs along `axis`; all other axes must match.

    Args:
        axis: the axis, counting the batch axis as 0 (Keras's convention); -1 is the
            last axis.
        name: layer name.

    Example:
        >>> Concatenate(axis=1).output_shape([(2, 3), (4, 3)])
        (6, 3)
    """

    def __init__(self, axis=-1, *, name=None):
        super().__init__(name=name)
        if isinstance(axis, bool) or not isinstance(axis, int) or axis == 0:
            raise ValueError(f"Concatenate: `axis` must be a non-zero int (0 is the batch axis); "
                             f"got {axis!r}")
        self.axis = axis
        self._config = {"axis": axis}

    def _output_shape(self, input_shape):
        owner = self._owner()
        ranks = {len(s) for s in input_shape}
        if len(ranks) != 1:
            raise ValueError(f"{owner}: inputs must have the same rank; got per-example shapes "
                             f"{list(input_shape)}")
        rank = ranks.pop()
        axis = _per_example_axis(owner, "axis", self.axis, rank)
        rest = {s[:axis] + s[axis + 1:] for s in input_shape}
        if len(rest) != 1:
            raise ValueError(f"{owner}: inputs must match on every axis but axis {self.axis}; got "
                             f"per-example shapes {list(input_shape)}")
        first = input_shape[0]
        return first[:axis] + (sum(s[axis] for s in input_shape),) + first[axis + 1:]

    def _merge(self, arrays):
        return jnp.concatenate(arrays, axis=self.axis)


@register_layer
class Dot(_Merge):
    """Dot product of two inputs along the given axes, per example (Keras's batch dot).

    Args:
        axes: an int (the same axis of both inputs) or a pair, counting the batch axis
            as 0; -1 is the last axis.
        normalize: L2-normalise both inputs along those axes first (the result is then
            the cosine similarity).
        name: layer name.

    Example:
        >>> import jax.numpy as jnp
        >>> layer = Dot(axes=1)
        >>> layer.output_shape([(3,), (3,)])
        (1,)
        >>> layer.apply({}, {}, [jnp.ones((2, 3)), jnp.ones((2, 3))])[0].tolist()
        [[3.0], [3.0]]
    """

    num_inputs = 2

    def __init__(self, axes, normalize=False, *, name=None):
        super().__init__(name=name)
        pair = tuple(axes) if isinstance(axes, (list, tuple)) else (axes, axes)
        if len(pair) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in pair):
            raise TypeError(f"Dot: `axes` must be an int or a pair of ints; got {axes!r}")
        if not isinstance(normalize, bool):
            raise TypeError(f"Dot: `normalize` must be a bool; got {normalize!r}")
        self.axes = axes if isinstance(axes, int) else list(pair)
        self.normalize = normalize
        self._config = {"axes": self.axes, "normalize": normalize}

    def _example_axes(self, shapes):
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        return [_per_example_axis(self._owner(), "axes", a, len(s)) for a, s in zip(pair, shapes)]

    def _output_shape(self, input_shape):
        (a, b), (ia, ib) = input_shape, self._example_axes(input_shape)
        if a[ia] != b[ib]:
            raise ValueError(f"{self._owner()}: the dotted axes must have the same size; got "
                             f"per-example shapes {a} (axis {ia + 1}: {a[ia]}) and {b} "
                             f"(axis {ib + 1}: {b[ib]})")
        out = a[:ia] + a[ia + 1:] + b[:ib] + b[ib + 1:]
        return out or (1,)

    def _merge(self, arrays):
        a, b = arrays
        ia, ib = self._example_axes([a.shape[1:], b.shape[1:]])
        if self.normalize:
            a = a / jnp.maximum(jnp.linalg.norm(a, axis=ia + 1, keepdims=True), 1e-12)
            b = b / jnp.maximum(jnp.linalg.norm(b, axis=ib + 1, keepdims=True), 1e-12)
        out = jax.vmap(lambda u, v: jnp.tensordot(u, v, axes=(ia, ib)))(a, b)
        return out.reshape(out.shape[:1] + (out.shape[1:] or (1,)))
