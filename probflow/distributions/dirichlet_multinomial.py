"""The DirichletMultinomial distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.multinomial import Multinomial, _MultinomialCounts

__all__ = ["DirichletMultinomial"]


class DirichletMultinomial(Distribution):
    """Multinomial(`total_count`, p) counts with p ~ Dirichlet(`concentration`).

    ``scipy.stats.dirichlet_multinomial(concentration, total_count)``.

    Args:
        concentration: Dirichlet parameters, > 0, shape ``batch_shape + (K,)``.
        total_count: number of trials, a non-negative integer (stored as a float).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.DirichletMultinomial([1.0, 3.0], 4)
        >>> d.mean().tolist()
        [1.0, 3.0]
    """

    arg_constraints = {
        "concentration": constraints.independent(constraints.positive, 1),
        "total_count": constraints.nonnegative_integer,
    }
    _param_event_ndims = {"concentration": 1, "total_count": 0}
    has_rsample = False

    def __init__(self, concentration, total_count=1, *, validate_args=False):
        self.concentration, self.total_count = promote_params(concentration, total_count)
        if self.concentration.ndim < 1:
            raise ValueError(
                "DirichletMultinomial: `concentration` must have at least one dimension "
                f"(the categories); got shape {self.concentration.shape}"
            )
        self._validate(
            validate_args, concentration=self.concentration, total_count=self.total_count
        )

    @property
    def event_shape(self) -> tuple:
        return self.concentration.shape[-1:]

    @property
    def support(self):
        return _MultinomialCounts(self.total_count)

    def _sample(self, key, sample_shape):
        key_p, key_counts = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        alpha = jnp.broadcast_to(self.concentration, shape + self.event_shape)
        probs = jax.random.dirichlet(key_p, alpha, shape, self.dtype)
        n = jnp.broadcast_to(self.total_count, shape)
        return Multinomial(n, probs=probs).sample(key_counts)

    def _log_prob(self, value):
        alpha, n = self.concentration, self.total_count
        total = jnp.sum(alpha, axis=-1)
        per_count = gammaln(value + alpha) - gammaln(alpha) - gammaln(value + 1.0)
        return gammaln(n + 1.0) + gammaln(total) - gammaln(n + total) + jnp.sum(per_count, axis=-1)

    def _probs(self):
        return self.concentration / jnp.sum(self.concentration, axis=-1, keepdims=True)

    def mean(self):
        return jnp.broadcast_to(self.total_count[..., None] * self._probs(), self._shape)

    def variance(self):
        n = self.total_count[..., None]
        total = jnp.sum(self.concentration, axis=-1, keepdims=True)
        p = self._probs()
        v = n * p * (1.0 - p) * (n + total) / (1.0 + total)
        return jnp.broadcast_to(v, self._shape)
