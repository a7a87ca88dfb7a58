"""Layer base: Keras-style names, registry, config round trip, functional __call__."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import distributions as dist
from probflow import nn
from probflow.nn.layers import layer as layer_module
from probflow.nn.layers.registry import get_layer_class, registered_layers


def test_auto_names_are_keras_style_and_unique():
    assert layer_module._snake_case("DenseFlipout") == "dense_flipout"
    assert layer_module._snake_case("Conv2D") == "conv2d"
    assert layer_module._snake_case("LeakyReLU") == "leaky_re_lu"
    assert layer_module._snake_case("BatchNormalization") == "batch_normalization"
    assert layer_module._snake_case("GlobalAveragePooling2D") == "global_average_pooling2d"
    names = [nn.Dense(1).name for _ in range(3)]
    assert len(set(names)) == 3
    assert all(n == "dense" or n.startswith("dense_") for n in names)
    assert nn.Dense(1, name="head").name == "head"


def test_registry_knows_every_exported_layer():
    exported = {
        name
        for name in nn.layers.__all__
        if isinstance(getattr(nn.layers, name), type)
        and issubclass(getattr(nn.layers, name), nn.Layer)
        and name != "Layer"
    }
    assert exported <= set(registered_layers())
    assert get_layer_class("DenseFlipout") is nn.DenseFlipout
    with pytest.raises(ValueError, match="registered layer"):
        get_layer_class("NoSuchLayer")


CASES = [
    lambda: nn.Dense(3, activation="relu", prior=dist.Normal(0.0, 0.1)),
    lambda: nn.DenseReparameterization(2, activation="gelu", bias_posterior=None),
    lambda: nn.DenseFlipout(2, prior=dist.Normal(0.0, 0.1), posterior=nn.MeanFieldNormal(init_scale=0.01)),
    lambda: nn.Activation("softmax"),
    lambda: nn.LeakyReLU(0.1),
    lambda: nn.Conv1D(2, 3, padding="causal", dilation_rate=2),
    lambda: nn.Conv1DFlipout(2, 3, strides=2, padding="same"),
    lambda: nn.Conv2DReparameterization(2, (3, 1), kl_method="mc"),
    lambda: nn.MaxPooling1D(2, strides=1),
    lambda: nn.Reshape((2, -1)),
    lambda: nn.Dropout(0.25),
    lambda: nn.BatchNormalization(momentum=0.9, center=False),
    lambda: nn.Flatten(),
]
SHAPES = {"Conv1D": (6, 4), "Conv1DFlipout": (6, 4), "Conv2DReparameterization": (5, 5, 4), "MaxPooling1D": (6, 4)}


@pytest.mark.parametrize("make", CASES)
def test_config_round_trip_is_json(make):
    layer = make()
    config = layer.get_config()
    text = json.dumps(config)
    rebuilt = get_layer_class(type(layer).__name__).from_config(json.loads(text))
    assert rebuilt.get_config() == config
    shape = SHAPES.get(type(layer).__name__, (4,))
    p1, _ = layer.init(jax.random.key(0), shape)
    p2, _ = rebuilt.init(jax.random.key(0), shape)
    assert jax.tree_util.tree_all(jax.tree_util.tree_map(np.array_equal, p1, p2))


def test_prior_serialised_as_class_and_params():
    config = nn.DenseFlipout(2, prior=dist.Normal(0.0, 0.5)).get_config()
    assert config["prior"] == {"class": "Normal", "params": {"loc": 0.0, "scale": 0.5}}


def test_custom_callables_refuse_to_serialise():
    with pytest.raises(ValueError, match="activation"):
        nn.Dense(2, activation=lambda x: x).get_config()


def test_call_on_array_runs_eagerly_with_the_layers_own_weights():
    layer = nn.Dense(2)
    x = jnp.arange(6.0).reshape(2, 3)
    y = layer(x)
    assert layer.built and layer.built_input_shape == (3,)
    expected, _ = layer.apply(layer.params, layer.state, x)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(layer(x), y)  # built once: the same weights
    with pytest.raises(ValueError, match="built for inputs of shape"):
        layer(jnp.ones((1, 4)))


def test_call_on_symbolic_delegates_to_functional(monkeypatch):
    functional = pytest.importorskip("probflow.nn.functional")
    seen = []
    monkeypatch.setattr(functional, "connect", lambda layer, inputs: seen.append((layer, inputs)) or "out")
    layer = nn.Dense(2)
    token = object()
    assert layer(token) == "out"
    assert seen == [(layer, token)]


@pytest.mark.parametrize(
    "name, fn",
    [
        ("relu", lambda x: np.maximum(x, 0)),
        ("tanh", np.tanh),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        ("softplus", lambda x: np.log1p(np.exp(x))),
        ("swish", lambda x: x / (1 + np.exp(-x))),
        ("gelu", lambda x: 0.5 * x * (1 + __import__("scipy").special.erf(x / np.sqrt(2)))),
        ("softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    ],
)
def test_activations_by_name(name, fn, x64):
    x = np.linspace(-3, 3, 12).reshape(2, 6)
    y, _ = nn.Activation(name).apply({}, {}, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(y), fn(x), rtol=1e-10, atol=1e-12)


def test_activation_callable_and_leaky_relu():
    x = jnp.asarray([[-2.0, 3.0]])
    assert np.allclose(nn.Activation(jnp.abs).apply({}, {}, x)[0], [[2.0, 3.0]])
    assert np.allclose(nn.LeakyReLU().apply({}, {}, x)[0], [[-0.6, 3.0]])
    assert nn.LeakyReLU().count_params((2,))["trainable"] == 0


@pytest.mark.parametrize(
    "make, input_shape",
    [
        (lambda: nn.Dense(3), (4,)),
        (lambda: nn.Conv2D(2, 3), (5, 5, 1)),
        (lambda: nn.BatchNormalization(), (3,)),
        (lambda: nn.DenseFlipout(3, bias_posterior=None), (4,)),
        (lambda: nn.Conv1DReparameterization(2, 3), (6, 2)),
        (lambda: nn.Flatten(), (2, 3)),
    ],
)
def test_weight_space_view(make, input_shape):
    """The interface NUTS / SG-MCMC use: shapes, draws, means, apply_with_weights, log_prior."""
    layer = make()
    params, state = layer.init(jax.random.key(0), input_shape)
    shapes = layer.weight_shapes(input_shape)
    mean = layer.mean_weights(params)
    draw = layer.sample_weights(jax.random.key(1), params)
    assert {k: v.shape for k, v in mean.items()} == shapes == {k: v.shape for k, v in draw.items()}
    x = jax.random.normal(jax.random.key(2), (2,) + input_shape)
    y, _ = layer.apply_with_weights(mean, state, x)
    assert y.shape == (2,) + layer.output_shape(input_shape)
    expected = sum(float(jnp.sum(dist.Normal(0.0, 1.0).log_prob(w))) for w in mean.values())
    np.testing.assert_allclose(float(jax.jit(layer.log_prior)(mean)), expected, rtol=1e-5, atol=1e-6)
    if layer.is_bayesian:
        assert any(not np.array_equal(draw[k], mean[k]) for k in draw)
        assert layer.count_params(input_shape)["stochastic"] == sum(
            int(np.prod(shapes[k])) for k in layer.stochastic_weights
        )
    else:
        assert layer.sample_weights(jax.random.key(1), params) == params
