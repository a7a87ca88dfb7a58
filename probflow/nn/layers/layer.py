"""The `Layer` base: pure `init` / `apply` inside, owned variables outside (Keras 3 style).

Inside, a layer is config plus two pure functions: `init` returns dicts of arrays and
`apply` consumes them, so models can `jit`, `grad` and `vmap` through them. Outside,
a built layer owns its variables (`layer.params`, `layer.state`, `layer.weights`,
`get_weights` / `set_weights`, `trainable`), and reusing the layer object in another
model shares them. Shapes passed to `init` / `output_shape` are per example (no batch
dimension); `apply` receives arrays with a leading batch dimension.

Layers are written either way: the built-in ones implement `_init_params` /
`_init_state` / `apply`; a Keras-style subclass implements `build(input_shape)` with
`self.add_weight(...)` and `call(inputs, training=None)` (`keras_style.py` turns those
into the pure pair).

Besides `init` / `apply` / `output_shape` / `kl`, every layer offers the weight-space
view used by NUTS, SG-MCMC and MAP (`weight_shapes`, `sample_weights`, `mean_weights`,
`apply_with_weights`, `log_prior`). For a plain layer the weights are its params; a
Bayesian layer's weights are one draw from its posterior.
"""

from __future__ import annotations

import collections
import copy
import hashlib
import math
import re

import jax
import jax.numpy as jnp
import numpy as np

from probflow.nn.layers import keras_style
from probflow.nn.layers.serialization import deserialize_value, serialize_value
from probflow.nn.layers.variables import COLLECTIONS, Variable, VariableStore

__all__ = ["Layer", "as_input_shape"]

_NAME_COUNTS: collections.Counter = collections.Counter()


def _snake_case(class_name: str) -> str:
    # "DenseFlipout" -> "dense_flipout", "Conv2D" -> "conv2d", "LeakyReLU" -> "leaky_re_lu".
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique_name(class_name: str) -> str:
    base = _snake_case(class_name)
    count = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def as_input_shape(input_shape, owner: str) -> tuple:
    """Normalises a per-example shape (int or sequence of positive ints) to a tuple."""
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (input_shape,)
    try:
        shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(
            f"{owner}: `input_shape` must be a tuple of ints (per example, no batch dim); "
            f"got {input_shape!r}"
        ) from None
    if any(s <= 0 for s in shape):
        raise ValueError(f"{owner}: `input_shape` must have positive entries; got {shape}")
    return shape


def _is_array(x) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, np.generic, int, float)) and not isinstance(
        x, bool)


def _is_shape_list(shape) -> bool:
    # Several inputs (a merge layer): a list of per-example shapes.
    return isinstance(shape, list) and bool(shape) and all(
        isinstance(s, (list, tuple)) for s in shape)


def _stable_hash(name: str) -> int:
    # Python's hash() of a str changes per process; a fixed key must not.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


