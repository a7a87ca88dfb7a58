"""The Deterministic distribution: a point mass at `loc`."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Deterministic"]


class Deterministic(Distribution):
    """A point mass at `loc`: every draw is `loc`, ``log_prob`` is 0 there, -inf elsewhere.

    Inside a `JointDistributionNamed`, an unobserved Deterministic node is not a
    parameter: `condition` computes it from its parents and reports it beside the
    sampled values (like a Stan transformed parameter).

    Args:
        loc: the location of the mass.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax
        >>> from probflow import distributions as dist
        >>> d = dist.Deterministic([1.0, 2.0])
        >>> d.sample(jax.random.key(0), (2,)).tolist()
        [[1.0, 2.0], [1.0, 2.0]]
        >>> d.log_prob([1.0, 0.0]).tolist()
        [0.0, -inf]
    """

    arg_constraints = {"loc": constraints.real}
    support = constraints.real

    def __init__(self, loc, *, validate_args=False):
        (self.loc,) = promote_params(loc)
        self._validate(validate_args, loc=self.loc)

    def _sample(self, key, sample_shape):
        del key
        return jnp.broadcast_to(self.loc, sample_shape + self.batch_shape)

    def _log_prob(self, value):
        return jnp.where(value == self.loc, 0.0, -jnp.inf).astype(self.dtype)

    def cdf(self, value):
        return (value >= self.loc).astype(self.dtype)

    def mean(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def mode(self):
        return self.mean()

    def variance(self):
        return jnp.zeros(self.batch_shape, self.dtype)

    def entropy(self):
        return jnp.zeros(self.batch_shape, self.dtype)
