"""The Moyal distribution (an approximation of the Landau energy-loss distribution)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri

from probflow.distributions._abs_normal_tail import AbsNormalTail

__all__ = ["Moyal"]

_EULER_GAMMA = 0.5772156649015329
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG2 = math.log(2.0)


class Moyal(AbsNormalTail):
    """Moyal distribution: ``(X - loc) / scale = -log(N^2)`` for a standard Normal N.

    Density ``exp(-(z + exp(-z)) / 2) / (scale sqrt(2 pi))`` with ``z = (x - loc) / scale``.

    Args:
        loc: location (the mode).
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Moyal(0.0, 1.0).mean()), 4)
        1.2704
    """

    def _sample(self, key, sample_shape):
        normal = jax.random.normal(key, sample_shape + self.batch_shape, self.dtype)
        return self.loc - 2.0 * self.scale * jnp.log(jnp.abs(normal))

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -0.5 * (z + jnp.exp(-z)) - _HALF_LOG_2PI - jnp.log(self.scale)

    def _root(self, value):
        # P(X <= x) = P(|N| >= r) with r = exp(-z / 2).
        return jnp.exp(-0.5 * (value - self.loc) / self.scale)

    def icdf(self, p):
        return self.loc - 2.0 * self.scale * jnp.log(-ndtri(0.5 * p))

    def mean(self):
        return jnp.broadcast_to(self.loc + self.scale * (_EULER_GAMMA + _LOG2), self.batch_shape)

    def variance(self):
        return jnp.broadcast_to(0.5 * math.pi**2 * self.scale**2, self.batch_shape)

    def mode(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def entropy(self):
        # log scale + log(2 pi) / 2 + E[z + exp(-z)] / 2 with E[z] = gamma + log 2, E[N^2] = 1.
        out = jnp.log(self.scale) + _HALF_LOG_2PI + 0.5 * (_EULER_GAMMA + _LOG2 + 1.0)
        return jnp.broadcast_to(out, self.batch_shape)
