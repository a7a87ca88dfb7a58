"""Turning the user's `seed` (int or key) into a `jax.random` key."""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["as_key"]


def as_key(seed):
    """Returns a typed `jax.random` key from an int seed or an existing key.

    Args:
        seed: a non-negative int, a typed key (`jax.random.key`) or a raw uint32[2] key.

    Returns:
        A typed key.

    Example:
        >>> k = as_key(0)
        >>> k.dtype
        key<fry>
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"`seed` must be a non-negative int or a jax.random key; got {seed}")
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array):
        if jax.dtypes.issubdtype(seed.dtype, jax.dtypes.prng_key):
            return seed
        if seed.shape == (2,) and seed.dtype == np.uint32:
            return jax.random.wrap_key_data(seed)
    raise TypeError(
        f"`seed` must be a non-negative int or a jax.random key; got {type(seed).__name__}"
    )
