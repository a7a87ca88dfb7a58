"""The Bernoulli distribution, and the probs/logits plumbing shared by binary-trial families.

`Binomial`, `NegativeBinomial` and `Geometric` reuse `_BinaryProbs`: one success
probability given either as `probs` or as `logits`, with the log-probabilities of
success and failure computed stably from whichever was given (``-softplus(-logits)``
and ``-softplus(logits)`` for logits, so ``logits=+-30`` keeps full relative accuracy).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params, xlog1py, xlogy
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Bernoulli"]


def check_probs_or_logits(owner: str, probs, logits) -> None:
    """Raises ValueError unless exactly one of `probs` and `logits` is given."""
    if (probs is None) == (logits is None):
        given = "both" if probs is not None else "neither"
        raise ValueError(f"{owner}: pass exactly one of `probs` or `logits`; got {given}")


def promote_probs_or_logits(probs, logits, *others):
    """Promotes `others` and whichever of `probs`/`logits` is given to one float dtype.

    Returns:
        ``(probs, logits, *others)`` with the missing one left as None.
    """
    given = probs if probs is not None else logits
    promoted = promote_params(given, *others)
    head = (promoted[0], None) if probs is not None else (None, promoted[0])
    return head + tuple(promoted[1:])


class _BinaryProbs(Distribution):
    """Abstract base: a success probability stored as `probs` or `logits` (one is None)."""

    def probs_parameter(self):
        """The success probability, whichever parametrisation was given."""
        return self.probs if self.probs is not None else jax.nn.sigmoid(self.logits)

    def logits_parameter(self):
        """The log-odds of success, whichever parametrisation was given."""
        if self.logits is not None:
            return self.logits
        return jnp.log(self.probs) - jnp.log1p(-self.probs)

    def _log_success_failure(self):
        """``(log p, log(1 - p))``, accurate to full relative precision at both ends."""
        if self.logits is not None:
            return -jax.nn.softplus(-self.logits), -jax.nn.softplus(self.logits)
        return jnp.log(self.probs), jnp.log1p(-self.probs)

    def _failure_probs(self):
        """``1 - p``, computed as ``sigmoid(-logits)`` when logits are given."""
        if self.logits is not None:
            return jax.nn.sigmoid(-self.logits)
        return 1.0 - self.probs

    def _odds(self):
        """``p / (1 - p)``."""
        if self.logits is not None:
            return jnp.exp(self.logits)
        return self.probs / (1.0 - self.probs)


class Bernoulli(_BinaryProbs):
    """Bernoulli distribution on {0, 1} with success probability `probs` (or `logits`).

    Args:
        probs: probability of 1, in [0, 1].
        logits: log-odds of 1; give exactly one of `probs` and `logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Bernoulli(probs=0.25).log_prob(1.0)), 4)
        -1.3863
        >>> float(dist.Bernoulli(logits=0.0).mean())
        0.5
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_rsample = False

    def __init__(self, probs=None, logits=None, *, validate_args=False):
        check_probs_or_logits("Bernoulli", probs, logits)
        self.probs, self.logits = promote_probs_or_logits(probs, logits)
        self._validate(validate_args, probs=self.probs, logits=self.logits)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        return jax.random.bernoulli(key, self.probs_parameter(), shape).astype(self.dtype)

    def _log_prob(self, value):
        if self.logits is not None:
            log_p, log_q = self._log_success_failure()
            # Mixing the two branches linearly (not `where`) keeps gradients finite.
            return value * log_p + (1.0 - value) * log_q
        return xlogy(value, self.probs) + xlog1py(1.0 - value, -self.probs)

    def cdf(self, value):
        value = jnp.asarray(value)
        q = self._failure_probs()
        return jnp.where(value < 0, 0.0, jnp.where(value < 1, q, 1.0)).astype(self.dtype)

    def mean(self):
        return jnp.broadcast_to(self.probs_parameter(), self.batch_shape)

    def variance(self):
        return jnp.broadcast_to(self.probs_parameter() * self._failure_probs(), self.batch_shape)

    def mode(self):
        p = self.probs_parameter()
        return jnp.broadcast_to((p > 0.5).astype(self.dtype), self.batch_shape)

    def entropy(self):
        if self.logits is not None:
            p = jax.nn.sigmoid(self.logits)
            q = jax.nn.sigmoid(-self.logits)
            h = p * jax.nn.softplus(-self.logits) + q * jax.nn.softplus(self.logits)
        else:
            h = -xlogy(self.probs, self.probs) - xlog1py(1.0 - self.probs, -self.probs)
        return jnp.broadcast_to(h, self.batch_shape)


def _binary_outcome_log_probs(d):
    log_p, log_q = d._log_success_failure()
    return jnp.stack(jnp.broadcast_arrays(log_q, log_p), axis=-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    log_p = _binary_outcome_log_probs(p)
    log_q = _binary_outcome_log_probs(q)
    probs = jnp.exp(log_p)
    # 0 * log(0 / q) = 0: drop outcomes that p never produces.
    terms = jnp.where(probs > 0, probs * (log_p - log_q), 0.0)
    return jnp.sum(terms, axis=-1)
