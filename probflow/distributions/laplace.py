"""The Laplace (double exponential) distribution."""

from __future__ import annotations

import math

import jax.numpy as jnp

from probflow.distributions._loc_scale import LocationScale
from probflow.distributions.kl import register_kl

__all__ = ["Laplace"]

_LOG2 = math.log(2.0)


class Laplace(LocationScale):
    """Laplace distribution with median `loc` and scale `scale` (variance ``2 scale^2``).

    Args:
        loc: location (mean, median and mode).
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Laplace(0.0, 1.0).variance())
        2.0
    """

    def _sample(self, key, sample_shape):
        return self._sample_by_icdf(key, sample_shape)

    def _log_prob(self, value):
        return -jnp.abs(value - self.loc) / self.scale - jnp.log(2.0 * self.scale)

    def log_cdf(self, value):
        z = (value - self.loc) / self.scale
        # Left of the median the cdf is exp(z) / 2; right of it 1 - exp(-z) / 2.
        return jnp.where(z < 0, z - _LOG2, jnp.log1p(-0.5 * jnp.exp(-jnp.abs(z))))

    def cdf(self, value):
        return jnp.exp(self.log_cdf(value))

    def log_survival_function(self, value):
        return self._replace(loc=-self.loc).log_cdf(-value)

    def survival_function(self, value):
        return jnp.exp(self.log_survival_function(value))

    def icdf(self, p):
        lower = p < 0.5
        # log(2 p) below the median, -log(2 (1 - p)) above; 1 - p is exact for p >= 1/2.
        z = jnp.log(2.0 * jnp.where(lower, p, 1.0 - p))
        return self.loc + self.scale * jnp.where(lower, z, -z)

    def mean(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def mode(self):
        return self.mean()

    def variance(self):
        return jnp.broadcast_to(2.0 * self.scale**2, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(1.0 + jnp.log(2.0 * self.scale), self.batch_shape)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    distance = jnp.abs(p.loc - q.loc)
    scale_ratio = p.scale / q.scale
    return (
        distance / q.scale
        + scale_ratio * jnp.exp(-distance / p.scale)
        - 1.0
        - jnp.log(scale_ratio)
    )
