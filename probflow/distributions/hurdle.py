"""Hurdle counts: zero with probability `gate`, else a draw of `base` conditioned on > 0."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from probflow.distributions._gated import GatedDistribution
from probflow.distributions.exponential import log1mexp
from probflow.distributions.gamma_poisson import NegativeBinomial2
from probflow.distributions.poisson import Poisson

__all__ = ["HurdleDistribution", "HurdleNegativeBinomial2", "HurdlePoisson"]

# Rounds of rejection (redraw the zeros) before the remaining zeros are drawn by an
# inverse-cdf search; after this many rounds only bases with P(0) near 1 are left,
# whose zero-truncated quantiles are small, so the search is short.
_REJECTION_ROUNDS = 32


def positive_draw(key, base, sample_shape):
    """Draws of a discrete `base` (on 0, 1, 2, ...) conditioned on being positive.

    Args:
        key: a `jax.random` key.
        base: a univariate discrete distribution with `cdf` and ``P(X > 0) > 0``.
        sample_shape: tuple prepended to ``base.batch_shape``.

    Returns:
        Positive integers (as floats) of shape ``sample_shape + base.batch_shape``.
    """
    key_reject, key_search = jax.random.split(key)

    def redraw(state):
        key, draws, rounds = state
        key, sub = jax.random.split(key)
        fresh = base.sample(sub, sample_shape)
        return key, jnp.where(draws > 0, draws, fresh), rounds + 1

    def rejecting(state):
        _, draws, rounds = state
        return jnp.any(draws == 0) & (rounds < _REJECTION_ROUNDS)

    shape = sample_shape + base.batch_shape
    start = jnp.zeros(shape, base.dtype)
    _, draws, _ = lax.while_loop(rejecting, redraw, (key_reject, start, 0))
    # Remaining zeros: the smallest k >= 1 with cdf(k) >= u, u ~ U(cdf(0), 1).
    cdf0 = base.cdf(jnp.zeros((), base.dtype))
    u = cdf0 + (1.0 - cdf0) * jax.random.uniform(key_search, shape, base.dtype)

    def step(k):
        return jnp.where((draws == 0) & (base.cdf(k) < u), k + 1.0, k)

    def searching(k):
        return jnp.any((draws == 0) & (base.cdf(k) < u))

    searched = lax.while_loop(searching, step, jnp.ones(shape, base.dtype))
    return jnp.where(draws > 0, draws, searched)


class _Hurdle(GatedDistribution):
    """Abstract: ``P(0) = gate``, ``P(k) = (1 - gate) p(k) / (1 - p0)`` for k > 0."""

    def _log_base_zero(self):
        return self.base.log_prob(jnp.zeros((), self.dtype))

    def _sample(self, key, sample_shape):
        key_gate, key_base = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        positive = positive_draw(key_base, self.base.expand(self.batch_shape), sample_shape)
        return jnp.where(self._draw_gate(key_gate, shape), 0.0, positive).astype(self.dtype)

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
