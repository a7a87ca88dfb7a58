"""The log-logistic (Fisk) distribution: ``exp`` of a Logistic variable."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from probflow.distributions import constraints
from probflow.distributions._loc_scale import LocationScale

__all__ = ["LogLogistic"]


class LogLogistic(LocationScale):
    """Log-logistic distribution: ``log(X) ~ Logistic(loc, scale)``.

    ``P(X <= x) = 1 / (1 + (x / exp(loc))^(-1 / scale))``: scipy's
    ``fisk(c=1/scale, scale=exp(loc))``. The mean is infinite for ``scale >= 1``, the
    variance for ``scale >= 1/2``.

    Args:
        loc: location of ``log(X)`` (``exp(loc)`` is the median).
        scale: scale of ``log(X)``, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.LogLogistic(0.0, 0.5).cdf(1.0))
        0.5
    """

    support = constraints.positive

    def _sample(self, key, sample_shape):
        return self._sample_by_icdf(key, sample_shape)

    def _z(self, value):
        return (jnp.log(value) - self.loc) / self.scale

    def _log_prob(self, value):
        z = self._z(value)
        # The Logistic log density of log(x), minus log(x) for the change of variable.
        return -z - 2.0 * jax.nn.softplus(-z) - jnp.log(self.scale) - jnp.log(value)

    def log_cdf(self, value):
        return -jax.nn.softplus(-self._z(jnp.maximum(value, 0.0)))

    def cdf(self, value):
        return jax.nn.sigmoid(self._z(jnp.maximum(value, 0.0)))

    def log_survival_function(self, value):
        return -jax.nn.softplus(self._z(jnp.maximum(value, 0.0)))

    def survival_function(self, value):
        return jax.nn.sigmoid(-self._z(jnp.maximum(value, 0.0)))

    def icdf(self, p):
        return jnp.exp(self.loc + self.scale * (jnp.log(p) - jnp.log1p(-p)))

    def _moment(self, k):
        # E[X^k] = exp(k loc) B(1 - k s, 1 + k s) = exp(k loc) pi k s / sin(pi k s), k s < 1.
        ks = k * self.scale
        finite = ks < 1.0
        safe = jnp.where(finite, ks, 0.5)
        moment = jnp.exp(k * self.loc) * (math.pi * safe) / jnp.sin(math.pi * safe)
        return finite, moment

    def mean(self):
        finite, moment = self._moment(1.0)
        return jnp.broadcast_to(jnp.where(finite, moment, jnp.inf), self.batch_shape)

    def variance(self):
        finite, second = self._moment(2.0)
        _, first = self._moment(1.0)
        return jnp.broadcast_to(jnp.where(finite, second - first**2, jnp.inf), self.batch_shape)

    def mode(self):
        s = self.scale
        ratio = (1.0 - jnp.minimum(s, 1.0)) / (1.0 + s)
        return jnp.broadcast_to(jnp.exp(self.loc) * ratio**s, self.batch_shape)

    def entropy(self):
        # The Logistic entropy (2 + log scale) plus E[log X] = loc.
        return jnp.broadcast_to(2.0 + jnp.log(self.scale) + self.loc, self.batch_shape)
