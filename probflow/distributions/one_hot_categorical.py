"""The OneHotCategorical distribution: a categorical draw encoded as a one-hot vector."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions.categorical import _CategoricalProbs, kl_categorical_probs
from probflow.distributions.kl import register_kl

__all__ = ["OneHotCategorical"]


class _OneHot(constraints.Constraint):
    """Vectors with one entry equal to 1 and all others 0."""

    event_dim = 1
    is_discrete = True
    description = "a one-hot vector (one entry 1, the rest 0)"

    def check(self, x):
        x = jnp.asarray(x)
        binary = jnp.all((x == 0) | (x == 1), axis=-1)
        return binary & (jnp.sum(x, axis=-1) == 1)

    def feasible_like(self, x):
        return jax.nn.one_hot(jnp.zeros(jnp.shape(x)[:-1], jnp.int32), jnp.shape(x)[-1])

    def __repr__(self):
        return "one_hot"


one_hot = _OneHot()


class OneHotCategorical(_CategoricalProbs):
    """Categorical distribution over one-hot vectors of length K.

    Args:
        probs: outcome probabilities, shape ``batch_shape + (K,)`` (normalised on use).
        logits: unnormalised log-probabilities; give exactly one of `probs` and `logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.OneHotCategorical(probs=[0.2, 0.3, 0.5])
        >>> d.event_shape, round(float(d.log_prob([0.0, 0.0, 1.0])), 4)
        ((3,), -0.6931)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = one_hot
    has_rsample = False

    def __init__(self, probs=None, logits=None, *, validate_args=False):
        self.probs, self.logits = self._init_probs("OneHotCategorical", probs, logits)
        self._validate(validate_args, probs=self.probs, logits=self.logits)

    @property
    def event_shape(self) -> tuple:
        return (self.num_categories,)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        index = jax.random.categorical(key, self.logits_parameter(), shape=shape)
        return jax.nn.one_hot(index, self.num_categories, dtype=self.dtype)

    def _log_prob(self, value):
        log_p = self.logits_parameter()
        # Zero entries must not pick up -inf from impossible outcomes.
        return jnp.sum(jnp.where(value > 0, value * log_p, 0.0), axis=-1)

    def mean(self):
        return jnp.broadcast_to(self.probs_parameter(), self._shape)

    def variance(self):
        p = self.probs_parameter()
        return jnp.broadcast_to(p * (1.0 - p), self._shape)

    def mode(self):
        index = jnp.argmax(self.logits_parameter(), axis=-1)
        return jnp.broadcast_to(jax.nn.one_hot(index, self.num_categories, dtype=self.dtype), self._shape)

    def entropy(self):
        return self._outcome_entropy()


register_kl(OneHotCategorical, OneHotCategorical)(kl_categorical_probs)
