"""Weights files matched by structure, partial loads, deterministic -> Bayesian (issue 15)."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _net(head_units=1):
    return nn.Sequential([nn.Input((4,)), nn.Dense(5, activation="tanh"),
                          nn.BatchNormalization(), nn.Dense(head_units)])


_SCRIPT = textwrap.dedent("""
    import sys
    import jax, numpy as np
    from probflow import nn
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "save":
        # Build unrelated layers first, so this process's automatic names differ.
        junk = [nn.Dense(1) for _ in range(7)] + [nn.BatchNormalization() for _ in range(3)]
    m = nn.Sequential([nn.Input((4,)), nn.Dense(5, activation="tanh"),
                       nn.BatchNormalization(), nn.Dense(1)])
    m.build_variables(jax.random.key(3 if mode == "save" else 4))
    if mode == "save":
        m.set_weights([np.random.default_rng(0).normal(size=w.shape) for w in m.get_weights()])
        m.save_weights(path)
    else:
        m.load_weights(path)
    print([layer.name for layer in m.layers])
    np.save(path + "." + mode + ".npy", np.concatenate([w.ravel() for w in m.get_weights()]))
""")


def test_weights_round_trip_across_processes_built_in_different_orders(tmp_path):
    path = str(tmp_path / "w.probflow")
    env = dict(os.environ, PYTHONPATH=ROOT, JAX_PLATFORMS="cpu")
    names = []
    for mode in ("save", "load"):
        out = subprocess.run([sys.executable, "-c", _SCRIPT, mode, path], env=env,
                             capture_output=True, text=True, timeout=300, check=True)
        names.append(out.stdout.strip().splitlines()[-1])
    assert names[0] != names[1]  # the automatic names differ between the processes
    np.testing.assert_array_equal(np.load(path + ".save.npy"), np.load(path + ".load.npy"))


def test_partial_loads_by_name_and_skip_mismatch(tmp_path):
    source = _net()
    source.build_variables(jax.random.key(0))
    path = tmp_path / "w.probflow"
    source.save_weights(path)
    body = [layer.get_weights() for layer in source.layers[:2]]
    # A new head with another width: shapes differ in the last layer only.
    target = _net(head_units=3)
    target.build_variables(jax.random.key(1))
    head_before = target.layers[2].get_weights()
    with pytest.raises(ValueError, match="does not match"):
        target.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(target.layers[2].get_weights(),
                                                    head_before))
    with pytest.warns(UserWarning, match="skipped"):
        target.load_weights(path, skip_mismatch=True)
    for layer, weights in zip(target.layers[:2], body):
        for got, want in zip(layer.get_weights(), weights):
            np.testing.assert_array_equal(got, want)
    for got, want in zip(target.layers[2].get_weights(), head_before):
        np.testing.assert_array_equal(got, want)
    # by_name: only the layers whose names match are loaded.
    named = nn.Sequential([nn.Input((4,)), nn.Dense(5, activation="tanh",
                                                    name=source.layers[0].name)])
    named.build_variables(jax.random.key(2))
    named.load_weights(path, by_name=True)
    for got, want in zip(named.layers[0].get_weights(), body[0]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cls, layer, shape", [
    (nn.DenseFlipout, nn.Dense(3, activation="relu"), (4,)),
    (nn.DenseReparameterization, nn.Dense(3, use_bias=False), (4,)),
    (nn.Conv2DFlipout, nn.Conv2D(2, 3, padding="same"), (5, 5, 1)),
    (nn.Conv1DReparameterization, nn.Conv1D(2, 2), (6, 3)),
])
def test_from_layer_means_equal_the_trained_weights(cls, layer, shape):
    layer.build_variables(jax.random.key(0), shape)
    bayes = cls.from_layer(layer, init_scale=1e-2)
    trained = layer.params
    np.testing.assert_array_equal(bayes.params["kernel_loc"], trained["kernel"])
    if "bias" in trained:
        np.testing.assert_array_equal(bayes.params["bias_loc"], trained["bias"])
    scales = bayes.posterior_distributions(bayes.params)["kernel"].scale
    np.testing.assert_allclose(scales, 1e-2, rtol=1e-5)
    x = jax.random.normal(jax.random.key(1), (2,) + shape)
    mean_out, _ = bayes.apply_with_weights(bayes.mean_weights(bayes.params), {}, x)
    np.testing.assert_allclose(mean_out, layer(x), rtol=1e-5, atol=1e-6)


def test_from_layer_refuses_the_wrong_kind():
    conv = nn.Conv2D(2, 3)
    conv.build_variables(jax.random.key(0), (4, 4, 1))
    with pytest.raises(TypeError, match="Dense"):
        nn.DenseFlipout.from_layer(conv)
    with pytest.raises(ValueError, match="no weights yet"):
        nn.DenseFlipout.from_layer(nn.Dense(2))


def test_to_bayesian_converts_chosen_layers_and_clones_the_rest():
    x = nn.Input((4,))
    hidden = nn.Dense(5, activation="tanh", name="hidden")
    out = nn.Dense(2, name="out")
    model = nn.Model(x, out(nn.BatchNormalization(name="bn")(hidden(x))))
    model.build_variables(jax.random.key(0))
    head_only = nn.to_bayesian(model, layers=["out"])
    assert [type(layer).__name__ for layer in head_only.layers] == [
        "Dense", "BatchNormalization", "DenseFlipout"]
    assert all(a is not b for a, b in zip(head_only.layers, model.layers))
    data = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    for layer in (head_only.layers[0], head_only.layers[1]):
        original = model.get_layer(layer.name)
        for got, want in zip(layer.get_weights(), original.get_weights()):
            np.testing.assert_array_equal(got, want)
    mean_net, _ = head_only.forward(head_only.params["layers"], head_only.layer_state,
                                    [jnp.asarray(data)], mean_weights=True)
    net, _ = model.forward(model.params["layers"], model.layer_state, [jnp.asarray(data)])
    np.testing.assert_allclose(mean_net[0], net[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="only Dense"):
        nn.to_bayesian(model, layers=["bn"])
