"""Private helpers shared by the bijectors: parameter arrays and log-det reductions."""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["as_float_array", "is_concrete", "sum_rightmost"]


def as_float_array(value, name: str, owner: str):
    """Converts a parameter to a floating jnp array (Python floats stay weakly typed).

    Raises:
        TypeError: naming `owner`'s argument `name` when `value` is not numeric.
    """
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError
        array = jnp.asarray(value)
    except TypeError:
        raise TypeError(
            f"{owner}: `{name}` must be a number or an array of numbers; got {type(value).__name__}"
        ) from None
    if not jnp.issubdtype(array.dtype, jnp.number) or jnp.issubdtype(
        array.dtype, jnp.complexfloating
    ):
        raise TypeError(f"{owner}: `{name}` must be real-valued; got dtype {array.dtype}")
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = array.astype(jnp.result_type(float))
    return array


def is_concrete(x) -> bool:
    """Whether `x` holds a concrete value (not a tracer under jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def sum_rightmost(x, ndims: int):
    """Sums the `ndims` rightmost dimensions of `x` (no-op for 0)."""
    if ndims <= 0:
        return x
    return jnp.sum(x, axis=tuple(range(-ndims, 0)))
