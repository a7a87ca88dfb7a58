"""Sampling of the continuous families: goodness of fit, moments, reparameterised gradients."""

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st

from probflow import distributions as dist

NUM_DRAWS = 10_000
ALPHA = 1e-3  # KS failure rate per family, at a fixed seed
Z_MAX = 5.0  # sample means within this many Monte-Carlo standard errors

# name -> (our distribution, scipy's frozen counterpart, whether the variance is finite)
CASES = {
    "Normal": (dist.Normal(1.0, 2.0), st.norm(1.0, 2.0), True),
    "LogNormal": (dist.LogNormal(0.3, 0.6), st.lognorm(0.6, scale=np.exp(0.3)), True),
    "HalfNormal": (dist.HalfNormal(2.0), st.halfnorm(scale=2.0), True),
    "TruncatedNormal": (dist.TruncatedNormal(1.0, 2.0, -0.5, 4.0), st.truncnorm(-0.75, 1.5, 1.0, 2.0), True),
    "TruncatedNormalTail": (dist.TruncatedNormal(0.0, 1.0, 5.0, jnp.inf), st.truncnorm(5.0, np.inf), True),
    "Cauchy": (dist.Cauchy(1.0, 2.0), st.cauchy(1.0, 2.0), False),
    "HalfCauchy": (dist.HalfCauchy(2.0), st.halfcauchy(scale=2.0), False),
    "StudentT": (dist.StudentT(5.0, 1.0, 2.0), st.t(5.0, 1.0, 2.0), True),
    "StudentTHeavy": (dist.StudentT(0.7, 1.0, 2.0), st.t(0.7, 1.0, 2.0), False),
    "Laplace": (dist.Laplace(1.0, 2.0), st.laplace(1.0, 2.0), True),
    "Logistic": (dist.Logistic(1.0, 2.0), st.logistic(1.0, 2.0), True),
    "Gumbel": (dist.Gumbel(1.0, 2.0), st.gumbel_r(1.0, 2.0), True),
    "Uniform": (dist.Uniform(-1.0, 3.0), st.uniform(-1.0, 4.0), True),
    "Exponential": (dist.Exponential(2.0), st.expon(scale=0.5), True),
    "Gamma": (dist.Gamma(2.5, 2.0), st.gamma(2.5, scale=0.5), True),
    "GammaSmall": (dist.Gamma(0.1, 2.0), st.gamma(0.1, scale=0.5), True),
    "InverseGamma": (dist.InverseGamma(5.0, 2.0), st.invgamma(5.0, scale=2.0), True),
    "Chi2": (dist.Chi2(3.0), st.chi2(3.0), True),
    "Beta": (dist.Beta(2.0, 5.0), st.beta(2.0, 5.0), True),
    "BetaSmall": (dist.Beta(0.2, 0.5), st.beta(0.2, 0.5), True),
    "Weibull": (dist.Weibull(2.0, 1.5), st.weibull_min(1.5, scale=2.0), True),
    "Pareto": (dist.Pareto(2.0, 5.0), st.pareto(5.0, scale=2.0), True),
    "VonMises": (dist.VonMises(0.0, 2.0), st.vonmises(2.0), True),
    "VonMisesFlat": (dist.VonMises(0.0, 1e-3), st.vonmises(1e-3), True),
    "VonMisesPeaked": (dist.VonMises(0.0, 1e4), st.vonmises(1e4), True),
}


@jax.jit
def _draw(d, key):
    """Draws, true moments and reparameterised gradients: one compiled call per family."""

    def total(d):
        x = d.sample(key, (NUM_DRAWS,))
        return jnp.sum(x), x

    # A distribution is a pytree of its parameters, so grad returns one of that shape.
    grads, x = jax.grad(total, has_aux=True)(d)
    return x, d.mean(), d.stddev(), grads


@pytest.mark.parametrize("name", sorted(CASES))
def test_goodness_of_fit_and_mean(name):
    d, frozen, finite_variance = CASES[name]
    x, mean, stddev, _ = _draw(d, jax.random.key(zlib.crc32(name.encode())))
    assert bool(jnp.all(jnp.isfinite(x))) and bool(jnp.all(d.support.check(x)))
    x = np.asarray(x, np.float64)
    assert st.kstest(x, frozen.cdf).pvalue > ALPHA
    if finite_variance:
        z = abs(x.mean() - float(mean)) / (float(stddev) / np.sqrt(NUM_DRAWS))
        assert z < Z_MAX


