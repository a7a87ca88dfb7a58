"""Zero-inflated counts: a structural zero with probability `gate`, else a draw of `base`."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions._discrete_quantile import discrete_quantile
from probflow.distributions._gated import GatedDistribution
from probflow.distributions.gamma_poisson import NegativeBinomial2
from probflow.distributions.poisson import Poisson

__all__ = ["ZeroInflatedDistribution", "ZeroInflatedNegativeBinomial2", "ZeroInflatedPoisson"]

# Below this log P_base(0) the zero's mass is summed in log space; above it, the form
# log p0 + log1p(gate (1 - p0) / p0) keeps a finite gradient at gate = 0.
_LOG_P0_SWITCH = -30.0


class _ZeroInflated(GatedDistribution):
    """Abstract: ``P(0) = gate + (1 - gate) p0`` and ``P(k) = (1 - gate) p(k)`` for k > 0."""

    def _sample(self, key, sample_shape):
        key_gate, key_base = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        counts = self.base.expand(self.batch_shape).sample(key_base, sample_shape)
        return jnp.where(self._draw_gate(key_gate, shape), 0.0, counts).astype(self.dtype)

    def _log_prob(self, value):
        log_gate, log_keep = self._log_gate()
        log_base = self.base.log_prob(value)
        log_p0 = self.base.log_prob(jnp.zeros((), self.dtype))
        if self.gate_logits is not None:
            log_zero = jnp.logaddexp(log_gate, log_keep + log_p0)
        else:
            # Double where: each branch sees only inputs where its gradient is finite.
            direct = log_p0 > _LOG_P0_SWITCH
            safe_p0 = jnp.where(direct, log_p0, 0.0)
            near = safe_p0 + jnp.log1p(self.gate * jnp.expm1(-safe_p0))
            safe_gate = jnp.where(direct, 0.5, self.gate)
            far = jnp.logaddexp(jnp.log(safe_gate), jnp.log1p(-safe_gate) + log_p0)
            log_zero = jnp.where(direct, near, far)
        return jnp.where(value == 0, log_zero, log_keep + log_base)

    def cdf(self, value):
        gate = self.gate_probs()
        inside = gate + (1.0 - gate) * self.base.cdf(value)
        return jnp.where(jnp.asarray(value) < 0, 0.0, inside).astype(self.dtype)

    def icdf(self, p):
        """The smallest k with ``cdf(k) >= p`` (by bracketing and bisection)."""
        return discrete_quantile(self.cdf, self._broadcast(p), 0.0)

    def mean(self):
        keep = 1.0 - self.gate_probs()
        return jnp.broadcast_to(keep * self.base.mean(), self.batch_shape)

    def variance(self):
        keep = 1.0 - self.gate_probs()
        base_mean = self.base.mean()
        v = keep * (self.base.variance() + base_mean**2) - (keep * base_mean) ** 2
        return jnp.broadcast_to(v, self.batch_shape)


class ZeroInflatedDistribution(_ZeroInflated):
    """Any univariate discrete `base` with extra zeros of probability `gate`.

    Args:
        base: a univariate discrete distribution on the non-negative integers.
        gate: probability of a structural zero, in [0, 1].
        gate_logits: its log-odds; give exactly one of `gate` and `gate_logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.ZeroInflatedDistribution(dist.Poisson(2.0), gate=0.25)
        >>> float(d.mean())
        1.5
    """

    def __init__(self, base, gate=None, *, gate_logits=None, validate_args=False):
        self._init_gate("ZeroInflatedDistribution", base, gate, gate_logits, validate_args)


class ZeroInflatedPoisson(_ZeroInflated):
    """Poisson(`rate`) counts with extra zeros of probability `gate` (NumPyro's order).

    Args:
        gate: probability of a structural zero, in [0, 1].
        rate: the Poisson mean, > 0.
        gate_logits: log-odds of the gate; give exactly one of `gate` and `gate_logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.ZeroInflatedPoisson(0.5, 1.0).prob(0.0)), 4)
        0.6839
    """

    def __init__(self, gate=None, rate=1.0, *, gate_logits=None, validate_args=False):
        base = Poisson(rate, validate_args=validate_args)
        self._init_gate("ZeroInflatedPoisson", base, gate, gate_logits, validate_args)

    @property
    def rate(self):
        """The Poisson mean."""
        return self.base.rate


class ZeroInflatedNegativeBinomial2(_ZeroInflated):
    """`NegativeBinomial2`(`mean`, `concentration`) counts with extra zeros (as NumPyro).

    Args:
        mean: mean of the negative binomial part, > 0.
        concentration: its dispersion, > 0.
        gate: probability of a structural zero, in [0, 1].
        gate_logits: log-odds of the gate; give exactly one of `gate` and `gate_logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.ZeroInflatedNegativeBinomial2(4.0, 2.0, gate=0.5).mean())
        2.0
    """

    def __init__(self, mean, concentration, *, gate=None, gate_logits=None, validate_args=False):
        base = NegativeBinomial2(mean, concentration, validate_args=validate_args)
        self._init_gate("ZeroInflatedNegativeBinomial2", base, gate, gate_logits, validate_args)
