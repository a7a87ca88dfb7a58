"""Conv1D / Conv2D and their Bayesian variants: Keras shapes and counts, numerics
against a scipy.signal.correlate reference (strides, dilation, same / causal padding)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _conv_reference import reference_conv
from _layer_stats import assert_mean_is, assert_means_equal

from probflow import nn


@pytest.mark.parametrize(
    "make, input_shape, out_shape, count",
    [
        (lambda: nn.Conv2D(8, 3), (8, 8, 1), (6, 6, 8), 3 * 3 * 1 * 8 + 8),
        (lambda: nn.Conv2D(4, 3, strides=2, padding="same"), (7, 7, 2), (4, 4, 4), 3 * 3 * 2 * 4 + 4),
        (lambda: nn.Conv2D(4, (3, 2), dilation_rate=2), (9, 9, 3), (5, 7, 4), 3 * 2 * 3 * 4 + 4),
        (lambda: nn.Conv2D(2, 2, use_bias=False), (3, 3, 5), (2, 2, 2), 2 * 2 * 5 * 2),
        (lambda: nn.Conv1D(5, 3), (10, 2), (8, 5), 3 * 2 * 5 + 5),
        (lambda: nn.Conv1D(5, 3, padding="causal", dilation_rate=2), (10, 2), (10, 5), 35),
        (lambda: nn.Conv1D(5, 3, strides=3, padding="same"), (10, 2), (4, 5), 35),
    ],
)
def test_shapes_and_counts(make, input_shape, out_shape, count):
    layer = make()
    assert layer.output_shape(input_shape) == out_shape
    assert layer.count_params(input_shape) == {"trainable": count, "non_trainable": 0, "stochastic": 0}
    params, state = layer.init(jax.random.key(0), input_shape)
    y, _ = layer.apply(params, state, jnp.ones((2,) + input_shape))
    assert y.shape == (2,) + out_shape


@pytest.mark.parametrize(
    "cls, input_shape, trainable, stochastic",
    [
        (nn.Conv2DFlipout, (8, 8, 1), 2 * 80, 80),
        (nn.Conv2DReparameterization, (8, 8, 1), 2 * 80, 80),
        (nn.Conv1DFlipout, (10, 2), 2 * 21, 3 * 2 * 3 + 3),
        (nn.Conv1DReparameterization, (10, 2), 2 * 21, 21),
    ],
)
def test_bayesian_counts(cls, input_shape, trainable, stochastic):
    layer = cls(8 if len(input_shape) == 3 else 3, 3)
    assert layer.is_bayesian
    assert layer.count_params(input_shape) == {
        "trainable": trainable,
        "non_trainable": 0,
        "stochastic": stochastic,
    }


CONV2D_CASES = [
    dict(strides=1, padding="valid", dilation_rate=1),
    dict(strides=2, padding="same", dilation_rate=1),
    dict(strides=1, padding="valid", dilation_rate=2),
    dict(strides=(2, 1), padding="same", dilation_rate=(1, 2)),
    dict(strides=1, padding="same", dilation_rate=2),
]


@pytest.mark.parametrize("kernel_size", [3, 2])
@pytest.mark.parametrize("options", CONV2D_CASES)
def test_conv2d_matches_scipy(options, kernel_size, x64):
    layer = nn.Conv2D(3, kernel_size, **options)
    params, state = layer.init(jax.random.key(1), (7, 8, 2))
    params["bias"] = jnp.asarray([0.5, -1.0, 2.0])
    x = np.random.default_rng(0).normal(size=(2, 7, 8, 2))
    y, _ = layer.apply(params, state, jnp.asarray(x))
    expected = reference_conv(
        x, params["kernel"], layer.strides, layer.padding, layer.dilation_rate
    ) + np.asarray(params["bias"])
    assert y.shape == expected.shape == (2,) + layer.output_shape((7, 8, 2))
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        dict(strides=1, padding="valid", dilation_rate=1),
        dict(strides=2, padding="same", dilation_rate=1),
        dict(strides=1, padding="causal", dilation_rate=2),
        dict(strides=2, padding="valid", dilation_rate=3),
    ],
)
def test_conv1d_matches_scipy(options, x64):
    layer = nn.Conv1D(2, 3, **options)
    params, state = layer.init(jax.random.key(2), (11, 3))
    x = np.random.default_rng(1).normal(size=(3, 11, 3))
    y, _ = layer.apply(params, state, jnp.asarray(x))
    expected = reference_conv(x, params["kernel"], layer.strides, layer.padding, layer.dilation_rate)
    assert y.shape == (3,) + layer.output_shape((11, 3))
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-10, atol=1e-12)


def test_causal_output_ignores_the_future(x64):
    layer = nn.Conv1D(1, 3, padding="causal", dilation_rate=2)
    params, state = layer.init(jax.random.key(3), (9, 1))
    x = np.random.default_rng(2).normal(size=(1, 9, 1))
    changed = x.copy()
    changed[0, 6:] += 1.0
    y1, _ = layer.apply(params, state, jnp.asarray(x))
    y2, _ = layer.apply(params, state, jnp.asarray(changed))
    np.testing.assert_array_equal(np.asarray(y1)[0, :6], np.asarray(y2)[0, :6])
    assert not np.allclose(np.asarray(y1)[0, 6:], np.asarray(y2)[0, 6:])


def test_bad_conv_arguments():
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="input_shape"):
        nn.Conv2D(2, 5).output_shape((3, 3, 1))
    with pytest.raises(ValueError, match="3 dims"):
        nn.Conv2D(2, 3).init(jax.random.key(0), (8, 8))


def _with_scale(params, scale):
    raw = float(np.log(np.expm1(scale)))
    return {k: (jnp.full_like(v, raw) if k.endswith("raw_scale") else v) for k, v in params.items()}


@pytest.mark.parametrize("cls", [nn.Conv2DReparameterization, nn.Conv1DReparameterization])
def test_reparameterization_conv_is_a_conv_with_drawn_weights(cls, x64):
    input_shape = (6, 5, 2) if "2D" in cls.__name__ else (6, 2)
    layer = cls(3, 3, strides=2, padding="same")
    params, state = layer.init(jax.random.key(0), input_shape)
    params = _with_scale(params, 0.2)
    key = jax.random.key(4)
    x = np.random.default_rng(3).normal(size=(2,) + input_shape)
    y, _ = layer.apply(params, state, jnp.asarray(x), key=key)
    weights = layer.sample_weights(jax.random.split(key)[0], params)
    expected = reference_conv(x, weights["kernel"], layer.strides, layer.padding, layer.dilation_rate)
    np.testing.assert_allclose(np.asarray(y), expected + np.asarray(weights["bias"]), rtol=1e-10)


NUM_KEYS = 500
X_IMAGES = jax.random.normal(jax.random.key(5), (2, 3, 3, 2))


def _conv_draws(cls, activation):
    layer = cls(2, 3, padding="same", activation=activation)
    params, state = layer.init(jax.random.key(0), (3, 3, 2))
    params = _with_scale(params, 0.4)
    keys = jax.random.split(jax.random.key(6), NUM_KEYS)
    # lax.map, not vmap: a vmapped per-draw kernel becomes a grouped conv that XLA:CPU
    # compiles slowly.
    draw = jax.jit(lambda ks: jax.lax.map(lambda k: layer.apply(params, state, X_IMAGES, key=k)[0], ks))
    draws = draw(keys)
    return layer, params, np.asarray(draws)


def test_conv_flipout_mean_matches_reparameterization():
    _, _, flip = _conv_draws(nn.Conv2DFlipout, "tanh")
    _, _, rep = _conv_draws(nn.Conv2DReparameterization, "tanh")
    assert_means_equal(flip, rep)


def test_conv_flipout_linear_mean_is_the_mean_weight_output():
    layer, params, draws = _conv_draws(nn.Conv2DFlipout, None)
    truth, _ = layer.apply_with_weights(layer.mean_weights(params), {}, X_IMAGES)
    assert_mean_is(draws, truth)


def test_conv_flipout_jit_grad_and_kl():
    layer = nn.Conv2DFlipout(2, 3)
    params, state = layer.init(jax.random.key(0), (5, 5, 1))
    x = jnp.ones((2, 5, 5, 1))

    @jax.jit
    def loss(p, key):
        return jnp.sum(layer.apply(p, state, x, key=key)[0] ** 2) + layer.kl(p, key)

    grads = jax.grad(loss)(params, jax.random.key(1))
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads.values())
    assert float(layer.kl(params)) > 0
