"""Model and compile settings to and from JSON, without pickles or code.

A model is described by its layers (registered class name + `get_config()`) and, for
a functional model, its graph: inputs (shape, name), nodes (layer name, references to
the tensors it was called on) and outputs, where a reference is ``["input", i]`` or
``["node", j]``. Compile settings are the optimizer (name and learning rate), each
likelihood head (class, options, and the shapes it was built with) and metric names.
What cannot be written as data (an optax transformation, a schedule, a callable
likelihood, a custom metric) is marked ``"custom"``; `load_model` then needs it again
as an argument.

Rebuilding reads untrusted JSON: every class is looked up in a registry by name and
every field is type-checked; the caller turns any failure into a ValueError naming
the file.
"""

from __future__ import annotations

import numbers

from probflow.nn.saving.registry import get_model_class

__all__ = [
    "compile_config",
    "heads_config",
    "model_config",
    "model_from_config",
    "optimizer_from_config",
    "heads_from_config",
]

_HEAD_OPTIONS = ("heteroscedastic", "init_scale", "df", "inputs")
_HEAD_BUILT = ("heteroscedastic", "one_hot")


def _check(condition, message):
    if not condition:
        raise ValueError(message)


def _shape(value, what):
    _check(isinstance(value, list) and all(isinstance(d, int) and not isinstance(d, bool)
                                           and d > 0 for d in value),
           f"{what} must be a list of positive ints; got {value!r}")
    return tuple(value)


def _layer_entry(layer) -> dict:
    from probflow.nn.layers.registry import registered_layers

    name = type(layer).__name__
    if registered_layers().get(name) is not type(layer):
        raise ValueError(
            f"cannot save layer {getattr(layer, 'name', name)!r} of class {name}: it is not "
            "registered; decorate the class with probflow.nn.layers.register_layer"
        )
    return {"class": name, "config": layer.get_config()}


def _layer_from_entry(entry):
    from probflow.nn.layers.registry import get_layer_class

    _check(isinstance(entry, dict) and isinstance(entry.get("class"), str)
           and isinstance(entry.get("config"), dict),
           f"a layer entry must be {{'class': str, 'config': dict}}; got {entry!r:.200}")
    return get_layer_class(entry["class"]).from_config(entry["config"])


def model_config(model) -> dict:
    """JSON description of a `Sequential` or functional `Model`'s architecture.

    Example:
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((3,)), nn.Dense(2, name="out")])
        >>> model_config(m)["layers"][0]["class"]
        'Dense'
    """
    kind = type(model).__name__
    if kind == "Sequential":
        return {
            "class": "Sequential",
            "name": model.name,
            "layers": [_layer_entry(layer) for layer in model.stack],
            "input_shape": list(model.input_shape) if model.graph_ready else None,
        }
    if kind != "Model":
        raise ValueError(f"cannot save a model of class {kind}: only "
                         "Sequential and functional Model graphs can be rebuilt")
    refs = {id(t): ["input", i] for i, t in enumerate(model.inputs)}
    nodes = []
    for j, node in enumerate(model.nodes):
        inputs = [refs[id(t)] for t in node.input_tensors]
        nodes.append({"layer": model.layer_name(node.layer), "inputs": inputs,
                      "is_list": isinstance(node.inputs, list)})
        refs[id(node.output)] = ["node", j]
    return {
        "class": "Model",
        "name": model.name,
        "inputs": [{"shape": list(t.shape), "name": t.name} for t in model.inputs],
        "layers": [_layer_entry(layer) for layer in model.layers],
        "nodes": nodes,
        "outputs": [refs[id(t)] for t in model.outputs],
        "single_input": model.single_input,
        "single_output": model.single_output,
        "input_keys": model.input_keys() if model.dict_inputs else None,
        "output_keys": model.output_keys() if model.dict_outputs else None,
    }


