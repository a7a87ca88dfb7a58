"""Positive-definite matrices: `CholeskyOuterProduct` (L -> L L^T) and `PositiveDefinite`
(R^(m (m + 1) / 2) -> symmetric positive-definite m x m, Stan's covariance transform).

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> bij.PositiveDefinite().forward(jnp.zeros(3))
    Array([[1., 0.],
           [0., 1.]], dtype=float32)
"""

from __future__ import annotations

import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector
from probflow.bijectors.elementwise import Exp
from probflow.bijectors.triangular import FillScaleTriL

__all__ = ["CholeskyOuterProduct", "PositiveDefinite"]


def _outer_log_det(diag):
    # d(L L^T) over the lower entries w.r.t. those of L has determinant
    # 2^m prod_i L_ii^(m - i) (0-based i): triangular in a suitable ordering.
    m = diag.shape[-1]
    powers = jnp.arange(m, 0, -1, dtype=diag.dtype)
    return m * jnp.log(2.0).astype(diag.dtype) + jnp.sum(powers * jnp.log(diag), axis=-1)


class CholeskyOuterProduct(Bijector):
    """``S = L L^T`` from a lower-triangular ``L`` with positive diagonal; ``event_ndims = 2``.

    The log-det is that of the map between the lower-triangle entries of ``L`` and ``S``
    (both determine the whole matrix).

    Example:
        >>> import jax.numpy as jnp
        >>> CholeskyOuterProduct().forward(jnp.array([[2.0, 0.0], [1.0, 1.0]]))
        Array([[4., 2.],
               [2., 2.]], dtype=float32)
    """

    event_ndims = 2

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        y = x @ jnp.swapaxes(x, -1, -2)
        return y, _outer_log_det(jnp.diagonal(x, 0, -2, -1))

    def inverse_and_log_det(self, y):
        x = jnp.linalg.cholesky(jnp.asarray(y))
        return x, -_outer_log_det(jnp.diagonal(x, 0, -2, -1))


class PositiveDefinite(Bijector):
    """Vector -> symmetric positive-definite matrix ``L L^T`` with ``L`` from `FillScaleTriL`.

    Also exported as `CholeskyOfPositiveDefinite` (the name DESIGN.md lists).

    Args:
        diag_bijector: elementwise positive bijector for the Cholesky diagonal; default
            `Exp()` (Stan's covariance-matrix transform).

    The log-det is that of the map onto the ``m (m + 1) / 2`` lower entries of the
    matrix, the parameterisation matrix densities (Wishart, ...) use.

    Example:
        >>> import jax.numpy as jnp
        >>> S = PositiveDefinite().forward(jnp.array([0.1, 0.5, -0.3]))
        >>> bool(jnp.all(jnp.linalg.eigvalsh(S) > 0))
        True
    """

    event_ndims = 1

    _codomain = "positive_definite"

    def __init__(self, diag_bijector=None):
        self.fill = FillScaleTriL(Exp() if diag_bijector is None else diag_bijector)

    @property
    def event_ndims_out(self) -> int:
        return 2

    def forward_and_log_det(self, x):
        L, log_det_fill = self.fill.forward_and_log_det(x)
        y, log_det_outer = CholeskyOuterProduct().forward_and_log_det(L)
        return y, log_det_fill + log_det_outer

    def inverse_and_log_det(self, y):
        L, log_det_outer = CholeskyOuterProduct().inverse_and_log_det(y)
        x, log_det_fill = self.fill.inverse_and_log_det(L)
        return x, log_det_fill + log_det_outer

    def forward_shape(self, shape):
        return self.fill.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.fill.inverse_shape(shape)

    def __repr__(self):
        return f"PositiveDefinite({self.fill.diag_bijector!r})"
