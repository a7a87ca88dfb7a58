"""The continuous Uniform distribution on ``[low, high]``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from probflow.distributions import constraints
from probflow.distributions._util import is_concrete, promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Uniform"]


def validate_bounds(owner, low, high):
    """Raises ValueError naming `high` unless ``low < high`` everywhere (concrete values)."""
    if not (is_concrete(low) and is_concrete(high)):
        return
    low, high = np.asarray(low), np.asarray(high)
    if np.any(np.isnan(low)) or np.any(np.isnan(high)) or not np.all(low < high):
        raise ValueError(
            f"{owner}: parameter `high` must be greater than `low`; got low={low}, high={high}"
        )


class Uniform(Distribution):
    """Uniform distribution on the interval ``[low, high]``.

    Args:
        low: lower bound.
        high: upper bound, > low.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.Uniform(0.0, 4.0)
        >>> float(d.mean()), round(float(d.log_prob(1.0)), 4), d.support
        (2.0, -1.3863, interval(0.0, 4.0))
    """

    arg_constraints = {"low": constraints.real, "high": constraints.real}

    def __init__(self, low=0.0, high=1.0, *, validate_args=False):
        self.low, self.high = promote_params(low, high)
        self._validate(validate_args, low=self.low, high=self.high)
        if self.validate_args:
            validate_bounds("Uniform", self.low, self.high)

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    def _sample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self.low + (self.high - self.low) * u

    def _log_prob(self, value):
        return jnp.broadcast_to(-jnp.log(self.high - self.low), jnp.broadcast_shapes(jnp.shape(value), self.batch_shape))

    def cdf(self, value):
        return jnp.clip((value - self.low) / (self.high - self.low), 0.0, 1.0)

    def survival_function(self, value):
        return jnp.clip((self.high - value) / (self.high - self.low), 0.0, 1.0)

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def icdf(self, p):
        return self.low + (self.high - self.low) * p

    def mean(self):
        return 0.5 * (self.low + self.high)

    def variance(self):
        return (self.high - self.low) ** 2 / 12.0

    def entropy(self):
        return jnp.log(self.high - self.low)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    # Finite only when q's interval covers p's.
    inside = (q.low <= p.low) & (p.high <= q.high)
    return jnp.where(inside, jnp.log((q.high - q.low) / (p.high - p.low)), jnp.inf)
