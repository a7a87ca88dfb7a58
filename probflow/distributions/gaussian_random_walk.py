"""The GaussianRandomWalk distribution over a path of `num_steps` values."""

from __future__ import annotations

import math
import operator

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["GaussianRandomWalk", "check_int", "zero_mean_normal_kl"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def check_int(owner, name, value, minimum):
    """`value` as an int; ValueError naming `owner` and `name` unless it is an int >= minimum."""
    try:
        valid = not isinstance(value, bool) and operator.index(value) >= minimum
    except TypeError:
        valid = False
    if not valid:
        raise ValueError(f"{owner}: `{name}` must be an int >= {minimum}; got {value!r}")
    return operator.index(value)


class GaussianRandomWalk(Distribution):
    """``x_0 ~ N(0, scale)``, ``x_t = x_{t-1} + N(0, scale)``, t < num_steps (as NumPyro).

    Equivalently ``N(0, scale^2 min(i + 1, j + 1))``; draws are reparameterised.

    Args:
        scale: standard deviation of each increment, > 0.
        num_steps: the path length (a Python int >= 1), the event size.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.GaussianRandomWalk(2.0, num_steps=3)
        >>> d.event_shape, d.variance().tolist()
        ((3,), [4.0, 8.0, 12.0])
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.real_vector

    def __init__(self, scale=1.0, num_steps=1, *, validate_args=False):
        self.num_steps = check_int("GaussianRandomWalk", "num_steps", num_steps, 1)
        (self.scale,) = promote_params(scale)
        self._validate(validate_args, scale=self.scale)

    @property
    def event_shape(self) -> tuple:
        return (self.num_steps,)

    def _sample(self, key, sample_shape):
        steps = jax.random.normal(key, sample_shape + self._shape, self.dtype)
        return jnp.cumsum(steps, axis=-1) * self.scale[..., None]

    def _log_prob(self, value):
        increments = jnp.diff(value, axis=-1, prepend=0.0)
        z = increments / self.scale[..., None]
        return jnp.sum(-0.5 * z * z, axis=-1) - self.num_steps * (jnp.log(self.scale) + _HALF_LOG_2PI)

    def mean(self):
        return jnp.zeros(self._shape, self.dtype)

    def variance(self):
        steps = jnp.arange(1, self.num_steps + 1, dtype=self.dtype)
        return jnp.broadcast_to(self.scale[..., None] ** 2 * steps, self._shape)

    def entropy(self):
        h = self.num_steps * (0.5 + _HALF_LOG_2PI + jnp.log(self.scale))
        return jnp.broadcast_to(h, self.batch_shape)


def zero_mean_normal_kl(scale_p, scale_q):
    """KL(N(0, scale_p) || N(0, scale_q)) per coordinate."""
    ratio = (scale_p / scale_q) ** 2
    return 0.5 * (ratio - 1.0 - jnp.log(ratio))


@register_kl(GaussianRandomWalk, GaussianRandomWalk)
def _kl_random_walks(p, q):
    if p.num_steps != q.num_steps:
        raise ValueError(
            "kl_divergence(GaussianRandomWalk, GaussianRandomWalk): `num_steps` must match; "
            f"got {p.num_steps} and {q.num_steps}"
        )
    # The increments are independent normals with the same mean.
    return p.num_steps * zero_mean_normal_kl(p.scale, q.scale)
