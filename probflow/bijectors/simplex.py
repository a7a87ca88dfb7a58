"""`StickBreaking`: unconstrained R^n onto the probability simplex in R^(n+1).

Stan's construction: coordinate k (1-based) breaks off the fraction
``z_k = sigmoid(x_k - log(n + 1 - k))`` of the stick that is left, and the last
coordinate takes the rest. The ``log(n + 1 - k)`` offset makes ``x = 0`` the uniform
simplex. (Stan Reference Manual, "Unit simplex".)

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> bij.StickBreaking().forward(jnp.zeros(3))
    Array([0.25, 0.25, 0.25, 0.25], dtype=float32)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector

__all__ = ["StickBreaking"]


def _offsets(n, dtype):
    return jnp.log(jnp.arange(n, 0, -1, dtype=dtype))


def _exclusive_cumsum(x):
    return jnp.cumsum(x, axis=-1) - x


class StickBreaking(Bijector):
    """Maps a vector in R^n to a point of the n-simplex (n + 1 non-negative entries
    summing to 1); ``event_ndims = 1``.

    The log-det is that of the map onto the first n simplex coordinates (the last one is
    determined by them), which is what a density on the simplex (e.g. Dirichlet) uses.

    Example:
        >>> import jax.numpy as jnp
        >>> y = StickBreaking().forward(jnp.array([1.0, -1.0]))
        >>> round(float(y.sum()), 5)
        1.0
    """

    event_ndims = 1

    _codomain = "simplex"

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        u = x - _offsets(x.shape[-1], x.dtype)
        log_kept = jax.nn.log_sigmoid(-u)  # log(1 - z_k)
        log_stick = _exclusive_cumsum(log_kept)  # log of the stick left before break k
        log_piece = log_stick + jax.nn.log_sigmoid(u)
        log_last = jnp.sum(log_kept, axis=-1, keepdims=True)
        y = jnp.exp(jnp.concatenate([log_piece, log_last], axis=-1))
        # The Jacobian onto the first n coordinates is triangular with diagonal
        # stick_k * z_k * (1 - z_k).
        log_det = jnp.sum(log_piece + log_kept, axis=-1)
        return y, log_det

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        # Remaining stick after break k, summed from the end for accuracy.
        rest = jnp.flip(jnp.cumsum(jnp.flip(y, -1), axis=-1), -1)[..., 1:]
        log_piece, log_rest = jnp.log(y[..., :-1]), jnp.log(rest)
        x = log_piece - log_rest + _offsets(rest.shape[-1], y.dtype)
        # Forward log-det = sum_k log(piece_k) + log(rest_k) - log(stick_k).
        log_stick = jnp.log(jnp.concatenate([jnp.sum(y, -1, keepdims=True), rest[..., :-1]], -1))
        log_det = -jnp.sum(log_piece + log_rest - log_stick, axis=-1)
        return x, log_det

    def forward_shape(self, shape):
        shape = tuple(shape)
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        shape = tuple(shape)
        if shape[-1] < 2:
            raise ValueError(
                f"StickBreaking: a simplex needs at least 2 entries; got shape {shape}"
            )
        return shape[:-1] + (shape[-1] - 1,)
