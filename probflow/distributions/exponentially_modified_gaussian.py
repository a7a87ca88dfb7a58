"""The exponentially modified Gaussian: a Normal plus an independent Exponential."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtr

from probflow.distributions import constraints
from probflow.distributions._inverse_cdf import bisection_icdf
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["ExponentiallyModifiedGaussian"]


class ExponentiallyModifiedGaussian(Distribution):
    """``Normal(loc, scale) + Exponential(rate)`` (the ex-Gaussian).

    scipy's ``exponnorm(K=1/(scale rate), loc, scale)``.

    Args:
        loc: mean of the Normal part.
        scale: standard deviation of the Normal part, > 0.
        rate: rate of the Exponential part, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.ExponentiallyModifiedGaussian(1.0, 1.0, 2.0).mean())
        1.5
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.real

    def __init__(self, loc=0.0, scale=1.0, rate=1.0, *, validate_args=False):
        self.loc, self.scale, self.rate = promote_params(loc, scale, rate)
        self._validate(validate_args, loc=self.loc, scale=self.scale, rate=self.rate)

    def _sample(self, key, sample_shape):
        key_normal, key_exponential = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        normal = jax.random.normal(key_normal, shape, self.dtype)
        exponential = jax.random.exponential(key_exponential, shape, self.dtype)
        return self.loc + self.scale * normal + exponential / self.rate

    def _log_tilt(self, value):
        # log of the Exponential-convolution term: -rate (x - loc) + (rate scale)^2 / 2
        # + log Phi(z - rate scale), added in log space so neither factor overflows.
        z = (value - self.loc) / self.scale
        rs = self.rate * self.scale
        return z, -rs * z + 0.5 * rs * rs + log_ndtr(z - rs)

    def _log_prob(self, value):
        _, log_tilt = self._log_tilt(value)
        return jnp.log(self.rate) + log_tilt

    def cdf(self, value):
        z, log_tilt = self._log_tilt(value)
        return ndtr(z) - jnp.exp(log_tilt)

    def survival_function(self, value):
        z, log_tilt = self._log_tilt(value)
        return ndtr(-z) + jnp.exp(log_tilt)

    def log_survival_function(self, value):
        z, log_tilt = self._log_tilt(value)
        return jnp.logaddexp(log_ndtr(-z), log_tilt)

    def icdf(self, p):
        # No closed form: bisection, with the implicit gradient (see _inverse_cdf.py).
        return bisection_icdf(self, p, "real")

    def mean(self):
        return jnp.broadcast_to(self.loc + 1.0 / self.rate, self.batch_shape)

    def variance(self):
        return jnp.broadcast_to(self.scale**2 + self.rate**-2, self.batch_shape)
