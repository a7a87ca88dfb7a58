"""Pytrees <-> flat ``{"a/b/c": array}`` dicts, checked leaf by leaf against a template.

Saving flattens a pytree (params, layer state, optimizer state, a whole `TrainState`)
into names built from its dict keys, sequence indices and NamedTuple fields. Loading
walks a *template* of the same tree (often abstract, from `jax.eval_shape`, so a
tampered config cannot make us allocate) and takes each leaf from the file after
checking that it exists, has the template's shape and dtype, and that the file holds
nothing else.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["flatten_arrays", "unflatten_arrays", "key_to_array", "array_to_key"]

KEY_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")


def _entry_name(entry) -> str:
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


def _leaf_name(prefix, path) -> str:
    return "/".join([prefix] + [_entry_name(e) for e in path]) if prefix else "/".join(
        _entry_name(e) for e in path)


def flatten_arrays(tree, prefix: str = "") -> dict:
    """``{name: numpy array}`` for every leaf of `tree` (typed keys must be converted first).

    Example:
        >>> import jax.numpy as jnp
        >>> sorted(flatten_arrays({"dense": {"kernel": jnp.ones((2, 3))}}, "params"))
        ['params/dense/kernel']
    """
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        out[_leaf_name(prefix, path)] = np.asarray(leaf)
    return out


def unflatten_arrays(template, arrays: dict, prefix: str = "", *, source="the file",
                     describe=None):
    """Rebuilds `template`'s tree from `arrays`, checking names, shapes and dtypes.

    Args:
        template: a pytree whose leaves have ``shape`` and ``dtype`` (arrays or
            `jax.ShapeDtypeStruct`s).
        arrays: ``{name: numpy array}`` as `flatten_arrays` wrote it.
        prefix: the prefix used when saving.
        source: how to name the origin in error messages (usually the file path).
        describe: optional ``fn(name) -> str`` that names the owner of a leaf in errors
            (e.g. ``"layer 'dense_1' weight 'kernel'"``).

    Returns:
        The tree with `jnp` arrays as leaves.

    Raises:
        ValueError: for a missing, extra or mis-shaped array, naming it.

    Example:
        >>> import jax.numpy as jnp
        >>> tree = {"w": jnp.zeros(2)}
        >>> unflatten_arrays(tree, {"p/w": np.ones(2, np.float32)}, "p")["w"].tolist()
        [1.0, 1.0]
    """
    describe = describe or (lambda name: f"array {name!r}")
    flat, treedef = jax.tree_util.tree_flatten_with_path(template)
    names = [_leaf_name(prefix, path) for path, _ in flat]
    start = prefix + "/" if prefix else ""
    present = {k for k in arrays if k.startswith(start) or (not prefix)}
    missing = [n for n in names if n not in arrays]
    if missing:
        raise ValueError(f"{source}: {describe(missing[0])} is missing"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                         + "; the file does not match this model")
    extra = sorted(present - set(names))
    if extra:
        raise ValueError(f"{source}: holds {describe(extra[0])}, which this model does not "
                         "have; the file does not match this model")
    leaves = []
    for name, (_, spec) in zip(names, flat):
        value = arrays[name]
        if tuple(value.shape) != tuple(spec.shape):
            raise ValueError(f"{source}: {describe(name)} has shape {tuple(value.shape)}; this "
                             f"model expects {tuple(spec.shape)}")
        if np.dtype(value.dtype) != np.dtype(spec.dtype):
            raise ValueError(f"{source}: {describe(name)} has dtype {value.dtype}; this model "
                             f"expects {np.dtype(spec.dtype)}")
        leaves.append(jnp.asarray(value))
    return jax.tree_util.tree_unflatten(treedef, leaves)


def key_to_array(key) -> tuple[np.ndarray, str]:
    """A typed `jax.random` key as ``(raw uint32 data, implementation name)``.

    Example:
        >>> data, impl = key_to_array(jax.random.key(3))
        >>> data.dtype, impl
        (dtype('uint32'), 'threefry2x32')
    """
    return np.asarray(jax.random.key_data(key)), str(jax.random.key_impl(key))


def array_to_key(data, impl: str, *, source="the file"):
    """Inverse of `key_to_array`, checking the implementation and the data's shape."""
    if impl not in KEY_IMPLS:
        raise ValueError(f"{source}: unknown random key implementation {impl!r}; expected one "
                         f"of {KEY_IMPLS}")
    expected = jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0, impl=impl)))
    if tuple(data.shape) != expected.shape or data.dtype != expected.dtype:
        raise ValueError(f"{source}: the random key has shape {tuple(data.shape)} and dtype "
                         f"{data.dtype}; {impl} keys are {expected.shape} {expected.dtype}")
    return jax.random.wrap_key_data(jnp.asarray(data), impl=impl)
