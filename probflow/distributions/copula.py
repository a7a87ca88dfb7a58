"""Gaussian copulas as a `TransformedDistribution`: a correlated normal pushed through marginals."""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax.scipy.special import ndtr, ndtri

from probflow.bijectors.bijector import Bijector
from probflow.distributions import constraints
from probflow.distributions.distribution import Distribution
from probflow.distributions.multivariate_normal import MultivariateNormal
from probflow.distributions.transformed import TransformedDistribution

__all__ = ["NormalToMarginals", "gaussian_copula"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class NormalToMarginals(Bijector):
    """Elementwise ``x_i = F_i^-1(Phi(z_i))``: standard normals to the marginals' scale.

    The log-det is ``log phi(z) - log f(x)``. The inverse reads the upper tail
    (``-Phi^-1(1 - F(x))``) above the median, so both tails keep their digits.

    Args:
        marginals: a univariate continuous distribution with `cdf`, `icdf` and
            `log_prob`; its batch shape is that of one vector of marginals.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> b = dist.NormalToMarginals(dist.Exponential(jnp.array([1.0, 2.0])))
        >>> [round(v, 4) for v in b.forward(jnp.zeros(2)).tolist()]  # the medians
        [0.6931, 0.3466]
    """

    event_ndims = 0

    def __init__(self, marginals):
        if not isinstance(marginals, Distribution) or marginals.event_shape != ():
            raise TypeError(
                "NormalToMarginals: `marginals` must be a univariate Distribution; got "
                f"{type(marginals).__name__}"
            )
        self.marginals = marginals

    def forward_and_log_det(self, z):
        z = jnp.asarray(z)
        x = self.marginals.icdf(ndtr(z))
        return x, -0.5 * z * z - _HALF_LOG_2PI - self.marginals.log_prob(x)

    def inverse_and_log_det(self, x):
        x = jnp.asarray(x)
        upper = self.marginals.cdf(x) > 0.5
        z = jnp.where(
            upper,
            -ndtri(jnp.exp(self.marginals.log_survival_function(x))),
            ndtri(jnp.exp(self.marginals.log_cdf(x))),
        )
        return z, self.marginals.log_prob(x) + 0.5 * z * z + _HALF_LOG_2PI


def gaussian_copula(marginals, correlation_cholesky):
    """The Gaussian copula with correlation ``L L^T`` joining univariate `marginals`.

    ``z ~ N(0, L L^T)`` and ``x_i = F_i^-1(Phi(z_i))``: each x_i has marginal F_i and
    the dependence is that of the normal. The density is
    ``N(z; 0, R) / prod_i phi(z_i) * prod_i f_i(x_i)``.

    Args:
        marginals: univariate continuous distribution with batch shape ``(..., d)``
            and `cdf`/`icdf`/`log_prob` (e.g. ``Gamma(jnp.array([...]), ...)``).
        correlation_cholesky: the Cholesky factor of a d x d correlation matrix (e.g. a
            draw of `LKJCholesky`).

    Returns:
        A `TransformedDistribution` with event shape ``(d,)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow import distributions as dist
        >>> L = jnp.linalg.cholesky(jnp.array([[1.0, 0.8], [0.8, 1.0]]))
        >>> d = dist.gaussian_copula(dist.Exponential(jnp.array([1.0, 3.0])), L)
        >>> d.event_shape, d.sample(jax.random.key(0), (5,)).shape
        ((2,), (5, 2))
    """
    correlation_cholesky = jnp.asarray(correlation_cholesky, marginals.dtype)
    dimension = correlation_cholesky.shape[-1]
    if marginals.batch_shape[-1:] != (dimension,):
        raise ValueError(
            "gaussian_copula: `marginals` must have batch shape (..., d) with d = "
            f"{dimension} (the size of `correlation_cholesky`); got {marginals.batch_shape}"
        )
    loc = jnp.zeros(dimension, marginals.dtype)
    normal = MultivariateNormal(loc, scale_tril=correlation_cholesky)
    # Support: each coordinate in its marginal's support, one event of d of them.
    support = constraints.independent(marginals.support, 1)
    return TransformedDistribution(normal, NormalToMarginals(marginals), support=support)
