"""Keras-style custom metrics ``fn(y_true, y_pred)`` through `get_metric`."""

import jax.numpy as jnp
import numpy as np
import pytest

from probflow import nn
from probflow.nn.metrics import Prediction, get_metric, metric_from_function

RNG = np.random.default_rng(11)


def _value(metric, y, point, mask):
    sums = metric.stats(jnp.asarray(y), Prediction(jnp.asarray(point), None), jnp.asarray(mask))
    return float(metric.result(sums))


def per_example(y_true, y_pred):
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def elementwise(y_true, y_pred):
    return jnp.abs(y_true - y_pred)


def batch_scalar(y_true, y_pred):
    return jnp.mean(jnp.abs(y_true - y_pred))


@pytest.mark.parametrize("fn", [per_example, elementwise, batch_scalar])
def test_every_return_form_gives_the_masked_mean_over_examples(fn):
    y, point = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    mask = np.array([1.0, 1.0, 0.0, 1.0, 0.0])  # rows 2 and 4 are padding
    want = np.mean(np.abs(y - point).mean(-1)[mask == 1])
    metric = get_metric(fn)
    assert metric.name == fn.__name__
    assert _value(metric, y, point, mask) == pytest.approx(want, rel=1e-6)


def test_sums_over_batches_equal_one_pass():
    y, point = RNG.normal(size=(6, 2)), RNG.normal(size=(6, 2))
    metric = metric_from_function(batch_scalar, name="mean_abs")
    ones = jnp.ones(3)
    parts = [metric.stats(jnp.asarray(y[i:i + 3]), Prediction(jnp.asarray(point[i:i + 3]), None),
                          ones) for i in (0, 3)]
    total = tuple(a + b for a, b in zip(*parts))
    assert float(metric.result(total)) == pytest.approx(_value(metric, y, point, np.ones(6)))


def test_names_and_bad_input():
    assert metric_from_function(lambda t, p: t - p, name="gap").name == "gap"
    with pytest.raises(ValueError, match="name"):
        get_metric(lambda t, p: t - p)
    with pytest.raises(TypeError, match="metrics"):
        get_metric(3.0)
    with pytest.raises(TypeError, match="fn"):
        metric_from_function("mae", name="x")


def test_custom_metric_in_fit_and_evaluate_matches_predict():
    x = RNG.normal(size=(40, 2)).astype("float32")
    labels = (x[:, 0] > 0).astype("int32")

    def prob_of_label(y_true, y_pred):
        # Classifier convention: integer labels and class probabilities.
        return jnp.take_along_axis(y_pred, y_true[:, None].astype(jnp.int32), axis=-1)[:, 0]

    model = nn.Sequential([nn.Input((2,)), nn.Dense(2)])
    model.compile(optimizer="adam", learning_rate=0.05, likelihood="categorical",
                  metrics=[prob_of_label, "accuracy"])
    history = model.fit(x, labels, epochs=3, batch_size=16, verbose=0, method="map")
    assert len(history.history["prob_of_label"]) == 3
    probs = model.predict(x, num_samples=1)
    want = np.mean(probs[np.arange(40), labels])
    for batch_size in (7, 40):  # padding of the last batch must not count
        logs = model.evaluate(x, labels, num_samples=1, batch_size=batch_size)
        assert logs["prob_of_label"] == pytest.approx(want, rel=1e-5)
