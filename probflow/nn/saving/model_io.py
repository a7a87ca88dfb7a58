"""`save_model` / `load_model` and `save_weights` / `load_weights`.

A model archive holds the architecture, the compile settings, the likelihood heads as
built, the complete `TrainState` (params, layer state, optimizer state, RNG key,
epoch and step counters, KL weight) and, after a sampling method (NUTS, HMC, SG-MCMC,
ensembles), the posterior weight draws with their sampler statistics: a loaded model
predicts bit for bit like the saved one, and after VI or MAP continues training where it
stopped. A weights archive holds only ``params`` and ``layer_state``.
"""

from __future__ import annotations

import os
import warnings

import jax

from probflow.nn.saving.archive import read_archive, write_archive
from probflow.nn.saving.config import (
    compile_config,
    heads_config,
    heads_from_config,
    model_config,
    model_from_config,
    optimizer_from_config,
)
from probflow.nn.saving.draws_io import draws_config, pack_weight_draws, unpack_weight_draws
from probflow.nn.saving.train_state_io import (
    abstract_train_state,
    describe_leaf,
    pack_train_state,
    unpack_train_state,
)
from probflow.nn.saving.weights import flatten_arrays, unflatten_arrays
from probflow.nn.training.state import split_trainable

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]

MODEL_FORMAT = "probflow.model"
WEIGHTS_FORMAT = "probflow.weights"
FORMAT_VERSION = 1
# Weights files match by structure since version 2 (version 1 matched global names).
WEIGHTS_FORMAT_VERSION = 2
VARIABLES_PREFIX = "variables"
HEADS_PREFIX = "head_params"
FIXED_PREFIX = "weight_draws/fixed"


def _version() -> str:
    from probflow._version import __version__

    return __version__


def _header(kind: str) -> dict:
    return {"format": kind, "format_version": FORMAT_VERSION, "probflow_version": _version()}


def _check_header(config, kind, path):
    if config.get("format") != kind:
        raise ValueError(f"{path}: expected a {kind!r} archive; its config says format="
                         f"{config.get('format')!r:.100}")
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported format_version "
                         f"{config.get('format_version')!r:.100} (this probflow reads "
                         f"{FORMAT_VERSION})")


def _posterior_kind(posterior) -> str | None:
    return None if posterior is None else {
        "PointPosterior": "point", "VariationalPosterior": "variational",
        "DrawsPosterior": "draws"}[type(posterior).__name__]


def save_model(model, path) -> None:
    """Writes `model` (architecture, compile settings, variables, run state, posterior).

    Args:
        model: a `Sequential` or functional `Model`.
        path: destination file (conventionally ``*.probflow``); replaced atomically.

    Raises:
        ValueError: for a layer class that is not registered (nothing is written).

    Example:
        >>> import os, tempfile, numpy as np
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
        >>> m.compile(likelihood="normal")
        >>> _ = m.fit(np.ones((4, 2), np.float32), np.ones(4, np.float32), epochs=1, verbose=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "m.probflow")
        >>> save_model(m, path)
        >>> load_model(path).output_shape
        (1,)
    """
    from probflow.nn.training.fitted import DrawsPosterior

    config = _header(MODEL_FORMAT)
    config["model"] = model_config(model)
    config["compile"] = compile_config(model) if model.compiled else None
    config["likelihood"] = heads_config(model) if model.compiled else None
    run = model.training_run
    posterior = model.fitted_posterior
    # A layer-backed run (vi, map) holds the layers' variables and the heads' params in
    # its train state; a sampler's carry or an ensemble's members are not a `TrainState`
    # a fresh model can describe, so then the variables are stored on their own.
    has_state = model.train_state is not None and run["layer_backed"]
    arrays, key_impl = pack_train_state(model.train_state) if has_state else ({}, None)
    has_variables = not has_state and model.built
    if has_variables:
        arrays.update(flatten_arrays(model.params["layers"], VARIABLES_PREFIX + "/params"))
        arrays.update(flatten_arrays(model.layer_state, VARIABLES_PREFIX + "/state"))
    has_heads = not has_state and model.head_params is not None
    if has_heads:
        arrays.update(flatten_arrays(model.head_params, HEADS_PREFIX))
    draws = posterior.draws if isinstance(posterior, DrawsPosterior) else None
    config["weight_draws"] = None if draws is None else draws_config(draws)
    if draws is not None:
        arrays.update(pack_weight_draws(draws, posterior.stats))
        arrays.update(flatten_arrays(posterior.fixed, FIXED_PREFIX))
    config["training"] = {
        "has_state": has_state,
        "key_impl": key_impl,
        "has_variables": has_variables,
        "has_head_params": has_heads,
        "frozen": sorted(run["frozen"]) if has_state else [],
        "fitted_method": None if posterior is None else posterior.method,
        "posterior": _posterior_kind(posterior),
        "draws_frozen": sorted(posterior.fixed) if draws is not None else [],
        "num_train": None if posterior is None else posterior.num_train,
        "mean_weights": _posterior_kind(posterior) == "point",
    }
    write_archive(path, config, arrays)


