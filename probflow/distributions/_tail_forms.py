"""Private mixins: the four tail functions from whichever log tail has a closed form.

A family whose ``log_cdf`` (Gumbel, Frechet, GEV) or ``log_survival_function``
(Pareto, Gompertz, Kumaraswamy) is exact in closed form gets the other three from it
here, each through the accurate primitive (``exp``, ``-expm1``, ``log1mexp``). List the
mixin before `Distribution` among the bases.
"""

from __future__ import annotations

import jax.numpy as jnp

from probflow.distributions.exponential import log1mexp

__all__ = ["FromLogCdf", "FromLogSurvival"]


class FromLogCdf:
    """cdf, survival function and its log from the family's ``log_cdf``."""

    def cdf(self, value):
        return jnp.exp(self.log_cdf(value))

    def survival_function(self, value):
        return -jnp.expm1(self.log_cdf(value))

    def log_survival_function(self, value):
        return log1mexp(self.log_cdf(value))


class FromLogSurvival:
    """Survival function, cdf and log cdf from the family's ``log_survival_function``."""

    def survival_function(self, value):
        return jnp.exp(self.log_survival_function(value))

    def cdf(self, value):
        return -jnp.expm1(self.log_survival_function(value))

    def log_cdf(self, value):
        return log1mexp(self.log_survival_function(value))
