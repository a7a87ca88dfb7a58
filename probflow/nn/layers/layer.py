"""The `Layer` base: config plus pure `init` / `apply` functions, Keras-style naming.

A layer holds only its configuration. Its parameters and state live in dicts of arrays
that `init` returns and `apply` consumes, so models can `jit`, `grad` and `vmap` through
them. Shapes passed to `init` / `output_shape` are per example (no batch dimension);
`apply` receives arrays with a leading batch dimension.

Besides `init` / `apply` / `output_shape` / `kl`, every layer offers the weight-space
view used by NUTS, SG-MCMC and MAP (`weight_shapes`, `sample_weights`, `mean_weights`,
`apply_with_weights`, `log_prior`). For a plain layer the weights are its params; a
Bayesian layer's weights are one draw from its posterior.
"""

from __future__ import annotations

import collections
import math
import re

import jax
import jax.numpy as jnp
import numpy as np

from probflow.nn.layers.serialization import deserialize_value, serialize_value

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
    return isinstance(x, (jax.Array, np.ndarray, np.generic))


class Layer:
    """Base class of every layer.

    Subclasses implement `apply` and, as needed, `_init_params(key, input_shape)`,
    `_init_state(input_shape)`, `_output_shape(input_shape)` and
    `_check_input_shape(input_shape)`; the public methods validate and derive the rest.

    Attributes:
        name: Keras-style name, unique in the process (``dense``, ``dense_1``, ...);
            may be reassigned.
        is_bayesian: whether `apply` draws weights from a posterior.
        stateful: whether `apply` updates non-trainable state (BatchNormalization).

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

    def __init__(self, *, name=None):
        if name is None:
            name = _unique_name(type(self).__name__)
        elif not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__}: `name` must be a non-empty str; got {name!r}")
        self.name = name
        self._config = {}

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
        return self._init_params(key, shape), self._init_state(shape)

    def output_shape(self, input_shape) -> tuple:
        """Per-example output shape for a per-example `input_shape`."""
        return tuple(self._output_shape(self._validated_shape(input_shape)))

    def _validated_shape(self, input_shape):
        shape = as_input_shape(input_shape, f"{type(self).__name__} {self.name!r}")
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
        raise NotImplementedError(f"{type(self).__name__} does not implement apply")

    def kl(self, params, key=None):
        """KL(posterior || prior) of the layer's weights: 0.0 for non-Bayesian layers."""
        del params, key
        return jnp.zeros((), jnp.result_type(float))

    # -- weight-space view (NUTS / SG-MCMC / MAP) --------------------------------------
    def weight_shapes(self, input_shape) -> dict:
        """Shapes of the weights `apply_with_weights` takes (plain layers: the params)."""
        shape = self._validated_shape(input_shape)
        abstract = jax.eval_shape(lambda k: self._init_params(k, shape), jax.random.key(0))
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
        prior = getattr(self, "prior", None)
        if prior is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} has no prior for weight {weight_name!r}"
            )
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
        """JSON-serialisable constructor arguments (``from_config`` rebuilds the layer)."""
        config = {k: self._json_value(k, v) for k, v in self._config.items()}
        config["name"] = self.name
        return config

    def _json_value(self, argument, value):
        """JSON form of one constructor argument; layers override for callables."""
        from probflow.nn.layers.activations import activation_name
        from probflow.nn.layers.initializers import initializer_name

        if argument == "activation":
            return activation_name(value)
        if argument.endswith("_initializer"):
            return initializer_name(value)
        return serialize_value(value)

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds a layer from `get_config`'s output."""
        return cls(**{k: deserialize_value(v) for k, v in config.items()})

    # -- functional API --------------------------------------------------------------
    def __call__(self, inputs):
        if _is_array(inputs) or isinstance(inputs, (int, float)):
            raise TypeError(
                f"{type(self).__name__} {self.name!r} was called on an array; layers are "
                "pure: use `params, state = layer.init(key, input_shape)` and "
                "`layer.apply(params, state, x, key=key)`, or build a model with "
                "nn.Input / nn.Sequential / nn.Model"
            )
        from probflow.nn.functional import connect

        return connect(self, inputs)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args}, name={self.name!r})"