def _resolve_heads(entries, likelihood, path):
    heads = heads_from_config(entries)
    if likelihood is not None:
        from probflow.nn.likelihoods import get_likelihood

        specs = list(likelihood) if isinstance(likelihood, (list, tuple)) else [likelihood]
        specs = specs * len(heads) if len(specs) == 1 else specs
        if len(specs) != len(heads):
            raise TypeError(f"`likelihood` must give {len(heads)} likelihoods; got {len(specs)}")
        built = [e.get("built") if isinstance(e, dict) else None for e in entries]
        heads = [get_likelihood(s) for s in specs]
        for head, info in zip(heads, built):
            if not head.built and isinstance(info, dict):
                head.build(tuple(info["output_shape"]), tuple(info["target_shape"]))
    if any(h is None for h in heads):
        raise ValueError(f"{path}: the model was compiled with a custom likelihood that "
                         "cannot be stored; pass it again: load_model(path, likelihood=...)")
    return heads


def _compile(model, config, *, optimizer, likelihood, metrics, path):
    from probflow.nn.metrics import get_metric

    spec = config["compile"]
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: 'compile' must be an object")
    heads = _resolve_heads(config.get("likelihood"), likelihood, path)
    restore_optimizer = True
    learning_rate, keywords = None, {}
    if optimizer is None:
        named = optimizer_from_config(spec.get("optimizer"))
        if named is None:
            warnings.warn(
                f"{path}: the model was compiled with a custom optax optimizer, which cannot "
                "be stored; recompiling with 'adam' and a fresh optimizer state. Pass "
                "load_model(path, optimizer=...) to restore the saved optimizer state.",
                stacklevel=3,
            )
            optimizer, restore_optimizer = "adam", False
        else:
            optimizer, learning_rate, keywords = named
    if metrics is None:
        names = spec.get("metrics") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: 'metrics' must be a list of names")
        per_output = spec.get("output_metrics")
        try:
            metrics = [get_metric(n) for n in names]
            if isinstance(per_output, list) and len(per_output) == len(heads) and all(
                    isinstance(items, list) and all(isinstance(n, str) for n in items)
                    for items in per_output):
                metrics = [[get_metric(n) for n in items] for items in per_output]
        except ValueError:
            raise ValueError(f"{path}: the model uses custom metrics {names}; pass them again: "
                             "load_model(path, metrics=...)") from None
    weighted = _weighted_metrics(spec.get("weighted_metrics") or [], path)
    kl_weight = spec.get("kl_weight", 1.0)
    if not isinstance(kl_weight, (int, float)) or isinstance(kl_weight, bool):
        raise ValueError(f"{path}: kl_weight must be a number; got {kl_weight!r:.100}")
    loss_weights = spec.get("loss_weights")
    if loss_weights is not None and not (
            isinstance(loss_weights, list) and len(loss_weights) == len(heads)
            and all(isinstance(w, (int, float)) and not isinstance(w, bool)
                    for w in loss_weights)):
        raise ValueError(f"{path}: loss_weights must be a list of {len(heads)} numbers")
    model.compile(optimizer=optimizer, likelihood=heads, metrics=metrics,
                  learning_rate=learning_rate, kl_weight=kl_weight, loss_weights=loss_weights,
                  weighted_metrics=weighted, **keywords)
    return restore_optimizer


