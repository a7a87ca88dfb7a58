"""The generalized extreme value distribution (Gumbel, Frechet and reversed Weibull in one)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from probflow.bijectors.bijector import Bijector
from probflow.bijectors.for_constraint import register_constraint_bijector
from probflow.distributions import constraints
from probflow.distributions._tail_forms import FromLogCdf
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["GeneralizedExtremeValue"]

_EULER_GAMMA = 0.5772156649015329
# Below this |argument| the ratios are Taylor polynomials: exact to ~1e-13 and smooth
# through 0, so gradients in the concentration are right at the Gumbel case too.
_SERIES_BELOW = 1e-3
# Riemann zeta(2..9), for the series of log Gamma(1 - x) near x = 0.
_ZETA = (1.6449340668482264, 1.2020569031595943, 1.0823232337111382, 1.0369277551433699,
         1.0173430619844491, 1.0083492773819228, 1.0040773561979443, 1.0020083928260822)
_GAMMALN_SERIES_BELOW = 0.01


def _expm1_over(a):
    """``expm1(a) / a`` (1 at a = 0)."""
    small = jnp.abs(a) < _SERIES_BELOW
    safe = jnp.where(small, 1.0, a)
    series = 1.0 + a * (1.0 / 2 + a * (1.0 / 6 + a / 24))
    return jnp.where(small, series, jnp.expm1(safe) / safe)


def _log1p_over(u):
    """``log1p(u) / u`` (1 at u = 0)."""
    small = jnp.abs(u) < _SERIES_BELOW
    safe = jnp.where(small, 1.0, u)
    series = 1.0 - u * (1.0 / 2 - u * (1.0 / 3 - u / 4))
    return jnp.where(small, series, jnp.log1p(safe) / safe)


def _gammaln_1m_over(x, k):
    """``log Gamma(1 - k x) / x``, by its Taylor series near x = 0 (no 0/0, no cancellation)."""
    y = k * x
    small = jnp.abs(y) < _GAMMALN_SERIES_BELOW
    safe = jnp.where(small, 1.0, x)
    series = _EULER_GAMMA
    for power, zeta in enumerate(_ZETA, start=2):
        series = series + zeta * y ** (power - 1) / power
    return jnp.where(small, k * series, gammaln(1.0 - k * safe) / safe)


class _GEVSupport(constraints.Constraint):
    """``{x : 1 + concentration (x - loc) / scale > 0}``: a half-line, or R at concentration 0."""

    description = "a real number with 1 + concentration (x - loc) / scale > 0"

    def __init__(self, loc, scale, concentration):
        self.loc, self.scale, self.concentration = loc, scale, concentration

    def check(self, x):
        return (1.0 + self.concentration * (x - self.loc) / self.scale > 0) & jnp.isfinite(x)

    def feasible_like(self, x):
        return jnp.broadcast_to(self.loc, jnp.shape(x)).astype(jnp.result_type(x))

    def __repr__(self):
        return "generalized_extreme_value_support"


class _GEVSupportBijector(Bijector):
    """``x = loc + scale expm1(concentration u) / concentration``: R onto the GEV support."""

    def __init__(self, loc, scale, concentration):
        self.loc, self.scale, self.concentration = loc, scale, concentration

    def forward_and_log_det(self, u):
        a = self.concentration * u
        x = self.loc + self.scale * u * _expm1_over(a)
        return x, jnp.log(self.scale) + a

    def inverse_and_log_det(self, x):
        z = (x - self.loc) / self.scale
        v = self.concentration * z
        return z * _log1p_over(v), -jnp.log(self.scale) - jnp.log1p(v)


@register_constraint_bijector(_GEVSupport)
def _gev_support_bijector(constraint):
    return _GEVSupportBijector(constraint.loc, constraint.scale, constraint.concentration)


class GeneralizedExtremeValue(FromLogCdf, Distribution):
    """Generalized extreme value: ``P(X <= x) = exp(-(1 + concentration z)^(-1 / concentration))``.

    With ``z = (x - loc) / scale``. ``concentration = 0`` is ``Gumbel(loc, scale)``,
    positive values give a Frechet-type (heavy, bounded below) tail, negative values a
    reversed-Weibull type (bounded above). TFP's parameterisation; scipy's
    ``genextreme(c=-concentration, loc, scale)``. The support depends on the parameters
    (its constraint maps to the bijector ``loc + scale expm1(concentration u) / concentration``).
    The mean is infinite for ``concentration >= 1``, the variance for ``>= 1/2``.

    Args:
        loc: location.
        scale: scale, > 0.
        concentration: shape (real).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.GeneralizedExtremeValue(0.0, 1.0, 0.0).cdf(0.0)), 4)
        0.3679
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }

    def __init__(self, loc=0.0, scale=1.0, concentration=0.0, *, validate_args=False):
        self.loc, self.scale, self.concentration = promote_params(loc, scale, concentration)
        self._validate(validate_args, loc=self.loc, scale=self.scale, concentration=self.concentration)

    @property
    def support(self):
        return _GEVSupport(self.loc, self.scale, self.concentration)

    def _sample(self, key, sample_shape):
        u = jax.random.uniform(
            key, sample_shape + self.batch_shape, self.dtype, minval=jnp.finfo(self.dtype).tiny
        )
        return self.icdf(u)

    def _log_t(self, value):
        # log t(x) with t = (1 + xi z)^(-1/xi) (exp(-z) at xi = 0); -inf past the upper
        # end of a bounded support keeps the cdf at 1 there.
        z = (value - self.loc) / self.scale
        v = self.concentration * z
        inside = v > -1.0
        log_t = -z * _log1p_over(jnp.where(inside, v, 0.0))
        beyond = jnp.where(self.concentration < 0, -jnp.inf, jnp.inf)
        return jnp.where(inside, log_t, beyond)

    def _log_prob(self, value):
        log_t = self._log_t(value)
        return (self.concentration + 1.0) * log_t - jnp.exp(log_t) - jnp.log(self.scale)

    def log_cdf(self, value):
        return -jnp.exp(self._log_t(value))

    def icdf(self, p):
        # z = ((-log p)^(-xi) - 1) / xi = w expm1(xi w) / (xi w) with w = -log(-log p).
        w = -jnp.log(-jnp.log(p))
        return self.loc + self.scale * w * _expm1_over(self.concentration * w)

    def mean(self):
        xi = self.concentration
        finite = xi < 1.0
        safe = jnp.where(finite, xi, 0.0)
        # (Gamma(1 - xi) - 1) / xi = (g / xi) expm1(g) / g with g = log Gamma(1 - xi).
        g_over = _gammaln_1m_over(safe, 1.0)
        ratio = g_over * _expm1_over(g_over * safe)
        return jnp.broadcast_to(jnp.where(finite, self.loc + self.scale * ratio, jnp.inf), self.batch_shape)

    def variance(self):
        xi = self.concentration
        finite = xi < 0.5
        safe = jnp.where(finite, xi, 0.0)
        # scale^2 (Gamma(1 - 2 xi) - Gamma(1 - xi)^2) / xi^2
        #   = scale^2 Gamma(1 - xi)^2 expm1(d) / xi^2, d = lgamma(1 - 2 xi) - 2 lgamma(1 - xi);
        # d / xi^2 from the two series (their linear terms cancel exactly).
        g1_over, g2_over = _gammaln_1m_over(safe, 1.0), _gammaln_1m_over(safe, 2.0)
        small = jnp.abs(2.0 * safe) < _GAMMALN_SERIES_BELOW
        series = sum(z * (2.0**k - 2.0) * safe ** (k - 2) / k for k, z in enumerate(_ZETA, start=2))
        safe_xi = jnp.where(small, 1.0, safe)
        d_over_sq = jnp.where(small, series, (g2_over - 2.0 * g1_over) / safe_xi)
        d = d_over_sq * safe * safe
        var = self.scale**2 * jnp.exp(2.0 * g1_over * safe) * d_over_sq * _expm1_over(d)
        return jnp.broadcast_to(jnp.where(finite, var, jnp.inf), self.batch_shape)

    def mode(self):
        xi = self.concentration
        # ((1 + xi)^(-xi) - 1) / xi = -log1p(xi) expm1(a) / a with a = -xi log1p(xi).
        log1p_xi = jnp.log1p(jnp.maximum(xi, -1.0 + 1e-12))
        mode = self.loc - self.scale * log1p_xi * _expm1_over(-xi * log1p_xi)
        return jnp.broadcast_to(mode, self.batch_shape)

    def entropy(self):
        out = jnp.log(self.scale) + _EULER_GAMMA * (1.0 + self.concentration) + 1.0
        return jnp.broadcast_to(out, self.batch_shape)


