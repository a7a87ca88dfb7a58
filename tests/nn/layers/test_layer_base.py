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
]


@pytest.mark.parametrize("make", CASES)
def test_config_round_trip_is_json(make):
    layer = make()
    config = layer.get_config()
    text = json.dumps(config)
    rebuilt = get_layer_class(type(layer).__name__).from_config(json.loads(text))
    assert rebuilt.get_config() == config
    shape = (4,)
    p1, _ = layer.init(jax.random.key(0), shape)
    p2, _ = rebuilt.init(jax.random.key(0), shape)
    assert jax.tree_util.tree_all(jax.tree_util.tree_map(np.array_equal, p1, p2))


def test_prior_serialised_as_class_and_params():
    config = nn.DenseFlipout(2, prior=dist.Normal(0.0, 0.5)).get_config()
    assert config["prior"] == {"class": "Normal", "params": {"loc": 0.0, "scale": 0.5}}


def test_custom_callables_refuse_to_serialise():
    with pytest.raises(ValueError, match="activation"):
        nn.Dense(2, activation=lambda x: x).get_config()


def test_call_on_array_says_what_to_do():
    with pytest.raises(TypeError, match="init"):
        nn.Dense(2)(jnp.ones((1, 3)))


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