def _weighted_metrics(names, path):
    """The saved weighted metrics (logged names; ``weighted_`` marks a renamed one)."""
    from probflow.nn.metrics import get_metric

    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{path}: 'weighted_metrics' must be a list of names")
    out = []
    for name in names:
        try:
            out.append(get_metric(name))
        except ValueError:
            try:
                out.append(get_metric(name.removeprefix("weighted_")))
            except ValueError:
                # A custom weighted metric cannot be rebuilt from its name: dropped.
                warnings.warn(f"{path}: the weighted metric {name!r} is custom and cannot be "
                              "restored; recompile with it to log it again", stacklevel=4)
    return out


def _names(training, key, path):
    names = training.get(key) or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{path}: training.{key} must be a list of layer names")
    return frozenset(names)


def _num_train(training, path):
    num_train = training.get("num_train")
    if num_train is not None and (isinstance(num_train, bool) or not isinstance(num_train, int)
                                  or num_train < 1):
        raise ValueError(f"{path}: num_train must be a positive int; got {num_train!r:.100}")
    return num_train


def _restore_state(model, arrays, training, restore_optimizer, path):
    if not all(h.built for h in model.heads):
        raise ValueError(f"{path}: the saved train state needs built likelihood heads")
    frozen = _names(training, "frozen", path)
    template = abstract_train_state(model, frozen)
    if not restore_optimizer:
        template = template._replace(opt_state=None)
        arrays = {k: v for k, v in arrays.items() if not k.startswith("train_state/opt_state/")}
    state = unpack_train_state(template, arrays, training.get("key_impl"), source=path)
    if not restore_optimizer:
        state = state._replace(opt_state=model.optimizer.init(
            split_trainable(state.params, frozen)[0]))
    # Build the layers (their variables are then replaced by the saved ones).
    model.build_variables(jax.random.key(0))
    model.begin_training(state, kind="gradient", layer_backed=True, frozen=frozen)


def _restore_variables(model, arrays, training, path):
    """The layers' variables and the heads' params stored beside a non-layer run."""
    kwargs = {"source": path, "describe": describe_leaf}
    if training.get("has_variables"):
        model.build_variables(jax.random.key(0))
        model.params = {"layers": unflatten_arrays(model.params["layers"], arrays,
                                                   VARIABLES_PREFIX + "/params", **kwargs),
                        "likelihood": []}
        model.layer_state = unflatten_arrays(model.layer_state, arrays,
                                             VARIABLES_PREFIX + "/state", **kwargs)
    if training.get("has_head_params"):
        if not model.compiled or not all(h.built for h in model.heads):
            raise ValueError("head parameters are stored but no built likelihood heads")
        template = jax.eval_shape(lambda k: [h.init(k) for h in model.heads], jax.random.key(0))
        model.head_params = unflatten_arrays(template, arrays, HEADS_PREFIX, **kwargs)


def _restore_draws(model, spec, arrays, training, path):
    from probflow.nn.training.fitted import DrawsPosterior
    from probflow.nn.training.posterior import stack_draws

    known = ("train_state/", VARIABLES_PREFIX + "/", HEADS_PREFIX + "/") + (
        () if spec is None else ("weight_draws/", "sample_stats/"))
    stray = sorted(name for name in arrays if not name.startswith(known))
    if stray:
        raise ValueError(f"holds array {stray[0]!r}, which this model does not have")
    if spec is None:
        return None
    if not model.compiled or not all(h.built for h in model.heads):
        raise ValueError("weight draws are stored but no compile settings")
    method = training.get("fitted_method")
    if not isinstance(method, str):
        raise ValueError(f"fitted_method must name the method of the weight draws; got "
                         f"{method!r:.100}")
    frozen = _names(training, "draws_frozen", path)
    weights, layer_state, stats = unpack_weight_draws(model, spec, arrays, source=path,
                                                      frozen=frozen)
    template = {name: shapes for name, shapes in _fixed_template(model).items()
                if name in frozen}
    fixed = unflatten_arrays(template, arrays, FIXED_PREFIX, source=path,
                             describe=describe_leaf)
    return DrawsPosterior(method, _num_train(training, path) or 1,
                          stack_draws(weights, layer_state), fixed, stats)


