"""The conditional autoregressive (CAR) distribution over values on a graph."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular

from probflow.distributions import constraints
from probflow.distributions._util import is_concrete, promote_params, validate_param
from probflow.distributions.distribution import Distribution

__all__ = ["CAR"]

_LOG_2PI = math.log(2 * math.pi)
_ABOVE_MINUS_ONE = constraints.greater_than(-1.0)


def _check_adjacency(adj):
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise ValueError(f"CAR: `adj_matrix` must be a square (n, n) matrix; got shape {adj.shape}")
    if not is_concrete(adj):
        return
    a = np.asarray(adj)
    problems = []
    if not np.allclose(a, a.T):
        problems.append("symmetric")
    if np.any(a < 0) or np.any(np.diag(a) != 0):
        problems.append("non-negative with a zero diagonal")
    if np.any(a.sum(-1) <= 0):
        problems.append("every node with at least one neighbour")
    if problems:
        raise ValueError(
            f"CAR: `adj_matrix` must be {', '.join(problems)}; got {np.array2string(a, threshold=6)}"
        )


class CAR(Distribution):
    """Proper CAR: ``N(loc, Q^-1)`` with precision ``Q = tau (D - alpha W)`` (as NumPyro).

    W is the adjacency matrix of the graph, D the diagonal of its row sums; node i's
    conditional law given the others is ``N(loc_i + alpha sum_j W_ij (x_j - loc_j) / d_i,
    1 / (tau d_i))``. ``log det Q`` uses the eigenvalues of ``D^-1/2 W D^-1/2``, so
    `log_prob` costs one symmetric eigen-decomposition of the graph per call.

    Args:
        loc: mean, shape ``batch_shape + (n,)``.
        correlation: alpha, in (-1, 1) (where Q is positive definite for any graph).
        conditional_precision: tau, > 0.
        adj_matrix: W, a symmetric non-negative (n, n) matrix with zero diagonal and no
            isolated node.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> w = jnp.array([[0.0, 1.0], [1.0, 0.0]])
        >>> d = dist.CAR(jnp.zeros(2), 0.5, 1.0, w)
        >>> [round(v, 4) for v in d.variance().tolist()]
        [1.3333, 1.3333]
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "correlation": None,
        "conditional_precision": constraints.positive,
        "adj_matrix": None,
    }
    _param_event_ndims = {"loc": 1, "adj_matrix": 2}
    support = constraints.real_vector

    def __init__(self, loc, correlation, conditional_precision, adj_matrix, *, validate_args=False):
        self.loc, self.correlation, self.conditional_precision, self.adj_matrix = promote_params(
            loc, correlation, conditional_precision, adj_matrix
        )
        _check_adjacency(self.adj_matrix)
        n = self.adj_matrix.shape[-1]
        if self.loc.ndim == 0:
            self.loc = jnp.broadcast_to(self.loc, (n,))
        if self.loc.shape[-1] != n:
            raise ValueError(f"CAR: `loc` must end in the number of nodes {n}; got shape {self.loc.shape}")
        self._validate(
            validate_args, loc=self.loc, conditional_precision=self.conditional_precision
        )
        if self.validate_args:
            validate_param("CAR", "correlation", self.correlation, _ABOVE_MINUS_ONE)
            validate_param("CAR", "correlation", -self.correlation, _ABOVE_MINUS_ONE)

    @property
    def event_shape(self) -> tuple:
        return self.adj_matrix.shape[-1:]

    def precision_matrix(self):
        """``Q = tau (D - alpha W)``, shape ``batch_shape + (n, n)``."""
        degree = jnp.sum(self.adj_matrix, axis=-1)
        alpha = self.correlation[..., None, None]
        eye = jnp.eye(self.adj_matrix.shape[-1], dtype=self.dtype)
        q = self.conditional_precision[..., None, None] * (degree[..., None] * eye - alpha * self.adj_matrix)
        return jnp.broadcast_to(q, self.batch_shape + self.event_shape * 2)

    def _sample(self, key, sample_shape):
        # x = loc + L^-T z with Q = L L^T, so Cov x = (L L^T)^-1.
        factor = jnp.linalg.cholesky(self.precision_matrix())
        z = jax.random.normal(key, sample_shape + self._shape, self.dtype)
        batch = sample_shape + self.batch_shape
        factor = jnp.broadcast_to(factor, batch + factor.shape[-2:])
        x = solve_triangular(factor, z[..., None], lower=True, trans="T")[..., 0]
        return self.loc + x

    def _log_prob(self, value):
        n = self.event_shape[0]
        degree = jnp.sum(self.adj_matrix, axis=-1)
        inv_sqrt = jax.lax.rsqrt(degree)
        eigenvalues = jnp.linalg.eigvalsh(inv_sqrt[..., :, None] * self.adj_matrix * inv_sqrt[..., None, :])
        alpha, tau = self.correlation, self.conditional_precision
        log_det = (
            n * jnp.log(tau)
            + jnp.sum(jnp.log(degree), axis=-1)
            + jnp.sum(jnp.log1p(-alpha[..., None] * eigenvalues), axis=-1)
        )
        x = value - self.loc
        neighbours = jnp.einsum("...i,...ij,...j->...", x, self.adj_matrix, x)
        quadratic = tau * (jnp.sum(degree * x * x, axis=-1) - alpha * neighbours)
        return 0.5 * (log_det - quadratic - n * _LOG_2PI)

    def mean(self):
        return jnp.broadcast_to(self.loc, self._shape)

    def covariance(self):
        """``Q^-1``, shape ``batch_shape + (n, n)``."""
        q = self.precision_matrix()
        factor = jnp.linalg.cholesky(q)
        return cho_solve((factor, True), jnp.broadcast_to(jnp.eye(q.shape[-1], dtype=q.dtype), q.shape))

    def variance(self):
        return jnp.broadcast_to(jnp.diagonal(self.covariance(), axis1=-2, axis2=-1), self._shape)
