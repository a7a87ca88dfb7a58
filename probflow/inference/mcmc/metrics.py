"""Euclidean metrics: how momentum is drawn and turned into velocity.

A `Metric` holds the inverse mass matrix (the adapted estimate of the posterior
covariance: a vector for a diagonal metric, a matrix for a dense one) and a factor of
the mass matrix used to draw momenta, computed once when the metric is built (at the
end of an adaptation window), never inside the leapfrog loop.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular

from probflow.inference.mcmc._one_at_a_time import one_at_a_time

__all__ = ["Metric", "make_metric", "dense_diagonal_metric", "sample_momentum",
           "momentum_from_noise", "velocity", "kinetic_energy"]


class Metric(NamedTuple):
    """A Euclidean metric.

    Attributes:
        inverse_mass_matrix: shape ``(d,)`` (diagonal) or ``(d, d)`` (dense).
        mass_sqrt: ``(d,)`` elementwise ``1 / sqrt(inverse_mass_matrix)`` (diagonal) or
            a ``(d, d)`` matrix ``U`` with ``U @ U.T`` equal to the mass matrix (dense;
            upper-triangular from `make_metric`), so that ``U @ normal`` is a momentum
            draw.

    Example:
        >>> import jax.numpy as jnp
        >>> make_metric(jnp.array([4.0, 1.0])).mass_sqrt.tolist()
        [0.5, 1.0]
    """

    inverse_mass_matrix: jax.Array
    mass_sqrt: jax.Array


def make_metric(inverse_mass_matrix) -> Metric:
    """Builds a `Metric` from an inverse mass matrix (vector: diagonal; matrix: dense).

    Args:
        inverse_mass_matrix: array of shape ``(d,)`` or ``(d, d)``.

    Returns:
        The `Metric`.

    Example:
        >>> import jax.numpy as jnp
        >>> m = make_metric(jnp.array([4.0, 1.0]))
        >>> m.mass_sqrt.tolist()
        [0.5, 1.0]
    """
    inverse_mass_matrix = jnp.asarray(inverse_mass_matrix)
    if inverse_mass_matrix.ndim == 1:
        return Metric(inverse_mass_matrix, jax.lax.rsqrt(inverse_mass_matrix))
    if inverse_mass_matrix.ndim != 2 or inverse_mass_matrix.shape[0] != inverse_mass_matrix.shape[1]:
        raise ValueError(
            "`inverse_mass_matrix` must have shape (d,) or (d, d); "
            f"got {inverse_mass_matrix.shape}"
        )
    return Metric(inverse_mass_matrix, _dense_mass_sqrt(inverse_mass_matrix))


def dense_diagonal_metric(diagonal) -> Metric:
    """A dense `Metric` whose inverse mass matrix is ``diag(diagonal)``.

    Where a dense metric starts from (or falls back to) a diagonal, its factor is known
    without a Cholesky factorisation, one less to compile and run.

    Args:
        diagonal: ``(d,)`` positive inverse-mass diagonal.

    Returns:
        The dense `Metric`.

    Example:
        >>> import jax.numpy as jnp
        >>> dense_diagonal_metric(jnp.array([4.0, 1.0])).mass_sqrt.tolist()
        [[0.5, 0.0], [0.0, 1.0]]
    """
    diagonal = jnp.asarray(diagonal)
    return Metric(jnp.diag(diagonal), jnp.diag(jax.lax.rsqrt(diagonal)))


@one_at_a_time  # a batched Cholesky factorisation can hang on the CPU (`_one_at_a_time`)
def _dense_mass_sqrt(inverse_mass_matrix):
    # inverse mass = L L^T  =>  mass = L^-T L^-1, so U = L^-T draws N(0, mass).
    lower = jnp.linalg.cholesky(inverse_mass_matrix)
    identity = jnp.eye(lower.shape[0], dtype=lower.dtype)
    return solve_triangular(lower, identity, lower=True).T


def sample_momentum(key, metric: Metric, position):
    """Draws a momentum ``p ~ N(0, M)`` shaped like the flat `position`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> p = sample_momentum(jax.random.key(0), make_metric(jnp.ones(3)), jnp.zeros(3))
        >>> p.shape
        (3,)
    """
    return momentum_from_noise(metric, jax.random.normal(key, position.shape, position.dtype))


def momentum_from_noise(metric: Metric, noise):
    """The momentum ``p ~ N(0, M)`` that a standard normal `noise` vector maps to.

    Drawing the noise apart from the metric lets a sampler draw many transitions' noise
    in one vectorised call before its loop, while the metric still changes in warmup.

    Example:
        >>> import jax.numpy as jnp
        >>> momentum_from_noise(make_metric(jnp.array([4.0, 1.0])), jnp.ones(2)).tolist()
        [0.5, 1.0]
    """
    if metric.mass_sqrt.ndim == 1:
        return noise * metric.mass_sqrt
    return metric.mass_sqrt @ noise


def velocity(metric: Metric, momentum):
    """``M^-1 p``: the time derivative of the position (works on ``(..., d)`` batches).

    Example:
        >>> import jax.numpy as jnp
        >>> velocity(make_metric(jnp.array([2.0, 1.0])), jnp.ones(2)).tolist()
        [2.0, 1.0]
    """
    if metric.inverse_mass_matrix.ndim == 1:
        return momentum * metric.inverse_mass_matrix
    return momentum @ metric.inverse_mass_matrix


def kinetic_energy(metric: Metric, momentum):
    """``p^T M^-1 p / 2``.

    Example:
        >>> import jax.numpy as jnp
        >>> float(kinetic_energy(make_metric(jnp.ones(2)), jnp.array([1.0, 1.0])))
        1.0
    """
    return 0.5 * jnp.dot(momentum, velocity(metric, momentum))
