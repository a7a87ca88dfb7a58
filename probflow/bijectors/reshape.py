"""Shape-only bijectors: `Reshape` (event shape in -> event shape out) and `Permute`
(reorders the last axis, e.g. to interleave normalizing-flow layers).

Both have log-det 0 (a permutation's Jacobian determinant is +-1).

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> bij.Reshape((2, 3), (6,)).forward(jnp.zeros((4, 6))).shape
    (4, 2, 3)
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from probflow.bijectors.bijector import Bijector

__all__ = ["Permute", "Reshape"]


def _as_shape(shape, name):
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"Reshape: `{name}` must be a tuple of ints; got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"Reshape: `{name}` must have non-negative entries; got {shape}")
    return shape


class Reshape(Bijector):
    """Reshapes the rightmost ``len(event_shape_in)`` dims to `event_shape_out`.

    Args:
        event_shape_out: the event shape after the forward map.
        event_shape_in: the event shape before it (same number of elements).

    Example:
        >>> import jax.numpy as jnp
        >>> Reshape((4,), (2, 2)).inverse(jnp.arange(4.0)).shape
        (2, 2)
    """

    def __init__(self, event_shape_out, event_shape_in):
        self.event_shape_out = _as_shape(event_shape_out, "event_shape_out")
        self.event_shape_in = _as_shape(event_shape_in, "event_shape_in")
        if math.prod(self.event_shape_out) != math.prod(self.event_shape_in):
            raise ValueError(
                "Reshape: `event_shape_out` and `event_shape_in` must hold the same number of "
                f"elements; got {self.event_shape_out} and {self.event_shape_in}"
            )
        self.event_ndims = len(self.event_shape_in)

    @property
    def event_ndims_out(self) -> int:
        return len(self.event_shape_out)

    def _swap(self, x, shape_from, shape_to):
        x = jnp.asarray(x)
        k = len(shape_from)
        if tuple(x.shape[x.ndim - k :]) != shape_from:
            raise ValueError(
                f"Reshape: expected the input to end in shape {shape_from}; got shape {x.shape}"
            )
        batch = x.shape[: x.ndim - k]
        return x.reshape(batch + shape_to), jnp.zeros(batch, x.dtype)

    def forward_and_log_det(self, x):
        return self._swap(x, self.event_shape_in, self.event_shape_out)

    def inverse_and_log_det(self, y):
        return self._swap(y, self.event_shape_out, self.event_shape_in)

    def forward_shape(self, shape):
        shape = tuple(shape)
        return shape[: len(shape) - self.event_ndims] + self.event_shape_out

    def inverse_shape(self, shape):
        shape = tuple(shape)
        return shape[: len(shape) - self.event_ndims_out] + self.event_shape_in

    def __repr__(self):
        return f"Reshape({self.event_shape_out}, {self.event_shape_in})"


class Permute(Bijector):
    """``y = x[..., permutation]``; ``event_ndims = 1``.

    Args:
        permutation: a permutation of ``range(n)`` (kept static, not a trainable leaf).

    Example:
        >>> import jax.numpy as jnp
        >>> Permute([2, 0, 1]).forward(jnp.array([10.0, 11.0, 12.0]))
        Array([12., 10., 11.], dtype=float32)
    """

    event_ndims = 1

    def __init__(self, permutation):
        perm = tuple(int(i) for i in np.asarray(permutation).reshape(-1))
        if sorted(perm) != list(range(len(perm))):
            raise ValueError(
                f"Permute: `permutation` must be a permutation of range({len(perm)}); got {perm}"
            )
        self.permutation = perm
        self.inverse_permutation = tuple(int(i) for i in np.argsort(perm))

    def _apply(self, x, perm):
        x = jnp.asarray(x)
        if x.shape[-1] != len(perm):
            raise ValueError(
                f"Permute: expected the last dimension to be {len(perm)}; got shape {x.shape}"
            )
        return x[..., np.asarray(perm)], jnp.zeros(x.shape[:-1], x.dtype)

    def forward_and_log_det(self, x):
        return self._apply(x, self.permutation)

    def inverse_and_log_det(self, y):
        return self._apply(y, self.inverse_permutation)

    def __repr__(self):
        return f"Permute({list(self.permutation)})"
