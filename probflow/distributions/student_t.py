"""The (location-scale) Student's t distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import betainc, digamma

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.beta import log_beta
from probflow.distributions.distribution import Distribution

__all__ = ["StudentT"]



class StudentT(Distribution):
    """Student's t with `df` degrees of freedom, shifted by `loc` and scaled by `scale`.

    The mean is NaN for ``df <= 1``; the variance is infinite for ``1 < df <= 2`` and
    NaN for ``df <= 1``.

    Args:
        df: degrees of freedom, > 0.
        loc: location (median and mode).
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.StudentT(3.0, 0.0, 1.0).variance())
        3.0
    """

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real

    def __init__(self, df, loc=0.0, scale=1.0, *, validate_args=False):
        self.df, self.loc, self.scale = promote_params(df, loc, scale)
        self._validate(validate_args, df=self.df, loc=self.loc, scale=self.scale)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        key_normal, key_gamma = jax.random.split(key)
        normal = jax.random.normal(key_normal, shape, self.dtype)
        # A chi-square(df)/df draw through the reparameterised Gamma sampler.
        half_df = jnp.broadcast_to(0.5 * self.df, shape)
        gamma = jax.random.gamma(key_gamma, half_df, shape, self.dtype)
        return self.loc + self.scale * normal * jnp.sqrt(half_df / gamma)

    def _log_norm(self):
        # log B(df/2, 1/2) in place of a difference of gammaln: no cancellation at huge df.
        return log_beta(0.5 * self.df, 0.5) + 0.5 * jnp.log(self.df) + jnp.log(self.scale)

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -0.5 * (self.df + 1.0) * jnp.log1p(z * z / self.df) - self._log_norm()

    def cdf(self, value):
        z = (value - self.loc) / self.scale
        z2 = z * z
        # P(|T| > |z|) = I_{df/(df+z^2)}(df/2, 1/2); in the centre use the complement
        # I_{z^2/(df+z^2)}(1/2, df/2) so the argument is not rounded to 1.
        tail = jnp.where(
            z2 < self.df,
            1.0 - betainc(0.5, 0.5 * self.df, z2 / (self.df + z2)),
            betainc(0.5 * self.df, 0.5, self.df / (self.df + z2)),
        )
        return jnp.where(z > 0, 1.0 - 0.5 * tail, 0.5 * tail)

    def survival_function(self, value):
        return self._replace(loc=-self.loc).cdf(-value)

    def mean(self):
        loc = jnp.broadcast_to(self.loc, self.batch_shape)
        return jnp.where(self.df > 1.0, loc, jnp.nan)

    def variance(self):
        var = self.scale**2 * self.df / (self.df - 2.0)
        var = jnp.where(self.df > 2.0, var, jnp.inf)
        return jnp.broadcast_to(jnp.where(self.df > 1.0, var, jnp.nan), self.batch_shape)

    def mode(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def entropy(self):
        half_df_plus = 0.5 * (self.df + 1.0)
        digamma_gap = digamma(half_df_plus) - digamma(0.5 * self.df)
        out = half_df_plus * digamma_gap + self._log_norm()
        return jnp.broadcast_to(out, self.batch_shape)
