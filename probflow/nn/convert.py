"""Whole-model conversions: `clone_model` and `to_bayesian` (deterministic -> Bayesian).

Both rebuild the model's graph with new layer objects, so the result owns its weights
and training it leaves the original untouched (as Keras's ``clone_model``).
`to_bayesian` swaps the chosen Dense / Conv layers for their Bayesian counterparts via
`from_layer` (posterior means = the trained weights, small scales); every other layer
is cloned with its weights.
"""

from __future__ import annotations

from probflow.nn.functional import Input
from probflow.nn.layers import (
    Conv1D,
    Conv1DFlipout,
    Conv1DReparameterization,
    Conv2D,
    Conv2DFlipout,
    Conv2DReparameterization,
    Dense,
    DenseFlipout,
    DenseReparameterization,
)
from probflow.nn.model import Model
from probflow.nn.sequential import Sequential

__all__ = ["clone_model", "to_bayesian"]

_BAYESIAN = {
    Dense: (DenseFlipout, DenseReparameterization),
    Conv1D: (Conv1DFlipout, Conv1DReparameterization),
    Conv2D: (Conv2DFlipout, Conv2DReparameterization),
}


def _clone_layer(layer):
    """A new layer with the same config (and weights, when built)."""
    try:
        clone = type(layer).from_config(layer.get_config())
    except (ValueError, TypeError) as err:
        raise ValueError(f"cannot clone layer {layer.name!r} ({type(layer).__name__}): {err}; "
                         "its config must round-trip through get_config / from_config") from None
    if layer.built:
        clone.build_variables(None, layer.built_input_shape)
        clone.set_weights(layer.get_weights())
    return clone


def _rebuild(model, new_layer):
    """The model's graph with each layer replaced by ``new_layer(layer)``."""
    replaced = {id(layer): new_layer(layer) for layer in model.layers}
    if isinstance(model, Sequential):
        stack = [replaced[id(layer)] for layer in model.stack]
        head = [Input(model.input_shape)] if model.graph_ready else []
        return Sequential(head + stack, name=model.name)
    tensors = {id(t): Input(t.shape, name=t.name) for t in model.inputs}
    for node in model.nodes:
        args = [tensors[id(t)] for t in node.input_tensors]
        layer = replaced[id(node.layer)]
        tensors[id(node.output)] = layer(args if isinstance(node.inputs, list) else args[0])
    inputs = [tensors[id(t)] for t in model.inputs]
    outputs = [tensors[id(t)] for t in model.outputs]
    return Model(inputs[0] if model.single_input else inputs,
                 outputs[0] if model.single_output else outputs, name=model.name)


def clone_model(model):
    """A copy of `model` with new layers holding copies of its weights (not compiled).

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((3,)), nn.Dense(2)])
        >>> m.build_variables(__import__("jax").random.key(0))
        >>> c = nn.clone_model(m)
        >>> c.layers[0] is m.layers[0], bool(jnp.all(c.layers[0].params["kernel"]
        ...                                        == m.layers[0].params["kernel"]))
        (False, True)
    """
    return _rebuild(model, _clone_layer)


def to_bayesian(model, layers=None, *, flipout=True, init_scale=1e-3, prior=None):
    """A Bayesian copy of a trained network: chosen Dense / Conv layers become Bayesian.

    Each converted layer's posterior means are its trained weights and its posterior
    scales start at `init_scale` (`DenseFlipout.from_layer` and friends); the other
    layers are cloned with their weights. Compile the result and fit it by VI (or any
    ``method=``) to learn the uncertainty around the trained solution.

    Args:
        model: a built `Sequential` or functional `Model`.
        layers: which layers to convert: None for every Dense / Conv1D / Conv2D, or a
            list of layer names or layer objects (e.g. only the head).
        flipout: Flipout estimators (default) or Reparameterization.
        init_scale: initial posterior standard deviation, > 0.
        prior: weight prior of the converted layers (default Normal(0, 1)).

    Returns:
        A new, uncompiled model.

    Raises:
        ValueError: for an unbuilt model or a named layer that cannot be converted.

    Example:
        >>> import jax
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((3,)), nn.Dense(4, activation="relu"), nn.Dense(1)])
        >>> m.build_variables(jax.random.key(0))
        >>> [type(layer).__name__ for layer in nn.to_bayesian(m).layers]
        ['DenseFlipout', 'DenseFlipout']
    """
    if not model.built:
        raise ValueError("to_bayesian needs a built (usually trained) model: fit it first")
    convertible = [layer for layer in model.layers if type(layer) in _BAYESIAN]
    if layers is None:
        chosen = convertible
    else:
        by_name = {model.layer_name(layer): layer for layer in model.layers}
        chosen = []
        for item in layers:
            layer = by_name.get(item) if isinstance(item, str) else item
            if layer is None or not any(layer is other for other in model.layers):
                raise ValueError(f"to_bayesian: `layers` entry {item!r} is not a layer of "
                                 f"this model; it has {sorted(by_name)}")
            if type(layer) not in _BAYESIAN:
                raise ValueError(f"to_bayesian: layer {model.layer_name(layer)!r} is a "
                                 f"{type(layer).__name__}; only Dense, Conv1D and Conv2D "
                                 "layers have Bayesian counterparts")
            chosen.append(layer)
    chosen_ids = {id(layer) for layer in chosen}

    def convert(layer):
        if id(layer) not in chosen_ids:
            return _clone_layer(layer)
        cls = _BAYESIAN[type(layer)][0 if flipout else 1]
        return cls.from_layer(layer, init_scale=init_scale, prior=prior)

    return _rebuild(model, convert)
