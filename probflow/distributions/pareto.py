"""The Pareto (type I) distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._tail_forms import FromLogSurvival
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Pareto"]


class Pareto(FromLogSurvival, Distribution):
    """Pareto distribution: ``P(X > x) = (scale / x)^alpha`` for ``x > scale``.

    Mean and variance are infinite where they do not exist (alpha <= 1, <= 2).

    Args:
        scale: the minimum value, > 0.
        alpha: tail index, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Pareto(1.0, 3.0).mean())
        1.5
    """

    arg_constraints = {"scale": constraints.positive, "alpha": constraints.positive}

    def __init__(self, scale, alpha, *, validate_args=False):
        self.scale, self.alpha = promote_params(scale, alpha)
        self._validate(validate_args, scale=self.scale, alpha=self.alpha)

    @property
    def support(self):
        return constraints.greater_than(self.scale)

    def _sample(self, key, sample_shape):
        draws = jax.random.exponential(key, sample_shape + self.batch_shape, self.dtype)
        return self.scale * jnp.exp(draws / self.alpha)

    def _log_prob(self, value):
        return jnp.log(self.alpha) + self.alpha * jnp.log(self.scale) - (self.alpha + 1.0) * jnp.log(value)

    def log_survival_function(self, value):
        # Below the scale the survival is 1: clamp the value to the scale.
        return self.alpha * (jnp.log(self.scale) - jnp.log(jnp.maximum(value, self.scale)))

    def icdf(self, p):
        return self.scale * jnp.exp(-jnp.log1p(-p) / self.alpha)

    def mean(self):
        mean = self.alpha * self.scale / (self.alpha - 1.0)
        return jnp.where(self.alpha > 1.0, mean, jnp.inf)

    def variance(self):
        a = self.alpha
        var = self.scale**2 * a / ((a - 1.0) ** 2 * (a - 2.0))
        return jnp.where(a > 2.0, var, jnp.inf)

    def mode(self):
        return jnp.broadcast_to(self.scale, self.batch_shape)

    def entropy(self):
        return jnp.log(self.scale / self.alpha) + 1.0 / self.alpha + 1.0
