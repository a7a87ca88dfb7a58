"""Cheap counter-based uniforms for the NUTS tree loop.

One `jax.random` draw per transition gives a few 32-bit seed words; the uniforms the
tree needs (one per leaf, one per doubling) come from an integer hash of
``(seed word, counter)``. A threefry call per leaf would cost more than the rest of a
cheap model's leapfrog step; this hash is a handful of fused integer ops.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["hash_uniform"]

_GOLDEN = np.uint32(0x9E3779B9)
_MIX1 = np.uint32(0x85EBCA6B)
_MIX2 = np.uint32(0xC2B2AE35)


def hash_uniform(seed, counter, dtype=jnp.float32):
    """A uniform in [0, 1) from a uint32 `seed` and an integer `counter` (murmur3 finaliser).

    Args:
        seed: uint32 scalar (a random word drawn once per transition).
        counter: integer scalar distinguishing the uniforms of one transition.
        dtype: float dtype of the result.

    Returns:
        A scalar in [0, 1) with 24 random bits.

    Example:
        >>> import jax.numpy as jnp
        >>> u = hash_uniform(jnp.uint32(7), jnp.arange(1000))
        >>> bool((u >= 0).all() and (u < 1).all()), abs(float(u.mean()) - 0.5) < 0.05
        (True, True)
    """
    x = seed ^ (jnp.asarray(counter).astype(jnp.uint32) * _GOLDEN)
    x = x ^ (x >> 16)
    x = x * _MIX1
    x = x ^ (x >> 13)
    x = x * _MIX2
    x = x ^ (x >> 16)
    return (x >> 8).astype(dtype) * jnp.asarray(2.0**-24, dtype)
