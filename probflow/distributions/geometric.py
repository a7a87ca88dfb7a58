"""The Geometric distribution (failures before the first success)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from probflow.distributions import constraints
from probflow.distributions._util import is_concrete, xlog1py
from probflow.distributions.bernoulli import (
    _BinaryProbs,
    check_probs_or_logits,
    promote_probs_or_logits,
)

__all__ = ["Geometric"]


class Geometric(_BinaryProbs):
    """Number of failures before the first success, support {0, 1, 2, ...} (TFP's convention).

    ``P(X = k) = (1 - p)^k p``; in scipy's terms ``scipy.stats.geom(p, loc=-1)``.

    Args:
        probs: success probability, in (0, 1].
        logits: log-odds of success; give exactly one of `probs` and `logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.Geometric(probs=0.5)
        >>> float(d.mean()), round(float(d.log_prob(1.0)), 4)
        (1.0, -1.3863)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer
    has_rsample = False

    def __init__(self, probs=None, logits=None, *, validate_args=False):
        check_probs_or_logits("Geometric", probs, logits)
        self.probs, self.logits = promote_probs_or_logits(probs, logits)
        self._validate(validate_args, probs=self.probs, logits=self.logits)
        if self.validate_args and self.probs is not None and is_concrete(self.probs):
            # unit_interval lets 0 through; a geometric needs a chance of success.
            if not np.all(np.asarray(self.probs) > 0):
                raise ValueError(
                    f"Geometric: parameter `probs` must be in (0, 1]; got "
                    f"{np.array2string(np.asarray(self.probs), threshold=6)}"
                )

    def _neg_log_failure(self):
        """``-log(1 - p)`` > 0, the rate of the exponential that a geometric discretises."""
        if self.logits is not None:
            return jax.nn.softplus(self.logits)
        return -jnp.log1p(-self.probs)

    def _sample(self, key, sample_shape):
        # floor(E / -log(1-p)) with E ~ Exponential(1) is Geometric(p).
        shape = sample_shape + self.batch_shape
        e = jax.random.exponential(key, shape, self.dtype)
        return jnp.floor(e / self._neg_log_failure())

    def _log_prob(self, value):
        log_p, log_q = self._log_success_failure()
        if self.logits is not None:
            return value * log_q + log_p
        return xlog1py(value, -self.probs) + log_p

    def cdf(self, value):
        k = jnp.floor(jnp.asarray(value))
        c = -jnp.expm1(-(jnp.maximum(k, 0.0) + 1.0) * self._neg_log_failure())
        return jnp.where(k < 0, 0.0, c).astype(self.dtype)

    def log_survival_function(self, value):
        k = jnp.floor(jnp.asarray(value))
        return jnp.where(k < 0, 0.0, -(k + 1.0) * self._neg_log_failure()).astype(self.dtype)

    def survival_function(self, value):
        return jnp.exp(self.log_survival_function(value))

    def mean(self):
        if self.logits is not None:
            odds_failure = jnp.exp(-self.logits)
        else:
            odds_failure = (1.0 - self.probs) / self.probs
        return jnp.broadcast_to(odds_failure, self.batch_shape)

    def variance(self):
        return self.mean() / jnp.broadcast_to(self.probs_parameter(), self.batch_shape)

    def mode(self):
        return jnp.zeros(self.batch_shape, self.dtype)

    def entropy(self):
        # H = [-(1-p) log(1-p) - p log p] / p = mean * (-log(1-p)) - log p.
        log_p, _ = self._log_success_failure()
        h = self.mean() * self._neg_log_failure() - log_p
        return jnp.broadcast_to(h, self.batch_shape)
