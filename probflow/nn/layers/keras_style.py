"""Keras-style custom layers (`build` / `add_weight` / `call`) on top of the pure contract.

A Keras user writes::

    class Scale(nn.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, inputs, training=None):
            return inputs * self.w

Every compiled program needs the pure pair instead. `init_from_build` runs `build` while
recording the `add_weight` calls (what Keras does when it creates variables) and
draws each weight from its initializer; afterwards the attribute holds a `Variable`
handle. `bind_values` and `run_call` run `call` on a shallow copy of the layer whose weight
attributes are the arrays the program passes in (Keras's `stateless_call` does the same
substitution through a scope), so `call` traces with the values of this step and the
layer object itself is never mutated. The layer's own (private) bookkeeping is
assigned by `Layer` itself; these functions only compute and bind public attributes.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import jax
import jax.numpy as jnp

from probflow.nn.layers.initializers import get_initializer
from probflow.nn.layers.variables import Variable

__all__ = ["PendingWeight", "WeightSpec", "bind_values", "init_from_build", "run_call"]


class WeightSpec(NamedTuple):
    """One `add_weight` call: where the array goes and how it starts."""

    name: str
    shape: tuple
    initializer: object
    trainable: bool
    dtype: object


class PendingWeight:
    """What `add_weight` returns while `build` runs; replaced by a `Variable` after."""

    def __init__(self, spec: WeightSpec):
        self.spec = spec

    def __repr__(self):
        return f"<weight {self.spec.name!r} being built, shape={self.spec.shape}>"


def record_weight(layer, recorded, *, shape, initializer, dtype, trainable, name) -> PendingWeight:
    """`Layer.add_weight`'s body: validates and records one weight."""
    owner = f"{type(layer).__name__} {layer.name!r}"
    if recorded is None:
        raise ValueError(f"{owner}: `add_weight` must be called from `build(input_shape)`; "
                         "probflow creates a layer's variables when the layer is built")
    try:
        shape = tuple(int(d) for d in (() if shape is None else shape))
    except TypeError:
        raise TypeError(f"{owner}: `shape` of add_weight must be a tuple of ints; "
                        f"got {shape!r}") from None
    if name is None:
        name = f"weight_{len(recorded)}" if recorded else "weight"
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"{owner}: add_weight `name` must be a non-empty str without '/'; "
                         f"got {name!r}")
    if any(spec.name == name for spec in recorded):
        raise ValueError(f"{owner}: two weights are named {name!r}; pass distinct names")
    if initializer is None:
        # Keras's defaults: glorot for matrices and up, zeros for vectors and scalars.
        initializer = "glorot_uniform" if len(shape) >= 2 else "zeros"
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    spec = WeightSpec(name, shape, get_initializer(initializer), bool(trainable), dtype)
    recorded.append(spec)
    return PendingWeight(spec)


def init_from_build(layer, recorded, key, input_shape):
    """``(params, state, attributes)`` of a Keras-style layer: runs `build` and the
    initializers.

    `recorded` is the (empty) list that `add_weight` appends to while `build` runs.
    Weights with ``trainable=False`` go to the state collection (Keras's
    non-trainable variables). The layer's attributes that held `PendingWeight`s become
    `Variable` handles; `attributes` maps each to ``(collection, weight name)`` for
    `apply_via_call`.
    """
    argument = list(input_shape) if isinstance(input_shape, list) else tuple(input_shape)
    layer.build(argument)
    params, state = {}, {}
    keys = jax.random.split(key, max(len(recorded), 1)) if key is not None else None
    for i, spec in enumerate(recorded):
        subkey = keys[i] if keys is not None else jax.random.key(i)
        value = spec.initializer(subkey, spec.shape, spec.dtype)
        (params if spec.trainable else state)[spec.name] = jnp.asarray(value, spec.dtype)
    attributes = {}
    for attribute, value in list(vars(layer).items()):
        if isinstance(value, PendingWeight):
            collection = "params" if value.spec.trainable else "state"
            attributes[attribute] = (collection, value.spec.name)
            setattr(layer, attribute, Variable(layer, collection, value.spec.name))
    return params, state, attributes


def _accepts(fn, argument) -> bool:
    parameters = inspect.signature(fn).parameters
    return argument in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def bind_values(clone, attributes, params, state) -> None:
    """Points `clone`'s weight attributes at the arrays of this step."""
    for attribute, (collection, name) in attributes.items():
        setattr(clone, attribute, (params if collection == "params" else state)[name])


def run_call(clone, x, *, training):
    """Runs `call` (passing `training` when its signature takes it)."""
    kwargs = {"training": training} if _accepts(clone.call, "training") else {}
    return clone.call(x, **kwargs)
