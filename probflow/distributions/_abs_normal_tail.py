"""Private base of location-scale families whose cdf is a two-sided Normal tail."""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax.scipy.special import erf, log_ndtr, ndtr

from probflow.distributions._loc_scale import LocationScale

__all__ = ["AbsNormalTail"]

_LOG2 = math.log(2.0)


class AbsNormalTail(LocationScale):
    """Families with ``P(X <= x) = P(|N| >= r(x))`` for a standard Normal N.

    Subclasses define ``_root(value) -> r`` (decreasing in the value); the cdf, its log
    and the survival function follow here once, each from the accurate side.
    """

    def _root(self, value):
        raise NotImplementedError

    def cdf(self, value):
        return 2.0 * ndtr(-self._root(value))

    def log_cdf(self, value):
        return _LOG2 + log_ndtr(-self._root(value))

    def survival_function(self, value):
        return erf(self._root(value) / math.sqrt(2.0))

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))
