"""The Exponential distribution (and `log1mexp`, shared by families with such tails)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Exponential"]

_LOG2 = 0.6931471805599453


def log1mexp(x):
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends (Maechler 2012)."""
    # Past -log(2) exp(x) is small enough for log1p; before it, expm1 keeps the digits.
    return jnp.where(x > -_LOG2, jnp.log(-jnp.expm1(x)), jnp.log1p(-jnp.exp(x)))


class Exponential(Distribution):
    """Exponential distribution with rate `rate` (mean ``1 / rate``).

    Args:
        rate: inverse scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Exponential(2.0).mean())
        0.5
    """

    arg_constraints = {"rate": constraints.positive}
    # [0, inf): the density is finite at 0 (as in scipy and TFP), so log_prob(0) is too.
    support = constraints.nonnegative

    def __init__(self, rate=1.0, *, validate_args=False):
        (self.rate,) = promote_params(rate)
        self._validate(validate_args, rate=self.rate)

    def _sample(self, key, sample_shape):
        draws = jax.random.exponential(key, sample_shape + self.batch_shape, self.dtype)
        return draws / self.rate

    def _log_prob(self, value):
        return jnp.log(self.rate) - self.rate * value

    def cdf(self, value):
        return -jnp.expm1(-self.rate * jnp.maximum(value, 0.0))

    def log_cdf(self, value):
        return log1mexp(-self.rate * jnp.maximum(value, 0.0))

    def survival_function(self, value):
        return jnp.exp(self.log_survival_function(value))

    def log_survival_function(self, value):
        return -self.rate * jnp.maximum(value, 0.0)

    def icdf(self, p):
        return -jnp.log1p(-p) / self.rate

    def mean(self):
        return 1.0 / self.rate

    def variance(self):
        return self.rate**-2

    def stddev(self):
        return self.mean()

    def mode(self):
        return jnp.zeros_like(self.rate)

    def entropy(self):
        return 1.0 - jnp.log(self.rate)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - 1.0 - jnp.log(ratio)
