"""Model.fit / evaluate / predict: loss values by hand, VI and MAP, seeds, bad input."""

import jax
import numpy as np
import optax
import pytest

from probflow import nn
from probflow.nn.layers import MeanFieldNormal

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 2)).astype("float32")
Y = (X @ np.array([1.0, -2.0]) + 0.5 + 0.1 * RNG.normal(size=40)).astype("float32")
LABELS = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


def softplus(v):
    return np.logaddexp(0.0, v)


def normal_logpdf(y, mu, sd):
    return -0.5 * ((y - mu) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)


@pytest.fixture(scope="module")
def bayes_model():
    """A small DenseFlipout regression net fitted for a few epochs (shared)."""
    model = nn.Sequential([nn.DenseFlipout(8, activation="relu"), nn.DenseFlipout(1)])
    model.compile(optimizer="adam", likelihood="normal", metrics=["rmse"], learning_rate=0.02)
    history = model.fit(X, Y, epochs=40, batch_size=16, verbose=0, seed=1)
    return model, history


def test_fit_decreases_loss(bayes_model):
    _, history = bayes_model
    loss = history.history["loss"]
    assert len(loss) == 40 and np.all(np.isfinite(loss))
    assert np.mean(loss[-5:]) < np.mean(loss[:5]) - 0.5
    assert history.history["rmse"][-1] < history.history["rmse"][0]


def tiny_model():
    layer = nn.DenseReparameterization(1, posterior=MeanFieldNormal(init_scale=1e-4),
                                       bias_posterior=None, name="tiny")
    model = nn.Sequential([nn.Input((2,)), layer])
    model.compile(optimizer=optax.sgd(0.0), likelihood="normal")
    return model


def hand_terms(model):
    p = model.params["layers"]["tiny"]
    loc, scale = np.asarray(p["kernel_loc"]), softplus(np.asarray(p["kernel_raw_scale"], np.float64))
    bias = np.asarray(p["bias"])
    noise_sd = softplus(float(model.params["likelihood"][0]["raw_scale"])) + 1e-6
    nll = -normal_logpdf(Y, X @ loc[:, 0] + bias[0], noise_sd).mean()
    kl = np.sum(0.5 * (scale**2 + loc**2 - 1.0) - np.log(scale))
    neg_log_prior = -np.sum(normal_logpdf(np.concatenate([loc.ravel(), bias]), 0.0, 1.0))
    return nll, kl, neg_log_prior


