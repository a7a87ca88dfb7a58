"""`Model`: a graph of layers with Keras's compile / fit / evaluate / predict shell.

The model object is the stateful shell. Inside, everything is pure: `forward` runs the
layer graph on ``(params, layer_state, inputs)``; training lives in
`probflow.nn.training` (one jitted ``train_step(state, batch) -> (state, logs)``, an
epoch as one `lax.scan`); what training changes is one `TrainState` pytree
(`model.train_state`), so checkpoints save and restore it exactly.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp

from probflow.nn.functional import SymbolicTensor, topological_nodes

__all__ = ["Model"]


def _as_tensor_list(tensors, argname):
    single = isinstance(tensors, SymbolicTensor)
    items = [tensors] if single else list(tensors) if isinstance(tensors, (list, tuple)) else None
    if not items or not all(isinstance(t, SymbolicTensor) for t in items):
        raise TypeError(f"`{argname}` must be a SymbolicTensor (from nn.Input or a layer call) "
                        f"or a list of them; got {type(tensors).__name__}")
    return items, single


@contextlib.contextmanager
def _predict_hooks(model, callbacks):
    from probflow.nn.callbacks.base import CallbackList

    cbs = CallbackList(callbacks, model=model)
    cbs.on_predict_begin()
    yield
    cbs.on_predict_end()


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
        self.built = False
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.initial_epoch = 0
        self.train_state = None
        self._fitted_method = None
        self._heads = None
        self._metrics = ()
        self._optimizer = None
        self._programs = {}
        self._carried_weights = None
        self._mean_weights = False
        # Weight draws (`posterior.WeightDraws`) of nuts/hmc/SG-MCMC/ensemble fits; None
        # when predictions come from `train_state.params` (vi, map).
        self._weight_draws = None
        self._sample_stats = None

    # -- graph ---------------------------------------------------------------------------
    def _set_graph(self, inputs, outputs):
        self._inputs, self._single_input = _as_tensor_list(inputs, "inputs")
        self._outputs, self._single_output = _as_tensor_list(outputs, "outputs")
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
        self._graph_ready = True

    @property
    def layers(self) -> list:
        """The distinct layers, in execution order."""
        return list(self._layers)

    def layer_name(self, layer) -> str:
        """The key of `layer` in ``model.params["layers"]``."""
        return self._layer_names[id(layer)]

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

    def _ensure_graph(self, input_shapes):
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

    def forward(self, layer_params, layer_state, inputs, *, key=None, training=False,
                mean_weights=False, explicit_weights=False):
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
            if explicit_weights:
                y, new_state[name] = layer.apply_with_weights(
                    params, new_state[name], layer_input, key=node_key, training=training
                )
            elif mean_weights:
                y, new_state[name] = layer.apply_with_weights(
                    layer.mean_weights(params), new_state[name], layer_input,
                    key=node_key, training=training,
                )
            else:
                y, new_state[name] = layer.apply(
                    params, new_state[name], layer_input, key=node_key, training=training
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
    def compile(self, optimizer="adam", likelihood="normal", metrics=None, *,
                learning_rate=None, kl_weight=1.0):
        """Chooses the optimizer, the likelihood head(s) and the metrics.

        Args:
            optimizer: ``"adam"`` (and other names), a learning rate, an optax schedule,
                or an optax `GradientTransformation`.
            likelihood: ``"normal"``, ``"studentt"``, ``"bernoulli"``, ``"categorical"``,
                ``"poisson"``, a `probflow.nn.likelihoods.Likelihood`, a callable
                ``fn(outputs) -> Distribution``; a list of these for several outputs.
            metrics: names from `probflow.nn.metrics.get_metric` (``"accuracy"``,
                ``"rmse"``, ``"nll"``, ``"brier"``, ``"ece"``, ``"coverage"``, ...).
            learning_rate: learning rate (float or schedule) of a named optimizer.
            kl_weight: initial KL weight beta of the VI loss (a KLAnnealing callback
                changes ``model.kl_weight`` between epochs without recompiling).
        """
        from probflow.nn.likelihoods import get_likelihood
        from probflow.nn.metrics import check_metrics_for_heads, get_metric
        from probflow.nn.training.state import make_optimizer

        n_out = len(self._outputs) if self._graph_ready else 1
        specs = list(likelihood) if isinstance(likelihood, (list, tuple)) else [likelihood]
        if len(specs) == 1 and n_out > 1:
            specs = specs * n_out
        if len(specs) != n_out:
            raise ValueError(f"`likelihood` must give one likelihood per output ({n_out}); "
                             f"got {len(specs)}")
        # A fresh head per output: heads are configured from shapes at fit time.
        heads = []
        for spec in specs:
            head = get_likelihood(spec)
            heads.append(head)
        if len({id(h) for h in heads}) != len(heads):
            raise ValueError("`likelihood` objects must be distinct for different outputs")
        names = [get_metric(m) for m in (metrics or [])]
        check_metrics_for_heads(names, heads)
        if not any(m.name == "nll" for m in names):
            names = [get_metric("nll")] + names
        self._optimizer = make_optimizer(optimizer, learning_rate)
        # Kept as given so `save` can write them as data (names and numbers).
        self._compile_args = {"optimizer": optimizer, "learning_rate": learning_rate,
                              "kl_weight": kl_weight}
        self._heads = heads
        self._metrics = tuple(names)
        self._kl_weight_init = float(kl_weight)
        self._programs = {}
        self.compiled = True
        if self.train_state is not None:
            # Keep the layer weights, restart optimizer and heads (re-compiling in Keras).
            self._carried_weights = (self.train_state.params["layers"],
                                     self.train_state.layer_state)
            self.train_state = None

    # -- training / inference (implemented in probflow.nn.training) ---------------------
    def fit(self, x, y, epochs=1, batch_size=32, validation_data=None, validation_split=0.0,
            shuffle=True, callbacks=None, method="vi", seed=0, verbose=1, *,
            initial_epoch=0, validation_samples=10, **options):
        """Fits the network; returns a `History` (``history.history["loss"]``, ...).

        Args:
            x: input array ``(n, ...)`` (a list of arrays for several inputs).
            y: targets ``(n, ...)`` (a list for several outputs); integer labels or
                one-hot rows for "categorical".
            epochs: number of passes over the data (the last epoch index + 1).
            batch_size: examples per step; the last partial batch is masked so every
                example counts exactly once per epoch.
            validation_data: ``(x_val, y_val)`` evaluated after each epoch (``val_*`` logs).
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
        from probflow.nn.training.posterior import dispatch_fit

        return dispatch_fit(
            self, method, options, x, y, epochs=epochs, batch_size=batch_size,
            validation_data=validation_data, validation_split=validation_split,
            shuffle=shuffle, callbacks=callbacks, seed=seed, verbose=verbose,
            initial_epoch=initial_epoch, validation_samples=validation_samples,
        )

    def evaluate(self, x, y, *, num_samples=10, batch_size=256, seed=0):
        """Loss and metrics on `(x, y)` under the posterior predictive.

        ``loss`` is the per-example expected NLL plus KL / n_train (the training
        objective); ``nll`` and the other metrics use the predictive mixture of
        `num_samples` posterior draws.

        Returns:
            dict name -> Python float.
        """
        from probflow.nn.training.predict import evaluate

        return evaluate(self, x, y, num_samples=num_samples, batch_size=batch_size, seed=seed)

    def predict(self, x, num_samples=100, seed=0, *, batch_size=256, callbacks=None):
        """Posterior predictive mean (class probabilities for categorical/bernoulli).

        Same seed (and batch size), same answer. Works through `x` in batches of
        `batch_size` to bound memory. `callbacks` get `on_predict_begin` / `_end`.

        Returns:
            array ``(n, ...)`` (a list for several outputs).
        """
        from probflow.nn.training.predict import predict

        with _predict_hooks(self, callbacks):
            return predict(self, x, num_samples=num_samples, seed=seed, batch_size=batch_size)

    def predictive(self, x, num_samples=100, seed=0, *, batch_size=256, callbacks=None):
        """Draws from the posterior predictive: array ``(num_samples, n, ...)``."""
        from probflow.nn.training.predict import predictive

        with _predict_hooks(self, callbacks):
            return predictive(self, x, num_samples=num_samples, seed=seed,
                              batch_size=batch_size)

    def predict_interval(self, x, ci=0.95, num_samples=1000, seed=0, *, batch_size=256):
        """Central `ci` posterior predictive interval from `num_samples` draws.

        Returns:
            ``(lower, upper)`` arrays ``(n, ...)`` (lists for several outputs).
        """
        from probflow.nn.training.predict import predict_interval

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

    # -- state accessors ----------------------------------------------------------------
    def _require_state(self, what):
        if self.train_state is None:
            raise ValueError(f"`{what}` needs a built model: call fit first")
        return self.train_state

    @property
    def params(self):
        """What training changes: ``{"layers": {name: params}, "likelihood": [...]}``."""
        return self._require_state("params").params

    @params.setter
    def params(self, value):
        state = self._require_state("params")
        self.train_state = state._replace(params=value)

    @property
    def layer_state(self):
        """Non-trainable layer state (batch-norm statistics)."""
        return self._require_state("layer_state").layer_state

    @property
    def learning_rate(self):
        """The optimizer's current learning rate (Python float), or None if not injected."""
        from probflow.nn.training.state import get_learning_rate

        lr = get_learning_rate(self._require_state("learning_rate").opt_state)
        return None if lr is None else float(lr)

    @learning_rate.setter
    def learning_rate(self, value):
        from probflow.nn.training.state import set_learning_rate

        state = self._require_state("learning_rate")
        self.train_state = state._replace(opt_state=set_learning_rate(state.opt_state, value))

    @property
    def kl_weight(self) -> float:
        """The KL weight beta of the VI loss (a traced value: changing it never recompiles)."""
        return float(self._require_state("kl_weight").kl_weight)

    @kl_weight.setter
    def kl_weight(self, value):
        state = self._require_state("kl_weight")
        # full_like keeps dtype and weak type, so the compiled epoch is reused.
        self.train_state = state._replace(kl_weight=jnp.full_like(state.kl_weight, value))

    @property
    def posterior(self) -> dict:
        """Weight distributions of the Bayesian layers: ``{layer: {weight: Distribution}}``."""
        layer_params = self.params["layers"]
        out = {}
        for layer in self._layers:
            if getattr(layer, "is_bayesian", False) and hasattr(layer, "posterior_distributions"):
                name = self._layer_names[id(layer)]
                out[name] = layer.posterior_distributions(layer_params[name])
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
        """Writes only ``params`` and ``layer_state`` (see `load_weights`)."""
        from probflow.nn.saving import save_weights

        save_weights(self, path)

    def load_weights(self, path) -> None:
        """Loads weights written by `save_weights`; a shape mismatch names the layer."""
        from probflow.nn.saving import load_weights

        load_weights(self, path)

    def summary(self, *, print_fn=print):
        """Prints a Keras-like table: layer (type), output shape, params, stochastic."""
        from probflow.nn.summary import summary_table

        print_fn(summary_table(self))

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, layers={len(self._layers) if self._graph_ready else '?'})"
