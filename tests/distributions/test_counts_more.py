"""Count families of issue 19 against scipy.stats, mpmath and brute-force sums (float64).

Where scipy has the family (betabinom, nbinom, zipf, skellam, randint,
dirichlet_multinomial) the values are compared with it; zero-inflated, hurdle and
ordered families against their defining formulas summed over a truncated support.
Statistical checks reject at ALPHA = 1e-3 per test (Bonferroni over the checks in it).
"""

from functools import partial

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.stats as st
from scipy.special import expit

from probflow import distributions as dist
from tests.distributions._family_checks import (
    ALPHA,
    assert_close,
    check_gradients,
    check_raises,
    check_shapes,
    z_threshold,
)

NUM_DRAWS = 20000



@partial(jax.jit, static_argnames="methods")
def evaluate(d, values, methods):
    """Methods of `d` at `values` (or without argument) in one compiled program."""
    with_value = ("log_prob", "cdf", "survival_function", "icdf")
    return {m: getattr(d, m)(values) if m in with_value else getattr(d, m)() for m in methods}


@partial(jax.jit, static_argnums=2)
def draw(d, key, num):
    return d.sample(key, (num,))



# -- against scipy ------------------------------------------------------------------------


def test_gamma_poisson_and_negative_binomial2_vs_scipy(x64):
    a = np.array([0.3, 2.0, 40.0])
    b = np.array([1e-3, 0.5, 7.0])
    k = np.array([[0.0], [1.0], [5.0], [200.0], [3000.0]])
    ref = st.nbinom(a, b / (1 + b))
    got = evaluate(dist.GammaPoisson(a, b), k, ("log_prob", "cdf", "mean", "variance", "mode"))
    assert_close(got["log_prob"], ref.logpmf(k))
    assert_close(got["cdf"], ref.cdf(k))
    assert_close(got["mean"], ref.mean())
    assert_close(got["variance"], ref.var())
    assert_close(got["mode"], np.where(a > 1, np.floor((a - 1) / b), 0.0))
    mu, phi = np.array([0.2, 4.0, 1e3]), np.array([0.5, 3.0, 1e4])
    ref = st.nbinom(phi, phi / (phi + mu))
    got = evaluate(dist.NegativeBinomial2(mu, phi), k, ("log_prob", "cdf", "mean", "variance"))
    assert_close(got["log_prob"], ref.logpmf(k))
    assert_close(got["cdf"], ref.cdf(k))
    assert_close(got["mean"], mu)
    assert_close(got["variance"], mu + mu**2 / phi)
    assert_close(evaluate(dist.GammaPoisson(a, b), -1.0, ("cdf",))["cdf"], 0.0)
    # Quantiles: scipy's ppf, except p = 0 (scipy gives -1, below the support; ours 0).
    p = np.array([[0.0], [1e-9], [0.1], [0.5], [0.99], [1 - 1e-9], [1.0]])
    got = evaluate(dist.GammaPoisson(a, b), p, ("icdf",))["icdf"]
    assert_close(got, np.maximum(st.nbinom(a, b / (1 + b)).ppf(p), 0.0))
    got = evaluate(dist.NegativeBinomial2(mu, phi), p, ("icdf",))["icdf"]
    assert_close(got, np.maximum(st.nbinom(phi, phi / (phi + mu)).ppf(p), 0.0))


def test_beta_binomial_vs_scipy(x64):
    a, b, n = np.array([0.5, 2.0, 30.0]), np.array([0.7, 5.0, 1.0]), np.array([1.0, 12.0, 40.0])
    k = np.array([[0.0], [1.0], [7.0], [12.0], [40.0]])
    ref = st.betabinom(n, a, b)
    got = evaluate(dist.BetaBinomial(a, b, n), k, ("log_prob", "mean", "variance"))
    assert_close(got["log_prob"], ref.logpmf(k))
    assert_close(got["mean"], ref.mean())
    assert_close(got["variance"], ref.var())
    # Outside the support: -inf above n, at negatives and at non-integers.
    lp = evaluate(dist.BetaBinomial(a, b, n), np.array([[-1.0], [41.0], [0.5]]), ("log_prob",))
    assert np.all(np.isneginf(np.asarray(lp["log_prob"])))


