"""The Dirichlet distribution on the probability simplex."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import digamma, gammaln

from probflow.distributions import constraints
from probflow.distributions._util import promote_params, xlogy
from probflow.distributions.distribution import Distribution
from probflow.distributions.kl import register_kl

__all__ = ["Dirichlet"]


class Dirichlet(Distribution):
    """Dirichlet distribution over K-vectors on the simplex.

    Args:
        concentration: positive concentrations, shape ``batch_shape + (K,)``.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> d = dist.Dirichlet([1.0, 1.0, 1.0])
        >>> d.event_shape, round(float(d.log_prob([0.2, 0.3, 0.5])), 4)
        ((3,), 0.6931)
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    _param_event_ndims = {"concentration": 1}
    support = constraints.simplex

    def __init__(self, concentration, *, validate_args=False):
        (self.concentration,) = promote_params(concentration)
        if jnp.ndim(self.concentration) < 1:
            raise ValueError(
                "Dirichlet: `concentration` must have at least one dimension (the categories); "
                f"got shape {jnp.shape(self.concentration)}"
            )
        self._validate(validate_args, concentration=self.concentration)

    @property
    def event_shape(self) -> tuple:
        return jnp.shape(self.concentration)[-1:]

    def _sample(self, key, sample_shape):
        # Normalised Gamma draws, in log space so that tiny concentrations do not
        # underflow to 0/0; loggamma is reparameterised, so the draw is too.
        shape = sample_shape + self._shape
        log_gamma = jax.random.loggamma(key, jnp.broadcast_to(self.concentration, shape), shape)
        return jax.nn.softmax(log_gamma.astype(self.dtype), axis=-1)

    def _log_normaliser(self):
        a = self.concentration
        return jnp.sum(gammaln(a), axis=-1) - gammaln(jnp.sum(a, axis=-1))

    def _log_prob(self, value):
        return jnp.sum(xlogy(self.concentration - 1.0, value), axis=-1) - self._log_normaliser()

    def mean(self):
        a = self.concentration
        return jnp.broadcast_to(a / jnp.sum(a, axis=-1, keepdims=True), self._shape)

    def variance(self):
        a = self.concentration
        a0 = jnp.sum(a, axis=-1, keepdims=True)
        return jnp.broadcast_to(a * (a0 - a) / (a0**2 * (a0 + 1.0)), self._shape)

    def mode(self):
        """``(a - 1) / (a0 - K)`` where every concentration exceeds 1, NaN otherwise."""
        a = self.concentration
        m = (a - 1.0) / (jnp.sum(a, axis=-1, keepdims=True) - a.shape[-1])
        m = jnp.where(jnp.all(a > 1.0, axis=-1, keepdims=True), m, jnp.nan)
        return jnp.broadcast_to(m, self._shape)

    def entropy(self):
        a = self.concentration
        k = a.shape[-1]
        a0 = jnp.sum(a, axis=-1)
        h = (
            self._log_normaliser()
            + (a0 - k) * digamma(a0)
            - jnp.sum((a - 1.0) * digamma(a), axis=-1)
        )
        return jnp.broadcast_to(h, self.batch_shape)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    a, b = p.concentration, q.concentration
    a0 = jnp.sum(a, axis=-1, keepdims=True)
    expected_log_x = digamma(a) - digamma(a0)
    return q._log_normaliser() - p._log_normaliser() + jnp.sum((a - b) * expected_log_x, axis=-1)
