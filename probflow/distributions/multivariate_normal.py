"""The MultivariateNormal distribution, parametrised by a Cholesky factor of the covariance."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from probflow.distributions import constraints
from probflow.distributions._util import promote_params, validate_param
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["MultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def tril_solve(scale_tril, y):
    """Solves ``L z = y`` for every vector in the last axis of `y`, with broadcasting.

    Leading dims of `y` beyond `scale_tril`'s batch (sample dims) are folded into the
    right-hand-side columns, so a shared factor is not copied once per sample.

    Args:
        scale_tril: lower-triangular matrices, shape ``B + (d, d)``.
        y: vectors, shape ``S + B' + (d,)`` with ``B'`` broadcastable against ``B``.

    Returns:
        ``z`` of shape ``broadcast(S + B', B) + (d,)``.
    """
    d = scale_tril.shape[-1]
    batch = jnp.broadcast_shapes(y.shape[:-1], scale_tril.shape[:-2])
    num_lead = len(batch) - (scale_tril.ndim - 2)
    lead, inner = batch[:num_lead], batch[num_lead:]
    columns = int(np.prod(lead, dtype=int))
    y = jnp.broadcast_to(y, batch + (d,)).reshape((columns,) + inner + (d,))
    rhs = jnp.moveaxis(y, 0, -1)
    tril = jnp.broadcast_to(scale_tril, inner + (d, d))
    z = solve_triangular(tril, rhs, lower=True)
    return jnp.moveaxis(z, -1, 0).reshape(batch + (d,))


def log_diag_sum(scale_tril):
    """``sum(log(diag(L)))`` = half the log-determinant of ``L L^T``."""
    return jnp.sum(jnp.log(jnp.diagonal(scale_tril, axis1=-2, axis2=-1)), axis=-1)


class MultivariateNormal(Distribution):
    """Multivariate normal with mean `loc` and covariance ``scale_tril @ scale_tril.T``.

    Give exactly one of `covariance_matrix` and `scale_tril`; the Cholesky factor is
    what is stored (a covariance is factorised once, at construction).

    Args:
        loc: mean vector, shape ``batch_shape + (d,)`` (a scalar broadcasts to ``(d,)``).
        covariance_matrix: symmetric positive-definite, shape ``batch_shape + (d, d)``.
        scale_tril: lower-triangular with positive diagonal, shape ``batch_shape + (d, d)``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.MultivariateNormal(jnp.zeros(2), covariance_matrix=jnp.eye(2))
        >>> d.event_shape, round(float(d.log_prob(jnp.zeros(2))), 4)
        ((2,), -1.8379)
    """

    arg_constraints = {"loc": constraints.real_vector, "scale_tril": constraints.lower_cholesky}
    _param_event_ndims = {"loc": 1, "scale_tril": 2}
    support = constraints.real_vector

    def __init__(self, loc=0.0, covariance_matrix=None, scale_tril=None, *, validate_args=False):
        if (covariance_matrix is None) == (scale_tril is None):
            given = "both" if scale_tril is not None else "neither"
            raise ValueError(
                "MultivariateNormal: pass exactly one of `covariance_matrix` or `scale_tril`; "
                f"got {given}"
            )
        matrix = covariance_matrix if covariance_matrix is not None else scale_tril
        loc, matrix = promote_params(loc, matrix)
        name = "covariance_matrix" if covariance_matrix is not None else "scale_tril"
        if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
            raise ValueError(
                f"MultivariateNormal: `{name}` must be a square matrix (shape (..., d, d)); "
                f"got shape {matrix.shape}"
            )
        d = matrix.shape[-1]
        if loc.ndim == 0:
            loc = jnp.broadcast_to(loc, (d,))
        if loc.shape[-1] != d:
            raise ValueError(
                f"MultivariateNormal: `loc` must end in the matrix dimension {d}; "
                f"got shape {loc.shape}"
            )
        if covariance_matrix is not None:
            if validate_args:
                validate_param(
                    "MultivariateNormal", "covariance_matrix", matrix, constraints.positive_definite
                )
            matrix = jnp.linalg.cholesky(matrix)
        self.loc, self.scale_tril = loc, matrix
        self._validate(validate_args, loc=self.loc, scale_tril=self.scale_tril)

    @property
    def event_shape(self) -> tuple:
        return self.scale_tril.shape[-1:]

    def _sample(self, key, sample_shape):
        eps = jax.random.normal(key, sample_shape + self._shape, self.dtype)
        return self.loc + jnp.einsum("...ij,...j->...i", self.scale_tril, eps)

    def _log_prob(self, value):
        z = tril_solve(self.scale_tril, value - self.loc)
        d = self.event_shape[0]
        return -0.5 * jnp.sum(z * z, axis=-1) - log_diag_sum(self.scale_tril) - 0.5 * d * _LOG_2PI

    @property
    def covariance_matrix(self):
        """``scale_tril @ scale_tril.T``, shape ``batch_shape + (d, d)``."""
        return self.covariance()

    def covariance(self):
        """The covariance matrix, shape ``batch_shape + (d, d)``."""
        cov = self.scale_tril @ jnp.swapaxes(self.scale_tril, -1, -2)
        return jnp.broadcast_to(cov, self._shape + self.event_shape)

    def mean(self):
        return jnp.broadcast_to(self.loc, self._shape)

    def mode(self):
        return self.mean()

    def variance(self):
        return jnp.broadcast_to(jnp.sum(self.scale_tril**2, axis=-1), self._shape)

    def entropy(self):
        d = self.event_shape[0]
        h = 0.5 * d * (1.0 + _LOG_2PI) + log_diag_sum(self.scale_tril)
        return jnp.broadcast_to(h, self.batch_shape)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    d = p.event_shape[0]
    batch = jnp.broadcast_shapes(p.scale_tril.shape[:-2], q.scale_tril.shape[:-2])
    tril_q = jnp.broadcast_to(q.scale_tril, batch + (d, d))
    tril_p = jnp.broadcast_to(p.scale_tril, batch + (d, d))
    # tr(Sq^-1 Sp) = ||Lq^-1 Lp||_F^2.
    trace = jnp.sum(solve_triangular(tril_q, tril_p, lower=True) ** 2, axis=(-2, -1))
    z = tril_solve(q.scale_tril, p.loc - q.loc)
    mahalanobis = jnp.sum(z * z, axis=-1)
    log_det_ratio = 2.0 * (log_diag_sum(q.scale_tril) - log_diag_sum(p.scale_tril))
    return 0.5 * (trace + mahalanobis - d + log_det_ratio)
