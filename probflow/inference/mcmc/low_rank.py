"""nutpie's low-rank modified mass matrix, estimated from recent draws and gradients.

Seyboldt et al. (nutpie, ``low_rank_modified_mass_matrix``): with ``D`` the diagonal
estimate ``sqrt(Var[x] / Var[grad])``, the draws scaled by ``D^-1/2`` and the gradients
scaled by ``D^1/2`` both have identity covariance when ``D`` is right. Where the
posterior is correlated they do not: the metric then corrects ``D`` along the few
directions where the scaled draws' covariance ``A`` and the inverse of the scaled
gradients' covariance ``B`` agree on a variance far from 1. Their SPD geometric mean
``A # B^-1`` (the matrix ``S`` with ``S B S = A``, exact on a Gaussian, where
``B = A^-1``) is computed inside the span of the draws and gradients, where it can
differ from the identity; its eigenpairs ``(u_j, lambda_j)`` with ``lambda_j`` outside
``[1/cutoff, cutoff]`` give the inverse mass matrix
``D^1/2 (I + U (Lambda - I) U^T) D^1/2``.

Here it is materialised as a dense ``(d, d)`` matrix for the dense `Metric`, with the
mass matrix's factor in closed form: the win is in effective samples per gradient, not
in the cost of a leapfrog step. The draws and gradients are a static-size ring buffer
(`History`), so every shape is static under `vmap`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from probflow.inference.mcmc._one_at_a_time import one_at_a_time
from probflow.inference.mcmc.metrics import Metric

__all__ = ["History", "history_init", "history_push", "low_rank_inverse_mass",
           "low_rank_metric", "low_rank_min_draws"]

# Draws and gradients kept per chain: the foreground estimate of the nutpie-style schedule
# holds ~165 draws at most in a 300-iteration warmup; 128 recent ones are plenty for a
# rank-limited estimate and bound the memory at 2 x 128 x d numbers per chain.
HISTORY_LENGTH = 128
# The eigenvalue cutoff: directions whose variance differs from D's by less than this
# factor keep D's. nuts-rs and nutpie default to 100, which on posteriordb's sblrc,
# mesquite, kidiq and earnings kept almost nothing (the diagonal's ESS per gradient);
# 2 gave 17.6x it (benchmarks/README.md).
EIGVAL_CUTOFF = 2.0
# Draws per dimension before the estimate corrects the diagonal at all (below).
MIN_DRAWS_PER_DIM = 3
# Added to the scaled covariances (whose scale is 1 where D is right) so that directions
# with too few draws or gradients stay at 1 (nutpie's gamma of 1e-5 x ~100 draws).
REGULARISER = 1e-3


class History(NamedTuple):
    """The last `HISTORY_LENGTH` draws and gradients of one chain (a ring buffer).

    Attributes:
        draws, grads: ``(N, d)``; slot ``pushed % N`` is overwritten next.
        pushed: how many have been pushed (int32 scalar).
    """

    draws: jax.Array
    grads: jax.Array
    pushed: jax.Array


def history_init(dim: int, dtype, length: int = HISTORY_LENGTH) -> History:
    """An empty `History` of `length` slots.

    Example:
        >>> history_init(3, jnp.float32, 5).draws.shape
        (5, 3)
    """
    zeros = jnp.zeros((length, dim), dtype)
    return History(zeros, zeros, jnp.zeros((), jnp.int32))


def history_push(history: History, draw, grad) -> History:
    """Adds one draw and its gradient, overwriting the oldest when full.

    Example:
        >>> h = history_init(1, jnp.float32, 2)
        >>> for v in (1.0, 2.0, 3.0):
        ...     h = history_push(h, jnp.array([v]), jnp.array([-v]))
        >>> h.draws[:, 0].tolist(), int(h.pushed)
        ([3.0, 2.0], 3)
    """
    slot = history.pushed % history.draws.shape[0]
    return History(history.draws.at[slot].set(draw), history.grads.at[slot].set(grad),
                   history.pushed + 1)


def low_rank_min_draws(length: int, dim: int) -> int:
    """The draws an estimate needs before it corrects the diagonal: ``3 d``, at most `length`.

    Example:
        >>> low_rank_min_draws(128, 10), low_rank_min_draws(128, 100)
        (30, 128)
    """
    return min(MIN_DRAWS_PER_DIM * dim, length)


def _sqrt_and_inverse_sqrt(matrix, floor=0.0):
    # Rounding leaves eigenvalues of order eps x the largest however positive definite the
    # matrix is (float32, early in warmup when D is still far off and the scaled
    # gradients are large): floor them there, or at a known lower bound.
    values, vectors = jnp.linalg.eigh(matrix)
    eps = jnp.finfo(matrix.dtype).eps
    values = jnp.maximum(values, jnp.maximum(floor, 10 * eps * matrix.shape[0] * values[-1]))
    scale = lambda f: (vectors * f(values)) @ vectors.T
    return scale(jnp.sqrt), scale(jax.lax.rsqrt)


def _spd_mean_with_inverse(a, b, floor):
    # A # B^-1 = B^-1/2 (B^1/2 A B^1/2)^1/2 B^-1/2: the SPD matrix S with S B S = A.
    b_sqrt, b_inv_sqrt = _sqrt_and_inverse_sqrt(b, floor)
    middle, _ = _sqrt_and_inverse_sqrt(b_sqrt @ a @ b_sqrt)
    mean = b_inv_sqrt @ middle @ b_inv_sqrt
    return 0.5 * (mean + mean.T)


def low_rank_inverse_mass(history: History, count, diagonal, *, cutoff: float = EIGVAL_CUTOFF,
                          regulariser: float = REGULARISER):
    """The dense low-rank modified inverse mass matrix from a chain's recent history.

    Args:
        history: the chain's `History`.
        count: use the most recent ``min(count, N, pushed)`` entries (the draws of the
            schedule's current foreground estimate).
        diagonal: ``(d,)`` the diagonal estimate ``D`` (an inverse mass diagonal).
        cutoff: keep eigenvalues outside ``[1/cutoff, cutoff]``.
        regulariser: added to the scaled covariances' diagonals.

    Returns:
        ``(d, d)`` inverse mass matrix (symmetric; where rounding spoils it, not finite).

    Example:
        >>> import jax
        >>> x = jax.random.normal(jax.random.key(0), (100, 2)) @ jnp.array([[1., .9], [0., .4]])
        >>> cov = jnp.cov(x.T)
        >>> h = history_init(2, jnp.float32, 100)
        >>> for xi in x:
        ...     h = history_push(h, xi, -jnp.linalg.solve(cov, xi))
        >>> m = low_rank_inverse_mass(h, 100, jnp.diag(cov), cutoff=1.5)
        >>> bool(jnp.allclose(m, cov, rtol=1e-3, atol=1e-4))
        True
    """
    return low_rank_metric(history, count, diagonal, cutoff=cutoff,
                           regulariser=regulariser).inverse_mass_matrix


def low_rank_metric(history: History, count, diagonal, *, cutoff: float = EIGVAL_CUTOFF,
                    regulariser: float = REGULARISER) -> Metric:
    """The low-rank modified `Metric`: its inverse mass matrix and a mass-matrix factor.

    With ``V`` the kept directions (orthonormal) and ``w`` their whitened variances, the
    inverse mass matrix is ``R (I + V (w - 1) V^T) R`` with ``R = D^1/2``; its inverse has
    the factor ``R^-1 (I + V (w^-1/2 - 1) V^T)`` in closed form, so no Cholesky
    factorisation is needed.

    Args:
        history, count, diagonal, cutoff, regulariser: as `low_rank_inverse_mass`.

    Returns:
        A dense `Metric` (not finite where rounding spoilt the estimate).

    Example:
        >>> h = history_init(2, jnp.float32, 8)
        >>> m = low_rank_metric(h, 0, jnp.array([4.0, 1.0]))   # no draws: the diagonal
        >>> m.inverse_mass_matrix.tolist(), m.mass_sqrt.tolist()
        ([[4.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [0.0, 1.0]])
    """
    # One chain at a time: see `_one_at_a_time` (batched QR and eigh can hang on the CPU).
    estimate = functools.partial(_low_rank_directions, cutoff=cutoff, regulariser=regulariser)
    directions, weights = one_at_a_time(estimate)(history, jnp.asarray(count), diagonal)
    root = jnp.sqrt(diagonal)
    identity = jnp.eye(diagonal.shape[-1], dtype=diagonal.dtype)

    def whitened(f):  # I + V f(w) V^T, symmetric
        correction = (directions * f(weights)) @ directions.T
        return identity + 0.5 * (correction + correction.T)

    inverse_mass = root[:, None] * whitened(lambda w: w - 1.0) * root[None, :]
    mass_sqrt = whitened(lambda w: jax.lax.rsqrt(w) - 1.0) / root[:, None]
    return Metric(inverse_mass, mass_sqrt)


def _low_rank_directions(history: History, count, diagonal, *, cutoff, regulariser):
    # The orthonormal directions V and the whitened variances w (1 where nothing is kept).
    length, dim = history.draws.shape
    dtype = history.draws.dtype
    n = jnp.minimum(jnp.minimum(count, length), history.pushed).astype(jnp.int32)
    age = (history.pushed - 1 - jnp.arange(length)) % length  # 0: the newest slot
    valid = (age < n)[:, None]
    weight = 1.0 / jnp.maximum(n, 1).astype(dtype)

    def centred(values):
        mean = jnp.sum(jnp.where(valid, values, 0), axis=0) * weight
        return jnp.where(valid, values - mean, 0)

    root = jnp.sqrt(diagonal)
    scaled_draws = centred(history.draws) / root
    scaled_grads = centred(history.grads) * root
    if dim <= 2 * low_rank_min_draws(length, dim):
        # A correction needs that many draws, and then the draws and gradients span
        # every direction: a basis of their span would be a rotation of the identity,
        # and the result does not depend on the basis.
        basis = None
    else:
        # An orthonormal basis containing the span of both (invalid rows are zero, so
        # the basis's other columns are directions with no data, where the mean is 1).
        basis, _ = jnp.linalg.qr(jnp.concatenate([scaled_draws, scaled_grads]).T)
        scaled_draws, scaled_grads = scaled_draws @ basis, scaled_grads @ basis
    identity = jnp.eye(scaled_draws.shape[1], dtype=dtype)
    a = scaled_draws.T @ scaled_draws * weight + regulariser * identity
    b = scaled_grads.T @ scaled_grads * weight + regulariser * identity
    values, vectors = jnp.linalg.eigh(_spd_mean_with_inverse(a, b, regulariser))
    # Too few draws for the dimension (the early windows hold 10-20): the sample
    # covariances' spectra are then noise-spread far past the cutoff and the correction
    # follows that noise (a 16-d Gaussian with a diagonal covariance sampled at 0.8x the
    # diagonal metric's ESS per gradient, a 64-d one at 0.4x); the diagonal alone until
    # `MIN_DRAWS_PER_DIM` draws per dimension, or a full history.
    enough = n >= low_rank_min_draws(length, dim)
    keep = enough & ((values > cutoff) | (values < 1.0 / cutoff))
    directions = vectors if basis is None else basis @ vectors
    return directions, jnp.where(keep, values, 1.0)
