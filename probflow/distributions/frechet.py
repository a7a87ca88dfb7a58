"""The Frechet (inverse Weibull, type-II extreme value) distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from probflow.distributions import constraints
from probflow.distributions._tail_forms import FromLogCdf
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Frechet"]

_EULER_GAMMA = 0.5772156649015329


class Frechet(FromLogCdf, Distribution):
    """Frechet distribution: ``P(X <= x) = exp(-((x - loc) / scale)^(-concentration))``, x > loc.

    The same as scipy's ``invweibull(concentration, loc, scale)``. The mean is infinite
    for ``concentration <= 1``, the variance for ``concentration <= 2``.

    Args:
        concentration: tail index (shape), > 0.
        loc: the lower end of the support.
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Frechet(2.0).cdf(1.0)), 4)
        0.3679
    """

    arg_constraints = {
        "concentration": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }

    def __init__(self, concentration, loc=0.0, scale=1.0, *, validate_args=False):
        self.concentration, self.loc, self.scale = promote_params(concentration, loc, scale)
        self._validate(validate_args, concentration=self.concentration, loc=self.loc, scale=self.scale)

    @property
    def support(self):
        return constraints.greater_than(self.loc)

    def _sample(self, key, sample_shape):
        # (-log U)^(-1/concentration) with -log U a standard exponential draw.
        draws = jax.random.exponential(key, sample_shape + self.batch_shape, self.dtype)
        return self.loc + self.scale * draws ** (-1.0 / self.concentration)

    def _log_z(self, value):
        return jnp.log(jnp.maximum(value - self.loc, 0.0)) - jnp.log(self.scale)

    def _log_prob(self, value):
        log_z = self._log_z(value)
        alpha = self.concentration
        return jnp.log(alpha / self.scale) - (1.0 + alpha) * log_z - jnp.exp(-alpha * log_z)

    def log_cdf(self, value):
        return -jnp.exp(-self.concentration * self._log_z(value))

    def icdf(self, p):
        return self.loc + self.scale * (-jnp.log(p)) ** (-1.0 / self.concentration)

    def _gamma_ratio(self, k):
        # Gamma(1 - k / concentration), or inf where that moment does not exist.
        finite = self.concentration > k
        safe = jnp.where(finite, self.concentration, 2.0 * k)
        return finite, jnp.exp(gammaln(1.0 - k / safe))

    def mean(self):
        finite, g1 = self._gamma_ratio(1.0)
        return jnp.broadcast_to(jnp.where(finite, self.loc + self.scale * g1, jnp.inf), self.batch_shape)

    def variance(self):
        finite, g2 = self._gamma_ratio(2.0)
        _, g1 = self._gamma_ratio(1.0)
        var = self.scale**2 * (g2 - g1**2)
        return jnp.broadcast_to(jnp.where(finite, var, jnp.inf), self.batch_shape)

    def mode(self):
        alpha = self.concentration
        return jnp.broadcast_to(self.loc + self.scale * (alpha / (1.0 + alpha)) ** (1.0 / alpha), self.batch_shape)

    def entropy(self):
        alpha = self.concentration
        out = 1.0 + _EULER_GAMMA + _EULER_GAMMA / alpha + jnp.log(self.scale / alpha)
        return jnp.broadcast_to(out, self.batch_shape)
