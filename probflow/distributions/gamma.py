"""The Gamma distribution (shape-rate) and its special case Chi2."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammainc, gammaincc, gammaln, xlogy

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Gamma", "Chi2"]


class _GammaBase(Distribution):
    """Gamma formulas written once over the `_concentration` and `_rate` properties."""

    support = constraints.positive

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        # jax.random.gamma differentiates through the draw by implicit reparameterisation.
        alpha = jnp.broadcast_to(self._concentration, shape)
        draws = jax.random.gamma(key, alpha, shape, self.dtype)
        # Small concentrations put real mass below the smallest float (0.1: ~1e-4 of
        # draws in float32); clamp so every draw stays inside the positive support.
        return jnp.maximum(draws / self._rate, jnp.finfo(self.dtype).tiny)

    def _log_prob(self, value):
        alpha, rate = self._concentration, self._rate
        return xlogy(alpha - 1.0, value) + alpha * jnp.log(rate) - rate * value - gammaln(alpha)

    def cdf(self, value):
        return gammainc(self._concentration, self._rate * jnp.maximum(value, 0.0))

    def survival_function(self, value):
        return gammaincc(self._concentration, self._rate * jnp.maximum(value, 0.0))

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def mean(self):
        return jnp.broadcast_to(self._concentration / self._rate, self.batch_shape)

    def variance(self):
        return jnp.broadcast_to(self._concentration / self._rate**2, self.batch_shape)

    def mode(self):
        # For concentration < 1 the density is unbounded at 0, the supremum's location.
        mode = jnp.maximum(self._concentration - 1.0, 0.0) / self._rate
        return jnp.broadcast_to(mode, self.batch_shape)

    def entropy(self):
        alpha = self._concentration
        out = alpha - jnp.log(self._rate) + gammaln(alpha) + (1.0 - alpha) * digamma(alpha)
        return jnp.broadcast_to(out, self.batch_shape)


class Gamma(_GammaBase):
    """Gamma distribution with shape `concentration` and inverse scale `rate`.

    Args:
        concentration: shape, > 0.
        rate: inverse scale, > 0 (mean is ``concentration / rate``).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Gamma(3.0, 2.0).mean())
        1.5
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}

    def __init__(self, concentration, rate=1.0, *, validate_args=False):
        self.concentration, self.rate = promote_params(concentration, rate)
        self._validate(validate_args, concentration=self.concentration, rate=self.rate)

    @property
    def _concentration(self):
        return self.concentration

    @property
    def _rate(self):
        return self.rate


class Chi2(_GammaBase):
    """Chi-square distribution with `df` degrees of freedom: ``Gamma(df / 2, 1 / 2)``.

    Args:
        df: degrees of freedom, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Chi2(4.0).variance())
        8.0
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, *, validate_args=False):
        (self.df,) = promote_params(df)
        self._validate(validate_args, df=self.df)

    @property
    def _concentration(self):
        return 0.5 * self.df

    @property
    def _rate(self):
        return jnp.asarray(0.5, self.dtype)


# Registered on the shared base so Gamma and Chi2 pair with each other too.
@register_kl(_GammaBase, _GammaBase)
def _kl_gamma_gamma(p, q):
    alpha_p, alpha_q = p._concentration, q._concentration
    rate_p, rate_q = p._rate, q._rate
    return (
        (alpha_p - alpha_q) * digamma(alpha_p)
        - gammaln(alpha_p)
        + gammaln(alpha_q)
        + alpha_q * (jnp.log(rate_p) - jnp.log(rate_q))
        + alpha_p * (rate_q / rate_p - 1.0)
    )
