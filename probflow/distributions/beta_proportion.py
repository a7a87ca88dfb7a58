"""The Beta distribution parameterised by its mean and precision."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._inverse_cdf import bisection_icdf
from probflow.distributions._util import promote_params, validate_param
from probflow.distributions.beta import Beta
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import kl_divergence, register_kl

__all__ = ["BetaProportion"]


class _OpenUnitInterval(constraints.Constraint):
    description = "a number strictly between 0 and 1"

    def check(self, x):
        return (x > 0) & (x < 1)

    def __repr__(self):
        return "open_interval(0.0, 1.0)"


class BetaProportion(Distribution):
    """``Beta(mean * concentration, (1 - mean) * concentration)``: Beta by mean and precision.

    The usual likelihood of Beta regression (Ferrari & Cribari-Neto 2004). Every method
    is the Beta's with those concentrations.

    Args:
        mean: the mean, in (0, 1).
        concentration: precision ``a + b``, > 0 (variance ``mean (1 - mean) / (1 + concentration)``).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.BetaProportion(0.25, 3.0).variance()), 4)
        0.0469
    """

    # The `mean` argument (NumPyro's name) is stored as `proportion`, since `mean()` is
    # the moment method every distribution has.
    arg_constraints = {"proportion": _OpenUnitInterval(), "concentration": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, mean, concentration, *, validate_args=False):
        self.proportion, self.concentration = promote_params(mean, concentration)
        self._validate(validate_args, concentration=self.concentration)
        if self.validate_args:
            validate_param("BetaProportion", "mean", self.proportion, self.arg_constraints["proportion"])

    def _beta(self):
        return Beta(self.proportion * self.concentration, (1.0 - self.proportion) * self.concentration)

    def _sample(self, key, sample_shape):
        return self._beta()._sample(key, sample_shape)

    def _log_prob(self, value):
        return self._beta()._log_prob(value)

    def cdf(self, value):
        return self._beta().cdf(value)

    def survival_function(self, value):
        return self._beta().survival_function(value)

    def log_survival_function(self, value):
        return self._beta().log_survival_function(value)

    def icdf(self, p):
        # No closed form: bisection, with the implicit gradient (see _inverse_cdf.py).
        return bisection_icdf(self, p, "unit")

    def mean(self):
        return jnp.broadcast_to(self.proportion, self.batch_shape)

    def variance(self):
        return jnp.broadcast_to(self._beta().variance(), self.batch_shape)

    def mode(self):
        return jnp.broadcast_to(self._beta().mode(), self.batch_shape)

    def entropy(self):
        return jnp.broadcast_to(self._beta().entropy(), self.batch_shape)


@register_kl(BetaProportion, BetaProportion)
def _kl_beta_proportion(p, q):
    return kl_divergence(p._beta(), q._beta())


@register_kl(BetaProportion, Beta)
def _kl_beta_proportion_beta(p, q):
    return kl_divergence(p._beta(), q)


@register_kl(Beta, BetaProportion)
def _kl_beta_beta_proportion(p, q):
    return kl_divergence(p, q._beta())
