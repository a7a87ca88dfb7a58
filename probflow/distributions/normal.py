"""The Normal (Gaussian) distribution."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtr, ndtri

from probflow.distributions._loc_scale import LocationScale
from probflow.distributions.kl import register_kl

__all__ = ["Normal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Normal(LocationScale):
    """Normal distribution with mean `loc` and standard deviation `scale`.

    Args:
        loc: mean.
        scale: standard deviation, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Normal(0.0, 1.0).log_prob(0.0))  # doctest: +ELLIPSIS
        -0.9189...
    """

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        eps = jax.random.normal(key, shape, self.dtype)
        return self.loc + self.scale * eps

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - jnp.log(self.scale) - _HALF_LOG_2PI

    def cdf(self, value):
        return ndtr((value - self.loc) / self.scale)

    def log_cdf(self, value):
        return log_ndtr((value - self.loc) / self.scale)

    def survival_function(self, value):
        return ndtr(-(value - self.loc) / self.scale)

    def log_survival_function(self, value):
        return log_ndtr(-(value - self.loc) / self.scale)

    def icdf(self, p):
        return self.loc + self.scale * ndtri(p)

    def mean(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def mode(self):
        return self.mean()

    def variance(self):
        return jnp.broadcast_to(self.scale**2, self.batch_shape)

    def stddev(self):
        return jnp.broadcast_to(self.scale, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(0.5 + _HALF_LOG_2PI + jnp.log(self.scale), self.batch_shape)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    ratio = p.scale / q.scale
    diff = (p.loc - q.loc) / q.scale
    return 0.5 * (ratio**2 + diff**2 - 1.0) - jnp.log(ratio)
