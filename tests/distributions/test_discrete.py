"""Discrete families against scipy.stats (float64), goodness of fit, jit/vmap/grad, validation.

Worst relative errors per family and method are collected in `WORST` and printed at
the end of the module (run with ``-s`` to see the table).
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

RTOL = 1e-6
WORST: dict = {}
ALPHA = 1e-3


def _record(family, method, got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.broadcast_to(np.asarray(want, dtype=np.float64), got.shape)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    scale = np.where(want == 0, 1.0, np.abs(want))
    err = np.where(same, 0.0, np.abs(got - want) / scale)
    worst = float(np.max(err)) if err.size else 0.0
    key = (family, method)
    WORST[key] = max(WORST.get(key, 0.0), worst)
    assert worst <= RTOL, f"{family}.{method}: relative error {worst:.3g}\n got {got}\nwant {want}"


@pytest.fixture(scope="module", autouse=True)
def _print_table():
    yield
    print("\nworst relative error vs reference (float64)")
    for (family, method), err in sorted(WORST.items()):
        print(f"  {family:20s} {method:10s} {err:.2e}")


@partial(jax.jit, static_argnames="methods")
def _evaluate(d, values, methods):
    """All requested methods in one compiled program (eager betainc etc. compile slowly)."""
    return {m: getattr(d, m)(values) if m in ("log_prob", "cdf") else getattr(d, m)() for m in methods}


def _check_methods(family, d, ref, values, methods=("log_prob", "cdf", "mean", "variance", "entropy")):
    scipy_name = {"log_prob": "logpmf", "cdf": "cdf", "mean": "mean", "variance": "var", "entropy": "entropy"}
    got = _evaluate(d, jnp.asarray(values), methods)
    for method in methods:
        if method in ("log_prob", "cdf"):
            want = getattr(ref, scipy_name[method])(np.asarray(values))
        else:
            want = getattr(ref, scipy_name[method])()
        _record(family, method, got[method], want)


# -- scipy comparisons ------------------------------------------------------------------


def test_bernoulli_vs_scipy(x64):
    probs = np.array([1e-12, 0.3, 0.5, 1 - 1e-9])
    values = np.array([[0.0], [1.0]])
    _check_methods("Bernoulli", dist.Bernoulli(probs=probs), st.bernoulli(probs), values)
    logits = np.array([-30.0, -3.0, 0.0, 2.5])
    # scipy's entropy loses 1 - p for logits = -30; that one is checked against mpmath.
    _check_methods("Bernoulli", dist.Bernoulli(logits=logits), st.bernoulli(expit(logits)), values, ("log_prob", "cdf", "mean", "variance"))
    _check_methods("Bernoulli", dist.Bernoulli(logits=logits[1:]), st.bernoulli(expit(logits[1:])), values, ("entropy",))
    # logits = +30: 1 - p is not representable from p; reflect k -> 1 - k, p -> 1 - p.
    d = dist.Bernoulli(logits=np.array([30.0, 12.0]))
    ref = st.bernoulli(expit(-np.array([30.0, 12.0])))
    _record("Bernoulli", "log_prob", d.log_prob(values), ref.logpmf(1 - values))
    _record("Bernoulli", "cdf", d.cdf(np.array([[0.0], [-1.0], [0.5]])), ref.sf(np.array([[0.0], [1.0], [0.0]])))


def test_binomial_vs_scipy(x64):
    n = np.array([[1.0], [20.0], [1e6]])
    probs = np.array([1e-9, 0.3, 0.999])
    k = np.array([[[0.0]], [[1.0]], [[7.0]], [[20.0]], [[3e5]], [[999000.0]]])
    k = np.minimum(k, n)
    d = dist.Binomial(n, probs=probs)
    _check_methods("Binomial", d, st.binom(n, probs), k, ("log_prob", "cdf", "mean", "variance"))
    logits = np.array([-30.0, 0.0, 2.0])
    d = dist.Binomial(n, logits=logits)
    _check_methods("Binomial", d, st.binom(n, expit(logits)), k, ("log_prob", "cdf", "mean", "variance"))
    d = dist.Binomial(n, logits=np.float64(30.0))
    ref = st.binom(n, expit(-30.0))
    _record("Binomial", "log_prob", d.log_prob(k), ref.logpmf(n - k))
    _record("Binomial", "cdf", d.cdf(k), np.where(k >= n, 1.0, ref.sf(n - k - 1)))
    _record("Binomial", "mode", dist.Binomial(n, probs=probs).mode(), np.floor((n + 1) * probs))


def test_poisson_vs_scipy(x64):
    rate = np.array([1e-8, 3.5, 1e6])
    k = np.array([[0.0], [1.0], [4.0], [30.0], [998000.0], [1e6], [1002000.0]])
    _check_methods("Poisson", dist.Poisson(rate), st.poisson(rate), k, ("log_prob", "cdf", "mean", "variance"))
    # Entropy: a truncated sum below rate 50, an asymptotic series above.
    rate = np.array([1e-8, 0.7, 3.5, 49.9, 50.1, 300.0])
    _record("Poisson", "entropy", dist.Poisson(rate).entropy(), [st.poisson(r).entropy() for r in rate])


def test_negative_binomial_vs_scipy(x64):
    r = np.array([[0.5], [3.0], [1e4]])
    probs = np.array([1e-10, 0.25, 0.9])
    k = np.array([[[0.0]], [[1.0]], [[5.0]], [[40.0]], [[3e4]]])
    d = dist.NegativeBinomial(r, probs=probs)
    # TFP convention: successes before r failures == scipy nbinom(n=r, p=1 - probs).
    _check_methods("NegativeBinomial", d, st.nbinom(r, 1 - probs), k, ("log_prob", "cdf", "mean", "variance"))
    logits = np.array([30.0, 0.0, -3.0])
    d = dist.NegativeBinomial(r, logits=logits)
    _check_methods("NegativeBinomial", d, st.nbinom(r, expit(-logits)), k, ("log_prob", "cdf", "mean", "variance"))


def test_geometric_vs_scipy(x64):
    probs = np.array([1e-9, 0.3, 1 - 1e-9])
    k = np.array([[0.0], [1.0], [10.0], [1e6]])
    d = dist.Geometric(probs=probs)
    _check_methods("Geometric", d, st.geom(probs, loc=-1), k)
    logits = np.array([-30.0, 0.0, 3.0])
    d = dist.Geometric(logits=logits)
    _check_methods("Geometric", d, st.geom(expit(logits), loc=-1), k)


def _mp_log_softmax(logits):
    mpmath.mp.dps = 50
    rows = []
    for row in np.atleast_2d(logits):
        log_z = mpmath.log(sum(mpmath.exp(mpmath.mpf(v)) for v in row))
        rows.append([mpmath.mpf(v) - log_z for v in row])
    return rows


def test_categorical_vs_scipy(x64):
    values = np.array([[0.0], [1.0], [2.0]])
    one_hot = np.eye(3)[values[:, 0].astype(int)][:, None, :]
    probs = np.array([[1e-12, 0.3, 0.7 - 1e-12], [0.2, 0.2, 0.6]])
    want = np.stack([st.multinomial(1, row).logpmf(one_hot[:, 0]) for row in probs], -1)
    want_entropy = [st.multinomial(1, row).entropy() for row in probs]
    for family, d, x in [
        ("Categorical", dist.Categorical(probs=probs), values),
        ("OneHotCategorical", dist.OneHotCategorical(probs=probs), one_hot),
    ]:
        got = _evaluate(d, x, ("log_prob", "entropy", "mode"))
        _record(family, "log_prob", got["log_prob"], want)
        _record(family, "entropy", got["entropy"], want_entropy)
    _record("Categorical", "cdf", dist.Categorical(probs=probs).cdf(values), np.cumsum(probs, -1).T)
    _record("OneHotCategorical", "mean", dist.OneHotCategorical(probs=probs).mean(), probs)
    _record("OneHotCategorical", "variance", dist.OneHotCategorical(probs=probs).variance(), probs * (1 - probs))
    # logits of +-30: softmax(30) = 1 - 1e-13 is not representable, so the reference is mpmath.
    logits = np.array([[30.0, -30.0, 0.0], [0.1, 0.2, 0.3]])
    log_p = _mp_log_softmax(logits)
    want = np.array([[float(row[int(v)]) for row in log_p] for v in values[:, 0]])
    want_entropy = [float(-sum(mpmath.exp(v) * v for v in row)) for row in log_p]
    for family, d, x in [
        ("Categorical", dist.Categorical(logits=logits), values),
        ("OneHotCategorical", dist.OneHotCategorical(logits=logits), one_hot),
    ]:
        got = _evaluate(d, x, ("log_prob", "entropy", "mode"))
        _record(family, "log_prob", got["log_prob"], want)
        _record(family, "entropy", got["entropy"], want_entropy)


def test_multinomial_vs_scipy(x64):
    probs = np.array([[1e-10, 0.3, 0.7 - 1e-10], [0.25, 0.25, 0.5]])
    n = np.array([5.0, 1000.0])
    counts = np.array([[[0.0, 2.0, 3.0]], [[1.0, 299.0, 700.0]]])
    want = np.array([[st.multinomial(n[i], probs[j]).logpmf(counts[i, 0]) for j in range(2)] for i in range(2)])
    d = dist.Multinomial(n[:, None], probs=probs)
    got = _evaluate(d, counts, ("log_prob", "mean", "variance"))
    _record("Multinomial", "log_prob", got["log_prob"], want)
    _record("Multinomial", "mean", got["mean"], n[:, None, None] * probs)
    _record("Multinomial", "variance", got["variance"], n[:, None, None] * probs * (1 - probs))
    d = dist.Multinomial(n[:, None], logits=np.log(probs) + 3.0)
    _record("Multinomial", "log_prob", d.log_prob(counts), want)


def _mp_logits(logits):
    p = 1 / (1 + mpmath.exp(-mpmath.mpf(logits)))
    return p, 1 / (1 + mpmath.exp(mpmath.mpf(logits)))


def test_extreme_logits_vs_mpmath(x64):
    """Where scipy cannot hold 1 - p (logits of +-30), a 50-digit reference."""
    mpmath.mp.dps = 50
    p, q = _mp_logits(30.0)
    k = np.array([0.0, 1.0, 7.0])
    want = [float(j * mpmath.log(q) + mpmath.log(p)) for j in k]
    _record("Geometric", "log_prob", dist.Geometric(logits=np.float64(30.0)).log_prob(k), want)
    _record("Geometric", "entropy", dist.Geometric(logits=np.float64(30.0)).entropy(), float((-q * mpmath.log(q) - p * mpmath.log(p)) / p))
    p, q = _mp_logits(-30.0)
    _record("Bernoulli", "entropy", dist.Bernoulli(logits=np.float64(-30.0)).entropy(), float(-p * mpmath.log(p) - q * mpmath.log(q)))
    r = 4.0
    want = [
        float(mpmath.loggamma(j + r) - mpmath.loggamma(j + 1) - mpmath.loggamma(r) + j * mpmath.log(p) + r * mpmath.log(q))
        for j in k
    ]
    _record("NegativeBinomial", "log_prob", dist.NegativeBinomial(np.float64(r), logits=np.float64(-30.0)).log_prob(k), want)


# -- sampling: goodness of fit and moments -------------------------------------------

NUM_DRAWS = 20000


def _chi_square(samples, log_pmf_fn, support_max):
    """Chi-square GOF with cells of expected count >= 5, tail merged into one cell."""
    values = np.arange(support_max + 1)
    pmf = np.exp(np.asarray(jax.jit(log_pmf_fn)(jnp.asarray(values, jnp.float32)), np.float64))
    expected = NUM_DRAWS * pmf
    keep = expected >= 5
    observed = np.array([np.sum(samples == v) for v in values[keep]])
    exp_kept = expected[keep]
    rest_obs = NUM_DRAWS - observed.sum()
    rest_exp = NUM_DRAWS - exp_kept.sum()
    if rest_exp >= 5:
        observed = np.append(observed, rest_obs)
        exp_kept = np.append(exp_kept, rest_exp)
    exp_kept = exp_kept * observed.sum() / exp_kept.sum()
    return st.chisquare(observed, exp_kept).pvalue


def _moment_z(samples, mean, variance):
    """z-scores of the sample mean and variance, with Monte-Carlo standard errors."""
    samples = np.asarray(samples, np.float64)
    n = samples.shape[0]
    mean_z = abs(samples.mean() - mean) / np.sqrt(variance / n)
    centred = samples - samples.mean()
    m4 = np.mean(centred**4)
    var_se = np.sqrt(max(m4 - variance**2, 1e-300) / n)
    var_z = abs(centred.var() - variance) / var_se
    return mean_z, var_z


SCALAR_CASES = {
    "bernoulli": (lambda: dist.Bernoulli(logits=-0.7), 1),
    "binomial": (lambda: dist.Binomial(12.0, probs=0.35), 12),
    "poisson": (lambda: dist.Poisson(6.5), 40),
    "negative_binomial": (lambda: dist.NegativeBinomial(2.5, probs=0.6), 60),
    "geometric": (lambda: dist.Geometric(probs=0.2), 80),
    "categorical": (lambda: dist.Categorical(probs=jnp.array([0.1, 0.2, 0.3, 0.4])), 3),
}


@jax.jit
def _draw(key, d):
    return d.sample(key, (NUM_DRAWS,))


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_sampling_goodness_of_fit_and_moments(name):
    make, support_max = SCALAR_CASES[name]
    d = make()
    samples = np.asarray(_draw(jax.random.key(42), d))
    assert samples.shape == (NUM_DRAWS,)
    pvalue = _chi_square(samples, d.log_prob, support_max)
    assert pvalue > ALPHA, f"{name}: chi-square p-value {pvalue:.2e}"
    if name != "categorical":
        mean_z, var_z = _moment_z(samples, float(d.mean()), float(d.variance()))
        assert mean_z < 5 and var_z < 5, (mean_z, var_z)


def test_one_hot_and_multinomial_sampling():
    oh = dist.OneHotCategorical(logits=jnp.log(jnp.array([0.1, 0.6, 0.3])))
    draws = np.asarray(_draw(jax.random.key(1), oh))
    assert np.all(draws.sum(-1) == 1)
    pvalue = _chi_square(draws.argmax(-1), lambda v: oh.log_prob(jax.nn.one_hot(v.astype(int), 3)), 2)
    assert pvalue > ALPHA

    probs = jnp.array([0.2, 0.5, 0.3])
    mn = dist.Multinomial(3, probs=probs)
    draws = np.asarray(_draw(jax.random.key(2), mn))
    assert np.all(draws.sum(-1) == 3) and np.all(draws >= 0)
    # All 10 outcomes of 3 trials over 3 categories, indexed by (x0, x1).
    outcomes = np.array([[a, b, 3 - a - b] for a in range(4) for b in range(4 - a)], np.float32)
    pmf = np.exp(np.asarray(mn.log_prob(outcomes), np.float64))
    np.testing.assert_allclose(pmf.sum(), 1.0, rtol=1e-5)
    codes = draws[:, 0] * 4 + draws[:, 1]
    observed = np.array([np.sum(codes == a * 4 + b) for a, b, _ in outcomes.astype(int)])
    assert st.chisquare(observed, NUM_DRAWS * pmf / pmf.sum()).pvalue > ALPHA
    # Large counts: the sequential-binomial draw keeps means within 5 MC standard errors.
    big = dist.Multinomial(1e5, probs=probs)
    draws = np.asarray(_draw(jax.random.key(3), big), np.float64)
    z = np.abs(draws.mean(0) - np.asarray(big.mean())) / np.sqrt(np.asarray(big.variance()) / NUM_DRAWS)
    assert np.all(z < 5), z


# -- shapes ---------------------------------------------------------------------------


def _shape_of(fn, *args):
    # Shapes only: tracing with eval_shape compiles nothing.
    return jax.eval_shape(fn, *args).shape


def test_shapes_broadcasting(key):
    d = dist.Binomial(jnp.array([[2.0], [5.0]]), probs=jnp.array([0.1, 0.5, 0.9]))
    assert d.batch_shape == (2, 3) and d.event_shape == ()
    assert _shape_of(lambda k: d.log_prob(d.sample(k, (4,))), key) == (4, 2, 3)
    assert _shape_of(lambda k: d.sample(k, (4,)), key) == (4, 2, 3)
    assert _shape_of(lambda: d.log_prob(1.0)) == (2, 3)
    c = dist.Categorical(logits=jnp.zeros((2, 5)))
    assert c.batch_shape == (2,) and _shape_of(lambda k: c.sample(k, (3, 4)), key) == (3, 4, 2)
    assert _shape_of(lambda: c.log_prob(jnp.array([[0.0], [4.0]]))) == (2, 2)
    m = dist.Multinomial(jnp.array([[3.0], [7.0]]), probs=jnp.full((3, 4), 0.25))
    assert m.batch_shape == (2, 3) and m.event_shape == (4,)
    assert _shape_of(lambda k: m.sample(k, (5,)), key) == (5, 2, 3, 4)
    assert _shape_of(lambda k: m.log_prob(m.sample(k, (5,))), key) == (5, 2, 3)
    assert m.mean().shape == (2, 3, 4)
    oh = dist.OneHotCategorical(probs=jnp.full((2, 3), 1 / 3)).expand((4, 2))
    assert oh.batch_shape == (4, 2) and _shape_of(lambda k: oh.sample(k), key) == (4, 2, 3)
    assert _shape_of(lambda k: dist.Poisson(jnp.ones(3)).expand((2, 3)).sample(k, 2), key) == (2, 2, 3)
    for d in [dist.NegativeBinomial(jnp.ones((2, 1)), logits=jnp.zeros(3)), dist.Geometric(probs=jnp.full((2, 3), 0.5)),
              dist.Bernoulli(logits=jnp.zeros((2, 3)))]:
        assert d.batch_shape == (2, 3) and _shape_of(lambda k, d=d: d.sample(k, 7), key) == (7, 2, 3)
        assert d.mean().shape == d.variance().shape == (2, 3)


def test_log_prob_outside_support_is_minus_inf():
    assert float(dist.Bernoulli(probs=0.3).log_prob(0.5)) == -np.inf
    assert float(dist.Binomial(3.0, probs=0.3).log_prob(4.0)) == -np.inf
    assert float(dist.Poisson(2.0).log_prob(-1.0)) == -np.inf
    assert float(dist.Geometric(probs=0.3).log_prob(1.5)) == -np.inf
    assert float(dist.Categorical(probs=jnp.array([0.5, 0.5])).log_prob(2.0)) == -np.inf
    assert float(dist.Multinomial(3, probs=jnp.array([0.5, 0.5])).log_prob(jnp.array([1.0, 1.0]))) == -np.inf
    assert float(dist.OneHotCategorical(probs=jnp.array([0.5, 0.5])).log_prob(jnp.array([1.0, 1.0]))) == -np.inf


# -- jit / vmap / grad --------------------------------------------------------------

GRAD_CASES = {
    "bernoulli_probs": (lambda t: dist.Bernoulli(probs=t), 0.3, 1.0),
    "bernoulli_logits": (lambda t: dist.Bernoulli(logits=t), -0.4, 0.0),
    "binomial_logits": (lambda t: dist.Binomial(9.0, logits=t), 0.3, 4.0),
    "binomial_probs": (lambda t: dist.Binomial(9.0, probs=t), 0.3, 4.0),
    "poisson": (lambda t: dist.Poisson(t), 2.5, 3.0),
    "nb_total_count": (lambda t: dist.NegativeBinomial(t, probs=0.4), 2.5, 3.0),
    "nb_logits": (lambda t: dist.NegativeBinomial(2.5, logits=t), 0.2, 3.0),
    "geometric": (lambda t: dist.Geometric(logits=t), 0.2, 3.0),
    "categorical": (lambda t: dist.Categorical(logits=jnp.array([0.0, 1.0, -1.0]) * t), 0.7, 1.0),
    "one_hot": (lambda t: dist.OneHotCategorical(logits=jnp.array([0.0, 1.0, -1.0]) * t), 0.7, jnp.array([0.0, 1.0, 0.0])),
    "multinomial": (lambda t: dist.Multinomial(5.0, logits=jnp.array([0.0, 1.0, -1.0]) * t), 0.7, jnp.array([1.0, 3.0, 1.0])),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grad_matches_finite_differences(name, x64):
    make, theta, value = GRAD_CASES[name]
    theta = np.float64(theta)
    f = lambda t: make(t).log_prob(jnp.asarray(value, jnp.float64))
    grad = jax.jit(jax.grad(f))(theta)
    f = jax.jit(f)
    h = 1e-6
    fd = (f(theta + h) - f(theta - h)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_jit_vmap_through_distributions():
    @jax.jit
    def log_prob_and_moments(d, x):
        return d.log_prob(x), d.mean(), d.variance()

    rates = jnp.array([1.0, 2.0, 3.0])
    lp, mean, var = jax.vmap(lambda r: log_prob_and_moments(dist.Poisson(r), 2.0))(rates)
    np.testing.assert_allclose(lp, st.poisson(np.asarray(rates)).logpmf(2), rtol=1e-5)
    logits = jnp.array([-1.0, 0.0, 1.0])
    lp = jax.vmap(lambda l: dist.Binomial(5.0, logits=l).log_prob(2.0))(logits)
    np.testing.assert_allclose(lp, st.binom(5, expit(np.asarray(logits))).logpmf(2), rtol=1e-5)
    # Distributions are pytrees: vmap over a batch of them.
    batch = dist.Categorical(logits=jnp.zeros((4, 3)))
    lp = jax.vmap(lambda d: d.log_prob(1.0))(batch)
    np.testing.assert_allclose(lp, np.full(4, -np.log(3.0)), rtol=1e-6)


# -- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: dist.Bernoulli(probs=1.5, validate_args=True), "probs"),
        (lambda: dist.Bernoulli(logits=jnp.nan, validate_args=True), "logits"),
        (lambda: dist.Binomial(-1.0, probs=0.5, validate_args=True), "total_count"),
        (lambda: dist.Binomial(2.5, probs=0.5, validate_args=True), "total_count"),
        (lambda: dist.Poisson(-1.0, validate_args=True), "rate"),
        (lambda: dist.NegativeBinomial(0.0, probs=0.5, validate_args=True), "total_count"),
        (lambda: dist.Geometric(probs=-0.1, validate_args=True), "probs"),
        (lambda: dist.Categorical(probs=jnp.array([0.5, 0.6]), validate_args=True), "probs"),
        (lambda: dist.Categorical(probs=0.5), "probs"),
        (lambda: dist.OneHotCategorical(logits=jnp.array([0.0, jnp.nan]), validate_args=True), "logits"),
        (lambda: dist.Multinomial(3.0, probs=jnp.array([-0.5, 1.5]), validate_args=True), "probs"),
        (lambda: dist.Bernoulli(), "probs"),
        (lambda: dist.Binomial(3, probs=0.5, logits=0.0), "logits"),
    ],
)
def test_bad_parameters_raise(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_bad_values_raise_with_validate_args():
    with pytest.raises(ValueError, match="value"):
        dist.Poisson(2.0, validate_args=True).log_prob(-1.0)
    with pytest.raises(ValueError, match="value"):
        dist.Multinomial(3.0, probs=jnp.array([0.5, 0.5]), validate_args=True).log_prob(jnp.array([1.0, 1.0]))


@pytest.mark.parametrize(
    "make, support_max",
    [
        (lambda: dist.Bernoulli(probs=jnp.array([0.3, 0.8])), 1),
        (lambda: dist.Binomial(jnp.array([7.0, 30.0]), probs=jnp.array([0.33, 0.9])), 30),
        (lambda: dist.Poisson(jnp.array([0.4, 6.5, 40.2])), 100),
        (lambda: dist.NegativeBinomial(jnp.array([0.5, 3.3, 12.0]), probs=jnp.array([0.6, 0.45, 0.7])), 100),
        (lambda: dist.Geometric(logits=jnp.array([-2.0, 1.0])), 10),
        (lambda: dist.Categorical(logits=jnp.array([[0.0, 2.0, 1.0], [3.0, -1.0, 0.0]])), 2),
    ],
)
def test_mode_is_argmax_of_pmf(make, support_max):
    d = make()
    grid = jnp.arange(support_max + 1.0).reshape((-1,) + (1,) * len(d.batch_shape))
    argmax = np.argmax(np.asarray(d.log_prob(grid)), axis=0)
    np.testing.assert_array_equal(np.asarray(d.mode()), argmax)
