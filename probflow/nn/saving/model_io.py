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

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]

MODEL_FORMAT = "probflow.model"
WEIGHTS_FORMAT = "probflow.weights"
FORMAT_VERSION = 1


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


def save_model(model, path) -> None:
    """Writes `model` (architecture, compile settings, full train state) to `path`.

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
    from probflow.nn.training.posterior import OWN_STATE_METHODS

    config = _header(MODEL_FORMAT)
    config["model"] = model_config(model)
    config["compile"] = compile_config(model) if model.compiled else None
    config["likelihood"] = heads_config(model) if model.compiled else None
    # A sampler's carry or an ensemble's stacked members are not a `TrainState` a fresh
    # model can describe; their posterior is the draws, stored below.
    has_state = model.train_state is not None and model._fitted_method not in OWN_STATE_METHODS
    arrays, key_impl = pack_train_state(model.train_state) if has_state else ({}, None)
    draws = getattr(model, "_weight_draws", None)
    config["weight_draws"] = None if draws is None else draws_config(draws)
    if draws is not None:
        arrays.update(pack_weight_draws(draws, getattr(model, "_sample_stats", None)))
    config["training"] = {
        "has_state": has_state,
        "key_impl": key_impl,
        "fitted_method": model._fitted_method,
        "num_train": getattr(model, "_num_train", None),
        "mean_weights": bool(model._mean_weights),
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
    learning_rate = None
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
            optimizer, learning_rate = named
    if metrics is None:
        names = spec.get("metrics") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: 'metrics' must be a list of names")
        try:
            metrics = [get_metric(n) for n in names]
        except ValueError:
            raise ValueError(f"{path}: the model uses custom metrics {names}; pass them again: "
                             "load_model(path, metrics=...)") from None
    kl_weight = spec.get("kl_weight", 1.0)
    if not isinstance(kl_weight, (int, float)) or isinstance(kl_weight, bool):
        raise ValueError(f"{path}: kl_weight must be a number; got {kl_weight!r:.100}")
    model.compile(optimizer=optimizer, likelihood=heads, metrics=metrics,
                  learning_rate=learning_rate, kl_weight=kl_weight)
    return restore_optimizer


def _restore_state(model, arrays, training, restore_optimizer, path):
    if not all(h.built for h in model._heads):
        raise ValueError(f"{path}: the saved train state needs built likelihood heads")
    template = abstract_train_state(model)
    if not restore_optimizer:
        template = template._replace(opt_state=None)
        arrays = {k: v for k, v in arrays.items() if not k.startswith("train_state/opt_state/")}
    state = unpack_train_state(template, arrays, training.get("key_impl"), source=path)
    if not restore_optimizer:
        state = state._replace(opt_state=model._optimizer.init(state.params))
    method = training.get("fitted_method")
    num_train = training.get("num_train")
    if method is not None and not isinstance(method, str):
        raise ValueError(f"{path}: fitted_method must be a str; got {method!r:.100}")
    if num_train is not None and (not isinstance(num_train, int) or num_train < 1):
        raise ValueError(f"{path}: num_train must be a positive int; got {num_train!r:.100}")
    model.train_state = state
    model.built = True
    model._fitted_method = method
    model._mean_weights = bool(training.get("mean_weights", False))
    if num_train is not None:
        model._num_train = num_train


def _restore_draws(model, spec, arrays, training, path):
    from probflow.nn.training.posterior import set_weight_draws

    known = ("train_state/",) + (() if spec is None else ("weight_draws/", "sample_stats/"))
    stray = sorted(name for name in arrays if not name.startswith(known))
    if stray:
        raise ValueError(f"holds array {stray[0]!r}, which this model does not have")
    if spec is None:
        return
    if not model.compiled or not all(h.built for h in model._heads):
        raise ValueError("weight draws are stored but no compile settings")
    method = training.get("fitted_method")
    if not isinstance(method, str):
        raise ValueError(f"fitted_method must name the method of the weight draws; got "
                         f"{method!r:.100}")
    weights, layer_state, stats = unpack_weight_draws(model, spec, arrays, source=path)
    set_weight_draws(model, weights, layer_state, method=method, stats=stats)
    num_train = training.get("num_train")
    if isinstance(num_train, int) and not isinstance(num_train, bool) and num_train >= 1:
        model._num_train = num_train


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
        _restore_draws(model, config.get("weight_draws"), arrays, training, path)
    except ValueError as err:
        if str(err).startswith(path):
            raise
        raise ValueError(f"{path}: {err}") from None
    except Exception as err:  # a tampered config can fail anywhere in a constructor
        raise ValueError(f"{path}: the config cannot be rebuilt into a model "
                         f"({type(err).__name__}: {err})") from None
    return model


def save_weights(model, path) -> None:
    """Writes the model's ``params`` and ``layer_state`` (no optimizer) to `path`.

    One set of weights: after a method whose posterior is a set of weight draws (nuts,
    hmc, SG-MCMC, ensemble) it raises; `save_model` stores the draws.

    Raises:
        ValueError: for an unfitted model or one fitted by a weight-draw method.

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
    if getattr(model, "_weight_draws", None) is not None:
        raise ValueError(
            f"save_weights stores one set of weights, but after method="
            f"{model._fitted_method!r} the posterior is {model._weight_draws.shape[0]} x "
            f"{model._weight_draws.shape[1]} (chains x draws) weight draws; use "
            "model.save(path), which stores them")
    state = model._require_state("save_weights")
    arrays = flatten_arrays(state.params, "params")
    arrays.update(flatten_arrays(state.layer_state, "layer_state"))
    config = _header(WEIGHTS_FORMAT)
    config["layers"] = {model.layer_name(layer): type(layer).__name__ for layer in model.layers}
    write_archive(path, config, arrays)


