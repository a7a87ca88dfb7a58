"""The asymmetric Laplace distribution: exponential tails of different rates either side."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.exponential import log1mexp

__all__ = ["AsymmetricLaplace"]


class AsymmetricLaplace(Distribution):
    """Asymmetric Laplace: density ``exp(-asymmetry z)`` right of `loc`, ``exp(z / asymmetry)`` left.

    With ``z = (x - loc) / scale`` the density is
    ``exp(-asymmetry z) / (scale (asymmetry + 1 / asymmetry))`` for ``z >= 0`` and
    ``exp(z / asymmetry) / (...)`` for ``z < 0`` (scipy's ``laplace_asymmetric`` with
    ``kappa = asymmetry``); ``asymmetry = 1`` is the Laplace distribution.

    Args:
        loc: the mode.
        scale: scale, > 0.
        asymmetry: ratio of the right-tail rate to the left-tail rate's inverse, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.AsymmetricLaplace(0.0, 1.0, 2.0).mean())
        -1.5
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "asymmetry": constraints.positive,
    }
    support = constraints.real

    def __init__(self, loc=0.0, scale=1.0, asymmetry=1.0, *, validate_args=False):
        self.loc, self.scale, self.asymmetry = promote_params(loc, scale, asymmetry)
        self._validate(validate_args, loc=self.loc, scale=self.scale, asymmetry=self.asymmetry)

    def _sample(self, key, sample_shape):
        # The difference of two independent exponentials of rates asymmetry and
        # 1 / asymmetry has exactly this density.
        key_right, key_left = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        right = jax.random.exponential(key_right, shape, self.dtype) / self.asymmetry
        left = jax.random.exponential(key_left, shape, self.dtype) * self.asymmetry
        return self.loc + self.scale * (right - left)

    def _log_norm(self):
        # log(scale (k + 1/k)) = log(scale) + log1p(k^2) - log(k).
        k = self.asymmetry
        return jnp.log(self.scale) + jnp.log1p(k * k) - jnp.log(k)

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        k = self.asymmetry
        return jnp.where(z >= 0, -k * z, z / k) - self._log_norm()

    def _log_left_mass(self):
        # log P(X < loc) = log(k^2 / (1 + k^2)).
        k = self.asymmetry
        return 2.0 * jnp.log(k) - jnp.log1p(k * k)

    def log_cdf(self, value):
        z = (value - self.loc) / self.scale
        k = self.asymmetry
        left = self._log_left_mass() + jnp.minimum(z, 0.0) / k
        right = log1mexp(-jnp.log1p(k * k) - k * jnp.maximum(z, 0.0))
        return jnp.where(z < 0, left, right)

    def cdf(self, value):
        return jnp.exp(self.log_cdf(value))

    def log_survival_function(self, value):
        z = (value - self.loc) / self.scale
        k = self.asymmetry
        right = -jnp.log1p(k * k) - k * jnp.maximum(z, 0.0)
        left = log1mexp(self._log_left_mass() + jnp.minimum(z, 0.0) / k)
        return jnp.where(z >= 0, right, left)

    def survival_function(self, value):
        return jnp.exp(self.log_survival_function(value))

    def icdf(self, p):
        k = self.asymmetry
        left_mass = jnp.exp(self._log_left_mass())
        lower = p <= left_mass
        # Clamped arguments keep the branch that is not selected finite (and its gradient).
        z_left = k * (jnp.log(jnp.where(lower, p, left_mass)) - self._log_left_mass())
        upper_tail = jnp.where(lower, 1.0 - left_mass, 1.0 - p)
        z_right = -(jnp.log(upper_tail) + jnp.log1p(k * k)) / k
        return self.loc + self.scale * jnp.where(lower, z_left, z_right)

    def mean(self):
        k = self.asymmetry
        return jnp.broadcast_to(self.loc + self.scale * (1.0 / k - k), self.batch_shape)

    def variance(self):
        k = self.asymmetry
        return jnp.broadcast_to(self.scale**2 * (k**-2 + k**2), self.batch_shape)

    def mode(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(1.0 + self._log_norm(), self.batch_shape)
