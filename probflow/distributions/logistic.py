"""The Logistic distribution."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import expit, logit

from probflow.distributions._loc_scale import LocationScale

__all__ = ["Logistic"]


class Logistic(LocationScale):
    """Logistic distribution with location `loc` and scale `scale` (cdf ``expit``).

    Args:
        loc: location (mean, median and mode).
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Logistic(0.0, 1.0).cdf(0.0))
        0.5
    """

    def _sample(self, key, sample_shape):
        return self._sample_by_icdf(key, sample_shape)

    def _log_prob(self, value):
        # The density is symmetric in z; |z| keeps exp from overflowing.
        abs_z = jnp.abs((value - self.loc) / self.scale)
        return -abs_z - 2.0 * jnp.log1p(jnp.exp(-abs_z)) - jnp.log(self.scale)

    def cdf(self, value):
        return expit((value - self.loc) / self.scale)

    def log_cdf(self, value):
        return -jax.nn.softplus(-(value - self.loc) / self.scale)

    def survival_function(self, value):
        return expit(-(value - self.loc) / self.scale)

    def log_survival_function(self, value):
        return -jax.nn.softplus((value - self.loc) / self.scale)

    def icdf(self, p):
        return self.loc + self.scale * logit(p)

    def mean(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def mode(self):
        return self.mean()

    def variance(self):
        return jnp.broadcast_to((math.pi**2 / 3.0) * self.scale**2, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(2.0 + jnp.log(self.scale), self.batch_shape)