class Layer:
    """Base class of every layer.

    Built-in layers implement `apply` and, as needed, `_init_params(key, input_shape)`,
    `_init_state(input_shape)`, `_output_shape(input_shape)` and
    `_check_input_shape(input_shape)`; the public methods validate and derive the rest.
    Custom layers may instead be written as in Keras: `build(input_shape)` creating
    weights with `add_weight`, and `call(inputs, training=None)`.

    Attributes:
        name: Keras-style name, unique in the process (``dense``, ``dense_1``, ...);
            may be reassigned.
        trainable: whether training updates the layer's params (False freezes them
            under every optimizer and every ``fit(method=...)``).
        is_bayesian: whether `apply` draws weights from a posterior.
        stateful: whether `apply` updates non-trainable state (BatchNormalization).
        inference_when_frozen: a frozen layer runs in inference mode during training
            (BatchNormalization, as in Keras).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow import nn
        >>> layer = nn.Dense(3)
        >>> params, state = layer.init(jax.random.key(0), (2,))
        >>> y, state = layer.apply(params, state, jnp.ones((5, 2)))
        >>> y.shape, layer.output_shape((2,))
        ((5, 3), (3,))
    """

    is_bayesian = False
    stateful = False
    inference_when_frozen = False

    def __init__(self, *, name=None, trainable=True):
        if name is None:
            name = _unique_name(type(self).__name__)
        elif not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__}: `name` must be a non-empty str; got {name!r}")
        self.name = name
        self._config = {}
        self._variables = None
        self._recorded_weights = None
        self.trainable = trainable

    # -- owned variables ---------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        """Whether training updates this layer's params (settable)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{self._owner()}: `trainable` must be a bool; got {value!r}")
        self._trainable = bool(value)

    @property
    def built(self) -> bool:
        """Whether the layer owns variables (after `build_variables` or a model's fit)."""
        return self._variables is not None

    @built.setter
    def built(self, value):
        # Keras 2 habit: `self.built = True` at the end of `build`; building is ours.
        del value

    def build_variables(self, key, input_shape) -> None:
        """Creates the layer's own variables for `input_shape`, unless it has them.

        A built layer keeps its weights (a reused or pre-trained layer stays as it is);
        building it again for another input shape is an error.

        Args:
            key: a `jax.random` key for the initializers (None: a fixed key derived
                from the layer's name, for interactive use).
            input_shape: per-example input shape (a list of shapes for merge layers).

        Raises:
            ValueError: when the layer was built for a different input shape.
        """
        shape = self._validated_shape(input_shape)
        if self._variables is not None:
            if self._variables.input_shape != shape:
                raise ValueError(
                    f"{self._owner()} was built for inputs of shape "
                    f"{self._variables.input_shape} and cannot take {shape}; use a new layer "
                    "(a layer object reused in another model shares its weights)")
            return
        if key is None:
            key = jax.random.fold_in(jax.random.key(0), _stable_hash(self.name))
        params, state = self.init(key, shape)
        self._variables = VariableStore(self._owner(), params, state, shape)

    @property
    def built_input_shape(self):
        """The per-example input shape the variables were built for (None if unbuilt)."""
        return None if self._variables is None else self._variables.input_shape

    def _require_built(self, what):
        if self._variables is None:
            raise ValueError(f"{self._owner()}: `{what}` needs a built layer; fit a model that "
                             "uses it, call it on an array, or call build_variables(key, "
                             "input_shape)")
        return self._variables

    @property
    def params(self) -> dict:
        """The trainable collection: ``{name: array}`` (copy of the dict, same arrays)."""
        return dict(self._require_built("params").params)

    @property
    def state(self) -> dict:
        """The non-trainable collection (e.g. moving statistics): ``{name: array}``."""
        return dict(self._require_built("state").state)

    def assign_variables(self, params=None, state=None) -> None:
        """Replaces the owned variables (every entry of each collection given).

        Args:
            params: ``{name: array}`` with the same keys and shapes as `params`.
            state: the same for `state`.
        """
        store = self._require_built("assign_variables")
        if params is not None:
            store.assign("params", params, partial=False)
        if state is not None:
            store.assign("state", state, partial=False)

    def _assign_entry(self, collection, values):
        self._require_built("assign").assign(collection, values, partial=True)

    @property
    def weights(self) -> list:
        """Every variable (params, then state) as `Variable` handles, Keras order."""
        store = self._require_built("weights")
        return [Variable(self, c, k) for c in COLLECTIONS for k in getattr(store, c)]

    @property
    def trainable_weights(self) -> list:
        """The variables training updates: the params of a trainable layer."""
        return [w for w in self.weights if w.trainable] if self.built else []

    @property
    def non_trainable_weights(self) -> list:
        """The state, plus the params when the layer is frozen."""
        return [w for w in self.weights if not w.trainable] if self.built else []

    def get_weights(self) -> list:
        """The variables' values as numpy arrays, in `weights` order."""
        return [w.numpy() for w in self.weights] if self.built else []

    def set_weights(self, weights) -> None:
        """Sets every variable from a list of arrays in `weights` order.

        Raises:
            ValueError: for a wrong count or shape, naming the variable.
        """
        handles = self.weights if self.built else []
        weights = list(weights)
        if len(weights) != len(handles):
            raise ValueError(f"{self._owner()}: `set_weights` expects {len(handles)} arrays "
                             f"({[w.path for w in handles]}); got {len(weights)}")
        new = {c: {} for c in COLLECTIONS}
        for handle, value in zip(handles, weights):
            new[handle.collection][handle.path] = value
        self.assign_variables(**new)

    def _owner(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    # -- Keras-style custom layers -----------------------------------------------------
    def build(self, input_shape) -> None:
        """Keras-style hook: create weights with `add_weight` (default: none)."""
        del input_shape

    def call(self, inputs, training=None):
        """Keras-style forward pass of a custom layer; built-in layers use `apply`."""
        raise NotImplementedError(f"{type(self).__name__} implements neither `call` nor `apply`")

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, name=None,
                   regularizer=None, constraint=None):
        """Declares a weight from `build` (Keras's signature); returns its handle.

        Args:
            shape: the weight's shape.
            initializer: a Keras initializer name (``"glorot_uniform"``, ``"zeros"``,
                ...) or ``fn(key, shape, dtype)``; default glorot for matrices, zeros
                otherwise.
            dtype: default float32 (float64 under ``jax_enable_x64``).
            trainable: False puts it in the non-trainable collection (`state`).
            name: its key in `params` / `state`.

        Returns:
            A placeholder that becomes a `Variable` once `build` returns; inside `call`
            the attribute holding it is the array of the current step.
        """
        if regularizer is not None or constraint is not None:
            raise ValueError(f"{self._owner()}: add_weight `regularizer` / `constraint` are "
                             "not supported; a Bayesian layer's prior plays the regulariser's "
                             "role (prior=...)")
        return keras_style.record_weight(self, self._recorded_weights, shape=shape,
                                         initializer=initializer, dtype=dtype,
                                         trainable=trainable, name=name)

    def random_key(self):
        """A fresh `jax.random` key inside `call` (Dropout-like custom layers)."""
        key = getattr(self, "_call_key", None)
        if key is None:
            raise ValueError(f"{self._owner()}: `random_key()` needs a key; the model passes "
                             "one during fit / predict (call the layer with key=...)")
        self._call_count += 1
        return jax.random.fold_in(key, self._call_count)

    def compute_output_shape(self, input_shape):
        """Keras-style: per-example output shape (default: traced from `call`)."""
        shape = [tuple(s) for s in input_shape] if _is_shape_list(input_shape) else tuple(
            input_shape)
        params, state = jax.eval_shape(lambda k: self.init(k, shape), jax.random.key(0))

        def run(p, s):
            x = ([jnp.zeros((1,) + t) for t in shape] if isinstance(shape, list)
                 else jnp.zeros((1,) + shape))
            return self.apply(p, s, x, key=jax.random.key(0), training=False)[0]

        out = jax.eval_shape(run, params, state)
        return tuple(out.shape[1:])

    def _keras_style(self) -> bool:
        cls = type(self)
        return cls.build is not Layer.build or cls.call is not Layer.call

    # -- building --------------------------------------------------------------------
    def init(self, key, input_shape):
        """Creates parameters and state for a per-example `input_shape`.

        Args:
            key: a `jax.random` key.
            input_shape: per-example input shape (no batch dimension).

        Returns:
            ``(params, state)``: dicts of arrays (possibly empty).
        """
        shape = self._validated_shape(input_shape)
        if self._keras_style():
            self._recorded_weights = []
            try:
                params, state, self._weight_attributes = keras_style.init_from_build(
                    self, self._recorded_weights, key, shape)
            finally:
                self._recorded_weights = None
            return params, state
        return self._init_params(key, shape), self._init_state(shape)

    def output_shape(self, input_shape) -> tuple:
        """Per-example output shape for a per-example `input_shape`."""
        shape = self._validated_shape(input_shape)
        if self._keras_style() and type(self)._output_shape is Layer._output_shape:
            return tuple(self.compute_output_shape(shape))
        return tuple(self._output_shape(shape))

    def _validated_shape(self, input_shape):
        if _is_shape_list(input_shape):
            shape = [as_input_shape(s, self._owner()) for s in input_shape]
        else:
            shape = as_input_shape(input_shape, self._owner())
        self._check_input_shape(shape)
        return shape

    def _init_params(self, key, input_shape):
        del key, input_shape
        return {}

    def _init_state(self, input_shape):
        del input_shape
        return {}

    def _output_shape(self, input_shape):
        return input_shape

    def _check_input_shape(self, input_shape):
        del input_shape

    def _require_rank(self, input_shape, rank, what):
        if len(input_shape) != rank:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `input_shape` must have {rank} dims "
                f"({what}, no batch dim); got {input_shape}"
            )

    # -- forward ---------------------------------------------------------------------
    def apply(self, params, state, x, *, key=None, training=False):
        """Runs the layer on a batch.

        Args:
            params: the dict `init` returned (or updated by training).
            state: the state dict `init` returned.
            x: input array with leading batch dimension(s).
            key: a `jax.random` key, required by layers that draw (Bayesian, Dropout
                in training).
            training: training-mode behaviour (Dropout, BatchNormalization).

        Returns:
            ``(y, new_state)``.
        """
        if self._keras_style():
            attributes = getattr(self, "_weight_attributes", None)
            if attributes is None:
                raise ValueError(f"{self._owner()}: the layer must be built before it is "
                                 "applied (call `init` or `build_variables` first)")
            # A shallow copy whose weight attributes are this step's arrays: `call`
            # traces with them and the layer itself is never mutated.
            clone = copy.copy(self)
            clone._call_key, clone._call_count = key, 0
            keras_style.bind_values(clone, attributes, params, state)
            return keras_style.run_call(clone, x, training=training), state
        raise NotImplementedError(f"{type(self).__name__} implements neither `apply` nor `call`")

    def kl(self, params, key=None):
        """KL(posterior || prior) of the layer's weights: 0.0 for non-Bayesian layers."""
        del params, key
        return jnp.zeros((), jnp.result_type(float))

    # -- weight-space view (NUTS / SG-MCMC / MAP) --------------------------------------
    def weight_shapes(self, input_shape) -> dict:
        """Shapes of the weights `apply_with_weights` takes (plain layers: the params)."""
        shape = self._validated_shape(input_shape)
        abstract = jax.eval_shape(lambda k: self.init(k, shape)[0], jax.random.key(0))
        return {k: tuple(v.shape) for k, v in abstract.items()}

    def sample_weights(self, key, params) -> dict:
        """One draw of the weights (plain layers: the params themselves)."""
        del key
        return dict(params)

    def mean_weights(self, params) -> dict:
        """The posterior-mean weights (plain layers: the params themselves)."""
        return dict(params)

    def apply_with_weights(self, weights, state, x, *, key=None, training=False):
        """Runs the layer with explicit weights; returns ``(y, new_state)``."""
        return self.apply(weights, state, x, key=key, training=training)

    def log_prior(self, weights):
        """Sum of the weight prior's log density over all weights (0.0 without weights)."""
        total = jnp.zeros((), jnp.result_type(float))
        for name, value in weights.items():
            total = total + jnp.sum(self._prior_for(name).log_prob(value))
        return total

    def _prior_for(self, weight_name):
        del weight_name
        prior = getattr(self, "prior", None)
        if prior is None:
            # Custom layers without a prior get the default of the built-in layers.
            from probflow.distributions import Normal

            return Normal(0.0, 1.0)
        return prior

    # -- bookkeeping -----------------------------------------------------------------
    def count_params(self, input_shape) -> dict:
        """Parameter counts for the summary table.

        Returns:
            dict with ``trainable`` (entries of params), ``non_trainable`` (entries of
            state, e.g. BatchNormalization's moving statistics) and ``stochastic`` (the
            number of weights drawn from a posterior; 0 for plain layers).
        """
        shape = self._validated_shape(input_shape)
        params, state = jax.eval_shape(lambda k: self.init(k, shape), jax.random.key(0))

        def size(tree):
            return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(tree))

        return {
            "trainable": size(params),
            "non_trainable": size(state),
            "stochastic": self._count_stochastic(shape),
        }

    def _count_stochastic(self, input_shape):
        del input_shape
        return 0

    def get_config(self) -> dict:
        """JSON-serialisable constructor arguments (``from_config`` rebuilds the layer).

        Custom layers extend it as in Keras: ``config = super().get_config();
        config.update(units=self.units); return config``.
        """
        config = {k: self._json_value(k, v) for k, v in self._config.items()}
        config["name"] = self.name
        if not self.trainable:
            config["trainable"] = False
        return config

    def _json_value(self, argument, value):
        """JSON form of one constructor argument; layers override for callables."""
        del argument
        return serialize_value(value)

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds a layer from `get_config`'s output."""
        config = dict(config)
        trainable = config.pop("trainable", True)
        layer = cls(**{k: deserialize_value(v) for k, v in config.items()})
        layer.trainable = trainable
        return layer

    # -- calling: symbolic (functional API) or eager -----------------------------------
    def __call__(self, inputs, *, training=False, key=None):
        """On symbolic tensors: records a node of a functional model. On arrays: runs the
        layer eagerly with its own variables (building them on first use), for
        debugging and interactive use, as calling a Keras layer does.

        Args:
            inputs: `nn.Input` tensors (functional API) or arrays with a batch axis.
            training: training-mode behaviour (eager calls only).
            key: a `jax.random` key for layers that draw (eager calls; default a fixed key).

        Returns:
            A symbolic tensor, or the output array.
        """
        from probflow.nn.functional import connect

        items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if not items or not all(_is_array(t) for t in items):
            return connect(self, inputs)
        arrays = [jnp.asarray(t) for t in items]
        if any(a.ndim < 1 for a in arrays):
            raise ValueError(f"{self._owner()}: an eager call needs arrays with a leading "
                             f"batch axis; got shapes {[a.shape for a in arrays]}")
        shape = ([tuple(a.shape[1:]) for a in arrays] if isinstance(inputs, (list, tuple))
                 else tuple(arrays[0].shape[1:]))
        self.build_variables(None, shape)
        x = arrays if isinstance(inputs, (list, tuple)) else arrays[0]
        if key is None:
            key = jax.random.key(0)
        store = self._variables
        y, _ = self.apply(store.params, store.state, x, key=key, training=training)
        return y

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args}, name={self.name!r})"
