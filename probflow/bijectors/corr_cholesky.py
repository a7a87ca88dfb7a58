"""`CorrCholesky`: R^(m (m - 1) / 2) onto Cholesky factors of m x m correlation matrices.

Stan's / LKJ's construction through canonical partial correlations: ``z = tanh(x)``
fills the strictly lower triangle row by row; then each row of the factor ``L`` spends
the squared length that is left, ``L_ij = z_ij sqrt(1 - sum_(k<j) L_ik^2)`` and
``L_ii = sqrt(1 - sum_(k<i) L_ik^2)``, so every row has unit norm.
(Lewandowski, Kurowicka & Joe 2009; Stan Reference Manual, "Cholesky factors of
correlation matrices".)

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> L = bij.CorrCholesky().forward(jnp.array([0.5, -0.2, 0.3]))
    >>> L.shape, bool(jnp.allclose(jnp.sum(L**2, -1), 1.0))
    ((3, 3), True)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector
from probflow.bijectors.triangular import fill_lower, gather_lower, matrix_size_from_vector

__all__ = ["CorrCholesky"]


def _exclusive_cumsum(x):
    return jnp.cumsum(x, axis=-1) - x


class CorrCholesky(Bijector):
    """Vector -> Cholesky factor of a correlation matrix; ``event_ndims`` 1 -> 2.

    The log-det is that of the map onto the strictly lower entries of ``L`` (the
    diagonal is determined by them), the parameterisation LKJCholesky's density uses.

    Example:
        >>> import jax.numpy as jnp
        >>> CorrCholesky().forward(jnp.zeros(1))
        Array([[1., 0.],
               [0., 1.]], dtype=float32)
    """

    event_ndims = 1

    _codomain = "corr_cholesky"

    @property
    def event_ndims_out(self) -> int:
        return 2

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        m = matrix_size_from_vector(x.shape[-1], "CorrCholesky", strict=True)
        z = fill_lower(jnp.tanh(x), m, offset=-1)
        # log(1 - tanh(x)^2), stable for large |x|; zero off the strict lower triangle.
        log_one_minus_z2 = fill_lower(2.0 * (jnp.log(2.0) - x - jax.nn.softplus(-2.0 * x)), m, -1)
        # Half the log of the squared row length left before column j.
        log_left = 0.5 * _exclusive_cumsum(log_one_minus_z2)
        L = (z + jnp.eye(m, dtype=x.dtype)) * jnp.exp(log_left)
        # Within a row the map z -> L is triangular with diagonal sqrt(left_ij).
        log_det = jnp.sum(gather_lower(log_one_minus_z2 + log_left, offset=-1), axis=-1)
        return L, log_det

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        left = 1.0 - _exclusive_cumsum(jnp.square(y))
        lower_y, lower_left = gather_lower(y, -1), gather_lower(left, -1)
        z = lower_y / jnp.sqrt(lower_left)
        log_det = -jnp.sum(jnp.log1p(-jnp.square(z)) + 0.5 * jnp.log(lower_left), axis=-1)
        return jnp.arctanh(z), log_det

    def forward_shape(self, shape):
        shape = tuple(shape)
        m = matrix_size_from_vector(shape[-1], "CorrCholesky", strict=True)
        return shape[:-1] + (m, m)

    def inverse_shape(self, shape):
        shape = tuple(shape)
        return shape[:-2] + (shape[-1] * (shape[-1] - 1) // 2,)
