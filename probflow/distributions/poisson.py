"""The Poisson distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaincc, gammaln, xlogy

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Poisson"]

# Below this rate the entropy is summed over k < _ENTROPY_TERMS (the tail beyond is
# < 1e-40 of the mass); above it, the asymptotic series is accurate to ~1e-9 relative.
_ENTROPY_SWITCH = 50.0
_ENTROPY_TERMS = 200


class Poisson(Distribution):
    """Poisson distribution of counts with mean `rate`.

    Args:
        rate: mean number of events, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Poisson(3.0).log_prob(2.0)), 4)
        -1.4959
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative_integer
    has_rsample = False

    def __init__(self, rate=1.0, *, validate_args=False):
        (self.rate,) = promote_params(rate)
        self._validate(validate_args, rate=self.rate)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        return jax.random.poisson(key, self.rate, shape).astype(self.dtype)

    def _log_prob(self, value):
        return xlogy(value, self.rate) - self.rate - gammaln(value + 1.0)

    def cdf(self, value):
        # P(X <= k) = Q(k + 1, rate), the regularised upper incomplete gamma function.
        k = jnp.floor(jnp.asarray(value))
        tail = gammaincc(jnp.maximum(k, 0.0) + 1.0, self.rate)
        return jnp.where(k < 0, 0.0, tail).astype(self.dtype)

    def mean(self):
        return jnp.broadcast_to(self.rate, self.batch_shape)

    def variance(self):
        return self.mean()

    def mode(self):
        return jnp.broadcast_to(jnp.floor(self.rate), self.batch_shape)

    def entropy(self):
        rate = self.rate
        small = jnp.minimum(rate, _ENTROPY_SWITCH)
        k = jnp.arange(_ENTROPY_TERMS, dtype=self.dtype)
        log_pmf = xlogy(k, small[..., None]) - small[..., None] - gammaln(k + 1.0)
        truncated = -jnp.sum(jnp.exp(log_pmf) * log_pmf, axis=-1)
        large = jnp.maximum(rate, _ENTROPY_SWITCH)
        inv = 1.0 / large
        asymptotic = (
            0.5 * jnp.log(2.0 * jnp.pi * jnp.e * large)
            - inv / 12.0
            - inv**2 / 24.0
            - 19.0 * inv**3 / 360.0
        )
        h = jnp.where(rate < _ENTROPY_SWITCH, truncated, asymptotic)
        return jnp.broadcast_to(h, self.batch_shape)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (jnp.log(p.rate) - jnp.log(q.rate)) - p.rate + q.rate
