"""The von Mises distribution on the circle, with a vectorised Best-Fisher sampler."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.special import i0e, i1e

from probflow.distributions import constraints
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution

__all__ = ["VonMises"]

_LOG_2PI = math.log(2 * math.pi)


def _sample_centered(key, concentration, shape, dtype):
    """Draws von Mises(0, concentration) angles by rejection (Best & Fisher 1979).

    Every quantity is written in terms of ``s - 1`` and ``1 - w`` so that huge
    concentrations (s -> 1, w -> 1) keep their digits; the loop redraws only the
    entries not yet accepted, all in one `lax.while_loop`.
    """
    kappa = jnp.broadcast_to(concentration, shape)
    root = jnp.sqrt(1.0 + 4.0 * kappa * kappa)
    tau = 1.0 + root
    sqrt_2tau = jnp.sqrt(2.0 * tau)
    # rho = (tau - sqrt(2 tau)) / (2 kappa), rearranged so no difference cancels.
    rho = 2.0 * kappa / (tau + sqrt_2tau)
    one_minus_rho = (1.0 + 1.0 / (root + 2.0 * kappa) + sqrt_2tau) / (tau + sqrt_2tau)
    s_minus_1 = one_minus_rho**2 / (2.0 * rho)
    s = 1.0 + s_minus_1

    def propose(key):
        key_angle, key_accept, key_sign = jax.random.split(key, 3)
        u1 = jax.random.uniform(key_angle, shape, dtype)
        u2 = jax.random.uniform(key_accept, shape, dtype, minval=jnp.finfo(dtype).tiny)
        z = jnp.cos(math.pi * u1)
        one_minus_z = 2.0 * jnp.sin(0.5 * math.pi * u1) ** 2
        one_minus_w = s_minus_1 * one_minus_z / (s + z)
        c = kappa * (s_minus_1 + one_minus_w)
        accept = (c * (2.0 - c) > u2) | (jnp.log(c / u2) + 1.0 - c >= 0.0)
        angle = 2.0 * jnp.arcsin(jnp.sqrt(jnp.clip(0.5 * one_minus_w, 0.0, 1.0)))
        sign = jnp.where(jax.random.bernoulli(key_sign, 0.5, shape), 1.0, -1.0).astype(dtype)
        return sign * angle, accept

    def body(state):
        key, angle, done = state
        key, key_step = jax.random.split(key)
        candidate, accept = propose(key_step)
        return key, jnp.where(done, angle, candidate), done | accept

    def cond(state):
        return ~jnp.all(state[2])

    init = (key, jnp.zeros(shape, dtype), jnp.zeros(shape, bool))
    return lax.while_loop(cond, body, init)[1]


class VonMises(Distribution):
    """Von Mises distribution of an angle in ``[-pi, pi]``: density ∝ ``exp(k cos(x - loc))``.

    Samples are differentiable with respect to `loc` only: the rejection sampler has
    no reparameterisation in `concentration` (``has_rsample`` is False). `mean` is the
    circular mean `loc` and `variance` the circular variance ``1 - I1(k) / I0(k)``.

    Args:
        loc: mean direction, in ``[-pi, pi]``.
        concentration: concentration ``k`` > 0 (``1 / k`` is roughly the variance).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> import jax
        >>> from probflow import distributions as dist
        >>> dist.VonMises(0.0, 2.0).sample(jax.random.key(0), (3,)).shape
        (3,)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.interval(-math.pi, math.pi)
    has_rsample = False

    def __init__(self, loc=0.0, concentration=1.0, *, validate_args=False):
        self.loc, self.concentration = promote_params(loc, concentration)
        self._validate(validate_args, loc=self.loc, concentration=self.concentration)

    def _sample(self, key, sample_shape):
        shape = sample_shape + self.batch_shape
        concentration = lax.stop_gradient(self.concentration)
        angle = _sample_centered(key, concentration, shape, self.dtype)
        # Wrap back onto [-pi, pi).
        return jnp.remainder(self.loc + angle + math.pi, 2.0 * math.pi) - math.pi

    def _log_prob(self, value):
        kappa = self.concentration
        # log I0(k) = log(i0e(k)) + k: the scaled Bessel function never overflows.
        return kappa * (jnp.cos(value - self.loc) - 1.0) - _LOG_2PI - jnp.log(i0e(kappa))

    def _mean_resultant_length(self):
        return i1e(self.concentration) / i0e(self.concentration)

    def mean(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def mode(self):
        return self.mean()

    def variance(self):
        return jnp.broadcast_to(1.0 - self._mean_resultant_length(), self.batch_shape)

    def entropy(self):
        kappa = self.concentration
        out = kappa * (1.0 - self._mean_resultant_length()) + _LOG_2PI + jnp.log(i0e(kappa))
        return jnp.broadcast_to(out, self.batch_shape)
