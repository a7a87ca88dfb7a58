"""A multivariate normal with low-rank-plus-diagonal covariance."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.multivariate_normal import log_diag_sum, tril_solve

__all__ = ["LowRankMultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


class LowRankMultivariateNormal(Distribution):
    """Normal with covariance ``cov_factor @ cov_factor.T + diag(cov_diag)``.

    With W of shape (d, k) and k << d, `log_prob` costs O(d k^2) through the Woodbury
    identity and the matrix determinant lemma, both built on the Cholesky factor of the
    k x k "capacitance" matrix ``I + W^T D^-1 W``.

    Args:
        loc: mean, shape ``batch_shape + (d,)``.
        cov_factor: W, shape ``batch_shape + (d, k)``.
        cov_diag: the positive diagonal D, shape ``batch_shape + (d,)``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.LowRankMultivariateNormal(jnp.zeros(3), jnp.zeros((3, 1)), jnp.ones(3))
        >>> round(float(d.log_prob(jnp.zeros(3))), 4)
        -2.7568
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    _param_event_ndims = {"loc": 1, "cov_factor": 2, "cov_diag": 1}
    support = constraints.real_vector

    def __init__(self, loc, cov_factor, cov_diag, *, validate_args=False):
        self.loc, self.cov_factor, self.cov_diag = promote_params(loc, cov_factor, cov_diag)
        if self.cov_factor.ndim < 2:
            raise ValueError(
                "LowRankMultivariateNormal: `cov_factor` must have shape (..., d, k); "
                f"got shape {self.cov_factor.shape}"
            )
        d = self.cov_factor.shape[-2]
        for name in ("loc", "cov_diag"):
            shape = jnp.shape(self.__dict__[name])
            if len(shape) < 1 or shape[-1] != d:
                raise ValueError(
                    f"LowRankMultivariateNormal: `{name}` must end in d = {d} (the rows of "
                    f"`cov_factor`); got shape {shape}"
                )
        self._validate(
            validate_args, loc=self.loc, cov_factor=self.cov_factor, cov_diag=self.cov_diag
        )

    @property
    def event_shape(self) -> tuple:
        return self.cov_factor.shape[-2:-1]

    def _capacitance_tril(self):
        """Cholesky factor of ``I_k + W^T D^-1 W``, shape ``batch + (k, k)``."""
        w = self.cov_factor
        scaled = w / self.cov_diag[..., None]
        k = w.shape[-1]
        capacitance = jnp.eye(k, dtype=w.dtype) + jnp.swapaxes(w, -1, -2) @ scaled
        return jnp.linalg.cholesky(capacitance)

    def _sample(self, key, sample_shape):
        key_factor, key_diag = jax.random.split(key)
        k = self.cov_factor.shape[-1]
        shape = sample_shape + self.batch_shape
        eps_factor = jax.random.normal(key_factor, shape + (k,), self.dtype)
        eps_diag = jax.random.normal(key_diag, shape + self.event_shape, self.dtype)
        low_rank = jnp.einsum("...dk,...k->...d", self.cov_factor, eps_factor)
        return self.loc + low_rank + jnp.sqrt(self.cov_diag) * eps_diag

    def _log_prob(self, value):
        diff = value - self.loc
        d = self.event_shape[0]
        # Woodbury: x^T S^-1 x = x^T D^-1 x - |C^-1/2 W^T D^-1 x|^2.
        scaled = diff / self.cov_diag
        projected = jnp.einsum("...dk,...d->...k", self.cov_factor, scaled)
        capacitance_tril = self._capacitance_tril()
        z = tril_solve(capacitance_tril, projected)
        mahalanobis = jnp.sum(diff * scaled, axis=-1) - jnp.sum(z * z, axis=-1)
        return -0.5 * (mahalanobis + self._log_det(capacitance_tril) + d * _LOG_2PI)

    def _log_det(self, capacitance_tril):
        # Matrix determinant lemma: log|W W^T + D| = log|C| + sum(log D).
        return 2.0 * log_diag_sum(capacitance_tril) + jnp.sum(jnp.log(self.cov_diag), axis=-1)

    def covariance(self):
        """The dense covariance, shape ``batch_shape + (d, d)``."""
        w = self.cov_factor
        cov = w @ jnp.swapaxes(w, -1, -2) + self.cov_diag[..., None] * jnp.eye(
            w.shape[-2], dtype=w.dtype
        )
        return jnp.broadcast_to(cov, self._shape + self.event_shape)

    def mean(self):
        return jnp.broadcast_to(self.loc, self._shape)

    def mode(self):
        return self.mean()

    def variance(self):
        v = jnp.sum(self.cov_factor**2, axis=-1) + self.cov_diag
        return jnp.broadcast_to(v, self._shape)

    def entropy(self):
        d = self.event_shape[0]
        log_det = self._log_det(self._capacitance_tril())
        return jnp.broadcast_to(0.5 * (d * (1.0 + _LOG_2PI) + log_det), self.batch_shape)
