"""The NegativeBinomial distribution (TFP's convention)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import betainc, gammaln

from probflow.distributions import constraints
from probflow.distributions._util import xlogy
from probflow.distributions.bernoulli import (
    _BinaryProbs,
    check_probs_or_logits,
    promote_probs_or_logits,
)

__all__ = ["NegativeBinomial"]


class NegativeBinomial(_BinaryProbs):
    """Number of successes before the `total_count`-th failure in Bernoulli(`probs`) trials.

    This is TFP's convention: ``P(X = k) = C(k + r - 1, k) p^k (1 - p)^r`` with
    ``r = total_count`` and ``p = probs``, mean ``r p / (1 - p)``. In scipy's terms it
    is ``scipy.stats.nbinom(n=total_count, p=1 - probs)``. `total_count` may be any
    positive real (the Gamma-Poisson mixture).

    Args:
        total_count: number of failures r, > 0.
        probs: success probability, in [0, 1).
        logits: log-odds of success; give exactly one of `probs` and `logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.NegativeBinomial(3.0, probs=0.25)
        >>> float(d.mean())
        1.0
        >>> round(float(d.log_prob(0.0)), 4)
        -0.863
    """

    arg_constraints = {
        "total_count": constraints.positive,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer
    has_rsample = False

    def __init__(self, total_count=1.0, probs=None, logits=None, *, validate_args=False):
        check_probs_or_logits("NegativeBinomial", probs, logits)
        self.probs, self.logits, self.total_count = promote_probs_or_logits(
            probs, logits, total_count
        )
        self._validate(
            validate_args, total_count=self.total_count, probs=self.probs, logits=self.logits
        )

    def _sample(self, key, sample_shape):
        # Gamma-Poisson mixture: rate ~ Gamma(r, scale = p / (1 - p)), X | rate ~ Poisson.
        key_rate, key_count = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        gamma = jax.random.gamma(key_rate, jnp.broadcast_to(self.total_count, shape), shape)
        rate = gamma.astype(self.dtype) * self._odds()
        return jax.random.poisson(key_count, rate, shape).astype(self.dtype)

    def _log_prob(self, value):
        r = self.total_count
        log_p, log_q = self._log_success_failure()
        log_coef = gammaln(value + r) - gammaln(value + 1.0) - gammaln(r)
        # A zero count contributes nothing even when p == 0, gradient included.
        successes = value * log_p if self.probs is None else xlogy(value, self.probs)
        return log_coef + successes + r * log_q

    def cdf(self, value):
        # P(X <= k) = I_{1-p}(r, k + 1).
        k = jnp.floor(jnp.asarray(value))
        tail = betainc(self.total_count, jnp.maximum(k, 0.0) + 1.0, self._failure_probs())
        return jnp.where(k < 0, 0.0, tail).astype(self.dtype)

    def mean(self):
        return jnp.broadcast_to(self.total_count * self._odds(), self.batch_shape)

    def variance(self):
        v = self.total_count * self._odds() / self._failure_probs()
        return jnp.broadcast_to(v, self.batch_shape)

    def mode(self):
        m = jnp.where(
            self.total_count > 1.0, jnp.floor((self.total_count - 1.0) * self._odds()), 0.0
        )
        return jnp.broadcast_to(m, self.batch_shape)
