"""Model save / load: round trips for every layer type, bit-identical predictions and
train state, functional graphs, continued training, weights files, atomic writes."""

import os
import warnings

import jax
import numpy as np
import optax
import pytest

from probflow import distributions as dist
from probflow import nn
from probflow.nn.layers import registered_layers
from probflow.nn.saving import archive

RNG = np.random.default_rng(0)


def _leaves(state):
    out = []
    for leaf in jax.tree_util.tree_leaves(state):
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        out.append(np.asarray(leaf))
    return out


def assert_same_state(a, b):
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for u, v in zip(_leaves(a), _leaves(b)):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


# Per registered layer: (input shape, layer factory). A new layer class without an
# entry here fails `test_every_registered_layer_is_covered`.
LAYER_CASES = {
    "Dense": ((4,), lambda: nn.Dense(3, activation="relu")),
    "DenseReparameterization": ((4,), lambda: nn.DenseReparameterization(
        3, prior=dist.Normal(0.0, 0.5), activation="tanh")),
    "DenseFlipout": ((4,), lambda: nn.DenseFlipout(3)),
    "Conv1D": ((6, 2), lambda: nn.Conv1D(3, 2, padding="same")),
    "Conv1DReparameterization": ((6, 2), lambda: nn.Conv1DReparameterization(3, 2)),
    "Conv1DFlipout": ((6, 2), lambda: nn.Conv1DFlipout(3, 2)),
    "Conv2D": ((4, 4, 2), lambda: nn.Conv2D(3, (2, 2), strides=(2, 1))),
    "Conv2DReparameterization": ((4, 4, 2), lambda: nn.Conv2DReparameterization(3, 2)),
    "Conv2DFlipout": ((4, 4, 2), lambda: nn.Conv2DFlipout(3, 2)),
    "MaxPooling1D": ((6, 2), lambda: nn.MaxPooling1D(2)),
    "AveragePooling1D": ((6, 2), lambda: nn.AveragePooling1D(3, strides=1)),
    "GlobalAveragePooling1D": ((6, 2), lambda: nn.GlobalAveragePooling1D()),
    "GlobalMaxPooling1D": ((6, 2), lambda: nn.GlobalMaxPooling1D(keepdims=True)),
    "MaxPooling2D": ((4, 4, 2), lambda: nn.MaxPooling2D(2, padding="same")),
    "AveragePooling2D": ((4, 4, 2), lambda: nn.AveragePooling2D((2, 1))),
    "GlobalAveragePooling2D": ((4, 4, 2), lambda: nn.GlobalAveragePooling2D()),
    "GlobalMaxPooling2D": ((4, 4, 2), lambda: nn.GlobalMaxPooling2D()),
    "Flatten": ((2, 3), lambda: nn.Flatten()),
    "Reshape": ((6,), lambda: nn.Reshape((3, 2))),
    "Dropout": ((4,), lambda: nn.Dropout(0.25)),
    "Activation": ((4,), lambda: nn.Activation("softplus")),
    "LeakyReLU": ((4,), lambda: nn.LeakyReLU(0.1)),
    "BatchNormalization": ((4,), lambda: nn.BatchNormalization(momentum=0.9)),
    "Lambda": ((4,), lambda: nn.Lambda("test_saving_cube")),
}
nn.register_lambda_function("test_saving_cube", lambda x: x ** 3)
# Multi-input layers cannot sit in the one-input model above; their save/load round
# trips (fitted by vi and map) are in tests/nn/layers/test_merge_lambda.py.
MULTI_INPUT_LAYERS = {"Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply",
                      "Subtract"}


def test_every_registered_layer_is_covered():
    # Built-in layers only: tests register their own custom layers too.
    built_in = {name for name, cls in registered_layers().items()
                if getattr(nn.layers, name, None) is cls}
    assert built_in <= set(LAYER_CASES) | MULTI_INPUT_LAYERS


