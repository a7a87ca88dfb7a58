"""The Cauchy distribution."""

from __future__ import annotations

import math

import jax.numpy as jnp

from probflow.distributions._loc_scale import LocationScale

__all__ = ["Cauchy"]


def log1p_square(z):
    """``log(1 + z**2)`` without overflow of ``z**2`` for huge ``|z|``."""
    abs_z = jnp.abs(z)
    big = abs_z > 1.0
    # 2 log|z| + log1p(z^-2) for |z| > 1; the safe denominators keep both branches finite.
    large = 2.0 * jnp.log(jnp.where(big, abs_z, 1.0)) + jnp.log1p(jnp.where(big, abs_z, 1.0) ** -2)
    return jnp.where(big, large, jnp.log1p(z * z))


class Cauchy(LocationScale):
    """Cauchy (Lorentz) distribution with median `loc` and half-width `scale`.

    Its mean and variance are undefined (NaN, as in scipy).

    Args:
        loc: location (median and mode).
        scale: half width at half maximum, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Cauchy(0.0, 1.0).cdf(0.0))
        0.5
    """

    def _sample(self, key, sample_shape):
        return self._sample_by_icdf(key, sample_shape)

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - jnp.log(self.scale) - log1p_square(z)

    def cdf(self, value):
        # arctan2(1, -z) / pi = 1/2 + arctan(z) / pi, without cancellation in the left tail.
        return jnp.arctan2(1.0, -(value - self.loc) / self.scale) / math.pi

    def log_cdf(self, value):
        return jnp.log(self.cdf(value))

    def survival_function(self, value):
        return jnp.arctan2(1.0, (value - self.loc) / self.scale) / math.pi

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def icdf(self, p):
        # tan(pi (p - 1/2)) = -1 / tan(pi p); use p or 1 - p, whichever is exact.
        upper = p > 0.5
        z = 1.0 / jnp.tan(math.pi * jnp.where(upper, 1.0 - p, p))
        return self.loc + self.scale * jnp.where(upper, z, -z)

    def mean(self):
        return jnp.full(self.batch_shape, jnp.nan, self.dtype)

    def variance(self):
        return jnp.full(self.batch_shape, jnp.nan, self.dtype)

    def mode(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(math.log(4.0 * math.pi) + jnp.log(self.scale), self.batch_shape)
