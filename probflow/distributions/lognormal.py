"""The LogNormal distribution: ``exp`` of a Normal."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtr, ndtri

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import kl_divergence, register_kl
from probflow.distributions.normal import Normal

__all__ = ["LogNormal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class LogNormal(Distribution):
    """Distribution of ``exp(Y)`` for ``Y ~ Normal(loc, scale)``.

    Args:
        loc: mean of ``log(X)``.
        scale: standard deviation of ``log(X)``, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.LogNormal(0.0, 1.0).icdf(0.5))
        1.0
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, loc=0.0, scale=1.0, *, validate_args=False):
        self.loc, self.scale = promote_params(loc, scale)
        self._validate(validate_args, loc=self.loc, scale=self.scale)

    def _sample(self, key, sample_shape):
        eps = jax.random.normal(key, sample_shape + self.batch_shape, self.dtype)
        return jnp.exp(self.loc + self.scale * eps)

    def _standardize(self, value):
        # log(0) = -inf gives cdf 0; negative values are clamped to 0 first, never NaN.
        return (jnp.log(jnp.maximum(value, 0.0)) - self.loc) / self.scale

    def _log_prob(self, value):
        log_value = jnp.log(value)
        z = (log_value - self.loc) / self.scale
        return -0.5 * z * z - jnp.log(self.scale) - _HALF_LOG_2PI - log_value

    def cdf(self, value):
        return ndtr(self._standardize(value))

    def log_cdf(self, value):
        return log_ndtr(self._standardize(value))

    def survival_function(self, value):
        return ndtr(-self._standardize(value))

    def log_survival_function(self, value):
        return log_ndtr(-self._standardize(value))

    def icdf(self, p):
        return jnp.exp(self.loc + self.scale * ndtri(p))

    def mean(self):
        return jnp.exp(self.loc + 0.5 * self.scale**2)

    def variance(self):
        scale2 = self.scale**2
        return jnp.expm1(scale2) * jnp.exp(2.0 * self.loc + scale2)

    def mode(self):
        return jnp.exp(self.loc - self.scale**2)

    def entropy(self):
        return jnp.broadcast_to(self.loc + 0.5 + _HALF_LOG_2PI + jnp.log(self.scale), self.batch_shape)


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    # KL is invariant under the shared bijection exp, so it equals the Normal one.
    return kl_divergence(Normal(p.loc, p.scale), Normal(q.loc, q.scale))
