"""The BetaBinomial distribution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["BetaBinomial"]


class BetaBinomial(Distribution):
    """Binomial(`total_count`, p) counts with p ~ Beta(`concentration1`, `concentration0`).

    Parameter order as NumPyro; ``scipy.stats.betabinom(total_count, concentration1,
    concentration0)``.

    Args:
        concentration1: Beta parameter alpha of the success probability, > 0.
        concentration0: Beta parameter beta, > 0.
        total_count: number of trials n, a non-negative integer (stored as a float).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.BetaBinomial(2.0, 2.0, 10)
        >>> float(d.mean())
        5.0
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
        "total_count": constraints.nonnegative_integer,
    }
    has_rsample = False

    def __init__(self, concentration1, concentration0, total_count=1, *, validate_args=False):
        self.concentration1, self.concentration0, self.total_count = promote_params(
            concentration1, concentration0, total_count
        )
        self._validate(
            validate_args,
            concentration1=self.concentration1,
            concentration0=self.concentration0,
            total_count=self.total_count,
        )

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    def _sample(self, key, sample_shape):
        key_p, key_count = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        a = jnp.broadcast_to(self.concentration1, shape)
        b = jnp.broadcast_to(self.concentration0, shape)
        p = jax.random.beta(key_p, a, b, shape, self.dtype)
        n = jnp.broadcast_to(self.total_count, shape)
        return jax.random.binomial(key_count, n, p, shape, dtype=self.dtype)

    def _log_prob(self, value):
        n, a, b = self.total_count, self.concentration1, self.concentration0
        # By gammaln terms: jax's betaln is only accurate to ~1e-8 relative.
        log_binom = gammaln(n + 1.0) - gammaln(value + 1.0) - gammaln(n - value + 1.0)
        log_beta_ratio = (
            gammaln(value + a) + gammaln(n - value + b) - gammaln(n + a + b)
            - gammaln(a) - gammaln(b) + gammaln(a + b)
        )
        return log_binom + log_beta_ratio

    def mean(self):
        n, a, b = self.total_count, self.concentration1, self.concentration0
        return jnp.broadcast_to(n * a / (a + b), self.batch_shape)

    def variance(self):
        n, a, b = self.total_count, self.concentration1, self.concentration0
        s = a + b
        v = n * a * b * (s + n) / (s * s * (s + 1.0))
        return jnp.broadcast_to(v, self.batch_shape)
