"""`Ordered`: unconstrained R^n onto strictly increasing vectors (Stan's transform).

``y_1 = x_1`` and ``y_k = y_(k-1) + exp(x_k)``: the first element is free and the
increments are positive. (Stan Reference Manual, "Ordered vector".)

Example:
    >>> import jax.numpy as jnp
    >>> from probflow import bijectors as bij
    >>> bij.Ordered().forward(jnp.array([0.0, 0.0, 0.0]))
    Array([0., 1., 2.], dtype=float32)
"""

from __future__ import annotations

import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector

__all__ = ["Ordered"]


class Ordered(Bijector):
    """Maps a vector to a strictly increasing vector of the same length; ``event_ndims = 1``.

    Example:
        >>> import jax.numpy as jnp
        >>> x = Ordered().inverse(jnp.array([-1.0, 0.0, 2.0]))
        >>> [round(float(v), 4) for v in x]
        [-1.0, 0.0, 0.6931]
    """

    event_ndims = 1

    _codomain = "ordered_vector"

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        increments = jnp.concatenate([x[..., :1], jnp.exp(x[..., 1:])], axis=-1)
        # Triangular Jacobian with diagonal (1, exp(x_2), ..., exp(x_n)).
        return jnp.cumsum(increments, axis=-1), jnp.sum(x[..., 1:], axis=-1)

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        log_increments = jnp.log(jnp.diff(y, axis=-1))
        x = jnp.concatenate([y[..., :1], log_increments], axis=-1)
        return x, -jnp.sum(log_increments, axis=-1)
