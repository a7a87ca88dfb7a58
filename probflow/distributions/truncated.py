"""`Truncated`: a univariate distribution conditioned on ``low <= X <= high``."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions._bounded import BoundedDistribution
from probflow.distributions._discrete_quantile import discrete_quantile
from probflow.distributions.exponential import log1mexp

__all__ = ["Truncated"]

_NEWTON_STEPS = 6


class Truncated(BoundedDistribution):
    """``X ~ base`` conditioned on ``low <= X <= high``; density ``p(x) / P(low <= X <= high)``.

    Works for any univariate base with `log_cdf` and `log_survival_function`; the
    normaliser is taken from whichever tail keeps the digits. Draws invert the cdf:
    through `base.icdf` (refined by Newton steps) for a continuous base, reparameterised
    when that is differentiable; by bracketing and bisection on the cdf for a discrete
    base whose support has a lower bound.

    Args:
        base: a univariate distribution.
        low: lower bound, or None (no lower truncation).
        high: upper bound, or None (no upper truncation).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.Truncated(dist.Normal(0.0, 1.0), low=0.0)
        >>> round(float(d.log_prob(0.0)), 4)  # the HalfNormal density at 0
        -0.2258
    """

    def __init__(self, base, low=None, high=None, *, validate_args=False):
        self._init_bounds("Truncated", base, low, high, validate_args)

    @property
    def has_rsample(self):
        return self.base.has_rsample and not self._is_discrete

    def _log_prob(self, value):
        return self.base.log_prob(value) - self._log_mass_inside()

    def _from_right(self):
        # Mass mostly below `low`: the upper tails are the accurate ones.
        return self._log_mass_below() > jnp.log(0.5)

    def cdf(self, value):
        value = jnp.asarray(value)
        inner = jnp.clip(value, self.low, self.high)
        log_mass = self._log_mass_inside()
        # P(low <= X <= x) from the left tail, or 1 - P(x < X <= high) from the right.
        log_up_to = self.base.log_cdf(inner)
        left = jnp.exp(
            log_up_to + log1mexp(jnp.minimum(self._log_mass_below() - log_up_to, 0.0)) - log_mass
        )
        log_beyond = self.base.log_survival_function(inner)
        right = -jnp.expm1(
            log_beyond + log1mexp(jnp.minimum(self._log_mass_above() - log_beyond, 0.0)) - log_mass
        )
        c = jnp.where(self._from_right(), right, left)
        below = (value < self.low) | jnp.isneginf(value)
        return jnp.clip(jnp.where(below, 0.0, jnp.where(value >= self.high, 1.0, c)), 0.0, 1.0)

    def _discrete_icdf(self, p):
        lowest = getattr(self.base.support, "lower_bound", None)
        if lowest is None:
            raise NotImplementedError(
                f"Truncated: icdf of a discrete base needs a support with a lower bound; "
                f"got {self.base.support!r}"
            )
        lower = jnp.where(jnp.isneginf(self.low), lowest, self.low)
        p = jnp.asarray(p, self.dtype)
        p = jnp.broadcast_to(p, jnp.broadcast_shapes(p.shape, self.batch_shape))
        return jnp.minimum(discrete_quantile(self.cdf, p, lower), self.high)

    def icdf(self, p):
        if self._is_discrete:
            return self._discrete_icdf(p)
        p = jnp.asarray(p)
        log_mass = self._log_mass_inside()
        from_right = self._from_right()
        # Target: log P(X <= x) = log(below + p mass), or log P(X > x) = log(above + (1 - p) mass).
        target_left = jnp.logaddexp(self._log_mass_below(), jnp.log(p) + log_mass)
        target_right = jnp.logaddexp(self._log_mass_above(), jnp.log1p(-p) + log_mass)
        guess = jnp.where(
            from_right, self.base.icdf(-jnp.expm1(target_right)), self.base.icdf(jnp.exp(target_left))
        )
        x = jnp.clip(guess, self.low, self.high)
        # The base's icdf loses digits where its cdf is near 1 (or the bounds are far out):
        # Newton steps on the log cdf (log survival) restore them.
        for _ in range(_NEWTON_STEPS):
            log_density = self.base.log_prob(x)
            log_cdf, log_sf = self.base.log_cdf(x), self.base.log_survival_function(x)
            step_left = (log_cdf - target_left) / jnp.exp(log_density - log_cdf)
            step_right = -(log_sf - target_right) / jnp.exp(log_density - log_sf)
            step = jnp.where(from_right, step_right, step_left)
            x = jnp.clip(x - jnp.where(jnp.isfinite(step), step, 0.0), self.low, self.high)
        return x

    def _sample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self.icdf(u)
