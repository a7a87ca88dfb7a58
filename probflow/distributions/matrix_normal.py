"""The MatrixNormal distribution over n x p matrices."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl
from probflow.distributions.multivariate_normal import log_diag_sum

__all__ = ["MatrixNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _whiten(row_tril, column_tril, x):
    """``U^-1 x V^-T`` with ``U = row_tril``, ``V = column_tril`` (batch-broadcast)."""
    n, p = x.shape[-2:]
    batch = jnp.broadcast_shapes(x.shape[:-2], row_tril.shape[:-2], column_tril.shape[:-2])
    x = jnp.broadcast_to(x, batch + (n, p))
    left = solve_triangular(jnp.broadcast_to(row_tril, batch + (n, n)), x, lower=True)
    right = solve_triangular(
        jnp.broadcast_to(column_tril, batch + (p, p)), jnp.swapaxes(left, -1, -2), lower=True
    )
    return jnp.swapaxes(right, -1, -2)


class MatrixNormal(Distribution):
    """``X = loc + U Z V^T`` with Z an n x p matrix of standard normals.

    ``vec(X) ~ N(vec(loc), (V V^T) ⊗ (U U^T))``; ``scipy.stats.matrix_normal(loc,
    rowcov=U U^T, colcov=V V^T)``.

    Args:
        loc: mean, shape ``batch_shape + (n, p)``.
        scale_tril_row: U, lower-triangular (positive diagonal), shape ``batch + (n, n)``.
        scale_tril_column: V, lower-triangular (positive diagonal), shape ``batch + (p, p)``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.MatrixNormal(jnp.zeros((2, 3)), jnp.eye(2), 2.0 * jnp.eye(3))
        >>> d.event_shape, float(d.variance()[0, 0])
        ((2, 3), 4.0)
    """

    arg_constraints = {
        "loc": constraints.independent(constraints.real, 2),
        "scale_tril_row": constraints.lower_cholesky,
        "scale_tril_column": constraints.lower_cholesky,
    }
    _param_event_ndims = {"loc": 2, "scale_tril_row": 2, "scale_tril_column": 2}
    support = constraints.independent(constraints.real, 2)

    def __init__(self, loc, scale_tril_row, scale_tril_column, *, validate_args=False):
        self.loc, self.scale_tril_row, self.scale_tril_column = promote_params(
            loc, scale_tril_row, scale_tril_column
        )
        n, p = self.scale_tril_row.shape[-1], self.scale_tril_column.shape[-1]
        if self.loc.ndim < 2 or self.loc.shape[-2:] != (n, p):
            raise ValueError(
                f"MatrixNormal: `loc` must have shape (..., {n}, {p}) to match "
                f"`scale_tril_row` ({n} x {n}) and `scale_tril_column` ({p} x {p}); "
                f"got shape {self.loc.shape}"
            )
        self._validate(
            validate_args,
            loc=self.loc,
            scale_tril_row=self.scale_tril_row,
            scale_tril_column=self.scale_tril_column,
        )

    @property
    def event_shape(self) -> tuple:
        return self.loc.shape[-2:]

    def _sample(self, key, sample_shape):
        z = jax.random.normal(key, sample_shape + self._shape, self.dtype)
        return self.loc + self.scale_tril_row @ z @ jnp.swapaxes(self.scale_tril_column, -1, -2)

    def _log_prob(self, value):
        n, p = self.event_shape
        white = _whiten(self.scale_tril_row, self.scale_tril_column, value - self.loc)
        return (
            -0.5 * jnp.sum(white**2, axis=(-2, -1))
            - p * log_diag_sum(self.scale_tril_row)
            - n * log_diag_sum(self.scale_tril_column)
            - 0.5 * n * p * _LOG_2PI
        )

    def mean(self):
        return jnp.broadcast_to(self.loc, self._shape)

    def mode(self):
        return self.mean()

    def variance(self):
        row = jnp.sum(self.scale_tril_row**2, axis=-1)
        column = jnp.sum(self.scale_tril_column**2, axis=-1)
        return jnp.broadcast_to(row[..., :, None] * column[..., None, :], self._shape)

    def entropy(self):
        n, p = self.event_shape
        h = (
            0.5 * n * p * (1.0 + _LOG_2PI)
            + p * log_diag_sum(self.scale_tril_row)
            + n * log_diag_sum(self.scale_tril_column)
        )
        return jnp.broadcast_to(h, self.batch_shape)


@register_kl(MatrixNormal, MatrixNormal)
def _kl_matrix_normal(p, q):
    n, m = p.event_shape
    # tr((Vq ⊗ Uq)^-1 (Vp ⊗ Up)) = tr(Uq^-1 Up) tr(Vq^-1 Vp) = ||Uq^-1 Up_L||^2 ||Vq^-1 Vp_L||^2.
    def trace(q_tril, p_tril):
        batch = jnp.broadcast_shapes(q_tril.shape[:-2], p_tril.shape[:-2])
        k = q_tril.shape[-1]
        solved = solve_triangular(
            jnp.broadcast_to(q_tril, batch + (k, k)), jnp.broadcast_to(p_tril, batch + (k, k)), lower=True
        )
        return jnp.sum(solved**2, axis=(-2, -1))

    traces = trace(q.scale_tril_row, p.scale_tril_row) * trace(q.scale_tril_column, p.scale_tril_column)
    white = _whiten(q.scale_tril_row, q.scale_tril_column, p.loc - q.loc)
    log_det_p = m * log_diag_sum(p.scale_tril_row) + n * log_diag_sum(p.scale_tril_column)
    log_det_q = m * log_diag_sum(q.scale_tril_row) + n * log_diag_sum(q.scale_tril_column)
    return 0.5 * (traces + jnp.sum(white**2, axis=(-2, -1)) - n * m) + log_det_q - log_det_p