def _fixed_template(model):
    """Shapes of every layer's posterior-mean weights (what a frozen layer contributes)."""
    params, _ = jax.eval_shape(model.init, jax.random.key(0))
    return {model.layer_name(layer): jax.eval_shape(layer.mean_weights,
                                                    params[model.layer_name(layer)])
            for layer in model.layers}


def _restore_posterior(model, draws_posterior, training, path):
    from probflow.nn.training.fitted import PointPosterior, VariationalPosterior

    if draws_posterior is not None:
        return draws_posterior
    method = training.get("fitted_method")
    if method is None:
        return None
    if not isinstance(method, str):
        raise ValueError(f"{path}: fitted_method must be a str; got {method!r:.100}")
    kind = training.get("posterior") or ("point" if training.get("mean_weights")
                                         else "variational")
    if kind not in ("point", "variational"):
        raise ValueError(f"{path}: posterior kind {kind!r:.100} needs stored weight draws")
    if not model.built:
        raise ValueError(f"{path}: a {method} posterior is stored but no weights")
    cls = PointPosterior if kind == "point" else VariationalPosterior
    return cls(method, _num_train(training, path) or 1)


def load_model(path, *, optimizer=None, likelihood=None, metrics=None):
    """Rebuilds a model saved with `Model.save`: architecture, compile settings, state.

    Never unpickles and never runs code from the file: layers come from the layer
    registry (custom layers register with `nn.layers.register_layer`), arrays from
    ``numpy.load(allow_pickle=False)``, and every array is checked against the rebuilt
    model.

    Args:
        path: the archive.
        optimizer: the optax transformation, when the model was compiled with one
            (it cannot be stored); restores the saved optimizer state into it.
        likelihood: the likelihood(s), when the model used a callable one.
        metrics: the metrics, when the model used custom `Metric` objects.

    Returns:
        The model, compiled and (if it was fitted) with its train state and, after a
        sampling method or an ensemble, its weight draws restored.

    Raises:
        ValueError: naming the file, for anything corrupted, truncated, tampered or not
            matching the architecture it describes.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Dense(1)])
        >>> m.compile(likelihood="normal")
        >>> x = np.ones((4, 2), np.float32)
        >>> _ = m.fit(x, x.sum(1), epochs=1, verbose=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "m.probflow")
        >>> m.save(path)
        >>> bool((nn.load_model(path).predict(x) == m.predict(x)).all())
        True
    """
    path = os.fspath(path)
    config, arrays = read_archive(path)
    try:
        _check_header(config, MODEL_FORMAT, path)
        model = model_from_config(config.get("model"))
        training = config.get("training") or {}
        if not isinstance(training, dict):
            raise ValueError("'training' must be an object")
        restore_optimizer = True
        if config.get("compile") is not None:
            restore_optimizer = _compile(model, config, optimizer=optimizer,
                                         likelihood=likelihood, metrics=metrics, path=path)
        if training.get("has_state"):
            if not model.compiled:
                raise ValueError("a train state is stored but no compile settings")
            _restore_state(model, arrays, training, restore_optimizer, path)
        elif any(name.startswith("train_state/") for name in arrays):
            raise ValueError("holds train-state arrays but no train state")
        _restore_variables(model, arrays, training, path)
        draws = _restore_draws(model, config.get("weight_draws"), arrays, training, path)
        model.fitted_posterior = _restore_posterior(model, draws, training, path)
    except ValueError as err:
        if str(err).startswith(path):
            raise
        raise ValueError(f"{path}: {err}") from None
    except Exception as err:  # a tampered config can fail anywhere in a constructor
        raise ValueError(f"{path}: the config cannot be rebuilt into a model "
                         f"({type(err).__name__}: {err})") from None
    return model


def _layer_prefix(index: int) -> str:
    return f"layers/{index:04d}"


