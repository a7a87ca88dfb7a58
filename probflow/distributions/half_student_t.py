"""The half Student's t distribution: ``|T|`` for a zero-centred Student's t."""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax.scipy.special import betainc

from probflow.distributions import constraints
from probflow.distributions._inverse_cdf import bisection_icdf
from probflow.distributions._util import promote_params
from probflow.distributions.beta import log_beta
from probflow.distributions.distribution import Distribution
from probflow.distributions.student_t import StudentT

__all__ = ["HalfStudentT"]

_LOG2 = math.log(2.0)


class HalfStudentT(Distribution):
    """Absolute value of a ``StudentT(df, 0, scale)`` variable.

    The mean is infinite for ``df <= 1`` and the variance for ``df <= 2``.

    Args:
        df: degrees of freedom, > 0.
        scale: scale, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.HalfStudentT(3.0, 1.0).mean()), 4)
        1.1027
    """

    arg_constraints = {"df": constraints.positive, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, df, scale=1.0, *, validate_args=False):
        self.df, self.scale = promote_params(df, scale)
        self._validate(validate_args, df=self.df, scale=self.scale)

    def _unfolded(self):
        return StudentT(self.df, jnp.zeros_like(self.scale), self.scale)

    def _sample(self, key, sample_shape):
        return jnp.abs(self._unfolded()._sample(key, sample_shape))

    def _log_prob(self, value):
        return _LOG2 + self._unfolded()._log_prob(value)

    def _both_sides(self, value):
        # (P(|T| <= z), P(|T| > z)), each from the incomplete beta that keeps its digits:
        # I_{z^2/(df+z^2)}(1/2, df/2) near 0, I_{df/(df+z^2)}(df/2, 1/2) in the tail.
        z = jnp.maximum(value, 0.0) / self.scale
        z2 = z * z
        centre = z2 < self.df
        inner = betainc(0.5, 0.5 * self.df, z2 / (self.df + z2))
        outer = betainc(0.5 * self.df, 0.5, self.df / (self.df + z2))
        return jnp.where(centre, inner, 1.0 - outer), jnp.where(centre, 1.0 - inner, outer)

    def cdf(self, value):
        return self._both_sides(value)[0]

    def survival_function(self, value):
        return self._both_sides(value)[1]

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def icdf(self, p):
        # No closed form: bisection, with the implicit gradient (see _inverse_cdf.py).
        return bisection_icdf(self, p, "positive")

    def mean(self):
        # E|T| = 2 sqrt(df) / ((df - 1) B(df / 2, 1 / 2)) for df > 1.
        finite = self.df > 1.0
        df = jnp.where(finite, self.df, 2.0)
        mean = 2.0 * self.scale * jnp.sqrt(df) * jnp.exp(-log_beta(0.5 * df, 0.5)) / (df - 1.0)
        return jnp.broadcast_to(jnp.where(finite, mean, jnp.inf), self.batch_shape)

    def variance(self):
        finite = self.df > 2.0
        df = jnp.where(finite, self.df, 3.0)
        second = self.scale**2 * df / (df - 2.0)
        mean = self._replace(df=df).mean()
        return jnp.broadcast_to(jnp.where(finite, second - mean**2, jnp.inf), self.batch_shape)

    def mode(self):
        return jnp.zeros(self.batch_shape, self.dtype)

    def entropy(self):
        return self._unfolded().entropy() - _LOG2
