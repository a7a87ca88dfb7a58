"""Vectors to lower-triangular matrices: `FillTriangular` and `FillScaleTriL`.

The vector fills the lower triangle row by row (the order of ``jnp.tril_indices``, as
NumPyro), so ``n = m (m + 1) / 2`` entries make an ``m x m`` matrix. `FillScaleTriL`
then maps the diagonal through a positive bijector (softplus by default, exp as Stan
does for Cholesky factors), giving a valid Cholesky factor / scale matrix.

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> bij.FillTriangular().forward(jnp.arange(1.0, 4.0))
    Array([[1., 0.],
           [2., 3.]], dtype=float32)
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector
from probflow.bijectors.elementwise import Softplus

__all__ = ["FillScaleTriL", "FillTriangular", "matrix_size_from_vector"]


def matrix_size_from_vector(n: int, owner: str, *, strict: bool = False) -> int:
    """The matrix size m with ``n = m (m + 1) / 2`` (``m (m - 1) / 2`` when `strict`).

    Raises:
        ValueError: naming `owner` when `n` is not such a triangular number.
    """
    m = (math.isqrt(8 * n + 1) + (1 if strict else -1)) // 2
    expected = m * (m - 1) // 2 if strict else m * (m + 1) // 2
    if expected != n or m < 1:
        kind = "m (m - 1) / 2" if strict else "m (m + 1) / 2"
        raise ValueError(
            f"{owner}: the last input dimension must be {kind} for an integer m; got {n}"
        )
    return m


def fill_lower(x, m: int, offset: int = 0):
    """Scatters the last axis of `x` into the lower triangle (below diagonal `offset`)."""
    rows, cols = jnp.tril_indices(m, k=offset)
    out = jnp.zeros(x.shape[:-1] + (m, m), x.dtype)
    return out.at[..., rows, cols].set(x)


def gather_lower(y, offset: int = 0):
    """The lower-triangle entries of `y` (below diagonal `offset`), row by row."""
    rows, cols = jnp.tril_indices(y.shape[-1], k=offset)
    return y[..., rows, cols]


class FillTriangular(Bijector):
    """Vector of length ``m (m + 1) / 2`` -> ``m x m`` lower-triangular matrix (log-det 0).

    Example:
        >>> import jax.numpy as jnp
        >>> FillTriangular().forward(jnp.ones(6)).shape
        (3, 3)
    """

    event_ndims = 1

    @property
    def event_ndims_out(self) -> int:
        return 2

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        m = matrix_size_from_vector(x.shape[-1], "FillTriangular")
        return fill_lower(x, m), jnp.zeros(x.shape[:-1], x.dtype)

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        return gather_lower(y), jnp.zeros(y.shape[:-2], y.dtype)

    def forward_shape(self, shape):
        shape = tuple(shape)
        m = matrix_size_from_vector(shape[-1], "FillTriangular")
        return shape[:-1] + (m, m)

    def inverse_shape(self, shape):
        shape = tuple(shape)
        return shape[:-2] + (shape[-1] * (shape[-1] + 1) // 2,)


class FillScaleTriL(Bijector):
    """Vector -> lower-triangular matrix with a positive diagonal (a Cholesky factor).

    Args:
        diag_bijector: elementwise bijector from R onto the positive reals applied to the
            diagonal; default `Softplus()`. Use `Exp()` for Stan's Cholesky transform.

    The log-det is that of the map onto the ``m (m + 1) / 2`` lower entries.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import bijectors as bij
        >>> L = bij.FillScaleTriL(bij.Exp()).forward(jnp.zeros(3))
        >>> L
        Array([[1., 0.],
               [0., 1.]], dtype=float32)
    """

    event_ndims = 1

    _codomain = "lower_cholesky"

    def __init__(self, diag_bijector=None):
        diag_bijector = Softplus() if diag_bijector is None else diag_bijector
        if not isinstance(diag_bijector, Bijector) or diag_bijector.event_ndims != 0:
            raise TypeError(
                "FillScaleTriL: `diag_bijector` must be an elementwise Bijector "
                f"(event_ndims 0); got {diag_bijector!r}"
            )
        self.diag_bijector = diag_bijector

    @property
    def event_ndims_out(self) -> int:
        return 2

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        m = matrix_size_from_vector(x.shape[-1], "FillScaleTriL")
        tril = fill_lower(x, m)
        diag, log_det = self.diag_bijector.forward_and_log_det(jnp.diagonal(tril, 0, -2, -1))
        idx = jnp.arange(m)
        tril = tril.at[..., idx, idx].set(diag)
        return tril, jnp.sum(log_det, axis=-1)

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        m = y.shape[-1]
        diag, log_det = self.diag_bijector.inverse_and_log_det(jnp.diagonal(y, 0, -2, -1))
        idx = jnp.arange(m)
        x = gather_lower(y.at[..., idx, idx].set(diag))
        return x, jnp.sum(log_det, axis=-1)

    def forward_shape(self, shape):
        return FillTriangular().forward_shape(shape)

    def inverse_shape(self, shape):
        return FillTriangular().inverse_shape(shape)

    def __repr__(self):
        return f"FillScaleTriL({self.diag_bijector!r})"
