"""Analytic KL divergences of the further continuous families against Monte-Carlo estimates."""

import jax
import numpy as np
import pytest

from probflow import distributions as dist
from tests.distributions.test_kl_continuous import NUM_DRAWS, Z_MAX, _kl_and_estimate

PAIRS = {
    "InverseGaussian": (
        dist.InverseGaussian([1.0, 0.5, 3.0], [2.0, 0.3, 10.0]),
        dist.InverseGaussian([1.5, 0.5, 2.0], [1.0, 1.0, 12.0]),
    ),
    "Chi": (dist.Chi([1.0, 3.0, 0.5]), dist.Chi([2.0, 2.5, 4.0])),
    "BetaProportion": (
        dist.BetaProportion([0.3, 0.5, 0.9], [5.0, 2.0, 30.0]),
        dist.BetaProportion([0.4, 0.2, 0.8], [3.0, 2.0, 10.0]),
    ),
    "BetaProportion-Beta": (dist.BetaProportion([0.3, 0.5, 0.9], [5.0, 2.0, 30.0]), dist.Beta([1.0, 2.0, 5.0], 2.0)),
    "Beta-BetaProportion": (dist.Beta([1.0, 2.0, 5.0], 2.0), dist.BetaProportion([0.3, 0.5, 0.9], [5.0, 2.0, 30.0])),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_kl_matches_monte_carlo(name):
    p, q = PAIRS[name]
    kl, estimate, spread = map(np.asarray, _kl_and_estimate(p, q, jax.random.key(0)))
    assert kl.shape == (3,) and np.all(kl >= 0)
    tolerance = Z_MAX * spread / np.sqrt(NUM_DRAWS) + 1e-5 * (1 + np.abs(kl))
    np.testing.assert_array_less(np.abs(kl - estimate), tolerance)


@pytest.mark.parametrize("name", ["InverseGaussian", "BetaProportion", "Chi"])
def test_kl_of_a_distribution_with_itself_is_zero(name):
    p, _ = PAIRS[name]
    np.testing.assert_allclose(dist.kl_divergence(p, p), 0.0, atol=1e-5)


def test_beta_proportion_kl_equals_the_beta_kl(x64):
    p, q = PAIRS["BetaProportion"]
    as_beta = dist.Beta(p.proportion * p.concentration, (1 - p.proportion) * p.concentration)
    np.testing.assert_allclose(dist.kl_divergence(p, q), dist.kl_divergence(as_beta, q), rtol=1e-12)
