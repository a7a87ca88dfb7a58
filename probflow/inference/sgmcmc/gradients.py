"""Minibatch estimates of the log posterior for stochastic-gradient MCMC.

With N data points and a minibatch of size b, an unbiased estimate of the log posterior
is ``log p(theta) + (N / b) * sum_{i in batch} log p(x_i | theta)``.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

__all__ = ["minibatch_logdensity"]


def minibatch_logdensity(log_prior_fn: Callable, log_likelihood_fn: Callable, data_size: int):
    """Builds ``fn(position, batch)``: the scaled minibatch log-posterior estimate.

    Args:
        log_prior_fn: ``fn(position) -> scalar`` log prior.
        log_likelihood_fn: ``fn(position, batch) -> array [b]`` pointwise log likelihood of
            the examples in `batch` (any pytree whose leaves have a leading dim b).
        data_size: N, the number of examples in the full data set.

    Returns:
        ``fn(position, batch) -> scalar``, unbiased for the full-data log posterior.

    Example:
        >>> import jax.numpy as jnp
        >>> fn = minibatch_logdensity(lambda t: -t**2 / 2,
        ...                           lambda t, x: -(x - t) ** 2 / 2, data_size=100)
        >>> float(fn(0.0, jnp.ones(10)))  # 0 + (100 / 10) * 10 * (-1 / 2)
        -50.0
    """
    if int(data_size) <= 0:
        raise ValueError(f"`data_size` must be a positive int; got {data_size}")

    def logdensity(position, batch):
        loglik = log_likelihood_fn(position, batch)
        batch_size = jax.tree_util.tree_leaves(batch)[0].shape[0]
        return log_prior_fn(position) + (data_size / batch_size) * jnp.sum(loglik)

    return logdensity
