"""The Kumaraswamy distribution on the unit interval (a Beta look-alike with a closed-form cdf)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, xlogy

from probflow.distributions import constraints
from probflow.distributions._tail_forms import FromLogSurvival
from probflow.distributions._util import promote_params
from probflow.distributions.beta import log_beta
from probflow.distributions.distribution import Distribution
from probflow.distributions.exponential import log1mexp

__all__ = ["Kumaraswamy"]

_EULER_GAMMA = 0.5772156649015329


class Kumaraswamy(FromLogSurvival, Distribution):
    """Kumaraswamy distribution: ``P(X <= x) = 1 - (1 - x^a)^b`` on ``[0, 1]``.

    Density ``a b x^(a - 1) (1 - x^a)^(b - 1)`` with ``a = concentration1``,
    ``b = concentration0``; draws are the closed-form inverse cdf of a uniform, so
    they are reparameterised.

    Args:
        concentration1: ``a``, > 0.
        concentration0: ``b``, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Kumaraswamy(1.0, 1.0).cdf(0.25)), 4)
        0.25
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, *, validate_args=False):
        self.concentration1, self.concentration0 = promote_params(concentration1, concentration0)
        self._validate(
            validate_args, concentration1=self.concentration1, concentration0=self.concentration0
        )

    def _sample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self.icdf(u)

    def _log_prob(self, value):
        a, b = self.concentration1, self.concentration0
        # 1 - x^a = -expm1(a log x) keeps its digits for x near 0; xlogy gives the edges
        # their limits (0 log 0 = 0 where an exponent is exactly 1).
        one_minus_pow = -jnp.expm1(a * jnp.log(value))
        return jnp.log(a * b) + xlogy(a - 1.0, value) + xlogy(b - 1.0, one_minus_pow)

    def log_survival_function(self, value):
        # log (1 - x^a)^b, with x^a = exp(a log x) in log space.
        log_value = jnp.log(jnp.clip(value, 0.0, 1.0))
        return self.concentration0 * log1mexp(self.concentration1 * log_value)

    def icdf(self, p):
        # (1 - (1 - p)^(1/b))^(1/a), each power in log space.
        log_inner = log1mexp(jnp.log1p(-p) / self.concentration0)
        return jnp.exp(log_inner / self.concentration1)

    def _raw_moment(self, k):
        # E[X^k] = b B(1 + k / a, b).
        a, b = self.concentration1, self.concentration0
        return b * jnp.exp(log_beta(1.0 + k / a, b))

    def mean(self):
        return self._raw_moment(1.0)

    def variance(self):
        return self._raw_moment(2.0) - self._raw_moment(1.0) ** 2

    def mode(self):
        a, b = self.concentration1, self.concentration0
        interior = ((a - 1.0) / (a * b - 1.0)) ** (1.0 / a)
        edge = jnp.where(a < 1.0, 0.0, jnp.where(b < 1.0, 1.0, jnp.nan))
        return jnp.where((a >= 1.0) & (b >= 1.0) & (a * b > 1.0), interior, edge)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        harmonic_b = digamma(b + 1.0) + _EULER_GAMMA
        return (1.0 - 1.0 / b) + (1.0 - 1.0 / a) * harmonic_b - jnp.log(a * b)
