"""The Normal distribution truncated to ``[low, high]``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import log_ndtr, ndtr, ndtri

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.exponential import log1mexp
from probflow.distributions.uniform import validate_bounds

__all__ = ["TruncatedNormal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _log_normal_mass(a, b):
    """``log(Phi(b) - Phi(a))`` for standardised ``a <= b``, accurate in both tails."""
    # Mirror an interval in the right tail to the left, where Phi keeps its digits.
    flip = a > 0
    lo, hi = jnp.where(flip, -b, a), jnp.where(flip, -a, b)
    log_hi = log_ndtr(hi)
    return log_hi + log1mexp(log_ndtr(lo) - log_hi)


def _times(x, ratio):
    """``x * ratio`` with ``inf * 0 = 0`` (a bound at infinity contributes nothing)."""
    return jnp.where(jnp.isinf(x), 0.0, x * ratio)


class TruncatedNormal(Distribution):
    """Normal(loc, scale) conditioned on lying in ``[low, high]``.

    Bounds may be infinite (``-inf``/``inf``); all formulas work in log space with the
    standardised bounds, so intervals far out in a tail stay accurate.

    Args:
        loc: mean of the untruncated Normal.
        scale: standard deviation of the untruncated Normal, > 0.
        low: lower bound (may be ``-inf``).
        high: upper bound, > low (may be ``inf``).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.TruncatedNormal(0.0, 1.0, 0.0, float("inf"))
        >>> round(float(d.mean()), 4)  # the HalfNormal mean sqrt(2 / pi)
        0.7979
    """

    # low and high may be infinite, so they are validated by hand, not by constraint.
    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "low": None,
        "high": None,
    }

    def __init__(self, loc=0.0, scale=1.0, low=-jnp.inf, high=jnp.inf, *, validate_args=False):
        self.loc, self.scale, self.low, self.high = promote_params(loc, scale, low, high)
        # low/high have no constraint (see above) but take part in the shape check.
        self._validate(validate_args, loc=self.loc, scale=self.scale, low=self.low,
                       high=self.high)
        if self.validate_args:
            validate_bounds("TruncatedNormal", self.low, self.high)

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    def _bounds(self):
        return self._standardize_bound(self.low), self._standardize_bound(self.high)

    def _standardize_bound(self, bound):
        # An infinite bound stays infinite without touching loc and scale, so their
        # gradients do not pick up inf * 0 = NaN from it.
        infinite = jnp.isinf(bound)
        finite_bound = jnp.where(infinite, 0.0, bound)
        return jnp.where(infinite, bound, (finite_bound - self.loc) / self.scale)

    def _log_mass(self):
        return _log_normal_mass(*self._bounds())

    def _standardize(self, value):
        a, b = self._bounds()
        return jnp.clip((value - self.loc) / self.scale, a, b)

    def _sample(self, key, sample_shape):
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self.icdf(u)

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - _HALF_LOG_2PI - jnp.log(self.scale) - self._log_mass()

    def log_cdf(self, value):
        a, _ = self._bounds()
        return _log_normal_mass(a, self._standardize(value)) - self._log_mass()

    def cdf(self, value):
        return jnp.exp(self.log_cdf(value))

    def log_survival_function(self, value):
        _, b = self._bounds()
        return _log_normal_mass(self._standardize(value), b) - self._log_mass()

    def survival_function(self, value):
        return jnp.exp(self.log_survival_function(value))

    def icdf(self, p):
        a, b = self._bounds()
        flip = a > 0
        # Right-tail intervals are inverted in the mirror image -X, whose cdf there is
        # small and exact: Phi(xi') = Phi(-a) - p (Phi(-a) - Phi(-b)), x = -xi'.
        cdf_lo, cdf_hi = ndtr(jnp.where(flip, -b, a)), ndtr(jnp.where(flip, -a, b))
        mass = cdf_hi - cdf_lo
        z = jnp.where(flip, -ndtri(cdf_hi - p * mass), ndtri(cdf_lo + p * mass))
        return jnp.clip(self.loc + self.scale * z, self.low, self.high)

    def _density_ratios(self):
        # phi(a) / Z and phi(b) / Z in log space (Z may underflow far in a tail).
        a, b = self._bounds()
        log_mass = self._log_mass()
        ratio_a = jnp.exp(-0.5 * a * a - _HALF_LOG_2PI - log_mass)
        ratio_b = jnp.exp(-0.5 * b * b - _HALF_LOG_2PI - log_mass)
        return a, b, ratio_a, ratio_b

    def mean(self):
        _, _, ratio_a, ratio_b = self._density_ratios()
        return self.loc + self.scale * (ratio_a - ratio_b)

    def variance(self):
        a, b, ratio_a, ratio_b = self._density_ratios()
        shift = ratio_a - ratio_b
        return self.scale**2 * (1.0 + _times(a, ratio_a) - _times(b, ratio_b) - shift * shift)

    def mode(self):
        return jnp.clip(self.loc, self.low, self.high)

    def entropy(self):
        a, b, ratio_a, ratio_b = self._density_ratios()
        return (
            0.5
            + _HALF_LOG_2PI
            + jnp.log(self.scale)
            + self._log_mass()
            + 0.5 * (_times(a, ratio_a) - _times(b, ratio_b))
        )
