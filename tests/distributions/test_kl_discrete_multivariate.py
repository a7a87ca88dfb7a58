"""Analytic KL pairs of the discrete and multivariate families vs Monte-Carlo and exact sums."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from probflow import distributions as dist

NUM_DRAWS = 20000
ALPHA = 1e-3


@jax.jit
def _monte_carlo_kl(key, p, q):
    x = p.sample(key, (NUM_DRAWS,))
    log_ratio = p.log_prob(x) - q.log_prob(x)
    return jnp.mean(log_ratio, 0), jnp.std(log_ratio, 0) / jnp.sqrt(NUM_DRAWS)


CASES = {
    "bernoulli": lambda: (dist.Bernoulli(probs=jnp.array([0.1, 0.6])), dist.Bernoulli(logits=jnp.array([0.5, -2.0]))),
    "categorical": lambda: (
        dist.Categorical(probs=jnp.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])),
        dist.Categorical(logits=jnp.array([0.0, 1.0, -1.0])),
    ),
    "one_hot_categorical": lambda: (
        dist.OneHotCategorical(probs=jnp.array([0.2, 0.3, 0.5])),
        dist.OneHotCategorical(logits=jnp.array([0.0, 1.0, -1.0])),
    ),
    "poisson": lambda: (dist.Poisson(jnp.array([2.0, 30.0])), dist.Poisson(jnp.array([3.5, 25.0]))),
    "dirichlet": lambda: (dist.Dirichlet(jnp.array([[2.0, 3.0, 4.0], [0.7, 1.5, 5.0]])), dist.Dirichlet(jnp.array([1.0, 2.0, 2.0]))),
    "multivariate_normal": lambda: (
        dist.MultivariateNormal(jnp.array([[0.5, -1.0, 0.0], [1.0, 1.0, 1.0]]),
                                covariance_matrix=jnp.array([[1.0, 0.3, 0.0], [0.3, 2.0, -0.4], [0.0, -0.4, 1.5]])),
        dist.MultivariateNormal(jnp.zeros(3), scale_tril=jnp.array([[1.5, 0.0, 0.0], [0.2, 1.0, 0.0], [-0.3, 0.4, 0.8]])),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_kl_matches_monte_carlo(name):
    p, q = CASES[name]()
    kl = np.asarray(dist.kl_divergence(p, q))
    estimate, se = (np.asarray(a, np.float64) for a in _monte_carlo_kl(jax.random.key(11), p, q))
    assert kl.shape == estimate.shape
    # Bonferroni over every case and batch member checked in this module.
    critical = st.norm.ppf(1 - ALPHA / (2 * 2 * len(CASES)))
    z = np.abs(kl - estimate) / se
    assert np.all(z < critical), (kl, estimate, se)
    assert np.all(kl >= 0)


def test_kl_of_a_distribution_with_itself_is_zero():
    for name in sorted(CASES):
        p, _ = CASES[name]()
        np.testing.assert_allclose(dist.kl_divergence(p, p), 0.0, atol=1e-5)


def test_discrete_kl_exact_sums(x64):
    p = np.array([[1e-12, 0.4, 0.6 - 1e-12], [0.2, 0.3, 0.5]])
    q = np.array([0.3, 0.3, 0.4])
    want = np.sum(p * (np.log(p) - np.log(q)), -1)
    got = dist.kl_divergence(dist.Categorical(probs=p), dist.Categorical(probs=q))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # A zero-probability outcome of p contributes nothing (0 log 0 = 0).
    got = dist.kl_divergence(dist.Categorical(probs=np.array([0.0, 1.0])), dist.Categorical(probs=np.array([0.5, 0.5])))
    np.testing.assert_allclose(got, np.log(2.0), rtol=1e-12)
    a, b = np.array([1e-9, 0.3, 0.999]), np.array([0.5, 0.5, 0.5])
    want = a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))
    got = dist.kl_divergence(dist.Bernoulli(probs=a), dist.Bernoulli(logits=np.zeros(3)))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    rate_p, rate_q = np.array([1e-3, 4.0, 1e5]), np.array([2.0, 4.5, 1.1e5])
    k = np.arange(0, 200000)[:, None]
    exact = np.sum(np.exp(st.poisson(rate_p).logpmf(k)) * (st.poisson(rate_p).logpmf(k) - st.poisson(rate_q).logpmf(k)), 0)
    np.testing.assert_allclose(dist.kl_divergence(dist.Poisson(rate_p), dist.Poisson(rate_q)), exact, rtol=1e-8)


def test_mvn_kl_vs_dense_formula(x64):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 4, 4))
    cov = a @ np.swapaxes(a, -1, -2) + np.eye(4)
    mu = rng.normal(size=(2, 4))
    p = dist.MultivariateNormal(mu[0], covariance_matrix=cov[0])
    q = dist.MultivariateNormal(mu[1], covariance_matrix=cov[1])
    inv_q = np.linalg.inv(cov[1])
    diff = mu[1] - mu[0]
    want = 0.5 * (np.trace(inv_q @ cov[0]) + diff @ inv_q @ diff - 4 + np.log(np.linalg.det(cov[1]) / np.linalg.det(cov[0])))
    np.testing.assert_allclose(dist.kl_divergence(p, q), want, rtol=1e-10)


def test_kl_is_differentiable(x64):
    grad = jax.grad(lambda c: dist.kl_divergence(dist.Dirichlet(c), dist.Dirichlet(jnp.ones(3))))(jnp.array([2.0, 3.0, 4.0]))
    assert np.all(np.isfinite(grad))
    grad = jax.grad(lambda l: dist.kl_divergence(dist.Categorical(logits=l), dist.Categorical(logits=jnp.zeros(3))))(jnp.array([0.1, 2.0, -1.0]))
    assert np.all(np.isfinite(grad)) and abs(float(grad.sum())) < 1e-12
