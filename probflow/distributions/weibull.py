"""The Weibull distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln, xlogy

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.exponential import log1mexp

__all__ = ["Weibull"]

_EULER_GAMMA = 0.5772156649015329


class Weibull(Distribution):
    """Weibull distribution: ``P(X > x) = exp(-(x / scale)^concentration)``.

    Args:
        scale: scale, > 0.
        concentration: shape, > 0 (1 gives the Exponential).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Weibull(2.0, 1.0).mean())
        2.0
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale, concentration, *, validate_args=False):
        self.scale, self.concentration = promote_params(scale, concentration)
        self._validate(validate_args, scale=self.scale, concentration=self.concentration)

    def _sample(self, key, sample_shape):
        draws = jax.random.exponential(key, sample_shape + self.batch_shape, self.dtype)
        return self.scale * draws ** (1.0 / self.concentration)

    def _log_prob(self, value):
        k = self.concentration
        z = value / self.scale
        return jnp.log(k) - jnp.log(self.scale) + xlogy(k - 1.0, z) - z**k

    def _log_survival(self, value):
        return -((jnp.maximum(value, 0.0) / self.scale) ** self.concentration)

    def cdf(self, value):
        return -jnp.expm1(self._log_survival(value))

    def log_cdf(self, value):
        return log1mexp(self._log_survival(value))

    def survival_function(self, value):
        return jnp.exp(self._log_survival(value))

    def log_survival_function(self, value):
        return self._log_survival(value)

    def icdf(self, p):
        return self.scale * (-jnp.log1p(-p)) ** (1.0 / self.concentration)

    def mean(self):
        return self.scale * jnp.exp(gammaln(1.0 + 1.0 / self.concentration))

    def variance(self):
        inv_k = 1.0 / self.concentration
        log_g1, log_g2 = gammaln(1.0 + inv_k), gammaln(1.0 + 2.0 * inv_k)
        # Gamma(1 + 2/k) - Gamma(1 + 1/k)^2 cancels for large k; expm1 keeps the digits.
        return self.scale**2 * jnp.exp(2.0 * log_g1) * jnp.expm1(log_g2 - 2.0 * log_g1)

    def mode(self):
        k = self.concentration
        mode = self.scale * ((k - 1.0) / k) ** (1.0 / k)
        return jnp.where(k > 1.0, mode, 0.0)

    def entropy(self):
        k = self.concentration
        return _EULER_GAMMA * (1.0 - 1.0 / k) + jnp.log(self.scale / k) + 1.0
