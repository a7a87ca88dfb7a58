"""A whole `TrainState` to and from flat arrays, checked against the model it goes into.

The template is abstract (`jax.eval_shape` of the model's own `init` and the
optimizer's `init`), so validating a file never allocates what its config claims.
"""

from __future__ import annotations

import jax
import numpy as np

from probflow.nn.saving.weights import array_to_key, flatten_arrays, key_to_array, unflatten_arrays

__all__ = ["abstract_train_state", "describe_leaf", "pack_train_state", "unpack_train_state"]

PREFIX = "train_state"


def describe_leaf(name: str) -> str:
    """Names the owner of a flat array name in error messages.

    Example:
        >>> describe_leaf("train_state/params/layers/dense_1/kernel")
        "layer 'dense_1' weight 'kernel'"
    """
    parts = name.split("/")
    if parts[:1] == [PREFIX]:
        parts = parts[1:]
    if parts[:2] == ["params", "layers"] and len(parts) > 2:
        return f"layer {parts[2]!r} weight {'/'.join(parts[3:])!r}"
    if parts[:1] == ["layer_state"] and len(parts) > 1:
        return f"layer {parts[1]!r} state {'/'.join(parts[2:])!r}"
    if parts[:2] == ["params", "likelihood"]:
        return f"likelihood parameter {'/'.join(parts[2:])!r}"
    return f"array {name!r}"


def abstract_train_state(model, frozen=frozenset()):
    """Shapes and dtypes of a fresh `TrainState` of a compiled model with built heads,
    whose optimizer state covers the layers not in `frozen`."""
    from probflow.nn.training.state import new_train_state

    def build(key):
        layer_params, layer_state = model.init(key)
        heads = [h.init(jax.random.fold_in(key, 10_000 + i)) for i, h in enumerate(model.heads)]
        return new_train_state({"layers": layer_params, "likelihood": heads}, layer_state,
                               model.optimizer, key, kl_weight=model.initial_kl_weight,
                               frozen=frozen)

    return jax.eval_shape(build, jax.random.key(0))


def pack_train_state(state) -> tuple[dict, str]:
    """``({name: numpy array}, key implementation name)`` of a `TrainState`."""
    data, impl = key_to_array(state.key)
    return flatten_arrays(state._replace(key=data), PREFIX), impl


def unpack_train_state(template, arrays: dict, key_impl: str, *, source):
    """Rebuilds a `TrainState` shaped like `template` from `pack_train_state`'s arrays."""
    if not isinstance(key_impl, str):
        raise ValueError(f"{source}: the random key implementation must be a str; got "
                         f"{key_impl!r:.100}")
    key_name = f"{PREFIX}/key"
    raw = arrays.get(key_name)
    if raw is None:
        raise ValueError(f"{source}: the random key ({key_name!r}) is missing")
    key_spec = jax.ShapeDtypeStruct(raw.shape, np.uint32)
    state = unflatten_arrays(template._replace(key=key_spec), arrays, PREFIX, source=source,
                             describe=describe_leaf)
    return state._replace(key=array_to_key(np.asarray(state.key), key_impl, source=source))