@pytest.mark.parametrize("layer_class", sorted(LAYER_CASES))
def test_round_trip_every_layer_type(layer_class, tmp_path):
    shape, factory = LAYER_CASES[layer_class]
    layer = factory()
    assert type(layer).__name__ == layer_class
    model = nn.Sequential([nn.Input(shape), layer, nn.Flatten(), nn.Dense(1)])
    model.compile(optimizer="adam", likelihood="normal", learning_rate=0.01)
    x = RNG.normal(size=(6,) + shape).astype("float32")
    y = RNG.normal(size=6).astype("float32")
    model.fit(x, y, epochs=0, verbose=0)  # builds the state without compiling an epoch
    path = tmp_path / "m.probflow"
    model.save(path)
    loaded = nn.load_model(path)
    assert type(loaded.layers[0]) is type(layer)
    assert loaded.layers[0].get_config() == layer.get_config()
    assert_same_state(model.train_state, loaded.train_state)
    # Eager forward passes (no compile per layer type); `predict` itself is compared in
    # the tests below.
    key = jax.random.key(3)
    for mean_weights in (False, True):
        (a,), _ = model.forward(model.params["layers"], model.layer_state, [x], key=key,
                                mean_weights=mean_weights)
        (b,), _ = loaded.forward(loaded.params["layers"], loaded.layer_state, [x], key=key,
                                 mean_weights=mean_weights)
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A fitted Bayesian MLP with batch norm and a metric, saved once."""
    x = RNG.normal(size=(40, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.normal(size=40)).astype("float32")
    model = nn.Sequential([nn.DenseReparameterization(8, activation="tanh"),
                           nn.BatchNormalization(), nn.Dense(1)], name="mlp")
    model.compile(optimizer="adam", likelihood="studentt", metrics=["rmse"],
                  learning_rate=0.02, kl_weight=0.5)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=1)
    path = tmp_path_factory.mktemp("fitted") / "mlp.probflow"
    model.save(path)
    return model, path, x, y


def test_loaded_model_is_identical_and_keeps_training_identically(fitted):
    model, path, x, y = fitted
    loaded = nn.load_model(path)
    assert loaded.name == "mlp"
    assert_same_state(model.train_state, loaded.train_state)
    assert loaded.learning_rate == model.learning_rate
    assert loaded.kl_weight == 0.5
    assert [m.name for m in loaded._metrics] == [m.name for m in model._metrics]
    np.testing.assert_array_equal(model.predict(x, num_samples=4), loaded.predict(x, num_samples=4))
    # Same optimizer moments and key stream: one more epoch of the loaded model gives
    # exactly the weights of one more epoch of the original.
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=5)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=5)
    assert_same_state(model.train_state, loaded.train_state)
    assert int(loaded.train_state.epoch) == 4


def test_functional_graph_with_shared_layer_and_two_outputs(tmp_path):
    x_in, z_in = nn.Input((3,), name="x"), nn.Input((2,), name="z")
    shared = nn.Dense(4, activation="relu", name="shared")
    merged = nn.Dense(4, name="mix")(shared(x_in))
    out_a = nn.Dense(1, name="a")(merged)
    out_b = nn.Dense(3, name="b")(nn.DenseFlipout(4, name="flip")(z_in))
    model = nn.Model([x_in, z_in], [out_a, out_b, shared(x_in)], name="graph")
    model.compile(likelihood=["normal", "normal", "normal"])
    xs = [RNG.normal(size=(10, 3)).astype("float32"), RNG.normal(size=(10, 2)).astype("float32")]
    ys = [RNG.normal(size=10).astype("float32"), RNG.normal(size=(10, 3)).astype("float32"),
          RNG.normal(size=(10, 4)).astype("float32")]
    model.fit(xs, ys, epochs=0, verbose=0)
    model.save(tmp_path / "g.probflow")
    loaded = nn.load_model(tmp_path / "g.probflow")
    assert [loaded.layer_name(layer) for layer in loaded.layers] == [
        model.layer_name(layer) for layer in model.layers]
    assert len(loaded._nodes) == len(model._nodes) == 6
    assert_same_state(model.train_state, loaded.train_state)
    for a, b in zip(model.predict(xs, num_samples=2), loaded.predict(xs, num_samples=2)):
        np.testing.assert_array_equal(a, b)


def test_categorical_one_hot_head_and_unfitted_model(tmp_path):
    model = nn.Sequential([nn.Input((2,)), nn.Dense(3)])
    model.compile(optimizer="sgd", likelihood="categorical", metrics=["accuracy"])
    model.save(tmp_path / "unfitted.probflow")
    loaded = nn.load_model(tmp_path / "unfitted.probflow")
    assert loaded.compiled and loaded.train_state is None
    x = RNG.normal(size=(9, 2)).astype("float32")
    model.fit(x, np.eye(3)[np.arange(9) % 3], epochs=0, verbose=0)
    model.save(tmp_path / "fitted.probflow")
    loaded = nn.load_model(tmp_path / "fitted.probflow")
    assert loaded.heads[0].one_hot and loaded.heads[0].target_shape == ()
    np.testing.assert_array_equal(model.predict(x, num_samples=1), loaded.predict(x, num_samples=1))


def test_custom_optimizer_and_likelihood_need_arguments(tmp_path):
    model = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.1, momentum=0.9))
    model.compile(optimizer=optimizer,
                  likelihood=lambda out: dist.Normal(out[..., 0], 1.0))
    x = RNG.normal(size=(8, 2)).astype("float32")
    model.fit(x, x[:, 0], epochs=1, verbose=0)
    path = tmp_path / "custom.probflow"
    model.save(path)
    with pytest.raises(ValueError, match="custom likelihood.*likelihood=") as err:
        nn.load_model(path)
    assert str(path) in str(err.value)
    head = lambda out: dist.Normal(out[..., 0], 1.0)  # noqa: E731
    loaded = nn.load_model(path, optimizer=optimizer, likelihood=head)
    assert_same_state(model.train_state, loaded.train_state)
    with pytest.warns(UserWarning, match="custom optax optimizer"):
        fallback = nn.load_model(path, likelihood=head)
    assert_same_state(model.train_state.params, fallback.train_state.params)
    with pytest.raises(ValueError, match="opt_state"):
        nn.load_model(path, optimizer=optax.adam(1e-3), likelihood=head)


def test_custom_layer_registers_by_name(tmp_path):
    @nn.register_layer
    class Scale2(nn.Layer):
        def apply(self, params, state, x, *, key=None, training=False):
            return 2.0 * x, state

    model = nn.Sequential([nn.Input((2,)), Scale2(name="twice"), nn.Dense(1)])
    model.compile(likelihood="normal")
    x = RNG.normal(size=(5, 2)).astype("float32")
    model.fit(x, x.sum(1), epochs=0, verbose=0)
    model.save(tmp_path / "c.probflow")
    loaded = nn.load_model(tmp_path / "c.probflow")
    assert type(loaded.layers[0]) is Scale2
    np.testing.assert_array_equal(model.predict(x, num_samples=1), loaded.predict(x, num_samples=1))


def test_unregistered_layer_cannot_be_saved(tmp_path):
    class Unregistered(nn.Layer):
        def apply(self, params, state, x, *, key=None, training=False):
            return x, state

    model = nn.Sequential([nn.Input((2,)), Unregistered(), nn.Dense(1)])
    with pytest.raises(ValueError, match="register_layer"):
        model.save(tmp_path / "u.probflow")
    assert not os.listdir(tmp_path)


def test_weights_round_trip_and_layer_named_on_mismatch(fitted, tmp_path):
    model, _, x, _ = fitted
    path = tmp_path / "w.probflow"
    model.save_weights(path)
    names = [model.layer_name(layer) for layer in model.layers]
    twin = nn.Sequential([nn.DenseReparameterization(8, activation="tanh", name=names[0]),
                          nn.BatchNormalization(name=names[1]), nn.Dense(1, name=names[2])])
    twin.compile(likelihood="studentt")
    twin.build((3,))
    twin.load_weights(path)  # before fit: the first fit starts from these weights
    twin.fit(x, x[:, 0], epochs=0, verbose=0)
    assert_same_state(model.train_state.params["layers"], twin.train_state.params["layers"])
    assert_same_state(model.layer_state, twin.layer_state)
    twin.load_weights(path)  # after fit: replaces params, layer state and head params
    assert_same_state(model.params, twin.params)

    wrong = nn.Sequential([nn.DenseReparameterization(8, name=names[0]),
                           nn.BatchNormalization(name=names[1]), nn.Dense(2, name=names[2])])
    wrong.build((3,))
    with pytest.raises(ValueError, match=rf"layer '{names[2]}' does not match.*'bias' has "
                                         r"shape \(1,\) in the file, \(2,\) in the layer"):
        wrong.load_weights(path)
    with pytest.raises(ValueError, match="expected a 'probflow.weights' archive"):
        wrong.load_weights(fitted[1])


def test_crash_mid_save_keeps_previous_file(fitted, tmp_path, monkeypatch):
    model, _, x, _ = fitted
    path = tmp_path / "m.probflow"
    model.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.probflow"]  # the temporary file was removed
    nn.load_model(path)


def test_write_is_fsynced_then_renamed(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace",
                        lambda a, b: (calls.append(("replace", os.path.dirname(a))),
                                      real_replace(a, b))[1])
    archive.write_archive(tmp_path / "a.probflow", {"k": 1}, {"w": np.zeros(2)})
    assert calls[0] == "fsync" and calls[1] == ("replace", str(tmp_path))


def test_load_missing_or_foreign_file(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        nn.load_model(tmp_path / "nope.probflow")
    (tmp_path / "text.probflow").write_text("hello")
    with pytest.raises(ValueError, match="text.probflow: not a valid probflow archive"):
        nn.load_model(tmp_path / "text.probflow")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        archive.write_archive(tmp_path / "other.probflow", {"format": "x"}, {})
    with pytest.raises(ValueError, match="expected a 'probflow.model' archive"):
        nn.load_model(tmp_path / "other.probflow")
