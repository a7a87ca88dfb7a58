"""The HalfNormal distribution: ``|Y|`` for ``Y ~ Normal(0, scale)``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import erf, erfc, erfinv, log_ndtr

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["HalfNormal"]

_HALF_LOG_HALF_PI = 0.5 * math.log(math.pi / 2)
_SQRT2 = math.sqrt(2.0)


class HalfNormal(Distribution):
    """Absolute value of a zero-mean Normal with standard deviation `scale`.

    Args:
        scale: scale of the underlying Normal, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.HalfNormal(1.0).mean()), 4)
        0.7979
    """

    arg_constraints = {"scale": constraints.positive}
    # [0, inf): the density is finite at 0 (as in scipy and TFP), so log_prob(0) is too.
    support = constraints.nonnegative

    def __init__(self, scale=1.0, *, validate_args=False):
        (self.scale,) = promote_params(scale)
        self._validate(validate_args, scale=self.scale)

    def _sample(self, key, sample_shape):
        eps = jax.random.normal(key, sample_shape + self.batch_shape, self.dtype)
        return self.scale * jnp.abs(eps)

    def _log_prob(self, value):
        z = value / self.scale
        return -0.5 * z * z - jnp.log(self.scale) - _HALF_LOG_HALF_PI

    def _z(self, value):
        return jnp.maximum(value, 0.0) / (self.scale * _SQRT2)

    def cdf(self, value):
        return erf(self._z(value))

    def survival_function(self, value):
        return erfc(self._z(value))

    def log_survival_function(self, value):
        # P(X > x) = 2 P(Y > x): the Normal's stable log tail.
        return math.log(2.0) + log_ndtr(-jnp.maximum(value, 0.0) / self.scale)

    def icdf(self, p):
        return self.scale * _SQRT2 * erfinv(p)

    def mean(self):
        return self.scale * math.sqrt(2.0 / math.pi)

    def variance(self):
        return self.scale**2 * (1.0 - 2.0 / math.pi)

    def mode(self):
        return jnp.zeros_like(self.scale)

    def entropy(self):
        return 0.5 + _HALF_LOG_HALF_PI + jnp.log(self.scale)