def save_weights(model, path) -> None:
    """Writes every layer's variables (and the heads' params) to `path`, by position.

    Entry i of the file is the model's i-th layer (its class and name are recorded), so
    `load_weights` matches by structure: the same architecture built again in any
    process and in any order loads it, whatever the layers' automatic names.
    One set of weights: after a method whose posterior is a set of weight draws (nuts,
    hmc, SG-MCMC, ensemble) it raises; `save_model` stores the draws.

    Raises:
        ValueError: for an unbuilt model or one fitted by a weight-draw method.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from probflow import nn
        >>> m = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
        >>> m.compile(likelihood="normal")
        >>> _ = m.fit(np.ones((4, 2), np.float32), np.ones(4, np.float32), epochs=1, verbose=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "w.probflow")
        >>> save_weights(m, path)
        >>> os.path.isfile(path)
        True
    """
    from probflow.nn.training.fitted import DrawsPosterior

    posterior = model.fitted_posterior
    if isinstance(posterior, DrawsPosterior):
        raise ValueError(
            f"save_weights stores one set of weights, but after method="
            f"{posterior.method!r} the posterior is {posterior.draws.shape[0]} x "
            f"{posterior.draws.shape[1]} (chains x draws) weight draws; use "
            "model.save(path), which stores them")
    if not model.built:
        raise ValueError("`save_weights` needs a built model: fit it first (or call "
                         "model.build_variables(key))")
    arrays, entries = {}, []
    for index, layer in enumerate(model.layers):
        arrays.update(flatten_arrays(layer.params, _layer_prefix(index) + "/params"))
        arrays.update(flatten_arrays(layer.state, _layer_prefix(index) + "/state"))
        entries.append({"name": model.layer_name(layer), "class": type(layer).__name__})
    if model.head_params is not None:
        arrays.update(flatten_arrays(model.head_params, HEADS_PREFIX))
    config = _header(WEIGHTS_FORMAT)
    config["format_version"] = WEIGHTS_FORMAT_VERSION
    config["layers"] = entries
    write_archive(path, config, arrays)


def _file_layers(config, arrays, path):
    """``[(name, class, {"params": {...}, "state": {...}})]`` of a weights file."""
    entries = config.get("layers")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str)
            and isinstance(e.get("class"), str) for e in entries):
        raise ValueError(f"{path}: 'layers' must be a list of {{'name', 'class'}} objects")
    out = []
    for index, entry in enumerate(entries):
        prefix = _layer_prefix(index) + "/"
        found = {"params": {}, "state": {}}
        for name, value in arrays.items():
            if name.startswith(prefix):
                collection, _, key = name[len(prefix):].partition("/")
                if collection not in found or not key:
                    raise ValueError(f"{path}: unexpected array {name!r}")
                found[collection][key] = value
        out.append((entry["name"], entry["class"], found))
    known = tuple(_layer_prefix(i) + "/" for i in range(len(entries))) + (HEADS_PREFIX + "/",)
    stray = sorted(name for name in arrays if not name.startswith(known))
    if stray:
        raise ValueError(f"{path}: holds array {stray[0]!r}, which no layer entry names")
    return out


def _v1_layers(config, arrays, path):
    """Version-1 weights files (``params/layers/<name>/...``): entries by name."""
    names = config.get("layers")
    if not isinstance(names, dict):
        raise ValueError(f"{path}: 'layers' must be an object")
    out = []
    for name, cls in names.items():
        found = {"params": {}, "state": {}}
        for collection, prefix in (("params", f"params/layers/{name}/"),
                                   ("state", f"layer_state/{name}/")):
            for key, value in arrays.items():
                if key.startswith(prefix):
                    found[collection][key[len(prefix):]] = value
        out.append((name, cls, found))
    heads = {k.replace("params/likelihood/", HEADS_PREFIX + "/", 1): v
             for k, v in arrays.items() if k.startswith("params/likelihood/")}
    return out, heads


def _shape_problem(layer, found):
    for collection in ("params", "state"):
        have = getattr(layer, collection)
        if set(found[collection]) != set(have):
            return (f"{collection} {sorted(found[collection])} in the file, "
                    f"{sorted(have)} in the layer")
        for key, value in found[collection].items():
            if tuple(value.shape) != tuple(have[key].shape):
                return (f"{collection} {key!r} has shape {tuple(value.shape)} in the file, "
                        f"{tuple(have[key].shape)} in the layer")
    return None


