"""The Gompertz distribution (exponentially increasing hazard)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import exp1, log_ndtr

from probflow.distributions import constraints
from probflow.distributions._quadrature import normal_expectation
from probflow.distributions._tail_forms import FromLogSurvival
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Gompertz"]

# Past this argument exp(x) E1(x) overflows in float64 long before it loses accuracy
# in the asymptotic series below, whose first terms are then exact to double precision.
_ASYMPTOTIC_FROM = 50.0
_ASYMPTOTIC_TERMS = 13


def scaled_exp1(x):
    """``exp(x) E1(x)`` for ``x > 0``, without overflow for large x."""
    small = jnp.minimum(x, _ASYMPTOTIC_FROM)
    direct = jnp.exp(small) * exp1(small)
    # exp(x) E1(x) ~ sum_n (-1)^n n! / x^(n + 1); the truncation error at x >= 50 is < 1e-14.
    inv = 1.0 / jnp.maximum(x, _ASYMPTOTIC_FROM)
    term, series = inv, inv
    for n in range(1, _ASYMPTOTIC_TERMS):
        term = -term * n * inv
        series = series + term
    return jnp.where(x < _ASYMPTOTIC_FROM, direct, series)


class Gompertz(FromLogSurvival, Distribution):
    """Gompertz distribution: ``P(X > x) = exp(-concentration (exp(rate x) - 1))`` on x > 0.

    The density is ``concentration rate exp(rate x - concentration expm1(rate x))``
    (scipy's ``gompertz(c=concentration, scale=1/rate)``).

    Args:
        concentration: shape, > 0.
        rate: inverse scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Gompertz(1.0, 2.0).cdf(0.5)), 4)
        0.8206
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive

    def __init__(self, concentration, rate=1.0, *, validate_args=False):
        self.concentration, self.rate = promote_params(concentration, rate)
        self._validate(validate_args, concentration=self.concentration, rate=self.rate)

    def _sample(self, key, sample_shape):
        # concentration * expm1(rate X) is standard exponential.
        draws = jax.random.exponential(key, sample_shape + self.batch_shape, self.dtype)
        return jnp.maximum(jnp.log1p(draws / self.concentration) / self.rate, jnp.finfo(self.dtype).tiny)

    def _log_prob(self, value):
        scaled = self.rate * value
        return jnp.log(self.concentration * self.rate) + scaled - self.concentration * jnp.expm1(scaled)

    def log_survival_function(self, value):
        return -self.concentration * jnp.expm1(self.rate * jnp.maximum(value, 0.0))

    def icdf(self, p):
        return jnp.log1p(-jnp.log1p(-p) / self.concentration) / self.rate

    def _icdf_of_normal(self, z):
        # icdf(ndtr(z)) with the upper tail taken as log ndtr(-z): smooth in z for the
        # quadrature of the second moment.
        return jnp.log1p(-log_ndtr(-z) / self.concentration) / self.rate

    def mean(self):
        mean = scaled_exp1(self.concentration) / self.rate
        return jnp.broadcast_to(mean, self.batch_shape)

    def variance(self):
        # E[X^2] has no elementary form: a Normal quadrature of (icdf(Phi(z)) - mean)^2.
        mean = self.mean()
        var = normal_expectation(lambda z: (self._icdf_of_normal(z) - mean) ** 2, len(self.batch_shape), self.dtype)
        return jnp.broadcast_to(var, self.batch_shape)

    def mode(self):
        # The density's log derivative at 0 is rate (1 - concentration).
        mode = jnp.where(self.concentration < 1.0, -jnp.log(self.concentration) / self.rate, 0.0)
        return jnp.broadcast_to(mode, self.batch_shape)

    def entropy(self):
        # E[concentration expm1(rate X)] = 1 and rate E[X] = exp(c) E1(c).
        out = 1.0 - jnp.log(self.concentration * self.rate) - scaled_exp1(self.concentration)
        return jnp.broadcast_to(out, self.batch_shape)
