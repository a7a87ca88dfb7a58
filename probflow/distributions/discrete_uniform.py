"""The DiscreteUniform distribution over the integers ``low, ..., high``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from probflow.distributions import constraints
from probflow.distributions._util import is_concrete, promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["DiscreteUniform"]

class DiscreteUniform(Distribution):
    """Equal mass on each integer in ``[low, high]`` (both ends included).

    ``scipy.stats.randint(low, high + 1)``.

    Args:
        low: smallest value, an integer (stored as a float).
        high: largest value, an integer >= low.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.DiscreteUniform(1, 6)
        >>> float(d.mean()), round(float(d.prob(3.0)), 4)
        (3.5, 0.1667)
    """

    arg_constraints = {"low": constraints.integer, "high": constraints.integer}
    has_rsample = False

    def __init__(self, low=0, high=1, *, validate_args=False):
        self.low, self.high = promote_params(low, high)
        self._validate(validate_args, low=self.low, high=self.high)
        if self.validate_args and is_concrete(self.low) and is_concrete(self.high):
            if not np.all(np.asarray(self.low) <= np.asarray(self.high)):
                raise ValueError(
                    "DiscreteUniform: parameter `high` must be >= `low`; got "
                    f"low={np.asarray(self.low)}, high={np.asarray(self.high)}"
                )

    @property
    def support(self):
        return constraints.integer_interval(self.low, self.high)

    def _count(self):
        return self.high - self.low + 1.0

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        u = jax.random.uniform(key, shape, self.dtype)
        return jnp.minimum(self.low + jnp.floor(u * self._count()), self.high)

    def _log_prob(self, value):
        return jnp.broadcast_to(-jnp.log(self._count()), jnp.broadcast_shapes(jnp.shape(value), self.batch_shape))

    def cdf(self, value):
        k = jnp.floor(jnp.asarray(value))
        c = jnp.clip((k - self.low + 1.0) / self._count(), 0.0, 1.0)
        return c.astype(self.dtype)

    def icdf(self, p):
        # The smallest k with cdf(k) >= p.
        k = self.low + jnp.ceil(jnp.asarray(p) * self._count()) - 1.0
        return jnp.clip(k, self.low, self.high).astype(self.dtype)

    def mean(self):
        return jnp.broadcast_to(0.5 * (self.low + self.high), self.batch_shape)

    def variance(self):
        return jnp.broadcast_to((self._count() ** 2 - 1.0) / 12.0, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(jnp.log(self._count()), self.batch_shape)


@register_kl(DiscreteUniform, DiscreteUniform)
def _kl_discrete_uniform(p, q):
    inside = (q.low <= p.low) & (p.high <= q.high)
    return jnp.where(inside, jnp.log(q._count()) - jnp.log(p._count()), jnp.inf)