def load_weights(model, path) -> None:
    """Loads `save_weights`' arrays into `model`, checking every shape per layer.

    Before the first `fit` (the model must know its input shape), the weights are kept
    and the first `fit` starts from them.

    Raises:
        ValueError: naming the file and the layer whose weights are missing or do not
            fit (shape or dtype), or a file that is not a weights archive.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from probflow import nn
        >>> def fitted(seed):
        ...     m = nn.Sequential([nn.Input((2,)), nn.Dense(1, name="out")])
        ...     m.compile(likelihood="normal")
        ...     _ = m.fit(np.ones((4, 2), np.float32), np.ones(4, np.float32), epochs=1,
        ...               verbose=0, seed=seed)
        ...     return m
        >>> source, other = fitted(0), fitted(1)
        >>> path = os.path.join(tempfile.mkdtemp(), "w.probflow")
        >>> save_weights(source, path)
        >>> load_weights(other, path)
        >>> bool(np.all(other.params["layers"]["out"]["kernel"]
        ...             == source.params["layers"]["out"]["kernel"]))
        True
    """
    import jax

    path = os.fspath(path)
    config, arrays = read_archive(path)
    _check_header(config, WEIGHTS_FORMAT, path)
    state = model.train_state
    if state is None:
        if not model._graph_ready:
            raise ValueError("load_weights needs a model that knows its input shape: start it "
                             "with nn.Input(...), call model.build(input_shape) or fit it first")
        layer_params, layer_state = jax.eval_shape(model.init, jax.random.key(0))
    else:
        layer_params, layer_state = state.params["layers"], state.layer_state
    kwargs = {"source": path, "describe": describe_leaf}
    new_layers = unflatten_arrays(layer_params, arrays, "params/layers", **kwargs)
    new_state = unflatten_arrays(layer_state, arrays, "layer_state", **kwargs)
    if state is None:
        model._carried_weights = (new_layers, new_state)
        return
    heads = state.params["likelihood"]
    if any(k.startswith("params/likelihood/") for k in arrays):
        heads = unflatten_arrays(heads, arrays, "params/likelihood", **kwargs)
    model.train_state = state._replace(params={"layers": new_layers, "likelihood": heads},
                                       layer_state=new_state)