def load_weights(model, path, *, by_name=False, skip_mismatch=False) -> None:
    """Loads `save_weights`' file into `model`'s layers, matched by structure.

    Layer i of the model takes entry i of the file (class and every shape checked), so
    the same architecture built in another process, in any order, loads it. An unbuilt
    model whose input shape is known is built first.

    Args:
        model: the model to load into.
        path: a file written by `save_weights`.
        by_name: match layers by name instead of position (Keras's ``by_name``): a
            layer with no entry of its name keeps its weights.
        skip_mismatch: skip (with a warning) layers whose class or shapes differ
            instead of raising, e.g. a new head on a pre-trained body.

    Raises:
        ValueError: naming the file and the layer whose weights are missing or do not
            fit (class, shape), or a file that is not a weights archive.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from probflow import nn
        >>> def fitted(seed):
        ...     m = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
        ...     m.compile(likelihood="normal")
        ...     _ = m.fit(np.ones((4, 2), np.float32), np.ones(4, np.float32), epochs=1,
        ...               verbose=0, seed=seed)
        ...     return m
        >>> source, other = fitted(0), fitted(1)
        >>> path = os.path.join(tempfile.mkdtemp(), "w.probflow")
        >>> save_weights(source, path)
        >>> load_weights(other, path)
        >>> bool(np.all(other.layers[0].params["kernel"] == source.layers[0].params["kernel"]))
        True
    """
    path = os.fspath(path)
    config, arrays = read_archive(path)
    if config.get("format") != WEIGHTS_FORMAT:
        _check_header(config, WEIGHTS_FORMAT, path)
    version = config.get("format_version")
    if version == 1:
        entries, heads = _v1_layers(config, arrays, path)
        by_name = True
    elif version == WEIGHTS_FORMAT_VERSION:
        entries = _file_layers(config, arrays, path)
        heads = {k: v for k, v in arrays.items() if k.startswith(HEADS_PREFIX + "/")}
    else:
        raise ValueError(f"{path}: unsupported weights format_version {version!r:.100} (this "
                         f"probflow reads 1 and {WEIGHTS_FORMAT_VERSION})")
    if not model.graph_ready:
        raise ValueError("load_weights needs a model that knows its input shape: start it "
                         "with nn.Input(...), call model.build(input_shape) or fit it first")
    model.build_variables(jax.random.key(0))
    layers = model.layers
    if by_name:
        by = {name: (name, cls, found) for name, cls, found in entries}
        pairs = [(layer, by.get(model.layer_name(layer))) for layer in layers]
    else:
        if len(entries) != len(layers) and not skip_mismatch:
            raise ValueError(f"{path}: holds weights of {len(entries)} layers; this model has "
                             f"{len(layers)} (pass skip_mismatch=True to load the matching "
                             "ones, or by_name=True)")
        pairs = [(layer, entries[i] if i < len(entries) else None)
                 for i, layer in enumerate(layers)]
    updates = []
    for layer, entry in pairs:
        if entry is None:
            continue
        name, cls, found = entry
        problem = (f"class {cls} in the file, {type(layer).__name__} in the model"
                   if cls != type(layer).__name__ else _shape_problem(layer, found))
        if problem is not None:
            message = (f"{path}: layer {model.layer_name(layer)!r} does not match the file's "
                       f"entry {name!r}: {problem}")
            if not skip_mismatch:
                raise ValueError(message)
            warnings.warn(message + "; skipped (skip_mismatch=True)", stacklevel=2)
            continue
        updates.append((layer, found))
    # Everything is checked before anything is assigned: a failed load changes nothing.
    for layer, found in updates:
        layer.assign_variables(params=found["params"], state=found["state"])
    if heads and model.head_params is not None:
        template = jax.eval_shape(lambda: model.head_params)
        model.head_params = unflatten_arrays(template, heads, HEADS_PREFIX, source=path,
                                             describe=describe_leaf)
