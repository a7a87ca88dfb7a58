"""Layers own their weights: the variables API, sharing by reuse, freezing under every
method, the fitted posterior as one value (issue 15)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from probflow import nn
from probflow.nn.callbacks import LearningRateScheduler, ReduceLROnPlateau
from probflow.nn.training import DrawsPosterior, PointPosterior, VariationalPosterior

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 3)).astype("float32")
Y = (X @ np.array([1.0, -2.0, 0.5], "float32") + 0.1 * RNG.normal(size=48)).astype("float32")


def _copy(tree):
    return jax.tree_util.tree_map(np.array, tree)


def _equal(a, b):
    return all(np.array_equal(u, v) for u, v in zip(jax.tree_util.tree_leaves(a),
                                                     jax.tree_util.tree_leaves(b)))


# -- the variables API ---------------------------------------------------------------------
def test_weights_handles_and_get_set_weights():
    bn = nn.BatchNormalization(name="bn")
    bn.build_variables(jax.random.key(0), (3,))
    assert [w.name for w in bn.weights] == ["bn/gamma", "bn/beta", "bn/moving_mean",
                                            "bn/moving_variance"]
    assert [w.path for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.path for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    values = [np.full(3, float(i)) for i in range(4)]
    bn.set_weights(values)
    for got, want in zip(bn.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    assert bn.get_weights()[0].dtype == np.float32  # cast to the variable's dtype
    bn.trainable = False
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4
    with pytest.raises(ValueError, match="expects 4 arrays"):
        bn.set_weights(values[:3])
    with pytest.raises(ValueError, match="'gamma' has shape"):
        bn.set_weights([np.ones(4)] + values[1:])
    with pytest.raises(TypeError, match="trainable"):
        bn.trainable = "no"


def test_unbuilt_layer_says_how_to_build():
    with pytest.raises(ValueError, match="build_variables"):
        _ = nn.Dense(2).params
    assert nn.Dense(2).get_weights() == []


def test_model_weights_api_and_get_layer():
    model = nn.Sequential([nn.Input((3,)), nn.Dense(4, name="hidden"), nn.Dense(1, name="out")])
    model.build_variables(jax.random.key(0))
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 4), (4,), (4, 1), (1,)]
    model.set_weights([np.zeros_like(w) for w in weights])
    assert all(not np.any(w) for w in model.get_weights())
    assert model.get_layer("out") is model.layers[1] and model.get_layer(index=0).name == "hidden"
    with pytest.raises(ValueError, match="no layer named"):
        model.get_layer("nope")
    model.trainable = False
    assert model.frozen_layer_names == {"hidden", "out"}


# -- reuse shares weights -------------------------------------------------------------------
def test_reused_layer_shares_its_trained_weights():
    feat = nn.Dense(8, activation="tanh")
    a = nn.Sequential([feat, nn.Dense(1)])
    a.compile(optimizer="adam", likelihood="normal")
    a.fit(X, Y, epochs=2, verbose=0, method="map")
    trained = _copy(feat.params)
    b = nn.Sequential([feat, nn.Dense(1)])
    b.compile(optimizer="adam", likelihood="normal")
    b.fit(X, Y, epochs=1, verbose=0, method="map")
    # b started from a's trained features (not a fresh init) and trained them further.
    assert not _equal(feat.params, trained)
    assert _equal(a.params["layers"][a.layer_name(feat)], feat.params)
    assert _equal(b.params["layers"][b.layer_name(feat)], feat.params)


def test_reusing_a_built_layer_on_another_shape_is_refused():
    dense = nn.Dense(2)
    dense.build_variables(jax.random.key(0), (3,))
    with pytest.raises(ValueError, match="built for inputs of shape"):
        nn.Sequential([nn.Input((5,)), dense])


# -- freezing holds under every optimizer and method -------------------------------------
def _frozen_model(optimizer="adam", batch_norm=False):
    base = [nn.Dense(6, activation="tanh", name="base")]
    if batch_norm:
        base.append(nn.BatchNormalization(name="bn"))
    model = nn.Sequential([nn.Input((3,))] + base + [nn.Dense(1, name="head")])
    model.compile(optimizer=optimizer, likelihood="normal")
    model.build_variables(jax.random.key(1))
    for layer in base:
        layer.trainable = False
    return model


@pytest.mark.parametrize("optimizer, method", [
    ("adam", "vi"), ("sgd", "map"), (optax.chain(optax.clip(1.0), optax.adamw(1e-2)), "map"),
])
def test_frozen_layer_gets_no_update_from_gradient_methods(optimizer, method):
    model = _frozen_model(optimizer)
    base, head = model.get_layer("base"), model.get_layer("head")
    before_base, before_head = _copy(base.params), _copy(head.params)
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0, method=method)
    assert _equal(base.params, before_base)
    assert not _equal(head.params, before_head)
    # The optimizer state covers only the trainable layers.
    assert "base" not in str(jax.tree_util.tree_structure(model.train_state.opt_state))
    kind = VariationalPosterior if method == "vi" else PointPosterior
    assert isinstance(model.fitted_posterior, kind) and model.fitted_posterior.num_train == 48


@pytest.mark.parametrize("method, options", [
    ("sghmc", {"num_chains": 2}),
    ("ensemble", {"num_members": 2}),
    ("nuts", {"num_warmup": 20, "num_samples": 10, "num_chains": 2}),
])
def test_frozen_layer_is_fixed_under_weight_space_methods(method, options):
    model = _frozen_model()
    base = model.get_layer("base")
    before = _copy(base.params)
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0, method=method, **options)
    posterior = model.fitted_posterior
    assert isinstance(posterior, DrawsPosterior) and posterior.method == method
    assert set(posterior.draws.weights["layers"]) == {"head"}
    assert _equal(posterior.fixed["base"], before) and _equal(base.params, before)
    # Predictions run the frozen weights: changing them changes the predictions.
    first = model.predict(X[:4], num_samples=4)
    assert first.shape == (4, 1) and np.all(np.isfinite(first))


def test_frozen_batch_norm_runs_in_inference_mode():
    model = _frozen_model(batch_norm=True)
    stats = _copy(model.get_layer("bn").state)
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    assert _equal(model.get_layer("bn").state, stats)
    model.get_layer("bn").trainable = True
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    assert not _equal(model.get_layer("bn").state, stats)


def test_keras_transfer_recipe_with_lr_callbacks():
    base = nn.Dense(8, activation="tanh", name="feat")
    pretrain = nn.Sequential([nn.Input((3,)), base, nn.Dense(1)])
    pretrain.compile(optimizer="adam", learning_rate=1e-2, likelihood="normal")
    pretrain.fit(X, Y, epochs=3, batch_size=16, verbose=0, method="map")
    base.trainable = False
    head = nn.Dense(1, name="new_head")
    model = nn.Sequential([nn.Input((3,)), base, head])
    model.compile(optimizer="adam", learning_rate=1e-2, likelihood="normal")
    trained = _copy(base.params)
    schedule = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0, method="map", callbacks=[schedule])
    assert _equal(base.params, trained)
    assert model.learning_rate == pytest.approx(2.5e-3)
    # Unfreeze without compiling again: a fresh optimizer state for the new trainable
    # set, the learning rate carried over; ReduceLROnPlateau keeps working.
    base.trainable = True
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0, method="map",
              callbacks=[ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5,
                                           min_delta=1e9)])
    assert not _equal(base.params, trained)
    # The first epoch sets the best loss; the second (no gain of 1e9) halves the rate.
    assert model.learning_rate == pytest.approx(2.5e-3 * 0.5)
    # Keras's fine-tuning step: compile again with a lower rate, weights kept.
    tuned = _copy(base.params)
    model.compile(optimizer="adam", learning_rate=1e-4, likelihood="normal")
    assert _equal(base.params, tuned)
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0, method="map")
    assert model.learning_rate == pytest.approx(1e-4)


def test_eager_custom_keras_layer_and_every_method():
    class Scale(nn.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, inputs, training=None):
            return inputs * self.w

    layer = Scale()
    y = layer(jnp.ones((2, 3)))
    np.testing.assert_array_equal(y, np.ones((2, 3)))
    assert [w.name for w in layer.weights] == [f"{layer.name}/w"]
    for method, options in (("vi", {}), ("map", {}), ("sghmc", {"num_chains": 1}),
                            ("nuts", {"num_warmup": 10, "num_samples": 5, "num_chains": 1})):
        model = nn.Sequential([nn.Input((3,)), Scale(), nn.Dense(1)])
        model.compile(likelihood="normal")
        model.fit(X, Y, epochs=1, batch_size=16, verbose=0, method=method, **options)
        assert model.predict(X[:2], num_samples=2).shape == (2, 1)
