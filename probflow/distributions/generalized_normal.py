"""The generalized Normal (exponential power) distribution."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import gammainc, gammaincc, gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["GeneralizedNormal"]

_LOG2 = math.log(2.0)


class GeneralizedNormal(Distribution):
    """Generalized Normal: density proportional to ``exp(-|(x - loc) / scale|^power)``.

    ``power = 2`` is ``Normal(loc, scale / sqrt(2))``, ``power = 1`` is Laplace, and
    large powers approach ``Uniform(loc - scale, loc + scale)`` (scipy's
    ``gennorm(beta=power, loc, scale)``).

    Args:
        loc: location (mean, median and mode).
        scale: scale, > 0.
        power: shape, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.GeneralizedNormal(0.0, 1.0, 1.0).variance()), 4)
        2.0
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "power": constraints.positive,
    }
    support = constraints.real

    def __init__(self, loc=0.0, scale=1.0, power=2.0, *, validate_args=False):
        self.loc, self.scale, self.power = promote_params(loc, scale, power)
        self._validate(validate_args, loc=self.loc, scale=self.scale, power=self.power)

    def _sample(self, key, sample_shape):
        # |z|^power is Gamma(1 / power); the sign is an independent fair coin.
        key_gamma, key_sign = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        inv_power = jnp.broadcast_to(1.0 / self.power, shape)
        gamma = jax.random.gamma(key_gamma, inv_power, shape, self.dtype)
        sign = jnp.where(jax.random.bernoulli(key_sign, 0.5, shape), 1.0, -1.0).astype(self.dtype)
        return self.loc + self.scale * sign * gamma**inv_power

    def _log_prob(self, value):
        z = jnp.abs(value - self.loc) / self.scale
        return jnp.log(self.power / (2.0 * self.scale)) - gammaln(1.0 / self.power) - z**self.power

    def _tail(self, value):
        # P(|X - loc| > |value - loc|) = Q(1 / power, |z|^power).
        z = jnp.abs(value - self.loc) / self.scale
        return gammaincc(1.0 / self.power, z**self.power), gammainc(1.0 / self.power, z**self.power)

    def cdf(self, value):
        tail, body = self._tail(value)
        return jnp.where(value < self.loc, 0.5 * tail, 0.5 + 0.5 * body)

    def survival_function(self, value):
        tail, body = self._tail(value)
        return jnp.where(value > self.loc, 0.5 * tail, 0.5 + 0.5 * body)

    def log_cdf(self, value):
        return jnp.log(self.cdf(value))

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def mean(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def mode(self):
        return self.mean()

    def variance(self):
        inv = 1.0 / self.power
        return jnp.broadcast_to(self.scale**2 * jnp.exp(gammaln(3.0 * inv) - gammaln(inv)), self.batch_shape)

    def entropy(self):
        inv = 1.0 / self.power
        out = inv - jnp.log(self.power / (2.0 * self.scale)) + gammaln(inv)
        return jnp.broadcast_to(out, self.batch_shape)
