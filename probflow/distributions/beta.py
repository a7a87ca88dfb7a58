"""The Beta distribution on the unit interval."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import betainc, digamma, gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params, xlog1py, xlogy
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Beta"]

_HALF_LOG_2PI = 0.9189385332046728
# Stirling series coefficients B_2k / (2k (2k - 1)) of the log-gamma remainder.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
# From here on the series above is accurate to double precision.
_STIRLING_FROM = 8.0


def _stirling_remainder(x):
    """``gammaln(x) - ((x - 1/2) log x - x + log(2 pi) / 2)`` for ``x >= 8``."""
    inv_x = 1.0 / x
    inv_x2 = inv_x * inv_x
    out = 0.0
    for coefficient in reversed(_STIRLING):
        out = out * inv_x2 + coefficient
    return out * inv_x


def log_beta(a, b):
    """``log B(a, b)``, accurate to double precision for any positive a, b.

    ``gammaln(a) + gammaln(b) - gammaln(a + b)`` loses digits to cancellation once an
    argument is large (and jax's own `betaln` is float32-accurate only), so large
    arguments go through Stirling's series, where the big terms cancel analytically.
    """
    small, large = jnp.minimum(a, b), jnp.maximum(a, b)
    total = small + large
    # Safe stand-ins keep the unselected branches finite (and their gradients too).
    big_large = large >= _STIRLING_FROM
    both_big = small >= _STIRLING_FROM
    large_s = jnp.where(big_large, large, _STIRLING_FROM)
    small_s = jnp.where(both_big, small, _STIRLING_FROM)
    total_s = small_s + large_s
    tail_large = _stirling_remainder(large_s) - _stirling_remainder(jnp.where(big_large, total, total_s))
    # gammaln(large) - gammaln(small + large) for large >= 8 only.
    log_ratio = (
        -(total - 0.5) * jnp.log1p(small / large_s) - small * jnp.log(large_s) + small + tail_large
    )
    one_big = gammaln(small) + log_ratio
    both = (
        _HALF_LOG_2PI
        + (small_s - 0.5) * jnp.log(small_s / total_s)
        + large_s * jnp.log1p(-small_s / total_s)
        - 0.5 * jnp.log(large_s)
        + _stirling_remainder(small_s)
        + _stirling_remainder(large_s)
        - _stirling_remainder(total_s)
    )
    neither = gammaln(small) + gammaln(large) - gammaln(total)
    return jnp.where(both_big, both, jnp.where(big_large, one_big, neither))


class Beta(Distribution):
    """Beta distribution with density proportional to ``x^(c1 - 1) (1 - x)^(c0 - 1)``.

    Args:
        concentration1: the exponent of ``x`` plus one (pseudo-count of successes), > 0.
        concentration0: the exponent of ``1 - x`` plus one (pseudo-count of failures), > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.Beta(2.0, 6.0).mean())
        0.25
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, *, validate_args=False):
        self.concentration1, self.concentration0 = promote_params(concentration1, concentration0)
        self._validate(
            validate_args, concentration1=self.concentration1, concentration0=self.concentration0
        )

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        # jax.random.beta draws through log-space Gammas: accurate for tiny
        # concentrations and differentiable by implicit reparameterisation.
        return jax.random.beta(key, self.concentration1, self.concentration0, shape, self.dtype)

    def _log_prob(self, value):
        a, b = self.concentration1, self.concentration0
        return xlogy(a - 1.0, value) + xlog1py(b - 1.0, -value) - log_beta(a, b)

    def cdf(self, value):
        return betainc(self.concentration1, self.concentration0, jnp.clip(value, 0.0, 1.0))

    def survival_function(self, value):
        cdf = self.cdf(value)
        # 1 - I_x(a, b) = I_{1-x}(b, a) keeps the digits of a small tail, but 1 - x
        # rounds for tiny x; there the tail is large and 1 - cdf is exact enough.
        upper = betainc(self.concentration0, self.concentration1, jnp.clip(1.0 - value, 0.0, 1.0))
        return jnp.where(cdf < 0.5, 1.0 - cdf, upper)

    def log_survival_function(self, value):
        return jnp.log(self.survival_function(value))

    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    def variance(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total**2 * (total + 1.0))

    def mode(self):
        a, b = self.concentration1, self.concentration0
        interior = (a - 1.0) / (a + b - 2.0)
        # On an edge where one exponent is negative; undefined (bimodal or flat) otherwise.
        edge = jnp.where(a <= 1.0, jnp.where(b > 1.0, 0.0, jnp.nan), jnp.where(b <= 1.0, 1.0, jnp.nan))
        return jnp.where((a > 1.0) & (b > 1.0), interior, edge)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (
            log_beta(a, b)
            - (a - 1.0) * digamma(a)
            - (b - 1.0) * digamma(b)
            + (a + b - 2.0) * digamma(a + b)
        )


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a_p, b_p, a_q, b_q = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    return (
        log_beta(a_q, b_q)
        - log_beta(a_p, b_p)
        + (a_p - a_q) * digamma(a_p)
        + (b_p - b_q) * digamma(b_p)
        + (a_q - a_p + b_q - b_p) * digamma(a_p + b_p)
    )
