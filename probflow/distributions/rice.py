"""The Rice distribution: the distance from the origin of a 2-D Normal with offset mean."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import i0e, i1e

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Rice"]


class Rice(Distribution):
    """Rice distribution: ``|(nu, 0) + scale (N1, N2)|`` for independent standard Normals.

    Density ``x / scale^2 exp(-(x^2 + nu^2) / (2 scale^2)) I0(x nu / scale^2)`` (scipy's
    ``rice(b=nu/scale, scale=scale)``); ``nu = 0`` is the Rayleigh distribution.

    Args:
        nu: distance of the Normal's mean from the origin, >= 0.
        scale: standard deviation of each coordinate, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Rice(0.0, 1.0).mean()), 4)
        1.2533
    """

    arg_constraints = {"nu": constraints.nonnegative, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, nu, scale=1.0, *, validate_args=False):
        self.nu, self.scale = promote_params(nu, scale)
        self._validate(validate_args, nu=self.nu, scale=self.scale)

    def _sample(self, key, sample_shape):
        key_x, key_y = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        x = self.nu + self.scale * jax.random.normal(key_x, shape, self.dtype)
        y = self.scale * jax.random.normal(key_y, shape, self.dtype)
        return jnp.maximum(jnp.hypot(x, y), jnp.finfo(self.dtype).tiny)

    def _log_prob(self, value):
        var = self.scale**2
        # log I0(t) = log i0e(t) + t turns exp(-(x^2 + nu^2)/2s^2) I0(x nu / s^2) into
        # exp(-(x - nu)^2 / 2s^2) i0e(...): no overflow for large x nu / s^2.
        return (
            jnp.log(value)
            - jnp.log(var)
            - 0.5 * (value - self.nu) ** 2 / var
            + jnp.log(i0e(value * self.nu / var))
        )

    def mean(self):
        # scale sqrt(pi/2) L_{1/2}(-nu^2 / 2 scale^2), the Laguerre function written with
        # exponentially scaled Bessel functions of t = nu^2 / (4 scale^2).
        t = 0.25 * (self.nu / self.scale) ** 2
        laguerre = (1.0 + 2.0 * t) * i0e(t) + 2.0 * t * i1e(t)
        return jnp.broadcast_to(self.scale * math.sqrt(0.5 * math.pi) * laguerre, self.batch_shape)

    def variance(self):
        var = 2.0 * self.scale**2 + self.nu**2 - self.mean() ** 2
        return jnp.broadcast_to(var, self.batch_shape)
