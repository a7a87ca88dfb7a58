"""Private helpers shared by the distribution families: dtypes, shapes, validation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["promote_params", "is_concrete", "validate_param", "as_shape", "sum_rightmost"]


def promote_params(*params, dtype=None):
    """Converts parameters to arrays of one floating dtype.

    The dtype follows the inputs: float arrays keep theirs, Python scalars and integer
    arrays take the default float (float64 when ``jax_enable_x64`` is on).
    """
    arrays = [jnp.asarray(p) for p in params]
    if dtype is None:
        # Python scalars are weakly typed: they take the default float (float64 under
        # jax_enable_x64, float32 otherwise) unless an array fixes the dtype.
        dtype = jnp.result_type(*arrays)
        if not jnp.issubdtype(dtype, jnp.floating):
            dtype = jnp.result_type(float)
    return tuple(a.astype(dtype) for a in arrays)


def is_concrete(x) -> bool:
    """Whether `x` has a concrete value (not a tracer under jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def validate_param(owner: str, name: str, value, constraint) -> None:
    """Raises ValueError naming `owner`'s parameter `name` when `value` is outside `constraint`.

    Traced values cannot be checked and are let through.
    """
    if not is_concrete(value):
        return
    arr = np.asarray(value)
    ok = np.asarray(constraint.check(value))
    finite = np.all(np.isfinite(arr)) if arr.dtype.kind == "f" else True
    if not (np.all(ok) and finite):
        raise ValueError(
            f"{owner}: parameter `{name}` must be {constraint.description}; got {_show(arr)}"
        )


def _show(arr):
    arr = np.asarray(arr)
    if arr.size == 1:
        return repr(arr.reshape(()).item())
    return np.array2string(arr, threshold=6, precision=4)


def as_shape(shape, name="sample_shape") -> tuple:
    """Normalises an int or sequence of ints to a shape tuple, with a clear error."""
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"`{name}` must be an int or a tuple of ints; got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"`{name}` must have non-negative entries; got {shape}")
    return shape


def sum_rightmost(x, ndims: int):
    """Sums the `ndims` rightmost dimensions of `x` (no-op for 0)."""
    if ndims == 0:
        return x
    return jnp.sum(x, axis=tuple(range(-ndims, 0)))
