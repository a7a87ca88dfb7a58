"""Analytic KL divergences of the continuous families against Monte-Carlo estimates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import distributions as dist

NUM_DRAWS = 20_000
Z_MAX = 5.0  # analytic value within this many Monte-Carlo standard errors

# Batches of three (p, q) pairs per registered family pair.
PAIRS = {
    "Normal": (dist.Normal([0.0, 1.0, -1.0], [1.0, 0.5, 2.0]), dist.Normal([0.5, 0.0, -1.0], [1.5, 1.0, 1.0])),
    "LogNormal": (
        dist.LogNormal([0.0, 1.0, -1.0], [1.0, 0.5, 2.0]),
        dist.LogNormal([0.5, 0.0, -1.0], [1.5, 1.0, 1.0]),
    ),
    "Exponential": (dist.Exponential([1.0, 0.2, 5.0]), dist.Exponential([2.0, 0.3, 1.0])),
    "Laplace": (dist.Laplace([0.0, 1.0, -1.0], [1.0, 0.5, 2.0]), dist.Laplace([0.5, 0.0, -1.0], [1.5, 1.0, 1.0])),
    "Gamma": (dist.Gamma([2.0, 0.5, 9.0], [1.0, 2.0, 3.0]), dist.Gamma([3.0, 1.0, 4.0], [0.5, 2.0, 1.0])),
    "Chi2-Gamma": (dist.Chi2([2.0, 5.0, 9.0]), dist.Gamma([3.0, 1.0, 4.0], [0.5, 2.0, 1.0])),
    "Beta": (dist.Beta([2.0, 0.7, 9.0], [3.0, 1.5, 2.0]), dist.Beta([1.0, 2.0, 5.0], [1.0, 2.0, 5.0])),
    "Uniform": (dist.Uniform([0.0, 1.0, -1.0], [1.0, 2.0, 3.0]), dist.Uniform([-1.0, 0.5, -1.0], [2.0, 4.0, 3.0])),
}


@jax.jit
def _kl_and_estimate(p, q, key):
    x = p.sample(key, (NUM_DRAWS,))
    log_ratio = p.log_prob(x) - q.log_prob(x)
    return dist.kl_divergence(p, q), jnp.mean(log_ratio, 0), jnp.std(log_ratio, 0)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_kl_matches_monte_carlo(name):
    p, q = PAIRS[name]
    kl, estimate, spread = map(np.asarray, _kl_and_estimate(p, q, jax.random.key(0)))
    assert kl.shape == (3,) and np.all(kl >= 0)
    # Uniform pairs have a constant log ratio (zero spread): then they must agree exactly.
    tolerance = Z_MAX * spread / np.sqrt(NUM_DRAWS) + 1e-5 * (1 + np.abs(kl))
    np.testing.assert_array_less(np.abs(kl - estimate), tolerance)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_kl_of_a_distribution_with_itself_is_zero(name):
    p, _ = PAIRS[name]
    np.testing.assert_allclose(dist.kl_divergence(p, p), 0.0, atol=1e-5)


def test_uniform_kl_is_infinite_when_q_misses_part_of_p():
    kl = dist.kl_divergence(dist.Uniform(0.0, 2.0), dist.Uniform(jnp.array([0.5, -1.0]), 1.5))
    np.testing.assert_array_equal(kl, [np.inf, np.inf])


def test_kl_broadcasts_batches():
    kl = dist.kl_divergence(dist.Gamma(jnp.ones((2, 1)), 1.0), dist.Gamma(jnp.ones(3), 2.0))
    assert kl.shape == (2, 3)
