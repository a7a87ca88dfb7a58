"""The triangular distribution on ``[low, high]`` with its mode at `peak`."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from probflow.distributions import constraints
from probflow.distributions._util import is_concrete, promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Triangular"]

_LOG2 = math.log(2.0)


def _validate_order(low, high, peak):
    if not all(is_concrete(v) for v in (low, high, peak)):
        return
    low, high, peak = np.asarray(low), np.asarray(high), np.asarray(peak)
    if not np.all(low < high):
        raise ValueError(f"Triangular: parameter `high` must be greater than `low`; got low={low}, high={high}")
    if not np.all((low <= peak) & (peak <= high)):
        raise ValueError(
            f"Triangular: parameter `peak` must lie in [low, high]; got low={low}, peak={peak}, high={high}"
        )


class Triangular(Distribution):
    """Triangular distribution: density rising linearly from `low` to `peak`, falling to `high`.

    scipy's ``triang(c=(peak - low) / (high - low), loc=low, scale=high - low)``.

    Args:
        low: lower end of the support.
        high: upper end, > low.
        peak: the mode, in ``[low, high]``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Triangular(0.0, 3.0, 1.5).cdf(1.5))
        0.5
    """

    arg_constraints = {"low": constraints.real, "high": constraints.real, "peak": constraints.real}

    def __init__(self, low=0.0, high=1.0, peak=0.5, *, validate_args=False):
        self.low, self.high, self.peak = promote_params(low, high, peak)
        self._validate(validate_args, low=self.low, high=self.high, peak=self.peak)
        if self.validate_args:
            _validate_order(self.low, self.high, self.peak)

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    def _sample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self.icdf(u)

    def _rising(self, value):
        # Left of the peak (and everywhere when the peak is at `high`).
        return (value < self.peak) | (self.peak >= self.high)

    def _widths(self, rising):
        # The width of the side each value falls on; the unused side gets 1, so that a
        # zero-width side (peak on an edge) gives no 0/0 in the branch not taken.
        left, right = self.peak - self.low, self.high - self.peak
        return jnp.where(rising, left, 1.0), jnp.where(rising, 1.0, right)

    def _log_prob(self, value):
        rising = self._rising(value)
        left, right = self._widths(rising)
        width = self.high - self.low
        distance = jnp.where(rising, value - self.low, self.high - value)
        return _LOG2 + jnp.log(distance) - jnp.log(width) - jnp.log(jnp.where(rising, left, right))

    def _side_masses(self, value):
        # (rising, mass below value on the rising side, mass above value on the falling side)
        value = jnp.clip(value, self.low, self.high)
        rising = self._rising(value)
        left, right = self._widths(rising)
        width = self.high - self.low
        below = (value - self.low) ** 2 / (width * left)
        above = (self.high - value) ** 2 / (width * right)
        return rising, below, above

    def cdf(self, value):
        rising, below, above = self._side_masses(value)
        return jnp.where(rising, below, 1.0 - above)

    def survival_function(self, value):
        rising, below, above = self._side_masses(value)
        return jnp.where(rising, 1.0 - below, above)

    def icdf(self, p):
        width = self.high - self.low
        left, right = self.peak - self.low, self.high - self.peak
        rising = p * width < left
        return jnp.where(
            rising,
            # The branch not taken gets p = 1/2: a positive root, so no 0 * inf gradient.
            self.low + jnp.sqrt(jnp.where(rising, p, 0.5) * width * left),
            self.high - jnp.sqrt(jnp.where(rising, 0.5, 1.0 - p) * width * right),
        )

    def mean(self):
        return jnp.broadcast_to((self.low + self.high + self.peak) / 3.0, self.batch_shape)

    def variance(self):
        # (a^2 + b^2 + c^2 - ab - ac - bc) / 18 written in the side widths: no
        # cancellation of large squares far from the origin.
        left, right = self.peak - self.low, self.high - self.peak
        var = (left * left + left * right + right * right) / 18.0
        return jnp.broadcast_to(var, self.batch_shape)

    def mode(self):
        return jnp.broadcast_to(self.peak, self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(0.5 + jnp.log(0.5 * (self.high - self.low)), self.batch_shape)
