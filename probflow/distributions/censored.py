"""`Censored`: a univariate distribution whose values beyond ``[low, high]`` are recorded at the bounds."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.distributions._bounded import BoundedDistribution

__all__ = ["Censored"]


class Censored(BoundedDistribution):
    """``clip(X, low, high)`` for ``X ~ base`` (PyMC's `Censored`).

    A value equal to `low` has the mass ``P(X <= low)`` (``log_cdf``), one equal to
    `high` the mass ``P(X >= high)`` (the survival function; ``P(X > high - 1)`` for a
    discrete base), and values strictly inside keep the base density. That makes it the
    likelihood of left-, right- or interval-censored observations.

    Args:
        base: a univariate distribution with `log_cdf` and `log_survival_function`.
        low: the lower censoring point, or None (no left censoring).
        high: the upper censoring point, or None (no right censoring).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.Censored(dist.Normal(0.0, 1.0), low=0.0)
        >>> round(float(d.log_prob(0.0)), 4)  # log P(X <= 0) = log(1/2)
        -0.6931
    """

    has_rsample = False

    def __init__(self, base, low=None, high=None, *, validate_args=False):
        self._init_bounds("Censored", base, low, high, validate_args)

    def _log_mass_at_high(self):
        if not self._is_discrete:
            return self._log_mass_above()
        infinite = jnp.isposinf(self.high)
        point = jnp.where(infinite, 0.0, self.high - 1.0)
        return jnp.where(infinite, -jnp.inf, self.base.log_survival_function(point))

    def _log_mass_at_low(self):
        if self._is_discrete:
            infinite = jnp.isneginf(self.low)
            point = jnp.where(infinite, 0.0, self.low)
            return jnp.where(infinite, -jnp.inf, self.base.log_cdf(point))
        return self._log_mass_below()

    def _sample(self, key, sample_shape):
        draws = self.base.expand(self.batch_shape).sample(key, sample_shape)
        return jnp.clip(draws, self.low, self.high)

    def _log_prob(self, value):
        inside = self.base.log_prob(value)
        return jnp.where(
            value == self.low,
            self._log_mass_at_low(),
            jnp.where(value == self.high, self._log_mass_at_high(), inside),
        )

    def cdf(self, value):
        value = jnp.asarray(value)
        inside = self.base.cdf(jnp.clip(value, self.low, self.high))
        return jnp.where(value < self.low, 0.0, jnp.where(value >= self.high, 1.0, inside))
