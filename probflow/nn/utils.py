"""Data helpers: one-hot labels and the input checks `fit` runs before training."""

from __future__ import annotations

import numpy as np

__all__ = ["as_array_list", "check_finite", "per_example_values", "to_categorical"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encodes integer class labels (Keras's `to_categorical`).

    Args:
        y: integer labels of any shape.
        num_classes: number of classes; default ``max(y) + 1``.
        dtype: dtype of the result.

    Returns:
        A numpy array of shape ``y.shape + (num_classes,)``.

    Example:
        >>> to_categorical([0, 2], 3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError(f"`y` must hold integer labels; got values such as {y.ravel()[:3]}")
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"`y` labels must lie in [0, {num_classes - 1}]; got range "
                         f"[{y.min()}, {y.max()}]")
    return np.eye(num_classes, dtype=dtype)[y]


def as_array_list(data, count, argname):
    """Turns one array or a list of arrays into a list of `count` numpy arrays.

    Example:
        >>> [a.shape for a in as_array_list(np.zeros((3, 2)), 1, "x")]
        [(3, 2)]
    """
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(items) != count:
        raise ValueError(f"`{argname}` must hold {count} array(s) (one per model "
                         f"{'input' if argname.startswith('x') else 'output'}); got {len(items)}")
    arrays = []
    for item in items:
        array = np.asarray(item)
        if array.ndim == 0:
            raise ValueError(f"`{argname}` must have a leading batch axis; got a scalar")
        if array.dtype == object:
            raise TypeError(f"`{argname}` must be numeric; got dtype object")
        arrays.append(array)
    return arrays


def check_finite(arrays, argname) -> None:
    """Raises ValueError naming the first array (and row) with a NaN or infinity.

    Example:
        >>> check_finite([np.array([1.0, np.nan])], "x")
        Traceback (most recent call last):
        ...
        ValueError: `x` must be finite; found NaN/inf in example(s) [1] (array 0, shape (2,))
    """
    for i, array in enumerate(arrays):
        if not np.issubdtype(array.dtype, np.floating):
            continue
        bad = ~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"`{argname}` must be finite; found NaN/inf in example(s) "
                f"{np.flatnonzero(bad)[:5].tolist()} (array {i}, shape {array.shape})"
            )


def per_example_values(fn, y_true, y_pred):
    """One value per example of a Keras-style ``fn(y_true, y_pred)`` (losses, metrics).

    `fn` on the batch may return one value per example (used as is), one per element
    (averaged over the non-batch axes, as Keras reduces a loss), or one scalar for the
    batch; a scalar is re-evaluated one example at a time (`vmap` over batches of one),
    so masked padding rows never leak into a real example's value. Which case applies is
    read from shapes at trace time.

    Args:
        fn: ``fn(y_true, y_pred) -> array``, jax-traceable.
        y_true: targets with a leading batch axis.
        y_pred: predictions with a leading batch axis.

    Returns:
        Array of shape ``(n,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> per_example_values(lambda y, p: jnp.mean((y - p) ** 2), jnp.zeros((2, 3)),
        ...                    jnp.array([[1.0, 1, 1], [2, 2, 2]])).tolist()
        [1.0, 4.0]
    """
    import jax
    import jax.numpy as jnp

    values = jnp.asarray(fn(y_true, y_pred))
    n = jnp.shape(y_pred)[0]
    if values.ndim == 0:
        one = jax.vmap(lambda y, p: jnp.asarray(fn(y[None], p[None])).reshape(()))
        return one(y_true, y_pred)
    if values.shape[0] != n:
        raise ValueError(f"`{getattr(fn, '__name__', 'fn')}` must return a scalar or values with "
                         f"the batch axis first ({n} examples); got shape {values.shape}")
    return jnp.mean(values.reshape(n, -1), axis=-1)
