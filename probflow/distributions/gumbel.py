"""The Gumbel (type-I extreme value, for maxima) distribution."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from probflow.distributions._loc_scale import LocationScale
from probflow.distributions._tail_forms import FromLogCdf

__all__ = ["Gumbel"]

_EULER_GAMMA = 0.5772156649015329


class Gumbel(FromLogCdf, LocationScale):
    """Gumbel distribution of maxima, with location `loc` and scale `scale`.

    Args:
        loc: location (the mode).
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Gumbel(0.0, 1.0).mean()), 4)
        0.5772
    """

    def _sample(self, key, sample_shape):
        draws = jax.random.gumbel(key, sample_shape + self.batch_shape, self.dtype)
        return self.loc + self.scale * draws

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -(z + jnp.exp(-z)) - jnp.log(self.scale)

    def log_cdf(self, value):
        return -jnp.exp(-(value - self.loc) / self.scale)

    def icdf(self, p):
        return self.loc - self.scale * jnp.log(-jnp.log(p))

    def mean(self):
        return jnp.broadcast_to(self.loc + _EULER_GAMMA * self.scale, self.batch_shape)

    def mode(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def variance(self):
        return jnp.broadcast_to((math.pi**2 / 6.0) * self.scale**2, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(jnp.log(self.scale) + _EULER_GAMMA + 1.0, self.batch_shape)
