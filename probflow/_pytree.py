"""A tiny base class that makes user-facing objects JAX pytrees.

Distributions, bijectors and constraints hold their parameters as attributes. Every
subclass of `PytreeObject` is registered with `jax.tree_util` automatically: array
attributes (and nested pytree objects) become leaves, everything else (ints, strings,
tuples, callables, None) is static auxiliary data. That lets these objects pass
through `jit`, `vmap`, `grad` and `lax.scan` without per-class boilerplate.
"""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["PytreeObject"]

# Attribute names on an instance that hold the cached split between leaves and static
# fields; excluded from the split itself.
_LEAF_KEYS = "_pytree_leaf_keys"


def _is_dynamic(value) -> bool:
    """Whether an attribute value belongs among the pytree's children."""
    if isinstance(value, (jax.Array, np.ndarray, np.generic, PytreeObject)):
        return True
    if isinstance(value, (list, tuple, dict)) and value:
        # Containers of arrays / pytree objects (e.g. Chain's list of bijectors,
        # Mixture's components) are children; containers of plain config are static.
        return any(_is_dynamic(v) for v in (value.values() if isinstance(value, dict) else value))
    return False


class PytreeObject:
    """Base for objects that are also JAX pytrees.

    Subclasses set their attributes in ``__init__`` as usual. Arrays (and nested
    `PytreeObject`s, or lists/tuples/dicts of them) are leaves; any other attribute is
    static and must be hashable-by-identity-or-value for `jit` caching.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> class Box(PytreeObject):
        ...     def __init__(self, width):
        ...         self.width = jnp.asarray(width)
        ...         self.name = "box"
        >>> jax.tree_util.tree_leaves(Box(2.0))
        [Array(2., dtype=float32, weak_type=True)]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_node(cls, cls._tree_flatten, cls._tree_unflatten)

    def _tree_flatten(self):
        attrs = self.__dict__
        leaf_keys = attrs.get(_LEAF_KEYS)
        if leaf_keys is None:
            leaf_keys = tuple(k for k in sorted(attrs) if k != _LEAF_KEYS and _is_dynamic(attrs[k]))
        static = tuple(
            (k, v) for k, v in sorted(attrs.items()) if k != _LEAF_KEYS and k not in leaf_keys
        )
        children = tuple(attrs[k] for k in leaf_keys)
        return children, (leaf_keys, _Static(static))

    @classmethod
    def _tree_unflatten(cls, aux, children):
        leaf_keys, static = aux
        obj = object.__new__(cls)
        obj.__dict__.update(static.items)
        obj.__dict__.update(zip(leaf_keys, children))
        # Leaves may be replaced by non-arrays (None, object(), ShapeDtypeStruct) by
        # JAX internals; remember the split so re-flattening keeps the same structure.
        obj.__dict__[_LEAF_KEYS] = leaf_keys
        return obj

    def _replace(self, **changes):
        """Returns a shallow copy with some attributes replaced."""
        obj = object.__new__(type(self))
        obj.__dict__.update(self.__dict__)
        obj.__dict__.pop(_LEAF_KEYS, None)
        obj.__dict__.update(changes)
        return obj


class _Static:
    """Static aux data compared by value where possible, by identity otherwise."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def _key(self):
        out = []
        for k, v in self.items:
            try:
                hash(v)
                out.append((k, v))
            except TypeError:
                out.append((k, id(v)))
        return tuple(out)

    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        if not isinstance(other, _Static):
            return NotImplemented
        if len(self.items) != len(other.items):
            return False
        for (k1, v1), (k2, v2) in zip(self.items, other.items):
            if k1 != k2:
                return False
            if v1 is v2:
                continue
            try:
                if not bool(v1 == v2):
                    return False
            except Exception:
                return False
        return True
