"""Metrics against direct numpy formulas; streamed (masked, batched) equals whole-data."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from probflow import distributions as dist
from probflow.nn import metrics

RNG = np.random.default_rng(1)
N, K = 50, 4
LOGITS = RNG.normal(size=(N, K)) * 2
PROBS = special.softmax(LOGITS, axis=1)
LABELS = RNG.integers(0, K, size=N)


def ece_reference(labels, probs, num_bins):
    conf, pred = probs.max(1), probs.argmax(1)
    total = 0.0
    for b in range(num_bins):
        inside = (conf > b / num_bins) & (conf <= (b + 1) / num_bins)
        if inside.any():
            total += inside.sum() / len(conf) * abs(conf[inside].mean() - (pred[inside] == labels[inside]).mean())
    return total


def test_classification_metrics_match_numpy(x64):
    assert float(metrics.accuracy(LABELS, PROBS)) == pytest.approx((PROBS.argmax(1) == LABELS).mean())
    onehot = np.eye(K)[LABELS]
    assert float(metrics.accuracy(onehot, PROBS)) == pytest.approx((PROBS.argmax(1) == LABELS).mean())
    assert float(metrics.brier(LABELS, PROBS)) == pytest.approx(((PROBS - onehot) ** 2).sum(1).mean())
    for bins in (5, 15):
        assert float(metrics.expected_calibration_error(LABELS, PROBS, num_bins=bins)) == (
            pytest.approx(ece_reference(LABELS, PROBS, bins), rel=1e-10))


def test_binary_metrics(x64):
    p = RNG.uniform(size=N)
    y = RNG.integers(0, 2, size=N)
    assert float(metrics.accuracy(y, p)) == pytest.approx(((p > 0.5) == y).mean())
    assert float(metrics.brier(y, p)) == pytest.approx(2 * ((p - y) ** 2).mean())  # both classes
    two = np.stack([1 - p, p], 1)
    assert float(metrics.expected_calibration_error(y, p)) == pytest.approx(
        ece_reference(y, two, 15), rel=1e-10)


def test_regression_metrics(x64):
    y, mu = RNG.normal(size=N), RNG.normal(size=N)
    assert float(metrics.rmse(y, mu)) == pytest.approx(np.sqrt(((y - mu) ** 2).mean()))
    assert float(metrics.rmse(y, dist.Normal(jnp.asarray(mu), 1.0))) == pytest.approx(
        np.sqrt(((y - mu) ** 2).mean()))
    assert float(metrics.nll(y, dist.Normal(jnp.asarray(mu), 0.5))) == pytest.approx(
        -stats.norm.logpdf(y, mu, 0.5).mean())
    lo, hi = mu - 1.0, mu + 1.0
    assert float(metrics.interval_coverage(y, lo, hi)) == pytest.approx(
        ((y >= lo) & (y <= hi)).mean())


@pytest.mark.parametrize("name", ["accuracy", "brier", "ece", "nll", "rmse", "coverage"])
def test_streamed_stats_equal_whole_data(name, x64):
    """Summing masked batch stats (last batch padded) gives the whole-data value."""
    metric = metrics.get_metric(name)
    log_lik = RNG.normal(size=N)
    if name in ("rmse", "coverage"):
        y = RNG.normal(size=(N, 1))
        pred = metrics.Prediction(RNG.normal(size=(N, 1)), log_lik, -np.ones((N, 1)), np.ones((N, 1)))
    else:
        y = LABELS
        pred = metrics.Prediction(PROBS, log_lik)
    whole = metric.result(metric.stats(jnp.asarray(y), jax.tree_util.tree_map(jnp.asarray, pred),
                                       jnp.ones(N)))
    batch, sums = 16, None
    for start in range(0, N, batch):
        idx = np.arange(start, start + batch) % N  # padded rows repeat earlier ones, masked
        mask = (np.arange(start, start + batch) < N).astype(float)
        part = metric.stats(jnp.asarray(y[idx]), jax.tree_util.tree_map(lambda a, i=idx: jnp.asarray(a[i]), pred),
                            jnp.asarray(mask))
        sums = part if sums is None else jax.tree_util.tree_map(jnp.add, sums, part)
    np.testing.assert_allclose(metric.result(sums), whole, rtol=1e-12)


def test_unknown_metric():
    with pytest.raises(ValueError, match="'f1'"):
        metrics.get_metric("f1")
