"""The HalfCauchy distribution: ``|Y|`` for ``Y ~ Cauchy(0, scale)``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.cauchy import log1p_square
from probflow.distributions.distribution import Distribution

__all__ = ["HalfCauchy"]


class HalfCauchy(Distribution):
    """Absolute value of a zero-centred Cauchy with scale `scale`.

    A common weakly-informative prior for scale parameters (Gelman 2006). Its mean
    and variance are infinite.

    Args:
        scale: scale of the underlying Cauchy, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.HalfCauchy(2.0).icdf(0.5)), 5)  # the median is the scale
        2.0
    """

    arg_constraints = {"scale": constraints.positive}
    # [0, inf): the density is finite at 0 (as in scipy and TFP), so log_prob(0) is too.
    support = constraints.nonnegative

    def __init__(self, scale=1.0, *, validate_args=False):
        (self.scale,) = promote_params(scale)
        self._validate(validate_args, scale=self.scale)

    def _sample(self, key, sample_shape):
        # p = 0 would map to an infinite draw; start the uniform at the smallest normal float.
        u = jax.random.uniform(
            key, sample_shape + self.batch_shape, self.dtype, minval=jnp.finfo(self.dtype).tiny
        )
        return self.icdf(u)

    def _log_prob(self, value):
        return math.log(2.0 / math.pi) - jnp.log(self.scale) - log1p_square(value / self.scale)

    def cdf(self, value):
        return (2.0 / math.pi) * jnp.arctan(jnp.maximum(value, 0.0) / self.scale)

    def survival_function(self, value):
        # arctan2(1, z) = arctan(1 / z) keeps its digits in the far tail.
        return (2.0 / math.pi) * jnp.arctan2(1.0, jnp.maximum(value, 0.0) / self.scale)

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def icdf(self, p):
        # tan(pi p / 2) = 1 / tan(pi (1 - p) / 2); the second form is exact near p = 1.
        upper = p > 0.5
        angle = 0.5 * math.pi * jnp.where(upper, 1.0 - p, p)
        return self.scale * jnp.where(upper, 1.0 / jnp.tan(angle), jnp.tan(angle))

    def mean(self):
        return jnp.full_like(self.scale, jnp.inf)

    def variance(self):
        return jnp.full_like(self.scale, jnp.inf)

    def mode(self):
        return jnp.zeros_like(self.scale)

    def entropy(self):
        return math.log(2.0 * math.pi) + jnp.log(self.scale)
