"""The Multinomial distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from probflow.distributions import constraints
from probflow.distributions.categorical import _CategoricalProbs

__all__ = ["Multinomial"]


class _MultinomialCounts(constraints.Constraint):
    """Vectors of non-negative integers summing to `total_count`."""

    event_dim = 1
    is_discrete = True

    def __init__(self, total_count):
        self.total_count = total_count

    @property
    def description(self):
        return "a vector of non-negative integer counts summing to `total_count`"

    def check(self, x):
        x = jnp.asarray(x)
        counts = jnp.all((x >= 0) & (x == jnp.floor(x)), axis=-1)
        return counts & (jnp.sum(x, axis=-1) == self.total_count)

    def __repr__(self):
        return "multinomial_counts"


class Multinomial(_CategoricalProbs):
    """Counts of K outcomes in `total_count` independent categorical trials.

    Args:
        total_count: number of trials, a non-negative integer (stored as a float);
            its shape broadcasts with the batch shape.
        probs: outcome probabilities, shape ``batch_shape + (K,)`` (normalised on use).
        logits: unnormalised log-probabilities; give exactly one of `probs` and `logits`.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.Multinomial(4, probs=[0.5, 0.5])
        >>> d.event_shape, round(float(d.log_prob([2.0, 2.0])), 4)
        ((2,), -0.9808)
    """

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    _param_event_ndims = {"total_count": 0, "probs": 1, "logits": 1}
    has_rsample = False

    def __init__(self, total_count=1, probs=None, logits=None, *, validate_args=False):
        self.probs, self.logits, self.total_count = self._init_probs(
            "Multinomial", probs, logits, total_count
        )
        self._validate(
            validate_args, total_count=self.total_count, probs=self.probs, logits=self.logits
        )

    @property
    def event_shape(self) -> tuple:
        return (self.num_categories,)

    @property
    def support(self):
        return _MultinomialCounts(self.total_count)

    def _sample(self, key, sample_shape):
        # Sequential binomials: X_i ~ Binomial(n - sum_{j<i} X_j, p_i / sum_{j>=i} p_j).
        # Cost is O(K) binomial draws whatever the total count.
        shape = sample_shape + self.batch_shape
        p = jnp.broadcast_to(self.probs_parameter(), shape + (self.num_categories,))
        tail_mass = jnp.flip(jnp.cumsum(jnp.flip(p, -1), axis=-1), -1)
        conditional = jnp.clip(p / jnp.where(tail_mass > 0, tail_mass, 1.0), 0.0, 1.0)
        keys = jax.random.split(key, self.num_categories - 1)

        def draw(remaining, inputs):
            key_i, p_i = inputs
            x_i = jax.random.binomial(key_i, remaining, p_i, shape, dtype=self.dtype)
            return remaining - x_i, x_i

        remaining = jnp.broadcast_to(self.total_count, shape).astype(self.dtype)
        conditional_first = jnp.moveaxis(conditional[..., :-1], -1, 0)
        remaining, counts = jax.lax.scan(draw, remaining, (keys, conditional_first))
        return jnp.concatenate([jnp.moveaxis(counts, 0, -1), remaining[..., None]], axis=-1)

    def _log_prob(self, value):
        log_p = self.logits_parameter()
        n = self.total_count
        log_coef = gammaln(n + 1.0) - jnp.sum(gammaln(value + 1.0), axis=-1)
        # Zero counts must not pick up -inf from impossible outcomes.
        return log_coef + jnp.sum(jnp.where(value > 0, value * log_p, 0.0), axis=-1)

    def mean(self):
        return jnp.broadcast_to(self.total_count[..., None] * self.probs_parameter(), self._shape)

    def variance(self):
        p = self.probs_parameter()
        return jnp.broadcast_to(self.total_count[..., None] * p * (1.0 - p), self._shape)
