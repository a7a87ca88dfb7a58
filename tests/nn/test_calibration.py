"""Reliability tables (classification), interval calibration (regression), model.calibration."""

import numpy as np
import pytest
from scipy import stats

from probflow import nn
from probflow.nn.metrics import (
    expected_calibration_error,
    interval_calibration,
    reliability_table,
)


def test_reliability_table_by_hand():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 3)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = rng.integers(0, 3, 200)
    table = reliability_table(y, probs.astype(np.float32), num_bins=5)
    confidence = probs.max(1)
    correct = probs.argmax(1) == y
    bins = np.clip(np.ceil(confidence * 5).astype(int) - 1, 0, 4)
    for b in range(5):
        inside = bins == b
        assert table["count"][b] == inside.sum()
        if inside.any():
            np.testing.assert_allclose(table["confidence"][b], confidence[inside].mean(), rtol=1e-5)
            np.testing.assert_allclose(table["accuracy"][b], correct[inside].mean(), rtol=1e-6)
        else:
            assert np.isnan(table["accuracy"][b])
    np.testing.assert_allclose(table["bin_upper"], [0.2, 0.4, 0.6, 0.8, 1.0])
    count = table["count"]
    gaps = np.nan_to_num(np.abs(table["confidence"] - table["accuracy"]))
    np.testing.assert_allclose(np.sum(count * gaps) / count.sum(),
                               expected_calibration_error(y, probs, num_bins=5), rtol=1e-5)


def test_interval_calibration_of_a_calibrated_predictive():
    rng = np.random.default_rng(1)
    n = 2000
    draws = rng.normal(size=(1000, n))
    y = rng.normal(size=n)
    table = interval_calibration(y, draws, num_levels=10)
    levels = np.arange(1, 10) / 10
    np.testing.assert_allclose(table["level"], levels)
    # Coverage is a binomial proportion: 9 checks at alpha = 1e-3 (Bonferroni).
    z = stats.norm.ppf(1 - 1e-3 / (2 * 9))
    # Finite draws widen/narrow quantiles a little; 0.01 allows for it.
    bound = z * np.sqrt(levels * (1 - levels) / n) + 0.01
    assert np.all(np.abs(table["coverage"] - levels) < bound), table["coverage"]
    narrow = interval_calibration(y, 0.5 * draws, num_levels=10)
    assert np.all(narrow["coverage"] < levels)  # overconfident predictive under-covers


def test_bad_arguments():
    with pytest.raises(ValueError, match="`num_bins` must be an int >= 1; got 0"):
        reliability_table(np.zeros(2), np.full((2, 2), 0.5), num_bins=0)
    with pytest.raises(ValueError, match="`num_levels` must be an int >= 2; got 1"):
        interval_calibration(np.zeros(2), np.zeros((3, 2)), num_levels=1)


def test_model_calibration_classifier_and_regressor():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 2)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(np.int32)
    clf = nn.Sequential([nn.Dense(2)])
    clf.compile(likelihood="categorical")
    clf.fit(x, labels, epochs=2, method="map", verbose=0)
    table = clf.calibration(x, labels, num_bins=4, num_samples=2)
    assert table["count"].sum() == 60 and table["count"].shape == (4,)
    probs = clf.predict(x, num_samples=2)
    correct = probs.argmax(1) == labels
    np.testing.assert_allclose(np.nansum(table["count"] * table["accuracy"]), correct.sum())
    np.testing.assert_allclose(
        np.nansum(table["count"] * table["confidence"]), probs.max(1).sum(), rtol=1e-5)
    reg = nn.Sequential([nn.Dense(1)])
    reg.compile(likelihood="normal")
    reg.fit(x, x[:, 0], epochs=2, method="map", verbose=0)
    table = reg.calibration(x, x[:, 0], num_bins=4, num_samples=50)
    np.testing.assert_allclose(table["level"], [0.25, 0.5, 0.75])
    assert np.all(np.diff(table["coverage"]) >= 0)
