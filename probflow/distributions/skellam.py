"""The Skellam distribution: the difference of two independent Poisson counts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln, logsumexp

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["Skellam"]

# Terms of the Bessel series summed around its largest one. The terms' spread is at
# most sqrt(z / 2), so 2 * 256 terms cover > 10 spreads while z = 2 sqrt(mu1 mu2) < 1300.
_HALF_WINDOW = 256


def log_bessel_i_integer(order, z):
    """``log I_v(z)`` for integer order ``v >= 0`` and ``z > 0`` by its power series.

    ``I_v(z) = sum_m (z / 2)^(2m + v) / (m! (m + v)!)``: the terms are log-concave in m,
    so a window of `2 * _HALF_WINDOW` terms around the largest (at
    ``m* = (sqrt(v^2 + z^2) - v) / 2``) holds all but a negligible tail for z < ~1300.

    Args:
        order: non-negative integers v (as floats).
        z: positive reals, broadcastable against `order`.

    Returns:
        ``log I_v(z)``, shape ``broadcast(order, z)``.
    """
    order, z = jnp.broadcast_arrays(order, z)
    peak = jax.lax.stop_gradient(0.5 * (jnp.sqrt(order * order + z * z) - order))
    start = jnp.maximum(jnp.floor(peak) - _HALF_WINDOW, 0.0)
    m = start[..., None] + jnp.arange(2 * _HALF_WINDOW, dtype=z.dtype)
    v = order[..., None]
    log_terms = (2.0 * m + v) * jnp.log(0.5 * z[..., None]) - gammaln(m + 1.0) - gammaln(m + v + 1.0)
    return logsumexp(log_terms, axis=-1)


class Skellam(Distribution):
    """``X = N1 - N2`` with ``N1 ~ Poisson(mu1)``, ``N2 ~ Poisson(mu2)`` independent.

    ``P(X = k) = exp(-(mu1 + mu2)) (mu1 / mu2)^(k / 2) I_|k|(2 sqrt(mu1 mu2))``;
    ``scipy.stats.skellam(mu1, mu2)``. The Bessel function is summed as a windowed
    series, exact to rounding while ``mu1 * mu2 < ~4e5``.

    Args:
        mu1: mean of the added Poisson count, > 0.
        mu2: mean of the subtracted Poisson count, > 0.
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> round(float(dist.Skellam(1.0, 1.0).prob(0.0)), 4)
        0.3085
    """

    arg_constraints = {"mu1": constraints.positive, "mu2": constraints.positive}
    support = constraints.integer
    has_rsample = False

    def __init__(self, mu1=1.0, mu2=1.0, *, validate_args=False):
        self.mu1, self.mu2 = promote_params(mu1, mu2)
        self._validate(validate_args, mu1=self.mu1, mu2=self.mu2)

    def _sample(self, key, sample_shape):
        key1, key2 = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        n1 = jax.random.poisson(key1, self.mu1, shape)
        n2 = jax.random.poisson(key2, self.mu2, shape)
        return (n1 - n2).astype(self.dtype)

    def _log_prob(self, value):
        mu1, mu2 = self.mu1, self.mu2
        log_ratio = jnp.log(mu1) - jnp.log(mu2)
        z = 2.0 * jnp.sqrt(mu1 * mu2)
        return -(mu1 + mu2) + 0.5 * value * log_ratio + log_bessel_i_integer(jnp.abs(value), z)

    def mean(self):
        return jnp.broadcast_to(self.mu1 - self.mu2, self.batch_shape)

    def variance(self):
        return jnp.broadcast_to(self.mu1 + self.mu2, self.batch_shape)
