"""Private base of `Censored` and `Truncated`: a univariate base cut at ``[low, high]``."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import is_concrete
from probflow.distributions.distribution import Distribution
from probflow.distributions.exponential import log1mexp


class BoundedDistribution(Distribution):
    """Abstract: `base` (univariate, with a cdf) and bounds `low`, `high` (may be infinite).

    For a discrete base the mass below `low` is ``cdf(low - 1)``, so both bounds stay in
    the support; for a continuous one it is ``cdf(low)``.
    """

    def _init_bounds(self, owner, base, low, high, validate_args):
        if not isinstance(base, Distribution):
            raise TypeError(f"{owner}: `base` must be a Distribution; got {type(base).__name__}")
        if base.event_shape != ():
            raise ValueError(
                f"{owner}: `base` must be univariate (event_shape ()); got "
                f"{type(base).__name__} with event_shape {base.event_shape}"
            )
        dtype = base.dtype
        self.base = base
        self.low = jnp.asarray(-jnp.inf if low is None else low, dtype)
        self.high = jnp.asarray(jnp.inf if high is None else high, dtype)
        self.validate_args = bool(validate_args)
        if self.validate_args and is_concrete(self.low) and is_concrete(self.high):
            ok = jnp.all(self.low < self.high) & ~jnp.any(jnp.isnan(self.low) | jnp.isnan(self.high))
            if not bool(ok):
                raise ValueError(
                    f"{owner}: parameter `high` must be greater than `low`; got low={self.low}, "
                    f"high={self.high}"
                )

    # -- shapes -----------------------------------------------------------------------
    @property
    def batch_shape(self):
        return tuple(
            jnp.broadcast_shapes(self.base.batch_shape, jnp.shape(self.low), jnp.shape(self.high))
        )

    @property
    def dtype(self):
        return self.base.dtype

    def expand(self, batch_shape):
        batch_shape = tuple(batch_shape)
        return self._replace(
            base=self.base.expand(batch_shape),
            low=jnp.broadcast_to(self.low, batch_shape),
            high=jnp.broadcast_to(self.high, batch_shape),
        )

    @property
    def _is_discrete(self):
        return self.base.support.is_discrete

    @property
    def support(self):
        if self._is_discrete:
            return constraints.integer_interval(self.low, self.high)
        return constraints.interval(self.low, self.high)

    # -- tail masses, finite where the bounds are --------------------------------------
    def _below_point(self):
        """The point whose cdf is the mass below `low`."""
        return self.low - 1.0 if self._is_discrete else self.low

    def _log_mass_below(self):
        """``log P(X < low)`` (``log P(X <= low)`` for a continuous base), -inf at -inf."""
        infinite = jnp.isneginf(self.low)
        point = jnp.where(infinite, 0.0, self._below_point())
        return jnp.where(infinite, -jnp.inf, self.base.log_cdf(point))

    def _log_mass_at_or_above_low(self):
        infinite = jnp.isneginf(self.low)
        point = jnp.where(infinite, 0.0, self._below_point())
        return jnp.where(infinite, 0.0, self.base.log_survival_function(point))

    def _log_mass_above(self):
        """``log P(X > high)``, -inf at +inf."""
        infinite = jnp.isposinf(self.high)
        point = jnp.where(infinite, 0.0, self.high)
        return jnp.where(infinite, -jnp.inf, self.base.log_survival_function(point))

    def _log_mass_up_to_high(self):
        infinite = jnp.isposinf(self.high)
        point = jnp.where(infinite, 0.0, self.high)
        return jnp.where(infinite, 0.0, self.base.log_cdf(point))

    def _log_mass_inside(self):
        """``log P(low <= X <= high)``, from the tail that keeps the digits."""
        log_below, log_above = self._log_mass_below(), self._log_mass_above()
        from_left = self._log_mass_up_to_high() + log1mexp(
            jnp.minimum(log_below - self._log_mass_up_to_high(), 0.0)
        )
        from_right = self._log_mass_at_or_above_low() + log1mexp(
            jnp.minimum(log_above - self._log_mass_at_or_above_low(), 0.0)
        )
        # Mass mostly below `low`: the upper tails are the accurate ones.
        return jnp.where(log_below > jnp.log(0.5), from_right, from_left)
