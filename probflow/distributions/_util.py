"""Private helpers shared by the distribution families: dtypes, shapes, validation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "promote_params",
    "is_concrete",
    "validate_param",
    "as_shape",
    "as_key",
    "check_param_shapes",
    "as_value",
    "sum_rightmost",
]


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


def as_key(key, owner: str = "sample"):
    """Accepts a `jax.random` key (typed or raw ``uint32[2]``) or an int seed.

    An int seed becomes ``jax.random.key(seed)``, so ``d.sample(0)`` works as users
    expect; anything else that is not a key gets a TypeError naming `key`.
    """
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if key < 0:
            raise ValueError(f"{owner}.sample: an int `key` (seed) must be >= 0; got {key}")
        return jax.random.key(int(key))
    dtype = getattr(key, "dtype", None)
    if dtype is not None and (
        jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key) or np.dtype(dtype) == np.uint32
    ):
        return key
    raise TypeError(
        f"{owner}.sample: `key` must be a jax.random key (jax.random.key(0)) or an int "
        f"seed; got {type(key).__name__}"
        + (f" of dtype {dtype}" if dtype is not None else "")
    )


def check_param_shapes(owner: str, params: dict, event_ndims: dict) -> None:
    """Raises ValueError naming `owner` and the parameters whose shapes cannot work.

    Each parameter needs its event dims (``event_ndims[name]``, 0 by default), none of
    them of size 0, and the batch parts of all parameters must broadcast together.
    Shapes only, so it is free and works on tracers.
    """
    batch_shapes = {}
    for name, value in params.items():
        if value is None:
            continue
        shape = tuple(jnp.shape(value))
        k = event_ndims.get(name, 0)
        if len(shape) < k:
            raise ValueError(
                f"{owner}: parameter `{name}` must have at least {k} dimension(s) (its event "
                f"dims); got shape {shape}"
            )
        if k and 0 in shape[len(shape) - k :]:
            raise ValueError(
                f"{owner}: parameter `{name}` must have non-empty event dims (the last {k}); "
                f"got shape {shape}"
            )
        batch_shapes[name] = shape[: len(shape) - k]
    try:
        jnp.broadcast_shapes(*batch_shapes.values())
    except ValueError:
        shown = ", ".join(f"`{n}` {s}" for n, s in batch_shapes.items())
        raise ValueError(
            f"{owner}: the parameters' batch shapes must broadcast together; got {shown}"
        ) from None


def as_value(owner: str, value, batch_shape, event_shape):
    """`value` as an array, checked to be numeric and to broadcast with the distribution.

    Raises TypeError for a non-numeric value (strings) and ValueError when its shape
    does not broadcast with ``batch_shape + event_shape``, naming `owner` and `value`.
    Shapes only (and the dtype of a host value): free, and fine under jit.
    """
    if not isinstance(value, jax.Array):
        kind = np.asarray(value).dtype.kind
        if kind not in "biufc":
            raise TypeError(
                f"{owner}.log_prob: `value` must be numeric; got dtype "
                f"{np.asarray(value).dtype}"
            )
    value = jnp.asarray(value)
    expected = tuple(batch_shape) + tuple(event_shape)
    try:
        jnp.broadcast_shapes(value.shape, expected)
    except ValueError:
        raise ValueError(
            f"{owner}.log_prob: `value` of shape {value.shape} does not broadcast with the "
            f"distribution's batch_shape + event_shape {expected} (batch {tuple(batch_shape)}, "
            f"event {tuple(event_shape)})"
        ) from None
    return value


def xlogy(x, y):
    """``x * log(y)``, 0 at ``x == y == 0``, with a finite gradient in `y` there.

    `jax.scipy.special.xlogy` has the right value but a NaN gradient in `y` at
    ``x == y == 0`` (0 / 0), which turns the gradient of a mass function NaN where an
    impossible outcome was not observed (Bernoulli at ``probs == 1``, a Beta(1, b) at
    0). The gradient in `y` there is 0 (the limit with ``x = 0`` held); in `x` it is 0
    too, where the mathematical value is -inf.
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    both_zero = (x == 0) & (y == 0)
    return x * jnp.log(jnp.where(both_zero, jnp.ones_like(y), y))


def xlog1py(x, y):
    """``x * log1p(y)``, 0 at ``x == 0, y == -1``, with a finite gradient there (see `xlogy`)."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    both_zero = (x == 0) & (y == -1)
    return x * jnp.log1p(jnp.where(both_zero, jnp.zeros_like(y), y))


def safe_log(p):
    """``log(p)`` with -inf at ``p == 0`` and a zero (not NaN) gradient through it.

    For probabilities: an outcome of probability 0 that is not the one observed must
    not poison the gradient of the others with ``0 * inf``.
    """
    p = jnp.asarray(p)
    positive = p > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, p, jnp.ones_like(p))), -jnp.inf)
