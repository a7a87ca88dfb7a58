"""Elementwise affine bijectors: Shift, Scale and Affine (``y = shift + scale * x``).

Parameters are array leaves that broadcast against the input, so a bound carried by a
constraint (e.g. `greater_than(a)` with an array `a`) travels through `jit` and `vmap`.

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> bij.Affine(1.0, 2.0).forward(jnp.array([0.0, 1.0]))
    Array([1., 3.], dtype=float32)
"""

from __future__ import annotations

import jax.numpy as jnp

from probflow.bijectors._util import as_float_array, is_concrete
from probflow.bijectors.bijector import Bijector

__all__ = ["Affine", "Scale", "Shift"]


def _check_nonzero(owner, scale):
    if is_concrete(scale) and bool(jnp.any(scale == 0)):
        raise ValueError(f"{owner}: `scale` must be non-zero everywhere; got {scale}")


class Shift(Bijector):
    """``y = x + shift`` (log-det 0).

    Args:
        shift: scalar or array, broadcast against the input.

    Example:
        >>> import jax.numpy as jnp
        >>> float(Shift(2.0).inverse(jnp.array(5.0)))
        3.0
    """

    _codomain = "real"

    def __init__(self, shift):
        self.shift = as_float_array(shift, "shift", "Shift")

    def forward_and_log_det(self, x):
        y = jnp.asarray(x) + self.shift
        return y, jnp.zeros_like(y)

    def inverse_and_log_det(self, y):
        x = jnp.asarray(y) - self.shift
        return x, jnp.zeros_like(x)

    def __repr__(self):
        return f"Shift({self.shift})"


class Scale(Bijector):
    """``y = scale * x`` (log-det ``log|scale|``); a negative scale flips the sign.

    Args:
        scale: non-zero scalar or array, broadcast against the input.

    Example:
        >>> import jax.numpy as jnp
        >>> float(Scale(-2.0).forward(jnp.array(1.5)))
        -3.0
    """

    _codomain = "real"

    def __init__(self, scale):
        self.scale = as_float_array(scale, "scale", "Scale")
        _check_nonzero("Scale", self.scale)

    def forward_and_log_det(self, x):
        y = jnp.asarray(x) * self.scale
        return y, jnp.broadcast_to(jnp.log(jnp.abs(self.scale)), y.shape).astype(y.dtype)

    def inverse_and_log_det(self, y):
        x = jnp.asarray(y) / self.scale
        return x, jnp.broadcast_to(-jnp.log(jnp.abs(self.scale)), x.shape).astype(x.dtype)

    def __repr__(self):
        return f"Scale({self.scale})"


class Affine(Bijector):
    """``y = shift + scale * x`` elementwise (log-det ``log|scale|``).

    Args:
        shift: scalar or array.
        scale: non-zero scalar or array.

    Example:
        >>> import jax.numpy as jnp
        >>> float(Affine(1.0, 3.0).forward_log_det_jacobian(jnp.array(0.0))) == float(jnp.log(3.0))
        True
    """

    _codomain = "real"

    def __init__(self, shift, scale):
        self.shift = as_float_array(shift, "shift", "Affine")
        self.scale = as_float_array(scale, "scale", "Affine")
        _check_nonzero("Affine", self.scale)

    def forward_and_log_det(self, x):
        y = self.shift + self.scale * jnp.asarray(x)
        return y, jnp.broadcast_to(jnp.log(jnp.abs(self.scale)), y.shape).astype(y.dtype)

    def inverse_and_log_det(self, y):
        x = (jnp.asarray(y) - self.shift) / self.scale
        return x, jnp.broadcast_to(-jnp.log(jnp.abs(self.scale)), x.shape).astype(x.dtype)

    def __repr__(self):
        return f"Affine(shift={self.shift}, scale={self.scale})"
