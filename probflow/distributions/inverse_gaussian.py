"""The inverse Gaussian (Wald) distribution: first passage time of a drifting Brownian motion."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.special import log_ndtr, ndtr

from probflow.distributions import constraints
from probflow.distributions._inverse_cdf import bisection_icdf
from probflow.distributions._util import promote_params
from probflow.distributions.distribution import Distribution
from probflow.distributions.gompertz import scaled_exp1
from probflow.distributions.kl import register_kl

__all__ = ["InverseGaussian"]

_LOG_2PI = math.log(2.0 * math.pi)


class InverseGaussian(Distribution):
    """Inverse Gaussian with mean `loc` and shape `concentration`.

    Density ``sqrt(lam / (2 pi x^3)) exp(-lam (x - mu)^2 / (2 mu^2 x))`` with
    ``mu = loc``, ``lam = concentration`` (scipy's ``invgauss(mu / lam, scale=lam)``).
    Draws use Michael, Schucany & Haas (1976), an accept/reflect step that is not
    differentiable in the parameters (``has_rsample = False``).

    Args:
        loc: the mean, > 0.
        concentration: shape, > 0 (the variance is ``loc^3 / concentration``).
        validate_args: check parameters (and values in `log_prob`) eagerly.

    Example:
        >>> from probflow import distributions as dist
        >>> float(dist.InverseGaussian(2.0, 4.0).variance())
        2.0
    """

    arg_constraints = {"loc": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = False

    def __init__(self, loc, concentration=1.0, *, validate_args=False):
        self.loc, self.concentration = promote_params(loc, concentration)
        self._validate(validate_args, loc=self.loc, concentration=self.concentration)

    def _sample(self, key, sample_shape):
        key_normal, key_uniform = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        mu, lam = lax.stop_gradient(self.loc), lax.stop_gradient(self.concentration)
        normal = jax.random.normal(key_normal, shape, self.dtype)
        y = normal * normal
        # The larger root of the quadratic; the smaller is mu^2 / larger (no cancellation).
        half_ratio = mu * y / (2.0 * lam)
        larger = mu * (1.0 + half_ratio + jnp.sqrt(half_ratio * (2.0 + half_ratio)))
        smaller = mu * mu / larger
        u = jax.random.uniform(key_uniform, shape, self.dtype)
        draws = jnp.where(u * (mu + smaller) <= mu, smaller, larger)
        return jnp.maximum(draws, jnp.finfo(self.dtype).tiny)

    def _log_prob(self, value):
        mu, lam = self.loc, self.concentration
        return 0.5 * (jnp.log(lam) - _LOG_2PI - 3.0 * jnp.log(value)) - lam * (value - mu) ** 2 / (
            2.0 * mu * mu * value
        )

    def _terms(self, value):
        # cdf = Phi(a) + exp(2 lam / mu) Phi(-b); the second term in log space.
        value = jnp.maximum(value, jnp.finfo(self.dtype).tiny)
        root = jnp.sqrt(self.concentration / value)
        a = root * (value / self.loc - 1.0)
        b = root * (value / self.loc + 1.0)
        reflected = jnp.exp(2.0 * self.concentration / self.loc + log_ndtr(-b))
        return a, reflected

    def cdf(self, value):
        a, reflected = self._terms(value)
        return jnp.where(value > 0, ndtr(a) + reflected, 0.0)

    def survival_function(self, value):
        a, reflected = self._terms(value)
        return jnp.where(value > 0, ndtr(-a) - reflected, 1.0)

    def icdf(self, p):
        # No closed form: bisection, with the implicit gradient (see _inverse_cdf.py).
        return bisection_icdf(self, p, "positive")

    def mean(self):
        return jnp.broadcast_to(self.loc, self.batch_shape)

    def variance(self):
        return jnp.broadcast_to(self.loc**3 / self.concentration, self.batch_shape)

    def entropy(self):
        # -E[log f] with E[(x - mu)^2 / x] = mu^2 / lam and
        # E[log x] = log mu - exp(2 lam / mu) E1(2 lam / mu).
        mean_log = jnp.log(self.loc) - scaled_exp1(2.0 * self.concentration / self.loc)
        out = 0.5 * (_LOG_2PI - jnp.log(self.concentration) + 1.0) + 1.5 * mean_log
        return jnp.broadcast_to(out, self.batch_shape)

    def mode(self):
        ratio = 1.5 * self.loc / self.concentration
        return jnp.broadcast_to(self.loc * (jnp.sqrt(1.0 + ratio * ratio) - ratio), self.batch_shape)


@register_kl(InverseGaussian, InverseGaussian)
def _kl_inverse_gaussian(p, q):
    # E_p[x] = mu_p and E_p[1/x] = 1/mu_p + 1/lam_p give the expected log ratio in closed form.
    mu_p, lam_p, mu_q, lam_q = p.loc, p.concentration, q.loc, q.concentration
    return 0.5 * (
        jnp.log(lam_p / lam_q) - 1.0 + lam_q / lam_p + lam_q * (mu_p - mu_q) ** 2 / (mu_p * mu_q * mu_q)
    )
