"""The Categorical distribution, and the probs/logits plumbing shared by K-outcome families.

`OneHotCategorical` and `Multinomial` reuse `_CategoricalProbs`: a probability vector
over K outcomes in the last axis, given as `probs` (normalised on use) or unnormalised
`logits` (normalised with `log_softmax`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import safe_log
from probflow.distributions.bernoulli import check_probs_or_logits, promote_probs_or_logits
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Categorical"]


def log_softmax(logits):
    """``log_softmax`` over the last axis, accurate for the dominant entry too.

    ``jax.nn.log_softmax`` computes ``0 - log(1 + tiny)`` for the largest entry and
    loses all relative accuracy when the others are ~1e-13 of it (logits of +-30);
    ``log1p`` over the non-maximal entries keeps it.
    """
    index = jnp.argmax(logits, axis=-1)
    # Shift by the entry the formula treats as the maximum (not `jnp.max`, whose
    # gradient splits between tied maxima and made the gradient wrong at ties).
    shifted = logits - jnp.take_along_axis(logits, index[..., None], axis=-1)
    is_max = jax.nn.one_hot(index, logits.shape[-1], dtype=bool)
    others = jnp.sum(jnp.where(is_max, 0.0, jnp.exp(shifted)), axis=-1, keepdims=True)
    return shifted - jnp.log1p(others)


class _CategoricalProbs(Distribution):
    """Abstract base: outcome probabilities in the last axis of `probs` or `logits`."""

    _param_event_ndims = {"probs": 1, "logits": 1}

    def _init_probs(self, owner, probs, logits, *others):
        check_probs_or_logits(owner, probs, logits)
        promoted = promote_probs_or_logits(probs, logits, *others)
        given = promoted[0] if promoted[0] is not None else promoted[1]
        if jnp.ndim(given) < 1:
            name = "probs" if probs is not None else "logits"
            raise ValueError(
                f"{owner}: `{name}` must have at least one dimension (the categories); "
                f"got shape {jnp.shape(given)}"
            )
        return promoted

    @property
    def num_categories(self) -> int:
        """K, the number of outcomes (size of the last axis of the parameter)."""
        given = self.probs if self.probs is not None else self.logits
        return jnp.shape(given)[-1]

    def probs_parameter(self):
        """Normalised outcome probabilities, shape ``batch_shape + (K,)``."""
        if self.probs is not None:
            return self.probs / jnp.sum(self.probs, axis=-1, keepdims=True)
        return jax.nn.softmax(self.logits, axis=-1)

    def logits_parameter(self):
        """Normalised log-probabilities (``log_softmax``), shape ``batch_shape + (K,)``."""
        if self.logits is not None:
            return log_softmax(self.logits)
        # log of each entry, then of the total: an outcome of probability 0 gets -inf
        # without a NaN gradient for the others (`safe_log`).
        return safe_log(self.probs) - jnp.log(jnp.sum(self.probs, axis=-1, keepdims=True))

    def _outcome_entropy(self):
        log_p = self.logits_parameter()
        p = jnp.exp(log_p)
        h = -jnp.sum(jnp.where(p > 0, p * log_p, 0.0), axis=-1)
        return jnp.broadcast_to(h, self.batch_shape)


class Categorical(_CategoricalProbs):
    """Distribution over the integers {0, ..., K-1} with probabilities in the last axis.

    Args:
        probs: outcome probabilities, shape ``batch_shape + (K,)`` (normalised on use).
        logits: unnormalised log-probabilities; give exactly one of `probs` and `logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.Categorical(probs=[0.2, 0.3, 0.5])
        >>> d.batch_shape, round(float(d.log_prob(2)), 4)
        ((), -0.6931)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_rsample = False

    def __init__(self, probs=None, logits=None, *, validate_args=False):
        self.probs, self.logits = self._init_probs("Categorical", probs, logits)
        self._validate(validate_args, probs=self.probs, logits=self.logits)

    @property
    def support(self):
        return constraints.integer_interval(0, self.num_categories - 1)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        return jax.random.categorical(key, self.logits_parameter(), shape=shape).astype(self.dtype)

    def _log_prob(self, value):
        log_p = self.logits_parameter()
        shape = jnp.broadcast_shapes(jnp.shape(value), self.batch_shape)
        index = jnp.clip(jnp.broadcast_to(value, shape), 0, self.num_categories - 1)
        log_p = jnp.broadcast_to(log_p, shape + log_p.shape[-1:])
        picked = jnp.take_along_axis(log_p, index.astype(jnp.int32)[..., None], axis=-1)
        return picked[..., 0]

    def cdf(self, value):
        value = jnp.asarray(value)
        cum = jnp.cumsum(self.probs_parameter(), axis=-1)
        shape = jnp.broadcast_shapes(jnp.shape(value), self.batch_shape)
        k = jnp.floor(jnp.broadcast_to(value, shape))
        index = jnp.clip(k, 0, self.num_categories - 1).astype(jnp.int32)
        cum = jnp.broadcast_to(cum, shape + cum.shape[-1:])
        c = jnp.take_along_axis(cum, index[..., None], axis=-1)[..., 0]
        return jnp.where(k < 0, 0.0, jnp.where(k >= self.num_categories - 1, 1.0, c))

    def mode(self):
        return jnp.argmax(self.logits_parameter(), axis=-1).astype(self.dtype)

    def entropy(self):
        return self._outcome_entropy()


def kl_categorical_probs(p, q):
    """KL between the outcome probabilities of two `_CategoricalProbs` (last axis)."""
    log_p = p.logits_parameter()
    log_q = q.logits_parameter()
    probs = jnp.exp(log_p)
    return jnp.sum(jnp.where(probs > 0, probs * (log_p - log_q), 0.0), axis=-1)


register_kl(Categorical, Categorical)(kl_categorical_probs)