def _functional_from_config(config):
    from probflow.nn.functional import Input, connect

    inputs = []
    for spec in config.get("inputs") or []:
        _check(isinstance(spec, dict), f"model inputs must be objects; got {spec!r:.100}")
        name = spec.get("name")
        _check(name is None or isinstance(name, str), f"input name must be a str; got {name!r}")
        inputs.append(Input(_shape(spec.get("shape"), "input shape"), name=name))
    _check(inputs, "the functional model has no inputs")
    layers = {}
    for entry in config.get("layers") or []:
        layer = _layer_from_entry(entry)
        _check(layer.name not in layers, f"two layers are named {layer.name!r}")
        layers[layer.name] = layer
    produced = []

    def resolve(ref):
        _check(isinstance(ref, list) and len(ref) == 2 and ref[0] in ("input", "node")
               and isinstance(ref[1], int) and not isinstance(ref[1], bool),
               f"a tensor reference must be ['input' | 'node', index]; got {ref!r:.100}")
        pool = inputs if ref[0] == "input" else produced
        _check(0 <= ref[1] < len(pool), f"tensor reference {ref} points outside the graph")
        return pool[ref[1]]

    for node in config.get("nodes") or []:
        _check(isinstance(node, dict) and node.get("layer") in layers,
               f"a node must name a layer of the model; got {node!r:.200}")
        args = [resolve(ref) for ref in node.get("inputs") or []]
        _check(args, f"node of layer {node['layer']!r} has no inputs")
        _check(node.get("is_list") or len(args) == 1,
               f"node of layer {node['layer']!r} takes one input; got {len(args)}")
        produced.append(connect(layers[node["layer"]], args if node.get("is_list") else args[0]))
    outputs = [resolve(ref) for ref in config.get("outputs") or []]
    _check(outputs, "the functional model has no outputs")
    single_in, single_out = config.get("single_input"), config.get("single_output")
    _check(not single_in or len(inputs) == 1, "single_input with several inputs")
    _check(not single_out or len(outputs) == 1, "single_output with several outputs")
    model_class = get_model_class("Model")
    graph_inputs = inputs[0] if single_in else inputs
    graph_outputs = outputs[0] if single_out else outputs
    for argument, tensors in (("input_keys", inputs), ("output_keys", outputs)):
        keys = config.get(argument)
        if keys is None:
            continue
        _check(isinstance(keys, list) and len(keys) == len(tensors) and all(
            isinstance(k, str) and k for k in keys) and len(set(keys)) == len(keys),
            f"{argument} must be {len(tensors)} distinct names; got {keys!r:.100}")
        if argument == "input_keys":
            graph_inputs = dict(zip(keys, tensors))
        else:
            graph_outputs = dict(zip(keys, tensors))
    return model_class(graph_inputs, graph_outputs, name=config.get("name"))


def model_from_config(config: dict):
    """Rebuilds the model `model_config` described (layers from the registry).

    Example:
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((3,)), nn.Dense(2, name="out")])
        >>> model_from_config(model_config(m)).output_shape
        (2,)
    """
    _check(isinstance(config, dict), f"the model config must be an object; got {config!r:.100}")
    name = config.get("name")
    _check(name is None or isinstance(name, str), f"model name must be a str; got {name!r}")
    kind = config.get("class")
    if kind == "Sequential":
        entries = config.get("layers")
        _check(isinstance(entries, list) and entries, "a Sequential model needs layers")
        model = get_model_class("Sequential")([_layer_from_entry(e) for e in entries], name=name)
        if config.get("input_shape") is not None:
            model.build(_shape(config["input_shape"], "input_shape"))
        return model
    _check(kind == "Model", f"model class must be 'Sequential' or 'Model'; got {kind!r:.100}")
    return _functional_from_config(config)


# -- compile settings ----------------------------------------------------------------------
def compile_config(model) -> dict:
    """JSON form of `Model.compile`'s arguments (``"custom"`` where not data)."""
    args = model.compile_settings
    optimizer, learning_rate = args.get("optimizer", "adam"), args.get("learning_rate")
    if isinstance(optimizer, numbers.Real) and not isinstance(optimizer, bool):
        optimizer, learning_rate = "adam", float(optimizer)
    if isinstance(optimizer, str) and (learning_rate is None
                                       or isinstance(learning_rate, numbers.Real)):
        opt = {"name": optimizer.lower(),
               "learning_rate": None if learning_rate is None else float(learning_rate)}
        keywords = args.get("optimizer_keywords") or {}
        if keywords:
            if all(isinstance(v, (bool, int, float)) or v is None for v in keywords.values()):
                opt["keywords"] = dict(keywords)
            else:
                opt = {"name": "custom"}
    else:
        opt = {"name": "custom"}
    metrics = [metric.name for metric in model.compiled_metrics]
    per_output = None
    if model.compiled and model.heads and len(model.heads) > 1:
        per_output = [[m.name for m in model.metrics_for_output(i)]
                      for i in range(len(model.heads))]
    return {
        "optimizer": opt,
        "metrics": metrics,
        "output_metrics": per_output,
        # As logged: a clash with `metrics` made them ``weighted_<name>``.
        "weighted_metrics": [metric.name for metric in model.weighted_metrics],
        "kl_weight": float(args.get("kl_weight", 1.0)),
        "loss_weights": [float(w) for w in model.loss_weights],
    }


