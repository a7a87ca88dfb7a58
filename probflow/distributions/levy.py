"""The Levy distribution (the one-sided stable law of index 1/2)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri

from probflow.distributions import constraints
from probflow.distributions._abs_normal_tail import AbsNormalTail

__all__ = ["Levy"]

_EULER_GAMMA = 0.5772156649015329


class Levy(AbsNormalTail):
    """Levy distribution: ``X = loc + scale / N^2`` for a standard Normal N.

    Density ``sqrt(scale / (2 pi)) exp(-scale / (2 y)) / y^(3/2)`` for ``y = x - loc > 0``
    (scipy's ``levy(loc, scale)``); mean and variance are infinite.

    Args:
        loc: the lower end of the support.
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Levy(0.0, 1.0).cdf(1.0)), 4)
        0.3173
    """

    @property
    def support(self):
        return constraints.greater_than(self.loc)

    def _sample(self, key, sample_shape):
        normal = jax.random.normal(key, sample_shape + self.batch_shape, self.dtype)
        return self.loc + self.scale / (normal * normal)

    def _log_prob(self, value):
        y = value - self.loc
        return 0.5 * (jnp.log(self.scale / (2.0 * math.pi)) - self.scale / y) - 1.5 * jnp.log(y)

    def _root(self, value):
        # P(X <= x) = P(|N| >= r) with r = sqrt(scale / (x - loc)).
        return jnp.sqrt(self.scale / jnp.maximum(value - self.loc, 0.0))

    def icdf(self, p):
        root = ndtri(0.5 * p)
        return self.loc + self.scale / (root * root)

    def mean(self):
        return jnp.full(self.batch_shape, jnp.inf, self.dtype)

    def variance(self):
        return jnp.full(self.batch_shape, jnp.inf, self.dtype)

    def mode(self):
        return jnp.broadcast_to(self.loc + self.scale / 3.0, self.batch_shape)

    def entropy(self):
        out = 0.5 * (1.0 + 3.0 * _EULER_GAMMA + math.log(16.0 * math.pi)) + jnp.log(self.scale)
        return jnp.broadcast_to(out, self.batch_shape)
