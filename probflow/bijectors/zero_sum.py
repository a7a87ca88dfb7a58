"""`ZeroSum`: R^(n-1) isometrically onto the vectors of R^n whose entries sum to zero."""

from __future__ import annotations

import jax.numpy as jnp

from probflow.bijectors.bijector import Bijector

__all__ = ["ZeroSum"]


def _reflect(w):
    """The Householder reflection Q that swaps e_n and ones / sqrt(n), applied to `w`.

    ``Q = I - 2 u u^T / |u|^2`` with ``u = e_n - ones / sqrt(n)``; Q is symmetric and
    orthogonal, so it is its own inverse, and it maps ``{w : w_n = 0}`` onto
    ``{x : sum(x) = 0}``.
    """
    n = w.shape[-1]
    root = jnp.sqrt(jnp.asarray(n, w.dtype))
    u = jnp.full((n,), -1.0 / root, w.dtype).at[-1].add(1.0)
    coef = 2.0 * jnp.sum(u * w, axis=-1, keepdims=True) / (2.0 - 2.0 / root)
    return w - coef * u


class ZeroSum(Bijector):
    """Maps R^(n-1) onto the zero-sum vectors of R^n by an isometry; ``event_ndims = 1``.

    The map is linear and preserves lengths, so its log-det is 0 with respect to the
    (n-1)-dimensional volume of the zero-sum subspace (the measure `ZeroSumNormal`'s
    density refers to).

    Example:
        >>> import jax.numpy as jnp
        >>> x = ZeroSum().forward(jnp.array([1.0, 2.0]))
        >>> x.shape, round(float(x.sum()), 5)
        ((3,), 0.0)
    """

    event_ndims = 1
    _codomain = "zero_sum"

    def forward_and_log_det(self, x):
        x = jnp.asarray(x)
        padded = jnp.concatenate([x, jnp.zeros(x.shape[:-1] + (1,), x.dtype)], axis=-1)
        return _reflect(padded), jnp.zeros(x.shape[:-1], x.dtype)

    def inverse_and_log_det(self, y):
        y = jnp.asarray(y)
        return _reflect(y)[..., :-1], jnp.zeros(y.shape[:-1], y.dtype)

    def forward_shape(self, shape):
        shape = tuple(shape)
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        shape = tuple(shape)
        if shape[-1] < 2:
            raise ValueError(f"ZeroSum: a zero-sum vector needs at least 2 entries; got shape {shape}")
        return shape[:-1] + (shape[-1] - 1,)
