"""Dense: shapes, parameter counts (Keras conventions), numerics, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from probflow import distributions as dist
from probflow import nn


@pytest.mark.parametrize(
    "units, input_shape, out_shape, count",
    [
        (4, (3,), (4,), 3 * 4 + 4),
        (1, (10,), (1,), 11),
        (5, (7, 3), (7, 5), 3 * 5 + 5),  # Keras Dense acts on the last axis only.
    ],
)
def test_shapes_and_counts(units, input_shape, out_shape, count):
    layer = nn.Dense(units)
    assert layer.output_shape(input_shape) == out_shape
    assert layer.count_params(input_shape) == {"trainable": count, "non_trainable": 0, "stochastic": 0}
    params, state = layer.init(jax.random.key(0), input_shape)
    assert state == {}
    y, _ = layer.apply(params, state, jnp.ones((2,) + input_shape))
    assert y.shape == (2,) + out_shape
    assert layer.weight_shapes(input_shape) == {"kernel": (input_shape[-1], units), "bias": (units,)}


def test_no_bias_count():
    assert nn.Dense(4, use_bias=False).count_params((3,))["trainable"] == 12


def test_numerics_match_numpy(x64):
    layer = nn.Dense(3, activation="tanh")
    params, state = layer.init(jax.random.key(1), (4,))
    params["bias"] = jnp.asarray([0.1, -0.2, 0.3])
    x = np.random.default_rng(0).normal(size=(5, 4))
    y, _ = layer.apply(params, state, jnp.asarray(x))
    expected = np.tanh(x @ np.asarray(params["kernel"]) + np.asarray(params["bias"]))
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-12)
    assert y.dtype == jnp.float64


def test_glorot_uniform_kernel_bounds():
    params, _ = nn.Dense(50).init(jax.random.key(2), (30,))
    limit = np.sqrt(6.0 / (30 + 50))
    kernel = np.asarray(params["kernel"])
    assert np.all(np.abs(kernel) <= limit) and kernel.std() > 0.5 * limit / np.sqrt(3)
    assert np.all(np.asarray(params["bias"]) == 0)


def test_gradients_match_finite_differences(x64):
    layer = nn.Dense(3, activation="softplus")
    params, state = layer.init(jax.random.key(3), (4,))
    x = jax.random.normal(jax.random.key(4), (6, 4), jnp.float64)

    def loss(p, x):
        return jnp.sum(layer.apply(p, state, x)[0] ** 2)

    check_grads(loss, (params, x), order=1, modes=["rev"])


def test_jit_and_log_prior():
    layer = nn.Dense(2, prior=dist.Normal(0.0, 0.5))
    params, state = layer.init(jax.random.key(0), (3,))
    y = jax.jit(lambda p, x: layer.apply(p, state, x)[0])(params, jnp.ones((4, 3)))
    assert y.shape == (4, 2)
    expected = sum(
        np.sum(-0.5 * (np.asarray(w) / 0.5) ** 2 - np.log(0.5) - 0.5 * np.log(2 * np.pi))
        for w in params.values()
    )
    np.testing.assert_allclose(float(layer.log_prior(params)), expected, rtol=1e-5)
    assert float(layer.kl(params)) == 0.0
    assert layer.sample_weights(jax.random.key(0), params) == params
    assert layer.mean_weights(params) == params


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="units"):
        nn.Dense(0)
    with pytest.raises(ValueError, match="activation"):
        nn.Dense(2, activation="nope")
    with pytest.raises(TypeError, match="prior"):
        nn.Dense(2, prior=1.0)
    layer = nn.Dense(2)
    with pytest.raises(ValueError, match="input_shape"):
        layer.init(jax.random.key(0), ())
    params, state = layer.init(jax.random.key(0), (3,))
    with pytest.raises(ValueError, match=r"\(batch, \.\.\., 3\)"):
        layer.apply(params, state, jnp.ones((4, 5)))
