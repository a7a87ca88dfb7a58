"""The stationary AR(1) process over `num_steps` values."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from probflow.distributions import constraints
from probflow.distributions._util import promote_params, validate_param
from probflow.distributions.distribution import Distribution
from probflow.distributions.gaussian_random_walk import check_int

__all__ = ["AR1"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Open interval (-1, 1): the closed `interval` constraint would let |rho| = 1 through.
_STATIONARY = constraints.greater_than(-1.0)


class AR1(Distribution):
    """Stationary AR(1): ``x_t = loc + rho (x_{t-1} - loc) + scale e_t``, ``|rho| < 1``.

    ``x_0`` is drawn from the stationary law ``N(loc, scale^2 / (1 - rho^2))``, so the
    path is ``N(loc, scale^2 rho^|i-j| / (1 - rho^2))``. Draws are reparameterised
    (one `lax.scan` over time).

    Args:
        rho: autoregression coefficient, in (-1, 1).
        scale: innovation standard deviation, > 0.
        num_steps: the path length (a Python int >= 1), the event size.
        loc: the process mean.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.AR1(0.5, 1.0, num_steps=2)
        >>> [round(v, 4) for v in d.variance().tolist()]
        [1.3333, 1.3333]
    """

    arg_constraints = {"rho": None, "scale": constraints.positive, "loc": constraints.real}
    support = constraints.real_vector

    def __init__(self, rho, scale=1.0, num_steps=1, loc=0.0, *, validate_args=False):
        self.num_steps = check_int("AR1", "num_steps", num_steps, 1)
        self.rho, self.scale, self.loc = promote_params(rho, scale, loc)
        self._validate(validate_args, scale=self.scale, loc=self.loc)
        if self.validate_args:
            validate_param("AR1", "rho", self.rho, _STATIONARY)
            validate_param("AR1", "rho", -self.rho, _STATIONARY)

    @property
    def event_shape(self) -> tuple:
        return (self.num_steps,)

    def _stationary_scale(self):
        return self.scale / jnp.sqrt(1.0 - self.rho**2)

    def _sample(self, key, sample_shape):
        noise = jax.random.normal(key, sample_shape + self._shape, self.dtype)
        noise = jnp.moveaxis(noise, -1, 0)
        start = noise[0] * self._stationary_scale()

        def step(previous, eps):
            current = self.rho * previous + self.scale * eps
            return current, current

        _, rest = lax.scan(step, start, noise[1:])
        path = jnp.concatenate([start[None], rest], axis=0)
        return jnp.moveaxis(path, 0, -1) + self.loc[..., None]

    def _log_prob(self, value):
        x = value - self.loc[..., None]
        z0 = x[..., 0] / self._stationary_scale()
        innovations = (x[..., 1:] - self.rho[..., None] * x[..., :-1]) / self.scale[..., None]
        quadratic = z0 * z0 + jnp.sum(innovations**2, axis=-1)
        # log det: the first value has variance scale^2 / (1 - rho^2), the rest scale^2.
        return (
            -0.5 * quadratic
            - self.num_steps * (jnp.log(self.scale) + _HALF_LOG_2PI)
            + 0.5 * jnp.log1p(-self.rho**2)
        )

    def mean(self):
        return jnp.broadcast_to(self.loc[..., None], self._shape)

    def variance(self):
        return jnp.broadcast_to((self._stationary_scale() ** 2)[..., None], self._shape)

    def covariance(self):
        """``scale^2 rho^|i - j| / (1 - rho^2)``, shape ``batch_shape + (n, n)``."""
        lags = jnp.abs(jnp.arange(self.num_steps)[:, None] - jnp.arange(self.num_steps)[None, :])
        cov = (self._stationary_scale() ** 2)[..., None, None] * self.rho[..., None, None] ** lags
        return jnp.broadcast_to(cov, self._shape + self.event_shape)

    def entropy(self):
        h = self.num_steps * (0.5 + _HALF_LOG_2PI + jnp.log(self.scale)) - 0.5 * jnp.log1p(-self.rho**2)
        return jnp.broadcast_to(h, self.batch_shape)