def optimizer_from_config(config):
    """``(optimizer, learning_rate, keywords)`` for `compile`, or None for a custom one."""
    _check(isinstance(config, dict), f"optimizer config must be an object; got {config!r:.100}")
    if config.get("name") == "custom":
        return None
    name, rate = config.get("name"), config.get("learning_rate")
    _check(isinstance(name, str), f"optimizer name must be a str; got {name!r:.100}")
    _check(rate is None or isinstance(rate, numbers.Real) and not isinstance(rate, bool),
           f"learning_rate must be a number or null; got {rate!r:.100}")
    keywords = config.get("keywords") or {}
    _check(isinstance(keywords, dict) and all(
        isinstance(k, str) and (isinstance(v, (bool, int, float)) or v is None)
        for k, v in keywords.items()),
        f"optimizer keywords must be an object of numbers; got {keywords!r:.100}")
    return name, rate, keywords


def heads_config(model) -> list:
    """Per likelihood head: class, constructor options and the shapes it was built with."""
    from probflow.nn import likelihoods

    out = []
    for head in model.heads if model.compiled else []:
        name = type(head).__name__
        entry = {
            "class": name,
            "options": {k: getattr(head, k) for k in _HEAD_OPTIONS if hasattr(head, k)},
            "built": None,
        }
        if getattr(likelihoods, name, None) is not type(head) or name == "Callable":
            entry = {"class": "custom", "name": head.name, "built": None}
        if head.built:
            entry["built"] = {
                "output_shape": list(head.output_shape),
                "target_shape": list(head.target_shape),
                "attributes": {k: getattr(head, k) for k in _HEAD_BUILT if hasattr(head, k)},
            }
        out.append(entry)
    return out


def _head_from_entry(entry):
    from probflow.nn import likelihoods

    _check(isinstance(entry, dict), f"a likelihood entry must be an object; got {entry!r:.100}")
    cls = getattr(likelihoods, str(entry.get("class")), None)
    _check(isinstance(cls, type) and issubclass(cls, likelihoods.Likelihood)
           and cls is not likelihoods.Callable,
           f"unknown likelihood class {entry.get('class')!r:.100}")
    options = entry.get("options") or {}
    _check(isinstance(options, dict) and set(options) <= set(_HEAD_OPTIONS),
           f"likelihood options must be a subset of {_HEAD_OPTIONS}; got {options!r:.100}")
    head = cls(**options)
    built = entry.get("built")
    if built is not None:
        _check(isinstance(built, dict), "likelihood 'built' must be an object")
        head.output_shape = _shape(built.get("output_shape"), "likelihood output_shape")
        target = built.get("target_shape")
        _check(isinstance(target, list) and all(isinstance(d, int) and d >= 0 for d in target),
               f"likelihood target_shape must be a list of ints; got {target!r:.100}")
        head.target_shape = tuple(target)
        attributes = built.get("attributes") or {}
        _check(isinstance(attributes, dict) and set(attributes) <= set(_HEAD_BUILT)
               and all(isinstance(v, bool) for v in attributes.values()),
               f"likelihood attributes must be booleans among {_HEAD_BUILT}")
        for key, value in attributes.items():
            setattr(head, key, value)
    return head


def heads_from_config(entries) -> list:
    """Likelihood heads rebuilt from `heads_config`; None where a head is custom."""
    _check(isinstance(entries, list) and entries, "the likelihood list must be non-empty")
    return [None if isinstance(e, dict) and e.get("class") == "custom" else _head_from_entry(e)
            for e in entries]
