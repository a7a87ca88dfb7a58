"""The Binomial distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import betainc, gammaln

from probflow.distributions import constraints
from probflow.distributions._util import xlog1py, xlogy
from probflow.distributions.bernoulli import (
    _BinaryProbs,
    check_probs_or_logits,
    promote_probs_or_logits,
)

__all__ = ["Binomial"]


class Binomial(_BinaryProbs):
    """Number of successes in `total_count` independent trials with success probability `probs`.

    Args:
        total_count: number of trials, a non-negative integer (stored as a float).
        probs: success probability, in [0, 1].
        logits: log-odds of success; give exactly one of `probs` and `logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Binomial(10, probs=0.5).log_prob(5.0)), 4)
        -1.402
        >>> float(dist.Binomial(10, probs=0.3).mean())
        3.0
    """

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_rsample = False

    def __init__(self, total_count=1, probs=None, logits=None, *, validate_args=False):
        check_probs_or_logits("Binomial", probs, logits)
        self.probs, self.logits, self.total_count = promote_probs_or_logits(
            probs, logits, total_count
        )
        self._validate(
            validate_args, total_count=self.total_count, probs=self.probs, logits=self.logits
        )

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        n = jnp.broadcast_to(self.total_count, shape)
        p = jnp.broadcast_to(self.probs_parameter(), shape)
        return jax.random.binomial(key, n, p, shape, dtype=self.dtype)

    def _log_prob(self, value):
        n = self.total_count
        log_binom = gammaln(n + 1.0) - gammaln(value + 1.0) - gammaln(n - value + 1.0)
        if self.logits is not None:
            log_p, log_q = self._log_success_failure()
            return log_binom + value * log_p + (n - value) * log_q
        return log_binom + xlogy(value, self.probs) + xlog1py(n - value, -self.probs)

    def cdf(self, value):
        # P(X <= k) = I_{1-p}(n - k, k + 1), the regularised incomplete beta function.
        k = jnp.floor(jnp.asarray(value))
        n = self.total_count
        inside = (k >= 0) & (k < n)
        k_safe = jnp.clip(k, 0.0, jnp.maximum(n - 1.0, 0.0))
        a = jnp.maximum(n - k_safe, 1.0)
        tail = betainc(a, k_safe + 1.0, self._failure_probs())
        return jnp.where(inside, tail, jnp.where(k < 0, 0.0, 1.0)).astype(self.dtype)

    def mean(self):
        return jnp.broadcast_to(self.total_count * self.probs_parameter(), self.batch_shape)

    def variance(self):
        v = self.total_count * self.probs_parameter() * self._failure_probs()
        return jnp.broadcast_to(v, self.batch_shape)

    def mode(self):
        n = self.total_count
        m = jnp.minimum(jnp.floor((n + 1.0) * self.probs_parameter()), n)
        return jnp.broadcast_to(m, self.batch_shape)
