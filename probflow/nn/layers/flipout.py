"""Flipout's random sign vectors (Wen et al. 2018, "Flipout: Efficient Pseudo-Independent
Weight Perturbations on Mini-Batches").

With a shared perturbation ``dW`` of a sign-symmetric distribution, the per-example
perturbation ``diag(s_out) dW diag(s_in)`` has the same marginal as ``dW`` but is nearly
independent across examples, so ``op(x * s_in, dW) * s_out`` decorrelates the gradient
noise in a mini-batch for the price of a second linear map.

Example:
    >>> import jax, jax.numpy as jnp
    >>> s = rademacher(jax.random.key(0), (4,), jnp.float32)
    >>> bool(jnp.all(jnp.abs(s) == 1))
    True
"""

from __future__ import annotations

import math

import jax

__all__ = ["rademacher", "flipout_perturbation"]


def rademacher(key, shape, dtype):
    """Independent random signs (+1 / -1 with probability 1/2 each)."""
    return jax.random.rademacher(key, tuple(shape), dtype)


def flipout_perturbation(key, linear, x, kernel_delta, *, in_sign_shape, out_sign_shape):
    """The Flipout term ``linear(x * s_in, kernel_delta) * s_out``.

    Args:
        key: a `jax.random` key for the two sign draws.
        linear: the layer's linear map ``(x, kernel) -> y``.
        x: the batch of inputs.
        kernel_delta: one shared draw of ``kernel - kernel_loc``.
        in_sign_shape: shape of the input signs (broadcast against `x`).
        out_sign_shape: shape of the output signs (broadcast against the output).

    Returns:
        The per-example pseudo-independent perturbation of the output.
    """
    # One draw for both sign vectors: fewer RNG kernels to compile and run.
    size_in, size_out = math.prod(in_sign_shape), math.prod(out_sign_shape)
    signs = rademacher(key, (size_in + size_out,), x.dtype)
    sign_in = signs[:size_in].reshape(in_sign_shape)
    sign_out = signs[size_in:].reshape(out_sign_shape)
    return linear(x * sign_in, kernel_delta) * sign_out
