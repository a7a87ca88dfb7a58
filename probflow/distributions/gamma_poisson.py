"""Gamma-Poisson counts: `GammaPoisson` (shape/rate) and `NegativeBinomial2` (mean/dispersion)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import betainc, gammaln

from probflow.distributions import constraints
from probflow.distributions._discrete_quantile import discrete_quantile
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["GammaPoisson", "NegativeBinomial2"]


def _gamma_poisson_log_prob(value, concentration, rate):
    """``log P(X = k)`` of Poisson(lambda), lambda ~ Gamma(concentration, rate)."""
    # p(k) = C(k + a - 1, k) (b / (1 + b))^a (1 / (1 + b))^k, with log1p for small b.
    log1p_rate = jnp.log1p(rate)
    log_coef = gammaln(value + concentration) - gammaln(value + 1.0) - gammaln(concentration)
    return log_coef + concentration * (jnp.log(rate) - log1p_rate) - value * log1p_rate


class _GammaPoissonBase(Distribution):
    """Abstract: the maths of a Gamma-Poisson mixture from ``(concentration, rate)``."""

    support = constraints.nonnegative_integer
    has_rsample = False

    def _shape_rate(self):
        raise NotImplementedError

    def _sample(self, key, sample_shape):
        key_rate, key_count = jax.random.split(key)
        concentration, rate = self._shape_rate()
        shape = sample_shape + self.batch_shape
        gamma = jax.random.gamma(key_rate, jnp.broadcast_to(concentration, shape), shape, self.dtype)
        return jax.random.poisson(key_count, gamma / rate, shape).astype(self.dtype)

    def _log_prob(self, value):
        return _gamma_poisson_log_prob(value, *self._shape_rate())

    def cdf(self, value):
        # P(X <= k) = I_{b / (1 + b)}(a, k + 1), the regularised incomplete beta function.
        concentration, rate = self._shape_rate()
        k = jnp.floor(jnp.asarray(value))
        tail = betainc(concentration, jnp.maximum(k, 0.0) + 1.0, rate / (1.0 + rate))
        return jnp.where(k < 0, 0.0, tail).astype(self.dtype)

    def icdf(self, p):
        """The smallest k with ``cdf(k) >= p`` (by bracketing and bisection)."""
        p = jnp.asarray(p, self.dtype)
        return discrete_quantile(self.cdf, jnp.broadcast_to(p, jnp.broadcast_shapes(p.shape, self.batch_shape)), 0.0)

    def mean(self):
        concentration, rate = self._shape_rate()
        return jnp.broadcast_to(concentration / rate, self.batch_shape)

    def variance(self):
        concentration, rate = self._shape_rate()
        return jnp.broadcast_to(concentration / rate * (1.0 + 1.0 / rate), self.batch_shape)

    def mode(self):
        concentration, rate = self._shape_rate()
        m = jnp.where(concentration > 1.0, jnp.floor((concentration - 1.0) / rate), 0.0)
        return jnp.broadcast_to(m, self.batch_shape)


class GammaPoisson(_GammaPoissonBase):
    """Poisson counts whose rate is Gamma(`concentration`, `rate`) distributed.

    The marginal is negative binomial: ``scipy.stats.nbinom(n=concentration,
    p=rate / (1 + rate))``, mean ``concentration / rate``.

    Args:
        concentration: shape a of the Gamma mixing distribution, > 0.
        rate: rate b of the Gamma mixing distribution, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.GammaPoisson(2.0, 0.5)
        >>> float(d.mean()), float(d.variance())
        (4.0, 12.0)
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}

    def __init__(self, concentration=1.0, rate=1.0, *, validate_args=False):
        self.concentration, self.rate = promote_params(concentration, rate)
        self._validate(validate_args, concentration=self.concentration, rate=self.rate)

    def _shape_rate(self):
        return self.concentration, self.rate


class NegativeBinomial2(_GammaPoissonBase):
    """Negative binomial counts by `mean` and `concentration` (NumPyro's / Stan's NB2).

    ``Var X = mean + mean^2 / concentration``; as concentration -> inf it tends to
    Poisson(mean). It is ``GammaPoisson(concentration, concentration / mean)``.

    Args:
        mean: the mean count, > 0.
        concentration: the dispersion phi, > 0 (smaller is more over-dispersed).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.NegativeBinomial2(4.0, 2.0)
        >>> float(d.variance())
        12.0
    """

    arg_constraints = {"mean_count": constraints.positive, "concentration": constraints.positive}

    def __init__(self, mean=1.0, concentration=1.0, *, validate_args=False):
        self.mean_count, self.concentration = promote_params(mean, concentration)
        self._validate(validate_args, mean_count=self.mean_count, concentration=self.concentration)

    def _validate(self, validate_args, **params):
        # The public argument is `mean`; the attribute cannot shadow the method mean().
        try:
            super()._validate(validate_args, **params)
        except ValueError as error:
            raise ValueError(str(error).replace("`mean_count`", "`mean`")) from None

    def _shape_rate(self):
        return self.concentration, self.concentration / self.mean_count
