"""The variables a built layer owns, and the `Variable` handles that name them.

A layer keeps two dicts of arrays once built: ``params`` (the trainable collection:
weights, or a Bayesian layer's variational parameters) and ``state`` (the
non-trainable collection, e.g. batch-norm moving statistics). `VariableStore` holds
them and checks every assignment against the shapes and dtypes the layer was built
with; `Variable` is a Keras-like handle onto one entry (``layer.weights[0].numpy()``,
``.assign(value)``) that holds no array of its own, so it never goes stale.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["Variable", "VariableStore"]

COLLECTIONS = ("params", "state")


class Variable:
    """A handle onto one array a layer owns (Keras's ``layer.weights`` entries).

    Attributes:
        name: ``"<layer name>/<key>"``.
        path: the key inside its collection (``"kernel"``, ``"moving_mean"``).
        collection: ``"params"`` (trainable collection) or ``"state"``.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import nn
        >>> layer = nn.Dense(2, name="d")
        >>> layer.build_variables(None, (3,))
        >>> [w.name for w in layer.weights], layer.weights[0].shape
        (['d/kernel', 'd/bias'], (3, 2))
        >>> layer.weights[1].assign(jnp.ones(2)); layer.weights[1].numpy().tolist()
        [1.0, 1.0]
    """

    def __init__(self, layer, collection, path):
        self._layer = layer
        self.collection = collection
        self.path = path

    @property
    def name(self) -> str:
        return f"{self._layer.name}/{self.path}"

    @property
    def value(self):
        """The current array (a `jax.Array`)."""
        return getattr(self._layer, self.collection)[self.path]

    @property
    def trainable(self) -> bool:
        """Whether training updates it: a params entry of a trainable layer."""
        return self.collection == "params" and self._layer.trainable

    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return self.value.dtype

    def numpy(self) -> np.ndarray:
        """A host copy of the value."""
        return np.asarray(self.value)

    def assign(self, value) -> None:
        """Replaces the value (same shape; cast to the variable's dtype)."""
        self._layer._assign_entry(self.collection, {self.path: value})

    def __array__(self, dtype=None, copy=None):
        del copy
        return np.asarray(self.value, dtype=dtype)

    def __repr__(self):
        return (f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype} "
                f"trainable={self.trainable}>")


class VariableStore:
    """The owned ``params`` / ``state`` dicts of one layer, with checked assignment.

    Args:
        owner: how to name the layer in errors (``"Dense 'dense_1'"``).
        params: the trainable collection (dict of arrays).
        state: the non-trainable collection (dict of arrays).
        input_shape: the per-example input shape the layer was built for.
    """

    def __init__(self, owner, params, state, input_shape):
        self.owner = owner
        self.params = dict(params)
        self.state = dict(state)
        self.input_shape = input_shape

    def assign(self, collection, values, *, partial) -> None:
        """Checks `values` against the collection and stores them.

        Args:
            collection: ``"params"`` or ``"state"``.
            values: dict key -> array-like.
            partial: allow a subset of the keys (a single `Variable.assign`).

        Raises:
            ValueError: for an unknown or missing key or a shape that differs, naming
                the layer, the key and both shapes.
        """
        current = getattr(self, collection)
        if not isinstance(values, dict):
            raise TypeError(f"{self.owner}: `{collection}` must be a dict of arrays; got "
                            f"{type(values).__name__}")
        unknown = sorted(set(values) - set(current))
        if unknown:
            raise ValueError(f"{self.owner}: unknown {collection} entries {unknown}; the layer "
                             f"has {sorted(current)}")
        missing = sorted(set(current) - set(values))
        if missing and not partial:
            raise ValueError(f"{self.owner}: {collection} entries {missing} are missing")
        new = dict(current)
        for key, value in values.items():
            old = current[key]
            # Cast to the variable's dtype, as Keras's assign does: a compiled step that
            # takes the variables as arguments then never sees a new dtype.
            array = jnp.asarray(value, old.dtype)
            if tuple(array.shape) != tuple(old.shape):
                raise ValueError(f"{self.owner}: {collection} entry {key!r} has shape "
                                 f"{tuple(old.shape)}; got {tuple(array.shape)}")
            new[key] = array
        setattr(self, collection, new)
