"""Bad input to the nn shell: classification metrics on regression, empty and string data."""

import numpy as np
import pytest

from probflow import nn
from probflow.nn.likelihoods import get_likelihood
from probflow.nn.metrics import check_metrics_for_heads, get_metric

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 2)).astype(np.float32)
Y = RNG.normal(size=(16, 1)).astype(np.float32)


def _model(likelihood="normal", metrics=None):
    model = nn.Sequential([nn.Dense(1)])
    model.compile("adam", likelihood=likelihood, metrics=metrics)
    return model


@pytest.fixture(scope="module")
def fitted():
    model = _model()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0, method="map")
    return model


@pytest.mark.parametrize("likelihood", ["normal", "studentt", "poisson"])
@pytest.mark.parametrize("metric", ["accuracy", "ece", "brier"])
def test_classification_metrics_on_a_regression_head_are_refused(likelihood, metric):
    with pytest.raises(ValueError, match=rf"metrics \['{metric}'\] need a classification "
                                         rf"likelihood.*'{likelihood}'"):
        _model(likelihood, [metric])


@pytest.mark.parametrize("likelihood", ["bernoulli", "categorical"])
def test_classification_metrics_on_a_classifier_are_accepted(likelihood):
    heads = [get_likelihood(likelihood)]
    check_metrics_for_heads([get_metric(m) for m in ("accuracy", "ece", "brier")], heads)


def test_a_custom_head_is_let_through():
    check_metrics_for_heads([get_metric("accuracy")], [get_likelihood(lambda out: out)])


def test_an_empty_training_set_is_refused():
    model = _model()
    with pytest.raises(ValueError, match=r"`x` must hold at least one example; got shape \(0, 2\)"):
        model.fit(np.zeros((0, 2), np.float32), np.zeros((0, 1), np.float32), verbose=0)


def test_an_empty_predict_batch_returns_an_empty_array(fitted):
    empty = np.zeros((0, 2), np.float32)
    assert fitted.predict(empty).shape == (0,) + fitted.predict(X[:1]).shape[1:]
    assert fitted.predictive(empty, num_samples=3).shape[:2] == (3, 0)


def test_string_targets_are_refused_as_not_numeric():
    model = _model()
    with pytest.raises(TypeError, match=r"`y` must be numeric.*got dtype <U1"):
        model.fit(np.zeros((3, 2), np.float32), np.array([["a"], ["b"], ["c"]]), verbose=0)


def test_string_inputs_are_refused_as_not_numeric(fitted):
    with pytest.raises(TypeError, match=r"`x` must be numeric.*got dtype <U"):
        fitted.predict(np.array([["a", "b"]]))


def test_a_model_with_one_classifier_head_among_several_is_accepted():
    heads = [get_likelihood("normal"), get_likelihood("categorical")]
    check_metrics_for_heads([get_metric("accuracy")], heads)
    with pytest.raises(ValueError, match=r"got the \['normal', 'poisson'\] likelihood"):
        check_metrics_for_heads([get_metric("accuracy")],
                                [get_likelihood("normal"), get_likelihood("poisson")])