@pytest.mark.parametrize("batch_size", [40, 16])
def test_vi_loss_is_mean_nll_plus_kl_over_n(batch_size):
    model = tiny_model()
    history = model.fit(X, Y, epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    nll, kl, _ = hand_terms(model)  # learning rate 0: params are the initial ones
    assert history.history["kl"][0] == pytest.approx(kl, rel=1e-5)
    # KL / N with N = 40 examples, not / batch size: weights ~1e-4 noise allow 1e-3.
    assert history.history["loss"][0] == pytest.approx(nll + kl / 40, abs=2e-3)
    assert kl / 40 > 0.1  # the KL term is large enough for the check to bite


def test_map_loss_is_mean_nll_plus_neg_log_prior_over_n():
    model = tiny_model()
    history = model.fit(X, Y, epochs=1, batch_size=16, shuffle=False, verbose=0, method="map")
    nll, _, neg_log_prior = hand_terms(model)
    assert history.history["neg_log_prior"][0] == pytest.approx(neg_log_prior, rel=1e-5)
    assert history.history["loss"][0] == pytest.approx(nll + neg_log_prior / 40, rel=1e-5)


def test_map_fit_learns_and_predicts_deterministically():
    model = nn.Sequential([nn.DenseReparameterization(1)])
    model.compile(optimizer="adam", likelihood="normal", learning_rate=0.1)
    history = model.fit(X, Y, epochs=100, batch_size=20, verbose=0, method="map")
    assert history.history["loss"][-1] < history.history["loss"][0] - 0.5
    # MAP predicts at the posterior-mean weights: no spread across seeds.
    np.testing.assert_allclose(model.predict(X[:5], seed=0), model.predict(X[:5], seed=3),
                               rtol=1e-6)
    np.testing.assert_allclose(model.params["layers"][model.layers[0].name]["kernel_loc"][:, 0],
                               [1.0, -2.0], atol=0.15)


def test_predict_same_seed_same_answer(bayes_model):
    model, _ = bayes_model
    a = model.predict(X, num_samples=32, seed=3)
    b = model.predict(X, num_samples=32, seed=3)
    c = model.predict(X, num_samples=32, seed=4)
    assert a.shape == (40, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # Chunking bounds memory; the answer is a consistent estimate at any batch size.
    np.testing.assert_allclose(model.predict(X, num_samples=32, seed=3, batch_size=7), a,
                               atol=0.5)


def test_predictive_and_interval_shapes(bayes_model):
    model, _ = bayes_model
    draws = model.predictive(X, num_samples=32, seed=0)
    assert draws.shape == (32, 40, 1)
    lower, upper = model.predict_interval(X, ci=0.9, num_samples=32)
    assert lower.shape == (40, 1) and np.all(lower < upper)
    mean = model.predict(X, num_samples=32)
    assert np.all((lower < mean) & (mean < upper))
    logs = model.evaluate(X, Y, num_samples=32)
    assert set(logs) >= {"loss", "nll", "kl", "rmse"}
    assert logs["rmse"] < np.std(Y)


def test_posterior_params_and_summary(bayes_model, capsys):
    model, _ = bayes_model
    post = model.posterior
    first = model.layers[0].name
    assert set(post[first]) == {"kernel", "bias"}
    assert post[first]["kernel"].batch_shape == (2, 8)
    assert set(model.params) == {"layers", "likelihood"}
    model.summary()
    out = capsys.readouterr().out
    assert first in out and "DenseFlipout" in out and "Total params: 67" in out


def test_categorical_int_and_one_hot_labels():
    model = nn.Sequential([nn.Dense(3)])
    model.compile(optimizer="adam", likelihood="categorical", metrics=["accuracy"],
                  learning_rate=0.1)
    history = model.fit(X, LABELS, epochs=20, batch_size=40, verbose=0)
    assert history.history["accuracy"][-1] > 0.7
    probs = model.predict(X, num_samples=2)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    one_hot = nn.to_categorical(LABELS, 3)
    assert model.evaluate(X, one_hot)["accuracy"] == model.evaluate(X, LABELS)["accuracy"]


def test_multi_output_fit_and_predict():
    x = nn.Input((2,))
    hidden = nn.Dense(8, activation="tanh")(x)
    model = nn.Model(x, [nn.Dense(1)(hidden), nn.Dense(3)(hidden)])
    model.compile(optimizer="adam", likelihood=["normal", "categorical"],
                  metrics=["accuracy"], learning_rate=0.05)
    history = model.fit(X, [Y, LABELS], epochs=10, batch_size=20, verbose=0)
    assert {"nll_0", "nll_1", "accuracy_1"} <= set(history.history)
    mean, probs = model.predict(X[:4], num_samples=2)
    assert mean.shape == (4, 1) and probs.shape == (4, 3)


def test_bad_input_raises_before_training(bayes_model):
    fresh = nn.Sequential([nn.Dense(3)])
    fresh.compile(likelihood="categorical")
    with pytest.raises(ValueError, match=r"same number of examples.*\(40, 2\).*\(39,\)"):
        fresh.fit(X, LABELS[:39], verbose=0)
    with pytest.raises(ValueError, match=r"labels in `y` must lie in \[0, 2\].*\[0, 3\]"):
        fresh.fit(X, np.where(LABELS == 2, 3, LABELS), verbose=0)
    x_nan = X.copy()
    x_nan[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"`x` must be finite.*\[5\]"):
        fresh.fit(x_nan, LABELS, verbose=0)
    with pytest.raises(ValueError, match=r"`y` must be finite.*\[2\]"):
        regression = nn.Sequential([nn.Dense(1)])
        regression.compile(likelihood="normal")
        regression.fit(X, np.where(np.arange(40) == 2, np.nan, Y), verbose=0)
    assert fresh.train_state is None and regression.train_state is None
    model, _ = bayes_model
    state = model.train_state
    with pytest.raises(ValueError, match=r"`x` must have shape \(n, 2\).*\(40, 3\)"):
        model.fit(np.ones((40, 3), "float32"), Y, verbose=0)
    # Nothing changed: the state's leaves are the very same arrays.
    assert all(a is b for a, b in zip(jax.tree_util.tree_leaves(model.train_state),
                                      jax.tree_util.tree_leaves(state)))


def test_methods_dispatch():
    model = nn.Sequential([nn.Dense(1)])
    model.compile()
    from probflow.nn.training.fitters import get_fitter

    # Every method DESIGN.md names has a fitter; an unknown one is a clear error.
    for method in ("vi", "map", "nuts", "hmc", "sgld", "psgld", "sghmc", "ensemble"):
        assert hasattr(get_fitter(method), "fit"), method
    with pytest.raises(ValueError, match="'bogus'"):
        model.fit(X, Y, method="bogus", verbose=0)
    uncompiled = nn.Sequential([nn.Dense(1)])
    with pytest.raises(ValueError, match="compiled"):
        uncompiled.fit(X, Y, verbose=0)


def test_learning_rate_and_kl_weight_change_without_recompiling(bayes_model):
    model, _ = bayes_model
    from probflow.nn.training.fitters import get_fitter

    programs = get_fitter("vi").programs(model)
    # Compiled within this test: between tests conftest may clear JAX's caches (near the
    # kernel's mapping limit), so the fixture's compile need not be there any more.
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0, seed=1)
    compiled = programs._run_epoch._cache_size()
    assert compiled >= 1
    model.learning_rate = 0.0
    model.kl_weight = 0.0
    before = jax.tree_util.tree_map(np.asarray, model.params)
    history = model.fit(X, Y, epochs=1, batch_size=16, verbose=0, seed=1)
    assert programs._run_epoch._cache_size() == compiled
    after = jax.tree_util.tree_map(np.asarray, model.params)
    jax.tree_util.tree_map(np.testing.assert_array_equal, before, after)  # lr 0: no change
    assert history.history["loss"][0] == pytest.approx(history.history["nll"][0], rel=1e-6)
    assert model.learning_rate == 0.0 and model.kl_weight == 0.0
    model.learning_rate, model.kl_weight = 0.02, 1.0


def test_validation_split_and_data():
    model = nn.Sequential([nn.Dense(1)])
    model.compile(learning_rate=0.05)
    history = model.fit(X, Y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    assert {"val_loss", "val_nll"} <= set(history.history)
    history = model.fit(X[:30], Y[:30], epochs=1, validation_data=(X[30:], Y[30:]), verbose=0)
    assert len(history.history["val_loss"]) == 1
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(X, Y, validation_split=1.5, verbose=0)
