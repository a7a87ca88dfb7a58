"""The Zipf (zeta) distribution on the positive integers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.special import zeta

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Zipf"]


class Zipf(Distribution):
    """``P(X = k) = k^-power / zeta(power)`` for k = 1, 2, ...; ``scipy.stats.zipf(power)``.

    Draws use Devroye's rejection method (Non-Uniform Random Variate Generation,
    1986, X.6.1), whose acceptance probability is above 0.5 for every power.

    Args:
        power: the exponent, > 1.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Zipf(3.0).prob(1.0)), 4)
        0.8319
    """

    arg_constraints = {"power": constraints.greater_than(1.0)}
    support = constraints.positive_integer
    has_rsample = False

    def __init__(self, power, *, validate_args=False):
        (self.power,) = promote_params(power)
        self._validate(validate_args, power=self.power)

    def _log_normaliser(self):
        return jnp.log(zeta(self.power, 1.0))

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        a = jnp.broadcast_to(self.power, shape)
        b = jnp.exp2(a - 1.0)
        tiny = jnp.finfo(self.dtype).tiny

        def propose(key):
            key_u, key_v = jax.random.split(key)
            u = jax.random.uniform(key_u, shape, self.dtype, minval=tiny)
            v = jax.random.uniform(key_v, shape, self.dtype)
            x = jnp.floor(u ** (-1.0 / (a - 1.0)))
            t = (1.0 + 1.0 / x) ** (a - 1.0)
            accept = v * x * (t - 1.0) / (b - 1.0) <= t / b
            return x, accept

        def body(state):
            key, draws, done = state
            key, sub = jax.random.split(key)
            x, accept = propose(sub)
            take = accept & ~done
            return key, jnp.where(take, x, draws), done | accept

        def pending(state):
            return ~jnp.all(state[2])

        start = (key, jnp.ones(shape, self.dtype), jnp.zeros(shape, bool))
        return lax.while_loop(pending, body, start)[1]

    def _log_prob(self, value):
        return -self.power * jnp.log(jnp.maximum(value, 1.0)) - self._log_normaliser()

    def survival_function(self, value):
        k = jnp.floor(jnp.asarray(value))
        # P(X > k) = zeta(power, k + 1) / zeta(power).
        tail = zeta(self.power, jnp.maximum(k, 0.0) + 1.0) / zeta(self.power, 1.0)
        return jnp.where(k < 1, 1.0, tail).astype(self.dtype)

    def cdf(self, value):
        return 1.0 - self.survival_function(value)

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def mean(self):
        m = jnp.where(self.power > 2.0, zeta(self.power - 1.0, 1.0) / zeta(self.power, 1.0), jnp.inf)
        return jnp.broadcast_to(m, self.batch_shape)

    def variance(self):
        z = zeta(self.power, 1.0)
        m = zeta(self.power - 1.0, 1.0) / z
        v = jnp.where(self.power > 3.0, zeta(self.power - 2.0, 1.0) / z - m * m, jnp.inf)
        return jnp.broadcast_to(v, self.batch_shape)

    def mode(self):
        return jnp.ones(self.batch_shape, self.dtype)
