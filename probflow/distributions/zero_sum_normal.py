"""The ZeroSumNormal distribution: i.i.d. normals conditioned to sum to zero."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.gaussian_random_walk import check_int, zero_mean_normal_kl
from probflow.distributions.kl import register_kl

__all__ = ["ZeroSumNormal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class ZeroSumNormal(Distribution):
    """``N(0, scale^2 I_n)`` restricted to the subspace ``sum(x) = 0`` (as PyMC's, one axis).

    A draw is ``z - mean(z)`` for ``z ~ N(0, scale^2 I_n)``: covariance
    ``scale^2 (I - 1 1^T / n)``. The density is with respect to the (n - 1)-dimensional
    volume of the subspace: ``-|x|^2 / (2 scale^2) - (n - 1) log(scale sqrt(2 pi))``.
    `probflow.bijectors.ZeroSum` maps R^(n-1) onto the support isometrically, so MCMC
    runs on n - 1 free coordinates.

    Args:
        scale: standard deviation of the unconstrained normals, > 0.
        size: n, the event size (a Python int >= 2).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax
        >>> from probflow import distributions as dist
        >>> x = dist.ZeroSumNormal(1.0, size=4).sample(jax.random.key(0))
        >>> x.shape, abs(float(x.sum())) < 1e-6
        ((4,), True)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.zero_sum

    def __init__(self, scale=1.0, size=2, *, validate_args=False):
        self.size = check_int("ZeroSumNormal", "size", size, 2)
        (self.scale,) = promote_params(scale)
        self._validate(validate_args, scale=self.scale)

    @property
    def event_shape(self) -> tuple:
        return (self.size,)

    def _sample(self, key, sample_shape):
        z = jax.random.normal(key, sample_shape + self._shape, self.dtype) * self.scale[..., None]
        return z - jnp.mean(z, axis=-1, keepdims=True)

    def _log_prob(self, value):
        z = value / self.scale[..., None]
        return -0.5 * jnp.sum(z * z, axis=-1) - (self.size - 1) * (jnp.log(self.scale) + _HALF_LOG_2PI)

    def mean(self):
        return jnp.zeros(self._shape, self.dtype)

    def variance(self):
        return jnp.broadcast_to((self.scale**2 * (1.0 - 1.0 / self.size))[..., None], self._shape)

    def entropy(self):
        h = (self.size - 1) * (0.5 + _HALF_LOG_2PI + jnp.log(self.scale))
        return jnp.broadcast_to(h, self.batch_shape)


@register_kl(ZeroSumNormal, ZeroSumNormal)
def _kl_zero_sum_normals(p, q):
    if p.size != q.size:
        raise ValueError(
            f"kl_divergence(ZeroSumNormal, ZeroSumNormal): `size` must match; got {p.size} and {q.size}"
        )
    # Both are N(0, scale^2 I) on the same (size - 1)-dimensional subspace.
    return (p.size - 1) * zero_mean_normal_kl(p.scale, q.scale)
