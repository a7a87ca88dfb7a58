"""`compile` in Keras's vocabulary: loss=, optimizer keywords, loss_weights, run_eagerly,
and the test / predict hooks of evaluate and predict (issue 16)."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import nn
from probflow.nn.callbacks import Callback

RNG = np.random.default_rng(1)
X = RNG.normal(size=(40, 3)).astype("float32")
LABELS = (X[:, 0] > 0).astype("int32") + (X[:, 1] > 0).astype("int32")
Y = (X @ np.array([1.0, -1.0, 0.5], "float32")).astype("float32")


def test_second_positional_argument_is_the_loss():
    model = nn.Sequential([nn.Input((3,)), nn.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    assert model.heads[0].name == "categorical" and model.heads[0].inputs == "probs"
    model.fit(X, LABELS, epochs=2, verbose=0, method="map")
    probs = model.predict(X[:5], num_samples=1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # probflow's own names work as `loss` too; loss and likelihood together do not.
    logits = nn.Sequential([nn.Input((3,)), nn.Dense(3)])
    logits.compile("adam", loss="categorical")
    assert logits.heads[0].inputs == "logits"
    with pytest.raises(ValueError, match="not both"):
        logits.compile("adam", loss="mse", likelihood="normal")


def test_softmax_under_a_logits_head_warns():
    model = nn.Sequential([nn.Input((3,)), nn.Dense(3, activation="softmax")])
    with pytest.warns(UserWarning, match="softmax"):
        model.compile("adam", loss="sparse_categorical_crossentropy", from_logits=True)


def test_optimizer_keywords_reach_optax_and_survive_saving(tmp_path):
    model = nn.Sequential([nn.Input((3,)), nn.Dense(1)])
    model.compile("sgd", "mse", learning_rate=0.01, momentum=0.9, nesterov=True, clipnorm=1.0)
    model.fit(X, Y, epochs=2, verbose=0, method="map")
    path = tmp_path / "m.probflow"
    model.save(path)
    loaded = nn.load_model(path)
    assert loaded.compile_settings["optimizer_keywords"] == {
        "momentum": 0.9, "nesterov": True, "clipnorm": 1.0}
    loaded.fit(X, Y, epochs=1, verbose=0, method="map")  # the restored state fits its optimizer
    with pytest.raises(TypeError, match="momentum"):
        model.compile("adam", "mse", momentumm=0.9)


def test_loss_weights_weight_each_outputs_likelihood():
    x = nn.Input((3,))
    shared = nn.Dense(4, activation="tanh", name="shared")(x)
    first = nn.Dense(1, name="first")(shared)
    second = nn.Dense(1, name="second")(nn.Dense(2, name="second_only")(shared))
    model = nn.Model(x, [first, second])
    model.compile("sgd", loss=["mse", "mse"], loss_weights={"first": 1.0, "second": 0.0})
    model.build_variables(jax.random.key(0))
    before = np.array(model.get_layer("second_only").params["kernel"])
    model.fit(X, [Y, 2 * Y], epochs=2, verbose=0, method="vi")
    # Plain layers under VI have no KL: a zero-weighted output gives them no gradient.
    np.testing.assert_array_equal(model.get_layer("second_only").params["kernel"], before)
    assert model.loss_weights == (1.0, 0.0)
    with pytest.raises(ValueError, match="output names"):
        model.compile("sgd", loss="mse", loss_weights={"nope": 1.0})


class _Spy(nn.Layer):
    """Records what its `call` sees (concrete arrays only when run eagerly)."""

    seen = []

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs, training=None):
        _Spy.seen.append(isinstance(inputs, jax.core.Tracer))
        return inputs * self.w


def _fitted(run_eagerly):
    model = nn.Sequential([nn.Input((3,)), _Spy(), nn.Dense(1)])
    model.compile("adam", "mse", run_eagerly=run_eagerly)
    _Spy.seen = []  # what fit and predict show (building traced shapes abstractly)
    model.fit(X, Y, epochs=2, batch_size=20, verbose=0, method="map", seed=3)
    return model.predict(X[:6], num_samples=1), list(_Spy.seen)


def test_run_eagerly_matches_compiled_and_shows_values():
    compiled, traced = _fitted(False)
    assert traced and all(traced)  # traced under jit
    eager, seen = _fitted(True)
    assert len(seen) > len(traced) and not any(seen)  # every step: values, not tracers
    np.testing.assert_allclose(eager, compiled, rtol=1e-4, atol=1e-5)


def test_evaluate_and_predict_call_test_and_predict_hooks():
    class Recorder(Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_test_begin(self, logs=None):
            self.events.append("test_begin")

        def on_test_batch_end(self, batch, logs=None):
            self.events.append(("test_batch", batch))

        def on_test_end(self, logs=None):
            self.events.append(("test_end", sorted(logs)))

        def on_predict_batch_end(self, batch, logs=None):
            self.events.append(("predict_batch", batch, logs["size"]))

    model = nn.Sequential([nn.Input((3,)), nn.Dense(1)])
    model.compile("adam", "mse")
    model.fit(X, Y, epochs=1, verbose=0)
    recorder = Recorder()
    model.evaluate(X, Y, batch_size=16, callbacks=[recorder])
    model.predict(X, num_samples=2, batch_size=32, callbacks=[recorder])
    assert recorder.events[:4] == ["test_begin", ("test_batch", 0), ("test_batch", 1),
                                   ("test_batch", 2)]
    assert recorder.events[4][0] == "test_end" and "loss" in recorder.events[4][1]
    assert recorder.events[5:] == [("predict_batch", 0, 32), ("predict_batch", 1, 8)]


def test_keras_style_layer_saves_and_loads_with_register_layer(tmp_path):
    @nn.layers.register_layer
    class Offset(nn.Layer):
        def __init__(self, units=1, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

        def call(self, inputs, training=None):
            return inputs + self.b

        def get_config(self):
            config = super().get_config()
            config.update(units=self.units)
            return config

    model = nn.Sequential([nn.Input((3,)), nn.Dense(1), Offset(1)])
    model.compile("adam", "mse")
    model.fit(X, Y, epochs=2, verbose=0, method="map")
    path = os.fspath(tmp_path / "m.probflow")
    model.save(path)
    loaded = nn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X[:4], num_samples=1),
                                  model.predict(X[:4], num_samples=1))
    assert jnp.all(loaded.layers[1].params["b"] == model.layers[1].params["b"])


def test_dict_inputs_outputs_per_output_losses_and_metrics(tmp_path):
    a, b = nn.Input((3,), name="a"), nn.Input((2,), name="b")
    merged = nn.layers.Concatenate()([nn.Dense(4, activation="tanh")(a), b])
    outputs = {"value": nn.Dense(1)(merged), "label": nn.Dense(3)(merged)}
    model = nn.Model({"features": a, "extra": b}, outputs)
    model.compile("adam", loss={"value": "mse", "label": "categorical"},
                  metrics={"value": ["rmse"], "label": ["accuracy"]},
                  loss_weights={"value": 1.0, "label": 0.5})
    x = {"extra": X[:, :2], "features": X}
    y = {"label": LABELS, "value": Y}
    history = model.fit(x, y, epochs=2, verbose=0, method="map")
    assert {"rmse_0", "accuracy_1"} <= set(history.history)
    assert "accuracy_0" not in history.history and "rmse_1" not in history.history
    predictions = model.predict(x, num_samples=1)
    assert set(predictions) == {"value", "label"} and predictions["label"].shape == (40, 3)
    with pytest.raises(ValueError, match="dict keys"):
        model.predict({"features": X}, num_samples=1)
    path = tmp_path / "m.probflow"
    model.save(path)
    loaded = nn.load_model(path)
    again = loaded.predict(x, num_samples=1)
    for key in predictions:
        np.testing.assert_array_equal(again[key], predictions[key])
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