def test_von_mises_location_shift_and_wrap():
    # The draws wrap onto [-pi, pi); the circular mean direction is loc.
    d = dist.VonMises(3.0, 4.0)
    x = np.asarray(_draw(d, jax.random.key(1))[0], np.float64)
    assert x.min() >= -np.float32(np.pi) and x.max() <= np.float32(np.pi) and (x < 0).any()
    assert st.kstest(np.remainder(x - 3.0 + np.pi, 2 * np.pi) - np.pi, st.vonmises(4.0).cdf).pvalue > ALPHA


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_gradients_are_finite(name):
    d = CASES[name][0]
    grads = _draw(d, jax.random.key(zlib.crc32(name.encode())))[3]
    for param in d.arg_constraints:
        if d.__dict__.get(param) is not None and not (param in ("low", "high") and jnp.isinf(d.__dict__[param])):
            assert bool(jnp.isfinite(grads.__dict__[param])), param
    if name.startswith("VonMises"):
        np.testing.assert_allclose(grads.loc, NUM_DRAWS)  # d(loc + angle)/d loc, away from wraps


def _per_draw_derivative(family, params, wrt, key, num):
    """d x_i / d params[wrt] for each draw x_i (forward mode, one pass)."""

    def draws(value):
        return family(**{**params, wrt: value}).sample(key, (num,))

    return jax.jvp(draws, (params[wrt],), (jnp.ones_like(params[wrt]),))


def test_normal_pathwise_gradient_matches_analytic(x64):
    # d/d theta E[x^2] = d/d theta (loc^2 + scale^2), estimated by pathwise derivatives.
    params = {"loc": jnp.asarray(0.7), "scale": jnp.asarray(1.3)}
    for wrt, exact in (("loc", 2 * 0.7), ("scale", 2 * 1.3)):
        x, dx = _per_draw_derivative(dist.Normal, params, wrt, jax.random.key(3), NUM_DRAWS)
        per_draw = np.asarray(2 * x * dx)
        z = abs(per_draw.mean() - exact) / (per_draw.std() / np.sqrt(NUM_DRAWS))
        assert z < Z_MAX, wrt


@pytest.mark.parametrize(
    "family, params, wrt, cdf",
    [
        (dist.Gamma, {"concentration": 2.5, "rate": 1.0}, "concentration", lambda a, x: sp.gammainc(a, x)),
        (dist.Gamma, {"concentration": 0.3, "rate": 1.0}, "concentration", lambda a, x: sp.gammainc(a, x)),
    ],
)
def test_implicit_reparameterisation_identity(x64, family, params, wrt, cdf):
    # For x = F^{-1}(u; a): dx/da = -(dF/da)(x; a) / f(x; a); dF/da by central differences.
    params = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
    x, dx = _per_draw_derivative(family, params, wrt, jax.random.key(4), NUM_DRAWS)
    x, dx, a = np.asarray(x), np.asarray(dx), float(params[wrt])
    step = 1e-6 * a
    dcdf = (cdf(a + step, x) - cdf(a - step, x)) / (2 * step)
    density = np.exp(np.asarray(family(**params).log_prob(x)))
    np.testing.assert_allclose(dx, -dcdf / density, rtol=1e-4, atol=1e-10)


@pytest.mark.parametrize(
    "family, params, wrt, exact",
    [
        # d/da E[x] = 1 / rate for Gamma(a, rate).
        (dist.Gamma, {"concentration": 1.7, "rate": 2.0}, "concentration", 0.5),
        # Beta draws are ratios of Gammas: a different coupling than the inverse cdf,
        # so only the expectation d/da a / (a + b) = b / (a + b)^2 is comparable.
        (dist.Beta, {"concentration1": 2.0, "concentration0": 3.0}, "concentration1", 3.0 / 25.0),
    ],
)
def test_pathwise_gradient_of_mean(x64, family, params, wrt, exact):
    params = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
    _, dx = _per_draw_derivative(family, params, wrt, jax.random.key(5), NUM_DRAWS)
    dx = np.asarray(dx)
    assert abs(dx.mean() - exact) / (dx.std() / np.sqrt(NUM_DRAWS)) < Z_MAX


def test_sampling_is_deterministic_per_key():
    d = dist.StudentT(4.0, 0.0, 1.0)
    a, b = d.sample(jax.random.key(7), (3,)), d.sample(jax.random.key(7), (3,))
    np.testing.assert_array_equal(a, b)
