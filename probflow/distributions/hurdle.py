"""Hurdle counts: zero with probability `gate`, else a draw of `base` conditioned on > 0."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions._discrete_quantile import discrete_quantile
from probflow.distributions._gated import GatedDistribution
from probflow.distributions.exponential import log1mexp
from probflow.distributions.gamma_poisson import NegativeBinomial2
from probflow.distributions.poisson import Poisson

__all__ = ["HurdleDistribution", "HurdleNegativeBinomial2", "HurdlePoisson"]


class _Hurdle(GatedDistribution):
    """Abstract: ``P(0) = gate``, ``P(k) = (1 - gate) p(k) / (1 - p0)`` for k > 0."""

    def _log_base_zero(self):
        return self.base.log_prob(jnp.zeros((), self.dtype))

    def _sample(self, key, sample_shape):
        # Inverse cdf: exact, and O(log k) cdf evaluations even where P_base(0) is near 1
        # (where drawing the base until it is positive would take many rounds).
        u = jax.random.uniform(key, sample_shape + self.batch_shape, self.dtype)
        return self.icdf(u)

    def icdf(self, p):
        """The smallest k with ``cdf(k) >= p`` (by bracketing and bisection)."""
        return discrete_quantile(self.cdf, self._broadcast(p), 0.0)

    def _log_prob(self, value):
        log_gate, log_keep = self._log_gate()
        positive = log_keep + self.base.log_prob(value) - log1mexp(self._log_base_zero())
        return jnp.where(value == 0, log_gate, positive)

    def cdf(self, value):
        gate = self.gate_probs()
        p0 = jnp.exp(self._log_base_zero())
        inside = gate + (1.0 - gate) * (self.base.cdf(value) - p0) / (1.0 - p0)
        return jnp.where(jnp.asarray(value) < 0, 0.0, inside).astype(self.dtype)

    def _positive_moments(self):
        # E[X^j | X > 0] = E[X^j] / (1 - p0) for j >= 1.
        not_zero = -jnp.expm1(self._log_base_zero())
        base_mean = self.base.mean()
        second = (self.base.variance() + base_mean**2) / not_zero
        return base_mean / not_zero, second

    def mean(self):
        first, _ = self._positive_moments()
        return jnp.broadcast_to((1.0 - self.gate_probs()) * first, self.batch_shape)

    def variance(self):
        keep = 1.0 - self.gate_probs()
        first, second = self._positive_moments()
        return jnp.broadcast_to(keep * second - (keep * first) ** 2, self.batch_shape)


class HurdleDistribution(_Hurdle):
    """A zero with probability `gate`, else `base` conditioned on being positive.

    Unlike zero inflation, every zero comes from the gate (the base's own zero is cut
    off), so zeros and positive counts have separate parameters.

    Args:
        base: a univariate discrete distribution on the non-negative integers with
            `cdf`, ``P(base > 0) > 0``.
        gate: probability of zero, in [0, 1].
        gate_logits: its log-odds; give exactly one of `gate` and `gate_logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.HurdleDistribution(dist.Poisson(2.0), gate=0.3)
        >>> round(float(d.prob(0.0)), 4)
        0.3
    """

    def __init__(self, base, gate=None, *, gate_logits=None, validate_args=False):
        self._init_gate("HurdleDistribution", base, gate, gate_logits, validate_args)


class HurdlePoisson(_Hurdle):
    """Zero with probability `gate`, else zero-truncated Poisson(`rate`).

    Args:
        gate: probability of zero, in [0, 1].
        rate: the mean of the untruncated Poisson, > 0.
        gate_logits: log-odds of the gate; give exactly one of `gate` and `gate_logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.HurdlePoisson(0.5, 1.0).prob(1.0)), 4)
        0.291
    """

    def __init__(self, gate=None, rate=1.0, *, gate_logits=None, validate_args=False):
        base = Poisson(rate, validate_args=validate_args)
        self._init_gate("HurdlePoisson", base, gate, gate_logits, validate_args)

    @property
    def rate(self):
        """The mean of the untruncated Poisson."""
        return self.base.rate


class HurdleNegativeBinomial2(_Hurdle):
    """Zero with probability `gate`, else zero-truncated `NegativeBinomial2`(mean, concentration).

    Args:
        mean: mean of the untruncated negative binomial, > 0.
        concentration: its dispersion, > 0.
        gate: probability of zero, in [0, 1].
        gate_logits: log-odds of the gate; give exactly one of `gate` and `gate_logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.HurdleNegativeBinomial2(2.0, 1.0, gate=1.0).mean())
        0.0
    """

    def __init__(self, mean, concentration, *, gate=None, gate_logits=None, validate_args=False):
        base = NegativeBinomial2(mean, concentration, validate_args=validate_args)
        self._init_gate("HurdleNegativeBinomial2", base, gate, gate_logits, validate_args)
