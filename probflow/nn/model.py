"""`Model`: a graph of layers with Keras's compile / fit / evaluate / predict shell.

The model object is the stateful shell (docs/internals.md, "nn state"). Inside,
everything is pure: `forward` runs the layer graph on ``(params, layer_state,
inputs)``; training lives in `probflow.nn.training` (one jitted
``train_step(state, batch) -> (state, logs)``, an epoch as one `lax.scan`). Outside,
the layers own their variables, the model owns the likelihood heads' parameters, the
state of the current training run (`train_state`) and the fitted posterior
(`fitted_posterior`, one value that `fit` assigns from what the fitter returns).
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp

from probflow.nn.functional import SymbolicTensor, topological_nodes
from probflow.nn.saving.registry import register_model_class
from probflow.nn.training.fitted import FittedPosterior

__all__ = ["Model"]


def _as_tensor_list(tensors, argname):
    """``(tensors, single, keys)``: a list of tensors from one tensor, a list or a dict
    (`keys` are the dict's names, None otherwise)."""
    single = isinstance(tensors, SymbolicTensor)
    keys = None
    if isinstance(tensors, dict):
        keys = list(tensors)
        if not all(isinstance(k, str) and k for k in keys):
            raise TypeError(f"`{argname}` dict keys must be non-empty str; got {keys}")
        items = list(tensors.values())
    else:
        items = [tensors] if single else list(tensors) if isinstance(tensors, (list, tuple)) \
            else None
    if not items or not all(isinstance(t, SymbolicTensor) for t in items):
        raise TypeError(f"`{argname}` must be a SymbolicTensor (from nn.Input or a layer call), "
                        f"a list or a dict of them; got {type(tensors).__name__}")
    return items, single, keys


@contextlib.contextmanager
def _hooks(model, callbacks, phase):
    """Runs `phase` ("predict" / "test") begin and end hooks around a block; yields the
    `CallbackList` (for the per-batch hooks), under `jax.disable_jit` when the model
    was compiled with ``run_eagerly=True``."""
    from probflow.nn.callbacks.base import CallbackList

    cbs = CallbackList(callbacks, model=model)
    with model.execution():
        getattr(cbs, f"on_{phase}_begin")()
        logs = {}
        yield cbs, logs
        getattr(cbs, f"on_{phase}_end")(logs or None)


def _with_nll(metrics):
    """`metrics` with ``nll`` first and each name once."""
    from probflow.nn.metrics import get_metric

    out, seen = [], set()
    for metric in [get_metric("nll")] + list(metrics):
        if metric.name not in seen:
            seen.add(metric.name)
            out.append(metric)
    return out


def _weighted(specs, unweighted, heads):
    """The weighted metrics' `Metric` objects, renamed ``weighted_<name>`` on a clash."""
    from probflow.nn.metrics import Metric, check_metrics_for_heads, get_metric

    if specs is None:
        return []
    if isinstance(specs, (str, Metric)) or callable(specs):
        specs = [specs]
    if not isinstance(specs, (list, tuple)):
        raise TypeError("`weighted_metrics` must be a list of metric names, Metric objects or "
                        f"functions; got {type(specs).__name__}")
    resolved = [get_metric(spec) for spec in specs]
    check_metrics_for_heads(resolved, heads)
    taken = {m.name for m in unweighted}
    out = []
    for metric in resolved:
        if metric.name in taken:
            metric = metric._replace(name=f"weighted_{metric.name}")
        if metric.name in taken:
            raise ValueError(f"`weighted_metrics` names {metric.name!r} twice")
        taken.add(metric.name)
        out.append(metric)
    return out


def _likelihood_head(spec):
    from probflow.nn.likelihoods import get_likelihood

    return get_likelihood(spec)


def _loss_head(spec, from_logits):
    """A head for a `loss=` entry: Keras loss names first, then probflow likelihoods."""
    from probflow.nn.likelihoods import Likelihood, get_likelihood
    from probflow.nn.losses import likelihood_for_loss

    if isinstance(spec, Likelihood):
        return spec
    try:
        return likelihood_for_loss(spec, from_logits=from_logits)
    except ValueError as loss_error:
        if isinstance(spec, str) and from_logits is None:
            try:
                return get_likelihood(spec)
            except ValueError:
                pass
        raise loss_error from None


@register_model_class
class Model:
    """A functional model: the layer graph from `inputs` to `outputs`.

    Args:
        inputs: an `nn.Input` tensor or a list of them.
        outputs: a symbolic tensor (a layer call's result) or a list of them.
        name: display name.

    Calling one layer object on two tensors shares its params (one entry in
    `model.params`). Several outputs need one likelihood each in `compile`.

    Example:
        >>> import numpy as np
        >>> from probflow import nn
        >>> x = nn.Input((3,))
        >>> model = nn.Model(x, nn.Dense(1)(nn.Dense(8, activation="relu")(x)))
        >>> model.compile(optimizer="adam", likelihood="normal")
        >>> data_x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
        >>> history = model.fit(data_x, data_x.sum(1), epochs=2, verbose=0)
        >>> model.predict(data_x[:5], num_samples=4).shape
        (5, 1)
    """

    def __init__(self, inputs, outputs, *, name=None):
        self.name = name or type(self).__name__.lower()
        self._init_shell()
        self._set_graph(inputs, outputs)

    def _init_shell(self):
        self._graph_ready = False
        self.compiled = False
        self.stop_training = False
        # Set by the training loop: whether the last fit ran all its epochs (or stopped
        # on request) rather than being interrupted; BackupAndRestore reads it.
        self.training_completed = False
        self.history = None
        self.initial_epoch = 0
        self._heads = None
        self._metrics = ()
        self._weighted_metrics = ()
        self._output_metrics = None
        self._optimizer = None
        self._compile_args = {}
        self._kl_weight_init = 1.0
        self._loss_weights = (1.0,)
        self.run_eagerly = False
        #: Compiled programs of this model, keyed by their users (cleared by `compile`).
        self.program_cache = {}
        self._head_params = None
        # The current/last training run (see `begin_training`).
        self._run_state = None
        self._run_kind = None
        self._run_layer_backed = False
        self._run_frozen = frozenset()
        self._run_posterior = None
        self._fitting = False
        self._fitted_posterior = None

    # -- graph ---------------------------------------------------------------------------
    def _set_graph(self, inputs, outputs):
        self._inputs, self._single_input, self._input_keys = _as_tensor_list(inputs, "inputs")
        self._outputs, self._single_output, self._output_keys = _as_tensor_list(outputs,
                                                                                "outputs")
        self._nodes = topological_nodes(self._inputs, self._outputs)
        layers, names = [], {}
        first_shape = {}
        for node in self._nodes:
            layer = node.layer
            if id(layer) in names:
                if node.input_shape != first_shape[id(layer)]:
                    raise ValueError(
                        f"layer {names[id(layer)]!r} is reused on inputs of shape "
                        f"{node.input_shape} but was first called on {first_shape[id(layer)]}; "
                        "a shared layer needs the same input shape"
                    )
                continue
            name = getattr(layer, "name", None) or type(layer).__name__.lower()
            if name in names.values():
                raise ValueError(f"two different layers are named {name!r}; layer names in a "
                                 "model must be unique (pass name=...)")
            names[id(layer)] = name
            first_shape[id(layer)] = node.input_shape
            layers.append(layer)
        self._layers = layers
        self._layer_names = names
        self._first_node_index = {}
        for i, node in enumerate(self._nodes):
            self._first_node_index.setdefault(id(node.layer), i)
        self._layer_input_shapes = first_shape
        for layer in layers:
            built_for = getattr(layer, "built_input_shape", None)
            wanted = first_shape[id(layer)]
            if built_for is not None and built_for != (
                    [tuple(s) for s in wanted] if isinstance(wanted, list) else tuple(wanted)):
                raise ValueError(
                    f"layer {names[id(layer)]!r} was built for inputs of shape {built_for} but "
                    f"is called here on {wanted}; a reused layer keeps its weights, so it needs "
                    "the same input shape")
        self._graph_ready = True

    @property
    def layers(self) -> list:
        """The distinct layers, in execution order."""
        return list(self._layers) if self._graph_ready else []

    def layer_name(self, layer) -> str:
        """The key of `layer` in ``model.params["layers"]``."""
        return self._layer_names[id(layer)]

    def get_layer(self, name=None, index=None):
        """A layer by name or by its index in `layers` (Keras's ``get_layer``).

        Example:
            >>> from probflow import nn
            >>> m = nn.Sequential([nn.Input((2,)), nn.Dense(3, name="hidden"), nn.Dense(1)])
            >>> m.get_layer("hidden").name, m.get_layer(index=1).units
            ('hidden', 1)
        """
        if (name is None) == (index is None):
            raise ValueError("get_layer: pass exactly one of `name` or `index`")
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int) or not (
                    -len(layers) <= index < len(layers)):
                raise ValueError(f"get_layer: `index` must be an int in [0, {len(layers)}); "
                                 f"got {index!r}")
            return layers[index]
        for layer in layers:
            if self._layer_names[id(layer)] == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; the model has "
                         f"{[self._layer_names[id(lay)] for lay in layers]}")

    # -- graph, read-only (saving, summary and training read these) ----------------------
    @property
    def graph_ready(self) -> bool:
        """Whether the layer graph is wired (a Sequential without `Input` waits for data)."""
        return self._graph_ready

    @property
    def inputs(self) -> list:
        """The input `SymbolicTensor`s."""
        return list(self._inputs) if self._graph_ready else []

    @property
    def outputs(self) -> list:
        """The output `SymbolicTensor`s."""
        return list(self._outputs) if self._graph_ready else []

    @property
    def nodes(self) -> list:
        """The layer calls (`functional.Node`) in execution order."""
        return list(self._nodes) if self._graph_ready else []

    @property
    def single_input(self) -> bool:
        """Whether the model takes one array (not a list of arrays)."""
        return self._single_input

    @property
    def single_output(self) -> bool:
        """Whether the model returns one array (not a list)."""
        return self._single_output

    def layer_input_shape(self, layer):
        """The per-example input shape `layer` is called on in this model."""
        return self._layer_input_shapes[id(layer)]

    def output_names(self) -> list:
        """ArviZ names of the observed outputs: ``["y"]`` or ``["y_0", "y_1", ...]``."""
        n = len(self._outputs)
        return ["y"] if n == 1 else [f"y_{i}" for i in range(n)]

    @property
    def input_shapes(self) -> list:
        """Per-example shapes of the inputs."""
        return [t.shape for t in self._inputs]

    @property
    def output_shapes(self) -> list:
        """Per-example shapes of the outputs."""
        return [t.shape for t in self._outputs]

    @property
    def input_shape(self):
        """Per-example input shape (a list for several inputs)."""
        shapes = self.input_shapes
        return shapes[0] if self._single_input else shapes

    @property
    def output_shape(self):
        """Per-example output shape (a list for several outputs)."""
        shapes = self.output_shapes
        return shapes[0] if self._single_output else shapes

    def ensure_graph(self, input_shapes):
        """Hook for models that learn their input shape from data (Sequential)."""
        del input_shapes

    # -- pure functions ------------------------------------------------------------------
    def init(self, key):
        """Initialises every layer once: returns ``(layer_params, layer_state)`` dicts.

        Args:
            key: a `jax.random` key (folded with each layer's index).
        """
        params, state = {}, {}
        for i, layer in enumerate(self._layers):
            name = self._layer_names[id(layer)]
            params[name], state[name] = layer.init(
                jax.random.fold_in(key, i), self._layer_input_shapes[id(layer)]
            )
        return params, state

    def build_variables(self, key) -> None:
        """Builds every layer that does not own variables yet (layer i from ``fold_in(key, i)``).

        Built layers keep their weights: a layer reused from another model, or loaded
        with `load_weights`, is not re-initialised.
        """
        for i, layer in enumerate(self.layers):
            layer.build_variables(jax.random.fold_in(key, i),
                                  self._layer_input_shapes[id(layer)])

    @property
    def frozen_layer_names(self) -> frozenset:
        """Names of the layers whose `trainable` is False."""
        return frozenset(self._layer_names[id(layer)] for layer in self.layers
                         if not layer.trainable)

    def _frozen_inference(self, layer, frozen):
        return frozen is not None and self._layer_names[id(layer)] in frozen and getattr(
            layer, "inference_when_frozen", False)

    def forward(self, layer_params, layer_state, inputs, *, key=None, training=False,
                mean_weights=False, explicit_weights=False, frozen=None):
        """Runs the graph on a batch (pure; jit/vmap/grad friendly).

        Args:
            layer_params: ``{layer name: params}``.
            layer_state: ``{layer name: state}``.
            inputs: list of input arrays (leading batch axis), one per model input.
            key: a `jax.random` key for stochastic layers (folded with each call's index).
            training: training-mode behaviour for Dropout / BatchNormalization.
            mean_weights: run Bayesian layers at their posterior-mean weights
                (`apply_with_weights(mean_weights(params))`; used by MAP).
            explicit_weights: `layer_params` holds weights (``{layer name: weights}``,
                the weight-space view), run through `apply_with_weights` (NUTS, SG-MCMC,
                ensembles).
            frozen: names of frozen layers; those with ``inference_when_frozen``
                (BatchNormalization) run in inference mode even in training.

        Returns:
            ``(outputs, new_layer_state)`` with `outputs` a list, one per model output.
        """
        values = {id(t): x for t, x in zip(self._inputs, inputs)}
        new_state = dict(layer_state)
        for i, node in enumerate(self._nodes):
            layer = node.layer
            name = self._layer_names[id(layer)]
            args = [values[id(t)] for t in node.input_tensors]
            layer_input = args if isinstance(node.inputs, list) else args[0]
            node_key = None if key is None else jax.random.fold_in(key, i)
            params = layer_params[name]
            mode = training and not self._frozen_inference(layer, frozen)
            if explicit_weights:
                y, new_state[name] = layer.apply_with_weights(
                    params, new_state[name], layer_input, key=node_key, training=mode
                )
            elif mean_weights:
                y, new_state[name] = layer.apply_with_weights(
                    layer.mean_weights(params), new_state[name], layer_input,
                    key=node_key, training=mode,
                )
            else:
                y, new_state[name] = layer.apply(
                    params, new_state[name], layer_input, key=node_key, training=mode
                )
            values[id(node.output)] = y
        return [values[id(t)] for t in self._outputs], new_state

    def kl(self, layer_params, key):
        """Sum over layers of KL(posterior || prior) (each shared layer once).

        Each layer gets the key its first call receives in `forward` with the same
        `key`, so a Monte-Carlo KL is evaluated at the weights that call drew.
        """
        total = 0.0
        for layer in self._layers:
            node_key = jax.random.fold_in(key, self._first_node_index[id(layer)])
            total = total + layer.kl(layer_params[self._layer_names[id(layer)]], node_key)
        return total

    def log_prior_at_mean(self, layer_params):
        """Sum over layers of the weight prior's log density at the posterior-mean weights."""
        total = 0.0
        for layer in self._layers:
            params = layer_params[self._layer_names[id(layer)]]
            total = total + layer.log_prior(layer.mean_weights(params))
        return total

    # -- compile ---------------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, *, likelihood=None,
                learning_rate=None, kl_weight=1.0, loss_weights=None, weighted_metrics=None,
                from_logits=None, run_eagerly=False, **optimizer_keywords):
        """Chooses the optimizer, the likelihood head(s) and the metrics (Keras's order).

        Args:
            optimizer: a name (``"adam"``, ``"sgd"``, ``"adamw"``, ``"lion"``, ... or a
                Keras class spelling), a learning rate, an optax schedule, or an optax
                `GradientTransformation`.
            loss: Keras-style: a Keras loss name (``"sparse_categorical_crossentropy"``,
                ``"categorical_crossentropy"``, ``"binary_crossentropy"``, ``"mse"``,
                ``"mae"``, ``"poisson"``, ...; `probflow.nn.losses`), a probflow
                likelihood name or object, or a function ``fn(y_true, y_pred)`` (a
                Gibbs likelihood); a list (or a dict by output name) for several outputs.
            metrics: metric names (``"accuracy"``, ``"rmse"``, ``"nll"``, ``"brier"``,
                ``"ece"``, ``"coverage"``, ...), `Metric` objects or functions
                ``fn(y_true, y_pred)``.
            likelihood: probflow's spelling: ``"normal"`` (the default), ``"studentt"``,
                ``"bernoulli"``, ``"categorical"``, ``"poisson"``, a
                `probflow.nn.likelihoods.Likelihood`, a callable
                ``fn(outputs) -> Distribution``; a list for several outputs. Give `loss`
                or `likelihood`, not both.
            learning_rate: learning rate (float or schedule) of a named optimizer.
            kl_weight: initial KL weight beta of the VI loss (a KLAnnealing callback
                changes ``model.kl_weight`` between epochs without recompiling).
            loss_weights: one weight per output (a list, or a dict by output name)
                multiplying that output's log-likelihood in the training objective.
            weighted_metrics: metrics (as `metrics`) weighted by the ``sample_weight`` /
                ``class_weight`` of `fit` and the ``sample_weight`` of `evaluate`: each
                is the weighted mean ``sum(w * value) / sum(w)``, as in Keras. Logged
                under the metric's name, or ``weighted_<name>`` when `metrics` (or the
                always-present ``nll``) already has that name; on every output.
            from_logits: for Keras cross-entropy losses: whether the network outputs
                logits (True) or probabilities (False, Keras's default).
            run_eagerly: run fit / evaluate / predict without `jit` (op by op), so
                ``print`` and breakpoints in a custom layer's `call` see values; same
                results as compiled, to rounding, and much slower.
            **optimizer_keywords: Keras optimizer keywords (``momentum``, ``nesterov``,
                ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``weight_decay``,
                ``beta_1``, ...; `probflow.nn.optimizers.get_optimizer`).

        Compiling again keeps every layer's weights (they belong to the layers) and
        starts a fresh optimizer state and fresh likelihood heads, as in Keras.
        """
        from probflow.nn.metrics import check_metrics_for_heads, get_metric
        from probflow.nn.training.state import make_optimizer

        if loss is not None and likelihood is not None:
            raise ValueError("compile: give `loss` or `likelihood`, not both; got "
                             f"loss={loss!r} and likelihood={likelihood!r}")
        n_out = len(self._outputs) if self._graph_ready else 1
        if likelihood is not None or loss is None:
            specs = self._per_output(likelihood if likelihood is not None else "normal",
                                     "likelihood", n_out)
            heads = [_likelihood_head(s) for s in specs]
        else:
            specs = self._per_output(loss, "loss", n_out)
            heads = [_loss_head(s, from_logits) for s in specs]
        if len({id(h) for h in heads}) != len(heads):
            raise ValueError("`likelihood` objects must be distinct for different outputs")
        weights = [1.0] * len(heads) if loss_weights is None else [
            float(w) for w in self._per_output(loss_weights, "loss_weights", len(heads))]
        if any(not w >= 0 for w in weights):
            raise ValueError(f"`loss_weights` must be >= 0; got {loss_weights!r}")
        per_output = isinstance(metrics, dict) or (
            isinstance(metrics, (list, tuple)) and len(heads) > 1 and len(metrics) == len(heads)
            and all(isinstance(m, (list, tuple)) for m in metrics))
        if per_output:
            lists = self._per_output(metrics, "metrics", len(heads))
            self._output_metrics = [_with_nll([get_metric(m) for m in (items or [])])
                                    for items in lists]
            for items, head in zip(self._output_metrics, heads):
                check_metrics_for_heads(items, [head])
            names = _with_nll([m for items in self._output_metrics for m in items])
        else:
            self._output_metrics = None
            names = _with_nll([get_metric(m) for m in (metrics or [])])
            check_metrics_for_heads(names, heads)
        weighted = _weighted(weighted_metrics, names, heads)
        self._optimizer = make_optimizer(optimizer, learning_rate, **optimizer_keywords)
        self._check_output_activations(heads)
        # Kept as given so `save` can write them as data (names and numbers).
        self._compile_args = {"optimizer": optimizer, "learning_rate": learning_rate,
                              "kl_weight": kl_weight, "optimizer_keywords": optimizer_keywords,
                              "loss_weights": weights}
        self._heads = heads
        self._loss_weights = tuple(weights)
        self._metrics = tuple(names)
        self._weighted_metrics = tuple(weighted)
        self._kl_weight_init = float(kl_weight)
        self.run_eagerly = bool(run_eagerly)
        self.program_cache = {}
        self.compiled = True
        self._head_params = None
        self._end_run()
        self._fitted_posterior = None

    def _per_output(self, spec, argname, n_out):
        """One entry per output from a single value, a list or a dict by output name."""
        if isinstance(spec, dict):
            names = self.output_keys()
            unknown = sorted(set(spec) - set(names))
            missing = [n for n in names if n not in spec]
            if unknown or missing:
                raise ValueError(f"`{argname}` keys must be the output names {names}; got "
                                 f"{sorted(spec)}")
            return [spec[n] for n in names]
        items = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        if len(items) == 1 and n_out > 1:
            items = items * n_out
        if len(items) != n_out:
            raise ValueError(f"`{argname}` must give one entry per output ({n_out}); "
                             f"got {len(items)}")
        return items

    def output_keys(self) -> list:
        """Names of the outputs (the keys of dict arguments such as ``loss=``, ``y=``):
        the model's dict keys when it was built with a dict, else the layers' names."""
        if getattr(self, "_output_keys", None) is not None:
            return list(self._output_keys)
        return [t.node.layer.name if t.node is not None else t.name for t in self.outputs]

    def input_keys(self) -> list:
        """Names of the inputs (keys of a dict ``x``): the dict keys the model was built
        with, else the `Input` names."""
        if getattr(self, "_input_keys", None) is not None:
            return list(self._input_keys)
        return [t.name for t in self.inputs]

    @property
    def dict_outputs(self) -> bool:
        """Whether the model was built with a dict of outputs (predict returns a dict)."""
        return getattr(self, "_output_keys", None) is not None

    @property
    def dict_inputs(self) -> bool:
        """Whether the model was built with a dict of inputs."""
        return getattr(self, "_input_keys", None) is not None

    def metrics_for_output(self, index) -> tuple:
        """The metrics computed on output `index` (``nll`` first)."""
        return self._output_metrics[index] if self._output_metrics else self._metrics

    def _check_output_activations(self, heads):
        from probflow.nn.losses import output_activation_check

        for tensor, head in zip(self.outputs, heads):
            if tensor.node is not None:
                output_activation_check(tensor.node.layer, head)

    # -- compile settings, read-only -------------------------------------------------------
    @property
    def heads(self) -> list:
        """The likelihood heads (`probflow.nn.likelihoods.Likelihood`), one per output."""
        if self._heads is None:
            raise ValueError("the model must be compiled first: call "
                             "model.compile(optimizer=..., loss=...)")
        return list(self._heads)

    @property
    def compiled_metrics(self) -> tuple:
        """The `Metric` objects `compile` resolved (``nll`` first)."""
        return self._metrics

    @property
    def weighted_metrics(self) -> tuple:
        """The `Metric` objects of ``compile(weighted_metrics=...)``, named as logged."""
        return self._weighted_metrics

    @property
    def optimizer(self):
        """The optax transformation `compile` built."""
        return self._optimizer

    @property
    def compile_settings(self) -> dict:
        """`compile`'s optimizer, learning rate and KL weight as given (for saving)."""
        return dict(self._compile_args)

    @property
    def initial_kl_weight(self) -> float:
        """The KL weight a new training run starts with."""
        return self._kl_weight_init

    @property
    def loss_weights(self) -> tuple:
        """Per-output weights of the log-likelihood in the training objective."""
        return self._loss_weights

    # -- training / inference (implemented in probflow.nn.training) ---------------------
    def fit(self, x, y=None, epochs=1, batch_size=32, validation_data=None,
            validation_split=0.0, shuffle=True, callbacks=None, method="vi", seed=0, verbose=1,
            *, initial_epoch=0, validation_samples=10, sample_weight=None, class_weight=None,
            steps_per_epoch=None, num_train=None, stream=None, validation_steps=None,
            **options):
        """Fits the network; returns a `History` (``history.history["loss"]``, ...).

        Args:
            x: input array ``(n, ...)`` (a list of arrays for several inputs); or, with
                ``y=None``, an iterable of ``(x, y)`` / ``(x, y, sample_weight)`` batches
                (a list, a generator, a Grain data set or loader), trained batch by batch
                with each batch put on the device one step ahead. A numpy memmap (or
                arrays over half the device's memory) streams from the host the same way.
            y: targets ``(n, ...)`` (a list for several outputs); integer labels or
                one-hot rows for "categorical".
            epochs: number of passes over the data (the last epoch index + 1).
            batch_size: examples per step; the last partial batch is masked so every
                example counts exactly once per epoch.
            validation_data: a tuple ``(x_val, y_val)`` or ``(x_val, y_val,
                val_sample_weight)``, or an iterable of batches, evaluated after each
                epoch (``val_*`` logs).
            validation_split: fraction of the (unshuffled) data held out from the end.
            shuffle: reshuffle each epoch (a permutation inside the compiled epoch).
            callbacks: list of `probflow.nn.callbacks.Callback`.
            method: ``"vi"`` (Bayes by backprop: per-example NLL + KL / n), ``"map"``
                (NLL + (-log prior) / n at posterior-mean weights), ``"nuts"`` / ``"hmc"``
                (full-batch MCMC over the weights), ``"sgld"`` / ``"psgld"`` /
                ``"sghmc"`` (stochastic-gradient MCMC over epochs) or ``"ensemble"``
                (a deep ensemble of MAP fits).
            seed: int or key: initialisation (first fit), shuffling and weight noise.
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            initial_epoch: epoch to start from (resume).
            validation_samples: posterior samples per validation example.
            sample_weight: ``(n,)`` weights of the examples' NLL terms (Keras: the loss
                divides by the batch's row count, so a weight of 2 counts an example twice
                against the same KL / n); `metrics` stay unweighted, the
                ``compile(weighted_metrics=...)`` use them.
            class_weight: dict class label -> weight for a classifier (labels missing
                from it weigh 1), multiplied into `sample_weight`.
            steps_per_epoch: batches per epoch of an iterable (an endless generator
                needs it); None: one pass per epoch.
            num_train: the training set's size, which divides the KL (vi) or prior
                (map, SG-MCMC) term: needed for a generator without ``len()``; with
                arrays, set it when they are a part of a larger training set.
            stream: True trains arrays batch by batch from the host (never whole on the
                device); False never streams; None streams memmaps and arrays over half
                the device's memory.
            validation_steps: batches of an iterable `validation_data` per evaluation.
            **options: method-specific settings: ``num_warmup``, ``num_samples``,
                ``num_chains``, ``target_accept``, ... for "nuts"/"hmc"
                (`mcmc_fitter.MCMCFitter`); ``step_size``, ``burn_in``, ``thin``,
                ``num_cycles``, ... for SG-MCMC (`sgmcmc_fitter.SGMCMCFitter`);
                ``num_members`` for "ensemble"; ``distribution=``
                (`probflow.distribute.DataParallel`) or ``mesh=`` (a `jax.sharding.Mesh`)
                for every method but nuts/hmc: each batch split over the devices, the
                parameters replicated (README "Scaling out").

        Returns:
            The `History` callback.
        """
        from probflow.nn.training.fitters import get_fitter

        fitter = get_fitter(method)
        method = method.lower()
        data_options = {k: v for k, v in dict(
            sample_weight=sample_weight, class_weight=class_weight,
            steps_per_epoch=steps_per_epoch, num_train=num_train, stream=stream,
            validation_steps=validation_steps).items() if v is not None}
        refused = sorted(set(data_options) - set(getattr(fitter, "data_options", ())))
        if refused:
            raise ValueError(f"fit(method={method!r}) does not take {refused}: it fits the "
                             "full data set as arrays (x, y)")
        options.update(data_options)
        accepted = tuple(getattr(fitter, "options", ())) + tuple(data_options)
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise TypeError(
                f"fit(method={method!r}) got unexpected option(s) {unknown}; it accepts "
                f"{sorted(accepted) if accepted else 'no extra options'}")
        self._fitting = True
        try:
            with self.execution():
                history, posterior = fitter.fit(
                    self, x, y, epochs=epochs, batch_size=batch_size,
                    validation_data=validation_data, validation_split=validation_split,
                    shuffle=shuffle, callbacks=callbacks, seed=seed, verbose=verbose,
                    initial_epoch=initial_epoch, validation_samples=validation_samples,
                    **options)
        finally:
            self._fitting = False
        # The one place the fitted posterior is assigned after a fit.
        self.fitted_posterior = posterior
        return history

    def execution(self):
        """The context fit / evaluate / predict run in: `jax.disable_jit()` when compiled
        with ``run_eagerly=True`` (op by op, values visible), else nothing."""
        return jax.disable_jit() if self.run_eagerly else contextlib.nullcontext()

    def evaluate(self, x, y=None, *, num_samples=10, batch_size=256, seed=0, steps=None,
                 sample_weight=None, callbacks=None):
        """Loss and metrics on `(x, y)` under the posterior predictive.

        ``loss`` is the per-example expected NLL plus KL / n_train (the training
        objective); ``nll`` and the other metrics use the predictive mixture of
        `num_samples` posterior draws. `x` may be an iterable of ``(x, y)`` batches
        with ``y=None`` (summed over its batches; at most `steps` of them), whose
        batches may be ``(x, y, sample_weight)``. `sample_weight` (one weight per
        example of array data) weighs each example's NLL term of ``loss`` (divided by
        the number of examples, as in training and Keras) and the
        ``compile(weighted_metrics=...)``; other metrics stay unweighted.
        `callbacks` get `on_test_begin` / `_end` (the
        result as logs) and, per batch, `on_test_batch_begin` / `_end`.

        Returns:
            dict name -> Python float.
        """
        from probflow.nn.training.predict import evaluate

        with _hooks(self, callbacks, "test") as (cbs, logs):
            result = evaluate(self, x, y, num_samples=num_samples, batch_size=batch_size,
                              seed=seed, steps=steps, sample_weight=sample_weight, hooks=cbs)
            logs.update(result)
        return result

    def predict(self, x, num_samples=100, seed=0, *, batch_size=256, callbacks=None):
        """Posterior predictive mean (class probabilities for categorical/bernoulli).

        Same seed (and batch size), same answer. Works through `x` in batches of
        `batch_size` to bound memory; `x` may also be an iterable of input batches (or
        of tuples whose first item is the inputs), whose results are concatenated.
        `callbacks` get `on_predict_begin` / `_end` and, per batch,
        `on_predict_batch_begin` / `_end`.

        Returns:
            array ``(n, ...)`` (a list for several outputs).
        """
        from probflow.nn.training.predict import predict

        with _hooks(self, callbacks, "predict") as (cbs, _):
            return predict(self, x, num_samples=num_samples, seed=seed, batch_size=batch_size,
                           hooks=cbs)

    def predictive(self, x, num_samples=100, seed=0, *, batch_size=256, callbacks=None):
        """Draws from the posterior predictive: array ``(num_samples, n, ...)``."""
        from probflow.nn.training.predict import predictive

        with _hooks(self, callbacks, "predict") as (cbs, _):
            return predictive(self, x, num_samples=num_samples, seed=seed,
                              batch_size=batch_size, hooks=cbs)

    def predict_interval(self, x, ci=0.95, num_samples=1000, seed=0, *, batch_size=256):
        """Central `ci` posterior predictive interval from `num_samples` draws.

        Returns:
            ``(lower, upper)`` arrays ``(n, ...)`` (lists for several outputs).
        """
        from probflow.nn.training.predict import predict_interval

        with self.execution():
            return predict_interval(self, x, ci=ci, num_samples=num_samples, seed=seed,
                                    batch_size=batch_size)

    def posterior_samples(self, num_samples=100, seed=0):
        """Draws of every weight from the fitted posterior, whatever the method.

        After nuts / hmc / SG-MCMC / ensemble: `num_samples` evenly spaced stored draws
        (chains merged; repeats when more are asked for than stored). After vi: fresh
        draws from the variational posterior; after map: copies of the point.

        Returns:
            ``{"layers": {layer name: {weight: [num_samples, ...]}},
            "likelihood": [head params with leaves [num_samples, ...]]}``.
        """
        from probflow.nn.training.posterior import posterior_samples

        return posterior_samples(self, num_samples, seed)

    def to_arviz(self, x, y, *, num_samples=None, seed=0):
        """ArviZ InferenceData of the fitted network on data `(x, y)`.

        Groups: ``posterior`` (every weight as ``layer.weight``, head parameters as
        ``likelihood.<param>``), ``sample_stats`` (nuts/hmc/SG-MCMC), ``log_likelihood``
        (pointwise, per example, named ``y``), ``posterior_predictive`` (one draw of
        ``y`` per weight draw) and ``observed_data``; so `az.loo`, `az.waic`,
        `az.summary` and `az.plot_ppc` work on the network.

        Args:
            x: inputs; y: targets (as for `evaluate`).
            num_samples: draws to keep: None keeps every stored draw (sampling methods)
                or draws 1000 (vi, map); an int thins each chain evenly.
            seed: key for variational draws and posterior-predictive draws.
        """
        from probflow.nn.training.posterior import to_arviz

        with self.execution():
            return to_arviz(self, x, y, num_samples=num_samples, seed=seed)

    def calibration(self, x, y, *, num_bins=10, num_samples=100, seed=0, batch_size=256):
        """Reliability table of the posterior predictive on `(x, y)`.

        Classifiers: top-class confidence in `num_bins` equal-width bins, with each bin's
        count, mean confidence and accuracy (`metrics.reliability_table`). Regression:
        nominal vs observed coverage of central predictive intervals at
        ``(1, ..., num_bins - 1) / num_bins`` (`metrics.interval_calibration`).

        Returns:
            dict of numpy arrays (``pandas.DataFrame(table)`` prints it as a table).
        """
        from probflow.nn.metrics import interval_calibration, reliability_table
        from probflow.nn.training.data import prepare_xy

        _, ys = prepare_xy(self, x, y)
        if len(self._heads) != 1:
            raise ValueError(f"`calibration` needs a single-output model; this one has "
                             f"{len(self._heads)} outputs")
        head = self._heads[0]
        if head.is_classifier:
            probs = self.predict(x, num_samples=num_samples, seed=seed, batch_size=batch_size)
            return reliability_table(ys[0], probs, num_bins=num_bins,
                                     binary=head.name == "bernoulli")
        draws = self.predictive(x, num_samples=num_samples, seed=seed, batch_size=batch_size)
        return interval_calibration(ys[0], draws, num_levels=num_bins)

    # -- owned state: variables, heads, training run, fitted posterior -------------------
    @property
    def built(self) -> bool:
        """Whether every layer owns variables (the graph is wired and built)."""
        return self._graph_ready and all(layer.built for layer in self._layers)

    @property
    def trainable(self) -> bool:
        """Whether every layer is trainable; setting it sets every layer (Keras)."""
        return all(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value):
        for layer in self.layers:
            layer.trainable = value

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"`{what}` needs a built model: fit it, or build it with "
                             "model.build_variables(key) once its input shape is known")

    @property
    def params(self):
        """What training changes: ``{"layers": {name: params}, "likelihood": [...]}``.

        Gathered from the layers (which own their variables) and the heads; assigning
        writes them back.
        """
        self._require_built("params")
        heads = [] if self._head_params is None else list(self._head_params)
        return {"layers": {self._layer_names[id(lay)]: lay.params for lay in self._layers},
                "likelihood": heads}

    @params.setter
    def params(self, value):
        self._require_built("params")
        for layer in self._layers:
            layer.assign_variables(params=value["layers"][self._layer_names[id(layer)]])
        if value.get("likelihood"):
            self.head_params = value["likelihood"]

    @property
    def layer_state(self):
        """Non-trainable layer state (batch-norm statistics): ``{name: state}``."""
        self._require_built("layer_state")
        return {self._layer_names[id(lay)]: lay.state for lay in self._layers}

    @layer_state.setter
    def layer_state(self, value):
        self._require_built("layer_state")
        for layer in self._layers:
            layer.assign_variables(state=value[self._layer_names[id(layer)]])

    @property
    def head_params(self):
        """The likelihood heads' parameters (a list, one dict per output), or None."""
        return None if self._head_params is None else list(self._head_params)

    @head_params.setter
    def head_params(self, value):
        if value is not None and len(value) != len(self.heads):
            raise ValueError(f"`head_params` needs one entry per likelihood head "
                             f"({len(self.heads)}); got {len(value)}")
        self._head_params = None if value is None else list(value)

    def get_weights(self) -> list:
        """Every layer's weights as numpy arrays, layer by layer (Keras order)."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        """Sets every layer's weights from `get_weights`' list (checked per layer)."""
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"`set_weights` expects {expected} arrays for this model; got "
                             f"{len(weights)}")
        start = 0
        for layer in self.layers:
            count = len(layer.weights)
            layer.set_weights(weights[start:start + count])
            start += count

    # The training run: the optimizer state, key, counters and KL weight of the current
    # (or last) fit. In a layer-backed run (vi, map) its params / layer_state are the
    # layers' variables: gathered on read, written back on assignment, so the layers stay
    # the one owner. Other runs (SG-MCMC chains, ensemble members) keep theirs inside.
    def begin_training(self, state, *, kind, layer_backed, frozen=frozenset(),
                       posterior=None) -> None:
        """Starts (or resumes) a training run with `state` (a `TrainState`).

        Args:
            state: the run's `TrainState`.
            kind: what the run is (``"gradient"`` for vi/map, or the method name).
            layer_backed: its params / layer_state are the layers' variables.
            frozen: the frozen layer names its optimizer state was made for.
            posterior: the fitted posterior predictions use while the run goes on
                (vi/map: the layers; None for runs whose draws exist only at the end).
        """
        self._run_kind = kind
        self._run_layer_backed = bool(layer_backed)
        self._run_frozen = frozenset(frozen)
        self._run_posterior = posterior
        self.train_state = state

    def _end_run(self):
        self._run_state = None
        self._run_kind = None
        self._run_layer_backed = False
        self._run_frozen = frozenset()
        self._run_posterior = None

    @property
    def training_run(self) -> dict:
        """What the current run is: ``{"kind", "layer_backed", "frozen"}`` (kind None: none)."""
        return {"kind": self._run_kind, "layer_backed": self._run_layer_backed,
                "frozen": self._run_frozen}

    @property
    def train_state(self):
        """The `TrainState` of the current/last training run, or None."""
        state = self._run_state
        if state is None or not self._run_layer_backed:
            return state
        params = dict(self.params)
        return state._replace(params=params, layer_state=self.layer_state)

    @train_state.setter
    def train_state(self, state):
        if state is None:
            self._end_run()
            return
        if self._run_layer_backed:
            self.params = state.params
            self.layer_state = state.layer_state
            # The layers own these; keep no second copy.
            state = state._replace(params=None, layer_state=None)
        self._run_state = state

    @property
    def fitted_posterior(self):
        """The fitted posterior: one `training.fitted.FittedPosterior` value, or None.

        `PointPosterior` (map), `VariationalPosterior` (vi) — both read the layers'
        variables — or `DrawsPosterior` (nuts, hmc, SG-MCMC, ensemble: weight draws).
        During a fit, the posterior of the run in progress when it has one.
        """
        if self._fitting and self._run_posterior is not None:
            return self._run_posterior
        return self._fitted_posterior

    @fitted_posterior.setter
    def fitted_posterior(self, value):
        if value is not None and not isinstance(value, FittedPosterior):
            raise TypeError(f"`fitted_posterior` must be a FittedPosterior; got "
                            f"{type(value).__name__}")
        self._fitted_posterior = value

    @property
    def learning_rate(self):
        """The optimizer's current learning rate (Python float), or None if not injected."""
        from probflow.nn.training.state import get_learning_rate

        lr = get_learning_rate(self._require_run("learning_rate").opt_state)
        return None if lr is None else float(lr)

    @learning_rate.setter
    def learning_rate(self, value):
        from probflow.nn.training.state import set_learning_rate

        state = self._require_run("learning_rate")
        self._run_state = state._replace(opt_state=set_learning_rate(state.opt_state, value))

    def _require_run(self, what):
        if self._run_state is None:
            raise ValueError(f"`{what}` needs a training run: call fit first")
        return self._run_state

    @property
    def kl_weight(self) -> float:
        """The KL weight beta of the VI loss (a traced value: changing it never recompiles)."""
        return float(self._require_run("kl_weight").kl_weight)

    @kl_weight.setter
    def kl_weight(self, value):
        state = self._require_run("kl_weight")
        # full_like keeps dtype and weak type, so the compiled epoch is reused.
        self._run_state = state._replace(kl_weight=jnp.full_like(state.kl_weight, value))

    @property
    def posterior(self) -> dict:
        """Weight distributions of the Bayesian layers: ``{layer: {weight: Distribution}}``."""
        out = {}
        for layer in self.layers:
            if getattr(layer, "is_bayesian", False) and hasattr(layer, "posterior_distributions"):
                out[self._layer_names[id(layer)]] = layer.posterior_distributions(layer.params)
        return out

    # -- saving ----------------------------------------------------------------------------
    def save(self, path) -> None:
        """Writes the model to one archive, atomically (see `probflow.nn.load_model`).

        The archive holds the architecture, compile settings, likelihood heads, the
        whole train state (params, layer state, optimizer state, RNG key, epoch) and,
        after nuts/hmc/SG-MCMC/ensemble fits, the weight draws with their sampler
        statistics, as ``config.json`` plus ``arrays.npz`` in a zip; never a pickle.

        Args:
            path: destination, conventionally ``"model.probflow"``.
        """
        from probflow.nn.saving import save_model

        save_model(self, path)

    def save_weights(self, path) -> None:
        """Writes every layer's variables and the heads' params, by position (see
        `load_weights`)."""
        from probflow.nn.saving import save_weights

        save_weights(self, path)

    def load_weights(self, path, *, by_name=False, skip_mismatch=False) -> None:
        """Loads weights written by `save_weights`, matched by structure (layer i takes
        entry i); a class or shape mismatch names the layer.

        Args:
            path: the weights file.
            by_name: match layers by name instead (layers without an entry keep theirs).
            skip_mismatch: skip mismatching layers with a warning (e.g. a new head).
        """
        from probflow.nn.saving import load_weights

        load_weights(self, path, by_name=by_name, skip_mismatch=skip_mismatch)

    def summary(self, *, print_fn=print):
        """Prints a Keras-like table: layer (type), output shape, params, stochastic."""
        from probflow.nn.summary import summary_table

        print_fn(summary_table(self))

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, layers={len(self._layers) if self._graph_ready else '?'})"
