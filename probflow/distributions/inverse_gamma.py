"""The InverseGamma distribution: ``1 / X`` for X Gamma-distributed."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammainc, gammaincc, gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["InverseGamma"]


class InverseGamma(Distribution):
    """Distribution of ``scale / X`` for ``X ~ Gamma(concentration, 1)``.

    Mean and variance are infinite where the concentration is too small for them to
    exist (<= 1 and <= 2), as in scipy.

    Args:
        concentration: shape, > 0.
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.InverseGamma(3.0, 4.0).mean())
        2.0
    """

    arg_constraints = {"concentration": constraints.positive, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, concentration, scale=1.0, *, validate_args=False):
        self.concentration, self.scale = promote_params(concentration, scale)
        self._validate(validate_args, concentration=self.concentration, scale=self.scale)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        alpha = jnp.broadcast_to(self.concentration, shape)
        return self.scale / jax.random.gamma(key, alpha, shape, self.dtype)

    def _log_prob(self, value):
        alpha = self.concentration
        return (
            alpha * jnp.log(self.scale)
            - gammaln(alpha)
            - (alpha + 1.0) * jnp.log(value)
            - self.scale / value
        )

    def _inverse(self, value):
        # scale / 0 = inf gives cdf 0 at the origin; negatives are clamped to 0 first.
        return self.scale / jnp.maximum(value, 0.0)

    def cdf(self, value):
        return gammaincc(self.concentration, self._inverse(value))

    def survival_function(self, value):
        return gammainc(self.concentration, self._inverse(value))

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def mean(self):
        alpha = self.concentration
        return jnp.where(alpha > 1.0, self.scale / (alpha - 1.0), jnp.inf)

    def variance(self):
        alpha = self.concentration
        var = self.scale**2 / ((alpha - 1.0) ** 2 * (alpha - 2.0))
        return jnp.where(alpha > 2.0, var, jnp.inf)

    def mode(self):
        return self.scale / (self.concentration + 1.0)

    def entropy(self):
        alpha = self.concentration
        return alpha + jnp.log(self.scale) + gammaln(alpha) - (1.0 + alpha) * digamma(alpha)
