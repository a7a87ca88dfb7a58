"""The MultivariateStudentT distribution."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.multivariate_normal import log_diag_sum, tril_solve

__all__ = ["MultivariateStudentT"]


class MultivariateStudentT(Distribution):
    """Multivariate Student's t with `df` degrees of freedom, `loc` and scale ``L L^T``.

    ``X = loc + L z / sqrt(w / df)``, ``z ~ N(0, I)``, ``w ~ Chi2(df)``;
    ``scipy.stats.multivariate_t(loc, shape=L L^T, df=df)``. Draws are reparameterised
    (the Gamma draw is differentiable in `df` by implicit differentiation).

    Args:
        df: degrees of freedom, > 0.
        loc: location vector, shape ``batch_shape + (d,)``.
        scale_tril: lower-triangular with positive diagonal, shape ``batch_shape + (d, d)``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> d = dist.MultivariateStudentT(4.0, jnp.zeros(2), jnp.eye(2))
        >>> d.covariance().tolist()
        [[2.0, 0.0], [0.0, 2.0]]
    """

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real_vector,
        "scale_tril": constraints.lower_cholesky,
    }
    _param_event_ndims = {"df": 0, "loc": 1, "scale_tril": 2}
    support = constraints.real_vector

    def __init__(self, df, loc, scale_tril, *, validate_args=False):
        self.df, loc, self.scale_tril = promote_params(df, loc, scale_tril)
        if self.scale_tril.ndim < 2 or self.scale_tril.shape[-1] != self.scale_tril.shape[-2]:
            raise ValueError(
                "MultivariateStudentT: `scale_tril` must be a square matrix (shape (..., d, d)); "
                f"got shape {self.scale_tril.shape}"
            )
        d = self.scale_tril.shape[-1]
        self.loc = jnp.broadcast_to(loc, (d,)) if loc.ndim == 0 else loc
        if self.loc.shape[-1] != d:
            raise ValueError(
                f"MultivariateStudentT: `loc` must end in the matrix dimension {d}; "
                f"got shape {self.loc.shape}"
            )
        self._validate(validate_args, df=self.df, loc=self.loc, scale_tril=self.scale_tril)

    @property
    def event_shape(self) -> tuple:
        return self.scale_tril.shape[-1:]

    def _sample(self, key, sample_shape):
        key_normal, key_gamma = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        z = jax.random.normal(key_normal, shape + self.event_shape, self.dtype)
        half_df = jnp.broadcast_to(0.5 * self.df, shape)
        w = 2.0 * jax.random.gamma(key_gamma, half_df, shape, self.dtype)
        scaled = jnp.einsum("...ij,...j->...i", self.scale_tril, z)
        return self.loc + scaled * jax.lax.rsqrt(w / self.df)[..., None]

    def _log_prob(self, value):
        d = self.event_shape[0]
        df = self.df
        z = tril_solve(self.scale_tril, value - self.loc)
        mahalanobis = jnp.sum(z * z, axis=-1)
        return (
            gammaln(0.5 * (df + d))
            - gammaln(0.5 * df)
            - 0.5 * d * jnp.log(df * math.pi)
            - log_diag_sum(self.scale_tril)
            - 0.5 * (df + d) * jnp.log1p(mahalanobis / df)
        )

    def mean(self):
        """``loc`` where ``df > 1``, NaN otherwise."""
        m = jnp.where(self.df[..., None] > 1.0, self.loc, jnp.nan)
        return jnp.broadcast_to(m, self._shape)

    def mode(self):
        return jnp.broadcast_to(self.loc, self._shape)

    def covariance(self):
        """``df / (df - 2) L L^T`` where ``df > 2``, inf for 1 < df <= 2, NaN below."""
        ratio = jnp.where(self.df > 2.0, self.df / (self.df - 2.0), jnp.where(self.df > 1.0, jnp.inf, jnp.nan))
        cov = ratio[..., None, None] * (self.scale_tril @ jnp.swapaxes(self.scale_tril, -1, -2))
        return jnp.broadcast_to(cov, self._shape + self.event_shape)

    def variance(self):
        return jnp.diagonal(self.covariance(), axis1=-2, axis2=-1)

    def entropy(self):
        d = self.event_shape[0]
        half_df, half_total = 0.5 * self.df, 0.5 * (self.df + d)
        h = (
            log_diag_sum(self.scale_tril)
            + 0.5 * d * jnp.log(self.df * math.pi)
            + gammaln(half_df)
            - gammaln(half_total)
            + half_total * (digamma(half_total) - digamma(half_df))
        )
        return jnp.broadcast_to(h, self.batch_shape)
