"""Likelihood heads against scipy.stats (float64), shape rules and target checks."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from probflow import distributions as dist
from probflow.nn import likelihoods as lk

RNG = np.random.default_rng(0)


def softplus(x):
    return np.logaddexp(0.0, x)


def test_normal_homoscedastic_matches_scipy(x64):
    head = lk.get_likelihood("normal")
    head.build((1,), ())
    params = head.init(None)
    params = {"raw_scale": jnp.asarray(0.3)}
    out = RNG.normal(size=(6, 1))
    y = head.prepare_targets(RNG.normal(size=6))
    got = head.log_likelihood(params, jnp.asarray(out), jnp.asarray(y))
    want = stats.norm.logpdf(y[:, 0], out[:, 0], softplus(0.3) + 1e-6)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert head.heteroscedastic is False and set(head.init(None)) == {"raw_scale"}


def test_normal_heteroscedastic_uses_second_channel(x64):
    head = lk.Normal()
    head.build((2,), ())
    assert head.heteroscedastic and head.target_shape == (1,) and head.init(None) == {}
    out = RNG.normal(size=(5, 2))
    y = RNG.normal(size=(5, 1))
    got = head.log_likelihood({}, jnp.asarray(out), jnp.asarray(y))
    want = stats.norm.logpdf(y[:, 0], out[:, 0], softplus(out[:, 1]) + 1e-6)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # Two targets per example with two outputs: homoscedastic, not heteroscedastic.
    head2 = lk.Normal()
    head2.build((2,), (2,))
    assert head2.heteroscedastic is False


def test_studentt_matches_scipy(x64):
    head = lk.StudentT()
    head.build((1,), (1,))
    params = {"raw_scale": jnp.asarray(-0.2), "raw_df": jnp.asarray(1.1)}
    out, y = RNG.normal(size=(4, 1)), RNG.normal(size=(4, 1))
    got = head.log_likelihood(params, jnp.asarray(out), jnp.asarray(y))
    want = stats.t.logpdf(y[:, 0], softplus(1.1) + 1e-6, out[:, 0], softplus(-0.2) + 1e-6)
    np.testing.assert_allclose(got, want, rtol=1e-8)


def test_bernoulli_matches_scipy(x64):
    head = lk.get_likelihood("bernoulli")
    head.build((1,), ())
    logits = RNG.normal(size=(8, 1))
    y = head.prepare_targets(RNG.integers(0, 2, size=8))
    got = head.log_likelihood({}, jnp.asarray(logits), jnp.asarray(y))
    want = stats.bernoulli.logpmf(y[:, 0], special.expit(logits[:, 0]))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    with pytest.raises(ValueError, match="0/1"):
        head.check_targets(np.array([0, 2]))


def test_categorical_labels_and_one_hot(x64):
    logits = RNG.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    want = np.log(special.softmax(logits, axis=1)[np.arange(5), labels])
    for targets in (labels, np.eye(3)[labels]):
        head = lk.Categorical()
        head.build((3,), targets.shape[1:])
        head.check_targets(targets)
        y = head.prepare_targets(targets)
        np.testing.assert_array_equal(y, labels)
        got = head.log_likelihood({}, jnp.asarray(logits), jnp.asarray(y))
        np.testing.assert_allclose(got, want, rtol=1e-10)
        np.testing.assert_allclose(head.point(head.distribution({}, jnp.asarray(logits))),
                                   special.softmax(logits, axis=1), rtol=1e-10)
    with pytest.raises(ValueError, match=r"\[0, 2\].*range \[0, 3\]"):
        head.check_targets(np.array([0, 3]))


def test_poisson_matches_scipy(x64):
    head = lk.Poisson()
    head.build((1,), ())
    log_rate = RNG.normal(size=(6, 1))
    y = head.prepare_targets(RNG.poisson(2.0, size=6))
    got = head.log_likelihood({}, jnp.asarray(log_rate), jnp.asarray(y))
    np.testing.assert_allclose(got, stats.poisson.logpmf(y[:, 0], np.exp(log_rate[:, 0])),
                               rtol=1e-10)
    with pytest.raises(ValueError, match="non-negative integer"):
        head.check_targets(np.array([1.0, -1.0]))


def test_callable_likelihood(x64):
    head = lk.get_likelihood(lambda out: dist.Normal(out[:, 0], 2.0))
    head.build((1,), (1,))
    assert head.target_shape == ()
    out, y = RNG.normal(size=(3, 1)), RNG.normal(size=3)
    got = head.log_likelihood({}, jnp.asarray(out), jnp.asarray(head.prepare_targets(y)))
    np.testing.assert_allclose(got, stats.norm.logpdf(y, out[:, 0], 2.0), rtol=1e-10)


def test_shape_mismatch_and_unknown_names():
    with pytest.raises(ValueError, match="do not match"):
        lk.Bernoulli().build((3,), (2,))
    with pytest.raises(ValueError, match="integer labels of shape"):
        lk.Categorical().build((3,), (2,))
    with pytest.raises(ValueError, match="'gamma'"):
        lk.get_likelihood("gamma")
    with pytest.raises(TypeError, match="likelihood"):
        lk.get_likelihood(3)
