"""Sampling of the further continuous families: goodness of fit, means, pathwise gradients."""

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from probflow import distributions as dist
from tests.distributions import _scipy_cases_more as refs

NUM_DRAWS = 10_000
ALPHA = 1e-3  # KS failure rate per family, at a fixed seed
# Means and gradient means within this many Monte-Carlo standard errors: ~70 checks in
# all, Phi^-1(1 - 1e-3 / (2 * 70)) = 4.3, rounded up.
Z_MAX = 5.0


def _ref(cls, **params):
    return cls({k: np.array([v], float) for k, v in params.items()})


# name -> (distribution, reference cdf, whether the variance is finite)
CASES = {
    "HalfStudentT": (dist.HalfStudentT(5.0, 2.0), _ref(refs.HalfStudentTRef, df=5.0, scale=2.0).cdf, True),
    "SkewNormal": (dist.SkewNormal(1.0, 2.0, 3.0), st.skewnorm(3.0, 1.0, 2.0).cdf, True),
    "SkewNormalLeft": (dist.SkewNormal(1.0, 2.0, -8.0), st.skewnorm(-8.0, 1.0, 2.0).cdf, True),
    "AsymmetricLaplace": (dist.AsymmetricLaplace(1.0, 2.0, 0.5), st.laplace_asymmetric(0.5, 1.0, 2.0).cdf, True),
    "Gompertz": (dist.Gompertz(0.5, 2.0), st.gompertz(0.5, scale=0.5).cdf, True),
    "Frechet": (dist.Frechet(5.0, 1.0, 2.0), st.invweibull(5.0, 1.0, 2.0).cdf, True),
    "GeneralizedExtremeValue": (
        dist.GeneralizedExtremeValue(1.0, 2.0, 0.2), st.genextreme(-0.2, 1.0, 2.0).cdf, True
    ),
    "GeneralizedExtremeValueBounded": (
        dist.GeneralizedExtremeValue(1.0, 2.0, -0.4), st.genextreme(0.4, 1.0, 2.0).cdf, True
    ),
    "Rice": (dist.Rice(2.0, 1.0), st.rice(2.0).cdf, True),
    "Chi": (dist.Chi(3.0), st.chi(3.0).cdf, True),
    "ChiSmall": (dist.Chi(0.3), st.chi(0.3).cdf, True),
    "LogLogistic": (dist.LogLogistic(0.5, 0.2), st.fisk(5.0, scale=np.exp(0.5)).cdf, True),
    "InverseGaussian": (dist.InverseGaussian(2.0, 3.0), st.invgauss(2.0 / 3.0, scale=3.0).cdf, True),
    "InverseGaussianWide": (dist.InverseGaussian(5.0, 0.2), st.invgauss(25.0, scale=0.2).cdf, False),
    "ExponentiallyModifiedGaussian": (
        dist.ExponentiallyModifiedGaussian(1.0, 2.0, 0.5), st.exponnorm(1.0, 1.0, 2.0).cdf, True
    ),
    "Triangular": (dist.Triangular(-1.0, 3.0, 0.0), st.triang(0.25, -1.0, 4.0).cdf, True),
    "Moyal": (dist.Moyal(1.0, 2.0), st.moyal(1.0, 2.0).cdf, True),
    "Levy": (dist.Levy(1.0, 2.0), st.levy(1.0, 2.0).cdf, False),
    "GeneralizedNormal": (dist.GeneralizedNormal(1.0, 2.0, 4.0), st.gennorm(4.0, 1.0, 2.0).cdf, True),
    "GeneralizedNormalPeaked": (dist.GeneralizedNormal(1.0, 2.0, 0.7), st.gennorm(0.7, 1.0, 2.0).cdf, True),
    "Kumaraswamy": (
        dist.Kumaraswamy(2.0, 5.0), _ref(refs.KumaraswamyRef, concentration1=2.0, concentration0=5.0).cdf, True
    ),
    "BetaProportion": (dist.BetaProportion(0.3, 5.0), st.beta(1.5, 3.5).cdf, True),
    "LogitNormal": (dist.LogitNormal(0.5, 1.2), _ref(refs.LogitNormalRef, loc=0.5, scale=1.2).cdf, True),
    "SinhArcsinh": (
        dist.SinhArcsinh(1.0, 2.0, 0.5, 1.5),
        _ref(refs.SinhArcsinhRef, loc=1.0, scale=2.0, skewness=0.5, tailweight=1.5).cdf,
        True,
    ),
}


@jax.jit
def _draw(d, key):
    """Draws, the exact moments, and per-draw pathwise derivatives: one compile per family."""
    x = d.sample(key, (NUM_DRAWS,))
    derivatives, mean_gradients = {}, {}
    for name in d._batch_param_names():
        value = d.__dict__[name]

        def draws(v, name=name):
            return d._replace(**{name: v}).sample(key, (NUM_DRAWS,))

        def mean(v, name=name):
            return d._replace(**{name: v}).mean()

        derivatives[name] = jax.jvp(draws, (value,), (jnp.ones_like(value),))[1]
        mean_gradients[name] = jax.grad(mean)(value)
    return x, d.mean(), d.stddev(), derivatives, mean_gradients


def _key(name):
    return jax.random.key(zlib.crc32(name.encode()))


@pytest.mark.parametrize("name", sorted(CASES))
def test_goodness_of_fit_and_mean(x64, name):
    d, cdf, finite_variance = CASES[name]
    d = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.float64), d)
    x, mean, stddev, _, _ = _draw(d, _key(name))
    assert bool(jnp.all(jnp.isfinite(x))) and bool(jnp.all(d.support.check(x)))
    x = np.asarray(x)
    assert st.kstest(x, lambda v: np.reshape(cdf(v), np.shape(v))).pvalue > ALPHA
    if finite_variance:
        z = abs(x.mean() - float(mean)) / (float(stddev) / np.sqrt(NUM_DRAWS))
        assert z < Z_MAX


# Families whose mean is finite, with finite-variance pathwise derivatives.
GRADIENT_CASES = sorted(n for n, (d, _, finite) in CASES.items() if finite and d.has_rsample)


@pytest.mark.parametrize("name", GRADIENT_CASES)
def test_pathwise_gradient_of_the_mean(x64, name):
    """The average of dx/dtheta over draws estimates d E[x] / d theta (reparameterisation)."""
    d = jax.tree_util.tree_map(lambda v: jnp.asarray(v, jnp.float64), CASES[name][0])
    _, _, _, derivatives, mean_gradients = _draw(d, _key(name))
    for param, per_draw in derivatives.items():
        per_draw = np.asarray(per_draw)
        assert np.all(np.isfinite(per_draw)), param
        exact = float(mean_gradients[param])
        tolerance = Z_MAX * per_draw.std() / np.sqrt(NUM_DRAWS) + 1e-9 * (1 + abs(exact))
        assert abs(per_draw.mean() - exact) < tolerance, (param, per_draw.mean(), exact)


def test_inverse_gaussian_draws_carry_no_gradient():
    d = dist.InverseGaussian(2.0, 3.0)
    assert not d.has_rsample
    grads = jax.grad(lambda d: jnp.sum(d.sample(jax.random.key(0), (10,))))(d)
    assert float(grads.loc) == 0.0 and float(grads.concentration) == 0.0


def test_sampling_is_deterministic_per_key():
    d = dist.SinhArcsinh(0.0, 1.0, 0.3, 1.2)
    np.testing.assert_array_equal(d.sample(jax.random.key(7), (3,)), d.sample(jax.random.key(7), (3,)))