def test_dirichlet_multinomial_vs_scipy(x64):
    alpha = np.array([[0.4, 1.0, 3.0], [10.0, 0.2, 2.0]])
    n = 6.0
    counts = np.array([[6.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    d = dist.DirichletMultinomial(alpha, n)
    got = evaluate(d, counts[:, None, :], ("log_prob", "mean", "variance"))
    for j in range(2):
        ref = st.dirichlet_multinomial(alpha[j], int(n))
        assert_close(got["log_prob"][:, j], ref.logpmf(counts))
        assert_close(got["mean"][j], ref.mean())
        assert_close(got["variance"][j], ref.var())
    # Counts summing to anything but n are outside the support.
    assert np.isneginf(float(d.log_prob(np.array([1.0, 1.0, 1.0]))[0]))
    # The pmf sums to 1 over all compositions of n.
    grid = np.array([[i, j, n - i - j] for i in range(7) for j in range(7 - i)])
    total = np.exp(np.asarray(evaluate(d, grid[:, None, :], ("log_prob",))["log_prob"])).sum(0)
    assert_close(total, [1.0, 1.0], rtol=1e-12)


def test_discrete_uniform_vs_scipy(x64):
    low, high = np.array([-3.0, 0.0, 5.0]), np.array([4.0, 0.0, 105.0])
    ref = st.randint(low, high + 1)
    k = np.array([[-4.0], [-3.0], [0.0], [2.5], [4.0], [105.0], [106.0]])
    p = np.array([[0.0], [1e-9], [0.3], [0.5], [1.0]])
    d = dist.DiscreteUniform(low, high)
    got = evaluate(d, k, ("log_prob", "cdf", "mean", "variance", "entropy"))
    assert_close(got["log_prob"], ref.logpmf(k))
    assert_close(got["cdf"], ref.cdf(k))
    assert_close(got["mean"], ref.mean())
    assert_close(got["variance"], ref.var())
    assert_close(got["entropy"], ref.entropy())
    # scipy's ppf(0) is low - 1; ours stays in the support.
    assert_close(evaluate(d, p, ("icdf",))["icdf"], np.maximum(ref.ppf(p), low))
    q = dist.DiscreteUniform(-5.0, 10.0)
    assert_close(dist.kl_divergence(d, q)[:2], np.log(16.0) - np.log(high - low + 1)[:2])
    assert np.isinf(float(dist.kl_divergence(d, q)[2]))


def test_zipf_vs_scipy(x64):
    power = np.array([1.1, 2.5, 3.5, 8.0])
    ref = st.zipf(power)
    k = np.array([[1.0], [2.0], [17.0], [1000.0]])
    got = evaluate(dist.Zipf(power), k, ("log_prob", "cdf", "survival_function", "mean", "variance"))
    assert_close(got["log_prob"], ref.logpmf(k))
    assert_close(got["cdf"], ref.cdf(k), rtol=1e-8)
    # scipy's sf is 1 - cdf (no digits below 1e-16); mpmath's Hurwitz zeta instead.
    with mpmath.workdps(30):
        sf = [[float(mpmath.zeta(a, v + 1) / mpmath.zeta(a)) for a in power] for v in k[:, 0]]
    assert_close(got["survival_function"], sf, rtol=1e-9)
    assert_close(got["mean"][1:], ref.mean()[1:])
    assert_close(got["variance"][2:], ref.var()[2:])
    assert np.isinf(np.asarray(got["mean"])[0]) and np.isinf(np.asarray(got["variance"])[1])
    assert np.isneginf(float(dist.Zipf(2.0).log_prob(0.0)))



def _mp_skellam_log_pmf(k, mu1, mu2):
    with mpmath.workdps(50):
        return _mp_skellam_log_pmf_at_precision(k, mu1, mu2)


def _mp_skellam_log_pmf_at_precision(k, mu1, mu2):
    mu1, mu2 = mpmath.mpf(mu1), mpmath.mpf(mu2)
    pmf = mpmath.exp(-(mu1 + mu2)) * (mu1 / mu2) ** (mpmath.mpf(k) / 2) * mpmath.besseli(abs(int(k)), 2 * mpmath.sqrt(mu1 * mu2))
    return float(mpmath.log(pmf))


def test_skellam_vs_scipy_and_mpmath(x64):
    mu1, mu2 = np.array([0.3, 5.0, 300.0]), np.array([2.0, 5.0, 500.0])
    k = np.array([[-3.0], [0.0], [4.0], [-200.0]])
    d = dist.Skellam(mu1, mu2)
    got = evaluate(d, k, ("log_prob", "mean", "variance"))
    ref = st.skellam(mu1, mu2)
    assert_close(got["log_prob"][:3], ref.logpmf(k[:3]))
    assert_close(got["mean"], mu1 - mu2)
    assert_close(got["variance"], mu1 + mu2)
    # Far tails, where scipy loses digits: mpmath at 50 digits.
    want = [[_mp_skellam_log_pmf(v, m1, m2) for m1, m2 in zip(mu1, mu2)] for v in (-250.0, 60.0)]
    assert_close(evaluate(d, np.array([[-250.0], [60.0]]), ("log_prob",))["log_prob"], want)
    assert np.isneginf(float(dist.Skellam(1.0, 1.0).log_prob(0.5)))


# -- defining formulas: zero-inflated, hurdle, ordered -------------------------------------

SUPPORT = np.arange(400.0)


def _log_pmf_by_definition(base_log_pmf, gate, kind):
    """log pmf over SUPPORT from the definition (base mass beyond SUPPORT < 1e-30)."""
    p0 = np.exp(base_log_pmf[0])
    if kind == "zero_inflated":
        zero, positive = np.log(gate + (1 - gate) * p0), np.log1p(-gate) + base_log_pmf
    else:
        zero, positive = np.log(gate), np.log1p(-gate) + base_log_pmf - np.log1p(-p0)
    return np.where(SUPPORT == 0, zero, positive)


GATED_CASES = {
    "zip": (lambda: dist.ZeroInflatedPoisson(0.3, 4.0), st.poisson(4.0), 0.3, "zero_inflated"),
    "zip-logits": (
        lambda: dist.ZeroInflatedPoisson(gate_logits=-1.2, rate=0.5),
        st.poisson(0.5),
        expit(-1.2),
        "zero_inflated",
    ),
    "zinb2": (
        lambda: dist.ZeroInflatedNegativeBinomial2(6.0, 1.5, gate=0.2),
        st.nbinom(1.5, 1.5 / 7.5),
        0.2,
        "zero_inflated",
    ),
    "zi-geometric": (
        lambda: dist.ZeroInflatedDistribution(dist.Geometric(probs=0.3), gate=0.4),
        st.geom(0.3, loc=-1),
        0.4,
        "zero_inflated",
    ),
    "hurdle-poisson": (lambda: dist.HurdlePoisson(0.6, 2.5), st.poisson(2.5), 0.6, "hurdle"),
    "hurdle-nb2": (
        lambda: dist.HurdleNegativeBinomial2(3.0, 0.8, gate_logits=0.4),
        st.nbinom(0.8, 0.8 / 3.8),
        expit(0.4),
        "hurdle",
    ),
    "hurdle-gamma-poisson": (
        lambda: dist.HurdleDistribution(dist.GammaPoisson(2.0, 0.25), gate=0.1),
        st.nbinom(2.0, 0.2),
        0.1,
        "hurdle",
    ),
}


@pytest.mark.parametrize("name", sorted(GATED_CASES))
def test_gated_families_vs_definition(name, x64):
    make, base_ref, gate, kind = GATED_CASES[name]
    d = make()
    log_pmf = _log_pmf_by_definition(base_ref.logpmf(SUPPORT), gate, kind)
    pmf = np.exp(log_pmf)
    got = evaluate(d, SUPPORT, ("log_prob", "cdf", "mean", "variance"))
    assert_close(got["log_prob"], log_pmf)
    # Quantiles: the first k whose cumulative mass reaches p.
    p = np.array([0.0, 0.05, 0.3, 0.5, 0.77, 0.999])
    want = np.searchsorted(np.cumsum(pmf) - 1e-12, p)
    assert_close(evaluate(d, p, ("icdf",))["icdf"], want)
    assert_close(np.exp(np.asarray(got["log_prob"])).sum(), 1.0, rtol=1e-12)
    assert_close(got["cdf"], np.cumsum(pmf), rtol=1e-9, atol=1e-15)
    mean = np.sum(SUPPORT * pmf)
    assert_close(got["mean"], mean)
    assert_close(got["variance"], np.sum((SUPPORT - mean) ** 2 * pmf))
    assert float(evaluate(d, -1.0, ("cdf",))["cdf"]) == 0.0
    assert np.isneginf(float(d.log_prob(1.5)))


def _mp_log_interval(cdf, lower, upper):
    # Masses near 1 - 1e-270 (probit at predictor -35) need hundreds of digits.
    with mpmath.workdps(600):
        return float(mpmath.log(cdf(mpmath.mpf(upper)) - cdf(mpmath.mpf(lower))))


def test_ordered_logistic_and_probit_vs_definition(x64):
    cut = np.array([-1.0, 0.5, 2.0])
    eta = np.array([-0.7, 0.0, 1.3])
    edges = np.concatenate([[-np.inf], cut, [np.inf]])
    for family, cdf in ((dist.OrderedLogistic, expit), (dist.OrderedProbit, st.norm.cdf)):
        d = family(eta, cut)
        probs = np.diff(cdf(edges[None, :] - eta[:, None]), axis=-1)
        k = np.arange(4.0)[:, None]
        got = evaluate(d, k, ("log_prob", "cdf", "mean", "variance", "entropy", "mode"))
        assert_close(got["log_prob"], np.log(probs.T))
        assert_close(got["cdf"], np.cumsum(probs, -1).T)
        assert_close(got["mean"], probs @ np.arange(4.0))
        assert_close(got["variance"], probs @ np.arange(4.0) ** 2 - (probs @ np.arange(4.0)) ** 2)
        assert_close(got["entropy"], -np.sum(probs * np.log(probs), -1))
        assert_close(got["mode"], np.argmax(probs, -1))
        p = np.array([[0.0], [0.2], [0.5], [0.97]])
        want = np.array([[np.searchsorted(np.cumsum(row), q) for row in probs] for q in p[:, 0]])
        assert_close(evaluate(d, p, ("icdf",))["icdf"], want)
        assert np.all(np.isneginf(np.asarray(d.log_prob(np.array([[-1.0], [4.0], [0.5]])))))
    # Far tails: each category's mass keeps full relative precision (mpmath reference).
    mp_cdfs = {
        dist.OrderedLogistic: lambda x: 1 / (1 + mpmath.exp(-x)),
        dist.OrderedProbit: lambda x: mpmath.ncdf(x),
    }
    for family, mp_cdf in mp_cdfs.items():
        for eta in (-35.0, 35.0):
            d = family(eta, cut)
            want = [_mp_log_interval(mp_cdf, lo - eta, hi - eta) for lo, hi in zip(edges[:-1], edges[1:])]
            assert_close(d.logits_parameter(), want, rtol=1e-9)
    # KL between two ordered outcomes is the categorical KL of their masses.
    p, q = dist.OrderedLogistic(0.3, cut), dist.OrderedLogistic(-0.5, cut)
    pp, qq = np.asarray(p.probs_parameter()), np.asarray(q.probs_parameter())
    assert_close(dist.kl_divergence(p, q), np.sum(pp * np.log(pp / qq)))


# -- sampling: chi-square goodness of fit and moment z-tests -------------------------------

SAMPLING_CASES = {
    "gamma_poisson": (lambda: dist.GammaPoisson(3.0, 0.5), 80),
    "negative_binomial2": (lambda: dist.NegativeBinomial2(5.0, 2.0), 80),
    "beta_binomial": (lambda: dist.BetaBinomial(0.8, 1.7, 15.0), 15),
    "zip": (lambda: dist.ZeroInflatedPoisson(0.35, 3.0), 40),
    "zinb2": (lambda: dist.ZeroInflatedNegativeBinomial2(4.0, 1.0, gate=0.25), 80),
    "hurdle_poisson": (lambda: dist.HurdlePoisson(0.4, 1.5), 40),
    # P(0) = exp(-0.05) ~ 0.95: the rejection rounds run out and the cdf search ends.
    "hurdle_poisson_small_rate": (lambda: dist.HurdlePoisson(0.2, 0.05), 10),
    "hurdle_nb2": (lambda: dist.HurdleNegativeBinomial2(2.0, 0.7, gate=0.3), 80),
    "discrete_uniform": (lambda: dist.DiscreteUniform(-2.0, 6.0), 6),
    "zipf": (lambda: dist.Zipf(2.2), 200),
    "skellam": (lambda: dist.Skellam(3.0, 1.5), 30),
    "ordered_logistic": (lambda: dist.OrderedLogistic(0.4, jnp.array([-1.0, 0.0, 1.5])), 3),
    "ordered_probit": (lambda: dist.OrderedProbit(-0.3, jnp.array([-0.5, 0.8])), 2),
}


def chi_square_pvalue(samples, log_pmf, values):
    """Chi-square GOF over `values`, cells with expected count < 5 merged into one."""
    expected = NUM_DRAWS * np.exp(np.asarray(log_pmf, np.float64))
    keep = expected >= 5
    observed = np.array([np.sum(samples == v) for v in values[keep]])
    exp_kept = expected[keep]
    rest_obs, rest_exp = NUM_DRAWS - observed.sum(), NUM_DRAWS - exp_kept.sum()
    if rest_exp >= 5:
        observed, exp_kept = np.append(observed, rest_obs), np.append(exp_kept, rest_exp)
    return st.chisquare(observed, exp_kept * observed.sum() / exp_kept.sum()).pvalue


@pytest.mark.parametrize("name", sorted(SAMPLING_CASES))
def test_sampling_goodness_of_fit(name, x64):
    make, support_max = SAMPLING_CASES[name]
    d = make()
    samples = np.asarray(draw(d, jax.random.key(7), NUM_DRAWS))
    assert samples.shape == (NUM_DRAWS,)
    lo = -support_max if name in ("skellam", "discrete_uniform") else 0
    values = np.arange(lo, support_max + 1.0)
    log_pmf = evaluate(d, values, ("log_prob",))["log_prob"]
    assert chi_square_pvalue(samples, log_pmf, values) > ALPHA
    if name != "zipf":  # Zipf(2.2) has infinite variance
        got = evaluate(d, 0.0, ("mean", "variance"))
        z = abs(samples.mean() - float(got["mean"])) / np.sqrt(float(got["variance"]) / NUM_DRAWS)
        assert z < z_threshold(1), z


def test_dirichlet_multinomial_sampling(x64):
    alpha = np.array([0.5, 2.0, 1.5])
    d = dist.DirichletMultinomial(alpha, 5.0)
    samples = np.asarray(draw(d, jax.random.key(3), NUM_DRAWS))
    assert np.all(samples.sum(-1) == 5) and np.all(samples >= 0)
    # Each count is BetaBinomial(n, alpha_i, sum(alpha) - alpha_i).
    for i in range(3):
        values = np.arange(6.0)
        log_pmf = st.betabinom(5, alpha[i], alpha.sum() - alpha[i]).logpmf(values)
        assert chi_square_pvalue(samples[:, i], log_pmf, values) > ALPHA / 3


# -- gradients against finite differences ---------------------------------------------------

GRAD_CASES = {
    "gamma_poisson": (lambda a, b: dist.GammaPoisson(a, b), [2.0, 0.7], 3.0),
    "negative_binomial2": (lambda m, c: dist.NegativeBinomial2(m, c), [3.0, 1.3], 5.0),
    "beta_binomial": (lambda a, b: dist.BetaBinomial(a, b, 9.0), [0.6, 2.2], 4.0),
    "zip_zero": (lambda g, r: dist.ZeroInflatedPoisson(g, r), [0.3, 2.0], 0.0),
    # gate = 0 exactly: P(0) = p0 + gate (1 - p0) has a finite derivative there.
    "zip_zero_gate0": (lambda g, r: dist.ZeroInflatedPoisson(g, r), [0.0, 2.0], 0.0),
    "zinb2_zero": (lambda m, g: dist.ZeroInflatedNegativeBinomial2(m, 2.0, gate=g), [3.0, 0.4], 0.0),
    "hurdle_positive": (lambda g, r: dist.HurdlePoisson(g, r), [0.3, 2.0], 3.0),
    "zipf": (lambda a: dist.Zipf(a), [2.5], 4.0),
    "skellam": (lambda m1, m2: dist.Skellam(m1, m2), [2.0, 3.5], -2.0),
    "ordered_logistic": (
        lambda e, c0, c1: dist.OrderedLogistic(e, jnp.stack([c0, c1])),
        [0.3, -0.5, 1.0],
        1.0,
    ),
    "ordered_probit_tail": (
        lambda e, c0, c1: dist.OrderedProbit(e, jnp.stack([c0, c1])),
        [25.0, -0.5, 1.0],
        1.0,
    ),
    "dirichlet_multinomial": (
        lambda a0, a1: dist.DirichletMultinomial(jnp.stack([a0, a1, 1.0]), 4.0),
        [0.7, 2.0],
        jnp.array([1.0, 2.0, 1.0]),
    ),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_log_prob_gradients_vs_finite_differences(name, x64):
    make, params, value = GRAD_CASES[name]
    check_gradients(make, params, value, one_sided=(0,) if name == "zip_zero_gate0" else ())


# -- shapes and validation -------------------------------------------------------------

SHAPE_CASES = {
    "gamma_poisson": (lambda: dist.GammaPoisson(jnp.ones((2, 1)), jnp.ones(3)), (2, 3), ()),
    "negative_binomial2": (lambda: dist.NegativeBinomial2(jnp.ones(3), 2.0), (3,), ()),
    "beta_binomial": (lambda: dist.BetaBinomial(jnp.ones((2, 1)), 1.0, jnp.array([3.0, 4.0, 5.0])), (2, 3), ()),
    "zip": (lambda: dist.ZeroInflatedPoisson(jnp.full((2, 1), 0.2), jnp.ones(3)), (2, 3), ()),
    "zi-base-batch": (lambda: dist.ZeroInflatedDistribution(dist.Poisson(jnp.ones(3)), gate=0.1), (3,), ()),
    "hurdle": (lambda: dist.HurdlePoisson(jnp.full((2, 1), 0.2), jnp.ones(3)), (2, 3), ()),
    "dirichlet_multinomial": (lambda: dist.DirichletMultinomial(jnp.ones((2, 4)), 3.0), (2,), (4,)),
    "discrete_uniform": (lambda: dist.DiscreteUniform(0.0, jnp.array([1.0, 5.0])), (2,), ()),
    "zipf": (lambda: dist.Zipf(jnp.array([2.0, 3.0])), (2,), ()),
    "skellam": (lambda: dist.Skellam(jnp.ones((2, 1)), jnp.ones(3)), (2, 3), ()),
    "ordered": (lambda: dist.OrderedLogistic(jnp.zeros((2, 1)), jnp.array([[-1.0, 1.0]] * 3)), (2, 3), ()),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_shapes(name, key):
    d, batch, event = SHAPE_CASES[name][0](), *SHAPE_CASES[name][1:]
    check_shapes(d, batch, event, key)
    assert d.has_rsample is False and d.support.is_discrete


INVALID = [
    (lambda: dist.GammaPoisson(-1.0, 1.0, validate_args=True), "concentration"),
    (lambda: dist.GammaPoisson(1.0, 0.0, validate_args=True), "rate"),
    (lambda: dist.NegativeBinomial2(0.0, 1.0, validate_args=True), "`mean`"),
    (lambda: dist.NegativeBinomial2(1.0, -2.0, validate_args=True), "concentration"),
    (lambda: dist.BetaBinomial(0.0, 1.0, 3, validate_args=True), "concentration1"),
    (lambda: dist.BetaBinomial(1.0, -1.0, 3, validate_args=True), "concentration0"),
    (lambda: dist.BetaBinomial(1.0, 1.0, 2.5, validate_args=True), "total_count"),
    (lambda: dist.ZeroInflatedPoisson(1.5, 1.0, validate_args=True), "gate"),
    (lambda: dist.ZeroInflatedPoisson(0.5, -1.0, validate_args=True), "rate"),
    (lambda: dist.ZeroInflatedPoisson(gate_logits=jnp.nan, rate=1.0, validate_args=True), "gate_logits"),
    (lambda: dist.ZeroInflatedPoisson(0.5, 1.0, gate_logits=0.0), "exactly one"),
    (lambda: dist.ZeroInflatedNegativeBinomial2(1.0, 0.0, gate=0.1, validate_args=True), "concentration"),
    (lambda: dist.ZeroInflatedDistribution(dist.Normal(0.0, 1.0), gate=0.1), "discrete"),
    (lambda: dist.HurdlePoisson(-0.1, 1.0, validate_args=True), "gate"),
    (lambda: dist.HurdleNegativeBinomial2(-1.0, 1.0, gate=0.1, validate_args=True), "`mean`"),
    (lambda: dist.HurdleDistribution(dist.Poisson(1.0)), "exactly one"),
    (lambda: dist.DirichletMultinomial(jnp.array([1.0, -1.0]), 3, validate_args=True), "concentration"),
    (lambda: dist.DirichletMultinomial(jnp.array([1.0, 1.0]), -3, validate_args=True), "total_count"),
    (lambda: dist.DirichletMultinomial(2.0, 3), "at least one dimension"),
    (lambda: dist.DiscreteUniform(0.5, 3.0, validate_args=True), "low"),
    (lambda: dist.DiscreteUniform(4.0, 3.0, validate_args=True), "high"),
    (lambda: dist.Zipf(1.0, validate_args=True), "power"),
    (lambda: dist.Skellam(0.0, 1.0, validate_args=True), "mu1"),
    (lambda: dist.Skellam(1.0, jnp.inf, validate_args=True), "mu2"),
    (lambda: dist.OrderedLogistic(0.0, jnp.array([1.0, 0.0]), validate_args=True), "cutpoints"),
    (lambda: dist.OrderedProbit(jnp.nan, jnp.array([0.0, 1.0]), validate_args=True), "predictor"),
    (lambda: dist.OrderedProbit(0.0, 1.0), "at least one dimension"),
]


@pytest.mark.parametrize("index", range(len(INVALID)))
def test_invalid_parameters_raise(index):
    check_raises(*INVALID[index])


def test_validate_args_checks_values():
    with pytest.raises(ValueError, match="value"):
        dist.BetaBinomial(1.0, 1.0, 3, validate_args=True).log_prob(4.0)
    with pytest.raises(ValueError, match="value"):
        dist.ZeroInflatedPoisson(0.2, 1.0, validate_args=True).log_prob(-1.0)


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_float32_in_float32_out(name, key):
    d = SHAPE_CASES[name][0]()
    x = jax.eval_shape(lambda k: d.sample(k, (2,)), key)
    assert x.dtype == jnp.float32 and jax.eval_shape(d.log_prob, x).dtype == jnp.float32
