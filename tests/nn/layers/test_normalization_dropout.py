"""BatchNormalization (train vs inference, moving statistics) and Dropout (training only)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _layer_stats import assert_mean_is, z_critical

from probflow import nn


def test_batchnorm_counts_like_keras():
    layer = nn.BatchNormalization()
    assert layer.stateful and not layer.is_bayesian
    assert layer.output_shape((4, 4, 3)) == (4, 4, 3)
    assert layer.count_params((4, 4, 3)) == {"trainable": 6, "non_trainable": 6, "stochastic": 0}
    assert nn.BatchNormalization(center=False, scale=False).count_params((5,))["trainable"] == 0


def test_batchnorm_training_uses_batch_statistics_and_updates_state(x64):
    layer = nn.BatchNormalization(momentum=0.9, epsilon=1e-3)
    params, state = layer.init(jax.random.key(0), (3, 3, 2))
    params = {"gamma": jnp.asarray([2.0, 0.5]), "beta": jnp.asarray([1.0, -1.0])}
    state = {"moving_mean": jnp.asarray([0.3, -0.2]), "moving_variance": jnp.asarray([1.5, 0.7])}
    x = np.random.default_rng(0).normal(loc=[3.0, -2.0], scale=[2.0, 0.5], size=(4, 3, 3, 2))
    y, new_state = layer.apply(params, state, jnp.asarray(x), training=True)
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    expected = (x - mean) / np.sqrt(var + 1e-3) * [2.0, 0.5] + [1.0, -1.0]
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-10)
    np.testing.assert_allclose(new_state["moving_mean"], 0.9 * np.asarray([0.3, -0.2]) + 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(new_state["moving_variance"], 0.9 * np.asarray([1.5, 0.7]) + 0.1 * var, rtol=1e-12)


def test_batchnorm_inference_uses_moving_statistics(x64):
    layer = nn.BatchNormalization(epsilon=1e-3)
    params, _ = layer.init(jax.random.key(0), (2,))
    state = {"moving_mean": jnp.asarray([1.0, 2.0]), "moving_variance": jnp.asarray([4.0, 0.25])}
    x = np.random.default_rng(1).normal(size=(5, 2))
    y, new_state = layer.apply(params, state, jnp.asarray(x), training=False)
    expected = (x - [1.0, 2.0]) / np.sqrt(np.asarray([4.0, 0.25]) + 1e-3)
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-10)
    assert new_state is state


def test_batchnorm_moving_statistics_converge_under_scan():
    layer = nn.BatchNormalization(momentum=0.9)
    params, state = layer.init(jax.random.key(0), (3,))
    x = jax.random.normal(jax.random.key(1), (64, 3)) * jnp.asarray([1.0, 2.0, 3.0]) + jnp.asarray([5.0, -1.0, 0.0])

    @jax.jit
    def train(state):
        def step(state, _):
            return layer.apply(params, state, x, training=True)[1], None

        return jax.lax.scan(step, state, None, length=200)[0]

    final = train(state)
    np.testing.assert_allclose(final["moving_mean"], x.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(final["moving_variance"], x.var(0), rtol=1e-4)
    # After convergence, inference mode reproduces training mode on that batch.
    y_train, _ = layer.apply(params, final, x, training=True)
    y_eval, _ = layer.apply(params, final, x, training=False)
    np.testing.assert_allclose(y_eval, y_train, rtol=1e-3, atol=1e-3)


def test_batchnorm_gradient_does_not_flow_into_state():
    layer = nn.BatchNormalization()
    params, state = layer.init(jax.random.key(0), (2,))
    x = jax.random.normal(jax.random.key(1), (8, 2))
    grad = jax.grad(lambda x: jnp.sum(layer.apply(params, state, x, training=True)[1]["moving_mean"]))(x)
    assert float(jnp.abs(grad).sum()) == 0.0
    g = jax.grad(lambda p: jnp.sum(layer.apply(p, state, x, training=True)[0] ** 3))(params)
    assert all(bool(jnp.all(jnp.isfinite(v))) for v in g.values())


def test_dropout_is_identity_at_inference():
    x = jnp.arange(12.0).reshape(3, 4)
    layer = nn.Dropout(0.5)
    np.testing.assert_array_equal(layer.apply({}, {}, x)[0], x)
    np.testing.assert_array_equal(layer.apply({}, {}, x, key=jax.random.key(0))[0], x)
    np.testing.assert_array_equal(nn.Dropout(0.0).apply({}, {}, x, training=True)[0], x)


def test_dropout_in_training_drops_at_rate_and_keeps_the_mean():
    rate, n = 0.3, 20000
    x = jnp.full((n, 2), 2.0)
    y, _ = nn.Dropout(rate).apply({}, {}, x, key=jax.random.key(0), training=True)
    y = np.asarray(y)
    np.testing.assert_allclose(np.unique(y), [0.0, 2.0 / (1 - rate)], rtol=1e-6)
    dropped = (y == 0).mean()
    se = np.sqrt(rate * (1 - rate) / y.size)
    assert abs(dropped - rate) / se < z_critical(2)
    assert_mean_is(y.reshape(-1, 1), [2.0])


def test_dropout_needs_a_key_in_training_and_a_valid_rate():
    with pytest.raises(ValueError, match="key"):
        nn.Dropout(0.5).apply({}, {}, jnp.ones((2, 2)), training=True)
    with pytest.raises(ValueError, match="rate"):
        nn.Dropout(1.0)
