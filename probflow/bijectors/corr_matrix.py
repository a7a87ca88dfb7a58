"""`CorrCholeskyOuterProduct`: the Cholesky factor of a correlation matrix to the matrix."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector

__all__ = ["CorrCholeskyOuterProduct", "corr_outer_log_det"]


def corr_outer_log_det(scale_tril):
    """log|det| of ``L -> L L^T`` between the strictly-lower entries of L and of R.

    Row i of R's strict lower triangle depends on row i of L through the leading i x i
    block of L (lower-triangular), so the Jacobian is block-triangular with determinant
    ``prod_{i<d} prod_{j<i} L_jj = prod_j L_jj^(d - 1 - j)`` (0-based).

    Args:
        scale_tril: Cholesky factors of correlation matrices, shape ``(..., d, d)``.

    Returns:
        The log-determinant, shape ``(...)``.
    """
    d = scale_tril.shape[-1]
    diag = jnp.diagonal(scale_tril, axis1=-2, axis2=-1)
    powers = jnp.arange(d - 1, -1, -1, dtype=diag.dtype)
    return jnp.sum(powers * jnp.log(diag), axis=-1)


class CorrCholeskyOuterProduct(Bijector):
    """``R = L L^T`` for L the Cholesky factor of a correlation matrix; ``event_ndims = 2``.

    The log-det is that of the map between the strictly-lower entries (the free
    coordinates of both sets), which is what a density on correlation matrices (`LKJ`)
    uses. ``Chain([CorrCholeskyOuterProduct(), CorrCholesky()])`` maps R^(d(d-1)/2)
    onto correlation matrices.

    Example:
        >>> import jax.numpy as jnp
        >>> L = jnp.array([[1.0, 0.0], [0.6, 0.8]])
        >>> CorrCholeskyOuterProduct().forward(L)
        Array([[1. , 0.6],
               [0.6, 1. ]], dtype=float32)
    """

    event_ndims = 2
    _codomain = "corr_matrix"

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        return x @ jnp.swapaxes(x, -1, -2), corr_outer_log_det(x)

    def inverse_and_log_det(self, y):
        x = jnp.linalg.cholesky(jnp.asarray(y))
        return x, -corr_outer_log_det(x)
