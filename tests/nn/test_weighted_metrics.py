"""Keras's `evaluate(..., sample_weight=...)` and `compile(weighted_metrics=...)`.

A plain Dense network fitted by MAP with zero updates keeps its initial
weights, so every value below has a closed form from `predict`: the weighted loss
term is ``sum(w * nll_i) / n`` (as in training), a weighted metric is
``sum(w * value_i) / sum(w)``, an unweighted one ignores `w`. Arrays and streams of
``(x, y, sample_weight)`` batches must give the same numbers.
"""

import numpy as np
import optax
import pytest

from probflow import nn

RNG = np.random.default_rng(4)
N = 40
X = RNG.normal(size=(N, 3)).astype("float32")
Y = (X @ np.array([1.0, -1.0, 0.5]) + 0.3 * RNG.normal(size=N)).astype("float32")
W = RNG.uniform(0.0, 3.0, size=N).astype("float32")
W[:5] = 0.0
LABELS = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int32)


def frozen_net(units=1, **compile_kw):
    """A deterministic network whose weights a fit leaves unchanged (zero updates)."""
    model = nn.Sequential([nn.Dense(4, activation="tanh"), nn.Dense(units)])
    model.compile(optimizer=optax.set_to_zero(), **compile_kw)
    return model


def per_example_nll(model, x, y):
    """-log p(y_i | x_i) of each example, from one-example evaluations (deterministic)."""
    return np.array([model.evaluate(x[i:i + 1], y[i:i + 1], num_samples=1)["nll"]
                     for i in range(len(x))])


@pytest.fixture(scope="module")
def regression():
    model = frozen_net(likelihood="normal", metrics=["mse"], weighted_metrics=["mse", "nll"])
    history = model.fit(X, Y, sample_weight=W, batch_size=16, epochs=1, method="map",
                        verbose=0).history
    mean = model.predict(X, num_samples=1)[:, 0]
    return model, history, mean


def test_clashing_weighted_names_get_a_prefix():
    model = frozen_net(likelihood="normal", metrics=["mse"],
                       weighted_metrics=["mse", "nll", "rmse"])
    assert [m.name for m in model.weighted_metrics] == ["weighted_mse", "weighted_nll", "rmse"]
    with pytest.raises(ValueError, match="classification"):
        frozen_net(likelihood="normal", weighted_metrics=["accuracy"])


def test_fit_logs_weighted_and_unweighted_metrics(regression):
    _, history, mean = regression
    sq = (Y - mean) ** 2
    assert history["mse"][0] == pytest.approx(np.mean(sq), rel=1e-4)
    assert history["weighted_mse"][0] == pytest.approx(np.sum(W * sq) / np.sum(W), rel=1e-4)


def test_evaluate_sample_weight_weighs_loss_and_weighted_metrics(regression):
    model, _, mean = regression
    plain = model.evaluate(X, Y, num_samples=1)
    weighted = model.evaluate(X, Y, num_samples=1, sample_weight=W)
    nll = per_example_nll(model, X, Y)
    sq = (Y - mean) ** 2
    # The regulariser term (prior / n_train) is the same in both losses.
    assert weighted["loss"] - plain["loss"] == pytest.approx(
        (np.sum(W * nll) - np.sum(nll)) / N, rel=1e-4, abs=1e-6)
    assert weighted["nll"] == pytest.approx(plain["nll"], rel=1e-6)  # not a weighted metric
    assert plain["nll"] == pytest.approx(np.mean(nll), rel=1e-4)
    assert weighted["weighted_nll"] == pytest.approx(np.sum(W * nll) / np.sum(W), rel=1e-4)
    assert weighted["weighted_mse"] == pytest.approx(np.sum(W * sq) / np.sum(W), rel=1e-4)
    assert weighted["mse"] == pytest.approx(np.mean(sq), rel=1e-4)
    # Without sample weights a weighted metric is the plain one.
    assert plain["weighted_mse"] == pytest.approx(plain["mse"], rel=1e-6)


def test_streams_carry_weights_into_evaluate_and_validation(regression):
    model, _, _ = regression
    batches = [(X[i:i + 16], Y[i:i + 16], W[i:i + 16]) for i in range(0, N, 16)]
    arrays = model.evaluate(X, Y, num_samples=1, sample_weight=W)
    streamed = model.evaluate(batches, num_samples=1)
    assert streamed == pytest.approx(arrays, rel=1e-5)
    with pytest.raises(ValueError, match="sample_weight"):
        model.evaluate(batches, num_samples=1, sample_weight=W)
    with pytest.raises(ValueError, match="sample_weight"):
        model.evaluate(X, Y, sample_weight=W[:-1])
    # validation_data=(x, y, sample_weight), as in Keras: val_ logs are evaluate's.
    history = model.fit(X, Y, validation_data=(X, Y, W), validation_samples=1, epochs=1,
                        batch_size=16, method="map", verbose=0).history
    assert history["val_weighted_mse"][0] == pytest.approx(arrays["weighted_mse"], rel=1e-5)
    assert history["val_loss"][0] == pytest.approx(arrays["loss"], rel=1e-5)


def test_class_weight_and_stream_weights_drive_weighted_accuracy():
    model = frozen_net(units=2, likelihood="categorical", metrics=["accuracy"],
                       weighted_metrics=["accuracy"])
    class_weight = {0: 0.25, 1: 2.0}
    history = model.fit(X, LABELS, class_weight=class_weight, batch_size=16, epochs=1,
                        method="map", verbose=0).history
    correct = (np.argmax(model.predict(X, num_samples=1), axis=-1) == LABELS).astype(float)
    w = np.where(LABELS == 1, 2.0, 0.25)
    assert history["accuracy"][0] == pytest.approx(correct.mean(), rel=1e-5)
    assert history["weighted_accuracy"][0] == pytest.approx(np.sum(w * correct) / np.sum(w),
                                                            rel=1e-5)
    # The same weights carried by a stream's batches.
    stream = [(X[i:i + 16], LABELS[i:i + 16], w[i:i + 16].astype("float32"))
              for i in range(0, N, 16)]
    streamed = model.fit(stream, epochs=1, method="map", verbose=0).history
    assert streamed["weighted_accuracy"][0] == pytest.approx(history["weighted_accuracy"][0],
                                                             rel=1e-5)


def test_weighted_metrics_survive_save_and_load(regression, tmp_path):
    model, _, _ = regression
    model.save(tmp_path / "m.probflow")
    with pytest.warns(UserWarning, match="custom optax optimizer"):
        loaded = nn.load_model(tmp_path / "m.probflow")
    assert [m.name for m in loaded.weighted_metrics] == ["weighted_mse", "weighted_nll"]


@pytest.mark.parametrize("method, options", [("sgld", {}), ("ensemble", {"num_members": 2})])
def test_other_methods_log_weighted_metrics(method, options):
    # Equal weights: the weighted mean is the plain one, whatever the method's draws.
    model = frozen_net(likelihood="normal", metrics=["mse"], weighted_metrics=["mse"])
    history = model.fit(X, Y, sample_weight=np.full(N, 2.5, "float32"), batch_size=16,
                        epochs=2, method=method, verbose=0, **options).history
    np.testing.assert_allclose(history["weighted_mse"], history["mse"], rtol=1e-5)
    assert np.all(np.isfinite(history["mse"]))
