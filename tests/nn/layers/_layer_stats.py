"""Helpers for statistical assertions with derived (not tuned) tolerances."""

import numpy as np
from scipy import stats

ALPHA = 1e-3


def z_critical(num_checks: int, alpha: float = ALPHA) -> float:
    """Two-sided Bonferroni critical value for `num_checks` z-tests at family level alpha."""
    return float(stats.norm.ppf(1.0 - alpha / (2.0 * num_checks)))


def assert_means_equal(draws_a, draws_b, *, alpha=ALPHA):
    """Two-sample z-test per entry of the mean over axis 0, Bonferroni over entries."""
    a = np.asarray(draws_a, np.float64)
    b = np.asarray(draws_b, np.float64)
    se = np.sqrt(a.var(0, ddof=1) / a.shape[0] + b.var(0, ddof=1) / b.shape[0])
    z = np.abs(a.mean(0) - b.mean(0)) / se
    limit = z_critical(z.size, alpha)
    assert np.all(z < limit), f"max z {z.max():.2f} >= {limit:.2f}"


def assert_mean_is(draws, truth, *, alpha=ALPHA):
    """One-sample z-test of the mean over axis 0 against `truth`, Bonferroni over entries."""
    a = np.asarray(draws, np.float64)
    se = a.std(0, ddof=1) / np.sqrt(a.shape[0])
    z = np.abs(a.mean(0) - np.asarray(truth, np.float64)) / se
    limit = z_critical(np.size(z), alpha)
    assert np.all(z < limit), f"max z {np.max(z):.2f} >= {limit:.2f}"
