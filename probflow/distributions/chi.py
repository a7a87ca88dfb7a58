"""The Chi distribution: the Euclidean norm of `df` standard Normals."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammainc, gammaincc, gammaln, xlogy

from probflow.distributions import constraints
from probflow.distributions._inverse_cdf import bisection_icdf
from probflow.distributions._util import promote_params
from probflow.distributions.beta import log_beta
from probflow.distributions.distribution import Distribution
from probflow.distributions.gamma import Chi2
from probflow.distributions.kl import kl_divergence, register_kl

__all__ = ["Chi"]

_LOG2 = math.log(2.0)


class Chi(Distribution):
    """Chi distribution with `df` degrees of freedom: ``sqrt(Chi2(df))``.

    Args:
        df: degrees of freedom, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Chi(3.0).mean()), 4)
        1.5958
    """

    arg_constraints = {"df": constraints.positive}
    support = constraints.positive

    def __init__(self, df, *, validate_args=False):
        (self.df,) = promote_params(df)
        self._validate(validate_args, df=self.df)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        half_df = jnp.broadcast_to(0.5 * self.df, shape)
        # Implicitly reparameterised Gamma draws; clamped as in Gamma for tiny df.
        gamma = jnp.maximum(jax.random.gamma(key, half_df, shape, self.dtype), jnp.finfo(self.dtype).tiny)
        return jnp.sqrt(2.0 * gamma)

    def _log_prob(self, value):
        half_df = 0.5 * self.df
        return xlogy(self.df - 1.0, value) - 0.5 * value * value - (half_df - 1.0) * _LOG2 - gammaln(half_df)

    def cdf(self, value):
        return gammainc(0.5 * self.df, 0.5 * jnp.maximum(value, 0.0) ** 2)

    def survival_function(self, value):
        return gammaincc(0.5 * self.df, 0.5 * jnp.maximum(value, 0.0) ** 2)

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def icdf(self, p):
        # No closed form: bisection, with the implicit gradient (see _inverse_cdf.py).
        return bisection_icdf(self, p, "positive")

    def mean(self):
        # sqrt(2) Gamma((df + 1) / 2) / Gamma(df / 2) = sqrt(2 pi) / B(df / 2, 1 / 2),
        # without the cancellation of two large gammaln at large df.
        return math.sqrt(2.0 * math.pi) * jnp.exp(-log_beta(0.5 * self.df, 0.5))

    def variance(self):
        return self.df - self.mean() ** 2

    def mode(self):
        return jnp.sqrt(jnp.maximum(self.df - 1.0, 0.0))

    def entropy(self):
        half_df = 0.5 * self.df
        return gammaln(half_df) + 0.5 * (self.df - _LOG2 - (self.df - 1.0) * digamma(half_df))


@register_kl(Chi, Chi)
def _kl_chi_chi(p, q):
    # KL is invariant under the common bijection x -> x^2, which maps Chi(df) onto
    # Chi2(df) = Gamma(df / 2, 1 / 2).
    return kl_divergence(Chi2(p.df), Chi2(q.df))
