"""Multivariate families against scipy.stats (float64), goodness of fit, jit/vmap/grad, validation.

Worst relative errors per family and method are printed at the end (run with ``-s``).
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats as st

from probflow import distributions as dist

RTOL = 1e-6
ALPHA = 1e-3
WORST: dict = {}


def _record(family, method, got, want, rtol=RTOL):
    got = np.asarray(got, dtype=np.float64)
    want = np.broadcast_to(np.asarray(want, dtype=np.float64), got.shape)
    scale = np.where(want == 0, 1.0, np.abs(want))
    err = np.where(got == want, 0.0, np.abs(got - want) / scale)
    worst = float(np.max(err))
    WORST[(family, method)] = max(WORST.get((family, method), 0.0), worst)
    assert worst <= rtol, f"{family}.{method}: relative error {worst:.3g}\n got {got}\nwant {want}"


@pytest.fixture(scope="module", autouse=True)
def _print_table():
    yield
    print("\nworst relative error vs reference (float64)")
    for (family, method), err in sorted(WORST.items()):
        print(f"  {family:26s} {method:10s} {err:.2e}")


@partial(jax.jit, static_argnames="methods")
def _evaluate(d, values, methods):
    return {m: d.log_prob(values) if m == "log_prob" else getattr(d, m)() for m in methods}


def _random_covariance(rng, d, condition=1e4):
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    eigenvalues = np.geomspace(1.0 / np.sqrt(condition), np.sqrt(condition), d)
    return (q * eigenvalues) @ q.T


# -- scipy comparisons ------------------------------------------------------------------


def test_dirichlet_vs_scipy(x64):
    alphas = np.array([[1e-3, 0.5, 2.0], [200.0, 300.0, 1000.0], [1.0, 1.0, 1.0]])
    x = np.array([[1e-300 ** 0.1, 0.3, 0.7 - 1e-30], [0.15, 0.2, 0.65], [0.2, 0.3, 0.5]])
    x = x / x.sum(-1, keepdims=True)
    got = _evaluate(dist.Dirichlet(alphas), x, ("log_prob", "mean", "variance", "entropy"))
    for i, a in enumerate(alphas):
        ref = st.dirichlet(a)
        _record("Dirichlet", "log_prob", got["log_prob"][i], ref.logpdf(x[i]))
        _record("Dirichlet", "mean", got["mean"][i], ref.mean())
        _record("Dirichlet", "variance", got["variance"][i], ref.var())
        _record("Dirichlet", "entropy", got["entropy"][i], ref.entropy())


def test_multivariate_normal_vs_scipy(x64):
    rng = np.random.default_rng(0)
    cov = np.stack([_random_covariance(rng, 4), np.diag([1e-6, 1.0, 1e3, 2.0])])
    loc = rng.normal(size=(2, 4)) * 10
    x = loc + rng.normal(size=(5, 2, 4))
    for d in [dist.MultivariateNormal(loc, covariance_matrix=cov), dist.MultivariateNormal(loc, scale_tril=np.linalg.cholesky(cov))]:
        got = _evaluate(d, x, ("log_prob", "mean", "variance", "entropy", "covariance"))
        for i in range(2):
            ref = st.multivariate_normal(loc[i], cov[i])
            _record("MultivariateNormal", "log_prob", got["log_prob"][:, i], ref.logpdf(x[:, i]))
            _record("MultivariateNormal", "entropy", got["entropy"][i], ref.entropy())
            _record("MultivariateNormal", "mean", got["mean"][i], loc[i])
            _record("MultivariateNormal", "variance", got["variance"][i], np.diag(cov[i]))
            np.testing.assert_allclose(got["covariance"][i], cov[i], rtol=1e-10, atol=1e-12)


def test_low_rank_multivariate_normal_vs_scipy(x64):
    rng = np.random.default_rng(1)
    loc = rng.normal(size=(2, 6))
    cov_factor = rng.normal(size=(2, 6, 2)) * np.array([[[10.0]], [[0.1]]])
    cov_diag = np.exp(rng.normal(size=(2, 6)))
    x = loc + rng.normal(size=(3, 2, 6)) * 3
    d = dist.LowRankMultivariateNormal(loc, cov_factor, cov_diag)
    got = _evaluate(d, x, ("log_prob", "mean", "variance", "entropy", "covariance"))
    for i in range(2):
        cov = cov_factor[i] @ cov_factor[i].T + np.diag(cov_diag[i])
        ref = st.multivariate_normal(loc[i], cov)
        _record("LowRankMultivariateNormal", "log_prob", got["log_prob"][:, i], ref.logpdf(x[:, i]))
        _record("LowRankMultivariateNormal", "entropy", got["entropy"][i], ref.entropy())
        _record("LowRankMultivariateNormal", "variance", got["variance"][i], np.diag(cov))
        np.testing.assert_allclose(got["covariance"][i], cov, rtol=1e-12)


def test_wishart_vs_scipy(x64):
    rng = np.random.default_rng(2)
    scale = np.stack([_random_covariance(rng, 3, 100.0), np.diag([1e-3, 1.0, 5.0])])
    df = np.array([2.5, 40.0])
    x = np.stack([st.wishart(8.0, s).rvs(random_state=3) for s in scale])
    for d in [dist.Wishart(df, scale_tril=np.linalg.cholesky(scale)), dist.Wishart(df, scale_matrix=scale)]:
        got = _evaluate(d, x, ("log_prob", "mean", "variance", "entropy", "mode"))
        for i in range(2):
            ref = st.wishart(df[i], scale[i])
            _record("Wishart", "log_prob", got["log_prob"][i], ref.logpdf(x[i]))
            _record("Wishart", "mean", got["mean"][i], ref.mean())
            _record("Wishart", "variance", got["variance"][i], ref.var())
            _record("Wishart", "entropy", got["entropy"][i], ref.entropy())
        _record("Wishart", "mode", got["mode"][1], st.wishart(df[1], scale[1]).mode())
        assert np.all(np.isnan(got["mode"][0]))


def test_lkj_normaliser_integrates_to_one_in_2d(x64):
    """For d = 2, L is fixed by r = L[1, 0] in (-1, 1); the density must integrate to 1."""
    for eta in [0.5, 1.0, 3.0, 50.0]:
        d = dist.LKJCholesky(2, np.float64(eta))
        log_prob = jax.jit(lambda r, d=d: d.log_prob(jnp.array([[1.0, 0.0], [r, jnp.sqrt(1 - r * r)]])))
        total, _ = scipy.integrate.quad(lambda r, f=log_prob: float(np.exp(f(r))), -1, 1, limit=200)
        _record("LKJCholesky", "normaliser", total, 1.0, rtol=1e-6)
        # In 2D (r + 1) / 2 ~ Beta(eta, eta) exactly.
        r = 0.3
        _record("LKJCholesky", "log_prob", log_prob(r), st.beta(eta, eta).logpdf((r + 1) / 2) - np.log(2.0))


def test_lkj_vs_numpyro(x64):
    """An independent implementation in float64 for d > 2."""
    numpyro_dist = pytest.importorskip("numpyro.distributions")
    rng = np.random.default_rng(4)
    for dim, eta in [(3, 0.7), (5, 2.5), (8, 30.0)]:
        a = rng.normal(size=(4, dim, dim))
        cov = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(dim)
        sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        x = np.linalg.cholesky(cov / sd[..., :, None] / sd[..., None, :])
        ref = jax.jit(lambda x, dim=dim, eta=eta: numpyro_dist.LKJCholesky(dim, eta).log_prob(x))
        got = dist.LKJCholesky(dim, np.float64(eta)).log_prob(x)
        _record("LKJCholesky", "log_prob", got, ref(x))


# -- sampling: KS on 1-D projections / marginals, moments ------------------------------

NUM_DRAWS = 10000


@jax.jit
def _draw(key, d):
    return d.sample(key, (NUM_DRAWS,))


def _mean_z(samples, mean):
    samples = np.asarray(samples, np.float64)
    se = samples.std(0, ddof=1) / np.sqrt(samples.shape[0])
    return np.abs(samples.mean(0) - mean) / se


def test_dirichlet_sampling():
    alpha = jnp.array([0.3, 2.0, 5.0])
    d = dist.Dirichlet(alpha)
    x = np.asarray(_draw(jax.random.key(0), d), np.float64)
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-5)
    a0 = float(alpha.sum())
    pvalues = [st.kstest(x[:, i], st.beta(float(alpha[i]), a0 - float(alpha[i])).cdf).pvalue for i in range(3)]
    assert min(pvalues) > ALPHA / 3, pvalues
    assert np.all(_mean_z(x, np.asarray(d.mean())) < 5)


def test_multivariate_normal_sampling():
    loc = jnp.array([1.0, -2.0, 0.5])
    cov = jnp.array([[2.0, 0.6, 0.3], [0.6, 1.0, -0.4], [0.3, -0.4, 1.5]])
    d = dist.MultivariateNormal(loc, covariance_matrix=cov)
    x = np.asarray(_draw(jax.random.key(1), d), np.float64)
    v = np.array([0.3, -1.0, 2.0])
    proj = x @ v
    sd = np.sqrt(v @ np.asarray(cov, np.float64) @ v)
    assert st.kstest(proj, st.norm(float(v @ np.asarray(loc)), sd).cdf).pvalue > ALPHA
    assert np.all(_mean_z(x, np.asarray(loc)) < 5)
    # Sample covariance within 5 MC standard errors, entry by entry.
    centred = x - x.mean(0)
    products = centred[:, :, None] * centred[:, None, :]
    z = np.abs(products.mean(0) - np.asarray(cov)) / (products.std(0) / np.sqrt(NUM_DRAWS))
    assert np.all(z < 5), z


def test_low_rank_sampling():
    loc = jnp.array([0.0, 1.0, 2.0, 3.0])
    w = jnp.array([[1.0], [0.5], [-1.0], [2.0]])
    diag = jnp.array([0.5, 1.0, 0.2, 0.3])
    d = dist.LowRankMultivariateNormal(loc, w, diag)
    x = np.asarray(_draw(jax.random.key(2), d), np.float64)
    v = np.array([1.0, -0.5, 0.25, 2.0])
    cov = np.asarray(d.covariance(), np.float64)
    assert st.kstest(x @ v, st.norm(float(v @ np.asarray(loc)), np.sqrt(v @ cov @ v)).cdf).pvalue > ALPHA
    assert np.all(_mean_z(x, np.asarray(loc)) < 5)


def test_wishart_sampling():
    scale = jnp.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.7]])
    df = 4.5
    d = dist.Wishart(df, scale_matrix=scale)
    x = np.asarray(_draw(jax.random.key(3), d), np.float64)
    v = np.array([1.0, -1.0, 0.5])
    # v^T X v / v^T S v ~ Chi2(df) for any fixed v.
    ratio = np.einsum("i,nij,j->n", v, x, v) / (v @ np.asarray(scale, np.float64) @ v)
    assert st.kstest(ratio, st.chi2(df).cdf).pvalue > ALPHA
    assert np.all(_mean_z(x.reshape(NUM_DRAWS, -1), np.asarray(d.mean()).ravel()) < 5)


def test_lkj_sampling_marginal_is_beta():
    dim, eta = 4, 1.5
    d = dist.LKJCholesky(dim, eta)
    L = np.asarray(_draw(jax.random.key(4), d), np.float64)
    np.testing.assert_allclose(np.sum(L**2, -1), 1.0, rtol=1e-5)
    corr = L @ np.swapaxes(L, -1, -2)
    # Every off-diagonal correlation has (r + 1) / 2 ~ Beta(eta - 1 + d/2, eta - 1 + d/2).
    marginal = st.beta(eta - 1 + dim / 2, eta - 1 + dim / 2)
    pvalues = [st.kstest((corr[:, i, j] + 1) / 2, marginal.cdf).pvalue for i, j in [(1, 0), (3, 2), (3, 0)]]
    assert min(pvalues) > ALPHA / 3, pvalues


# -- shapes ---------------------------------------------------------------------------


def _shape_of(fn, *args):
    return jax.eval_shape(fn, *args).shape


def test_shapes_batched_loc_shared_scale_tril(key):
    loc = jnp.zeros((5, 3))
    d = dist.MultivariateNormal(loc, scale_tril=jnp.eye(3))
    assert d.batch_shape == (5,) and d.event_shape == (3,)
    assert _shape_of(lambda k: d.sample(k, (2, 4)), key) == (2, 4, 5, 3)
    assert _shape_of(lambda k: d.log_prob(d.sample(k, (2, 4))), key) == (2, 4, 5)
    assert _shape_of(lambda: d.log_prob(jnp.zeros(3))) == (5,)
    # Batched scale_tril, scalar loc; value broadcasting against batch.
    d = dist.MultivariateNormal(0.0, scale_tril=jnp.broadcast_to(jnp.eye(2), (4, 1, 2, 2)))
    assert d.batch_shape == (4, 1)
    assert _shape_of(lambda: d.log_prob(jnp.zeros((3, 2)))) == (4, 3)
    assert d.mean().shape == (4, 1, 2) and d.covariance().shape == (4, 1, 2, 2)
    lr = dist.LowRankMultivariateNormal(jnp.zeros((2, 4)), jnp.ones((4, 1)), jnp.ones(4))
    assert lr.batch_shape == (2,) and _shape_of(lambda k: lr.log_prob(lr.sample(k, 3)), key) == (3, 2)
    dr = dist.Dirichlet(jnp.ones((2, 3)))
    assert dr.batch_shape == (2,) and _shape_of(lambda k: dr.sample(k, 7), key) == (7, 2, 3)
    w = dist.Wishart(jnp.array([3.0, 4.0]), scale_tril=jnp.eye(2))
    assert w.batch_shape == (2,) and _shape_of(lambda k: w.log_prob(w.sample(k, 5)), key) == (5, 2)
    lkj = dist.LKJCholesky(3, jnp.array([1.0, 2.0]))
    assert lkj.batch_shape == (2,) and _shape_of(lambda k: lkj.log_prob(lkj.sample(k, 6)), key) == (6, 2)
    assert dist.MultivariateNormal(jnp.zeros(3), scale_tril=jnp.eye(3)).expand((2,)).batch_shape == (2,)


# -- jit / vmap / grad --------------------------------------------------------------


def _fd_check(f, theta, h=1e-6):
    theta = np.asarray(theta, np.float64)
    grad = np.asarray(jax.jit(jax.grad(f))(jnp.asarray(theta)))
    f = jax.jit(f)
    fd = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[idx] = h
        fd[idx] = (f(theta + step) - f(theta - step)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_grads_match_finite_differences(x64):
    x = jnp.array([0.3, -0.2, 1.0])
    tril = jnp.array([[1.0, 0.0, 0.0], [0.4, 1.2, 0.0], [-0.3, 0.2, 0.8]])
    _fd_check(lambda m: dist.MultivariateNormal(m, scale_tril=tril).log_prob(x), [0.1, 0.2, 0.3])
    _fd_check(lambda t: dist.MultivariateNormal(jnp.zeros(3), scale_tril=jnp.tril(t)).log_prob(x), tril)
    _fd_check(lambda c: dist.Dirichlet(c).log_prob(jnp.array([0.2, 0.3, 0.5])), [0.5, 2.0, 3.0])
    _fd_check(lambda w: dist.LowRankMultivariateNormal(jnp.zeros(3), w, jnp.ones(3)).log_prob(x), [[0.5], [1.0], [-0.3]])
    L = jnp.linalg.cholesky(jnp.array([[1.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.0]]))
    _fd_check(lambda eta: dist.LKJCholesky(3, eta).log_prob(L), 1.7)
    X = jnp.array([[2.0, 0.3], [0.3, 1.0]])
    _fd_check(lambda df: dist.Wishart(df, scale_tril=jnp.eye(2)).log_prob(X), 3.5)


def test_dirichlet_reparameterised_gradient():
    """d/da E[x_0] by pathwise gradients of draws matches the analytic derivative."""
    def mean_first(alpha, key):
        return jnp.mean(dist.Dirichlet(alpha).sample(key, (NUM_DRAWS,))[:, 0])

    alpha = jnp.array([1.5, 2.0, 3.5])
    grad = jax.jit(jax.grad(mean_first))(alpha, jax.random.key(5))
    a0 = float(alpha.sum())
    exact = np.array([(a0 - 1.5) / a0**2, -1.5 / a0**2, -1.5 / a0**2])
    # Loose by design: a Monte-Carlo gradient; still catches a missing or wrong path.
    np.testing.assert_allclose(grad, exact, atol=0.01)


def test_jit_vmap_over_batches_of_distributions():
    tril = jnp.broadcast_to(jnp.eye(2), (3, 2, 2)) * jnp.array([1.0, 2.0, 3.0])[:, None, None]
    batch = dist.MultivariateNormal(jnp.zeros((3, 2)), scale_tril=tril)
    lp = jax.jit(jax.vmap(lambda d: d.log_prob(jnp.ones(2))))(batch)
    np.testing.assert_allclose(lp, batch.log_prob(jnp.ones(2)), rtol=1e-6)
    lp = jax.vmap(lambda c: dist.Dirichlet(c).log_prob(jnp.array([0.2, 0.8])))(jnp.array([[1.0, 1.0], [2.0, 3.0]]))
    np.testing.assert_allclose(lp, [0.0, np.log(12 * 0.2 * 0.8**2)], rtol=1e-5, atol=1e-6)


# -- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: dist.MultivariateNormal(jnp.zeros(2), covariance_matrix=jnp.array([[1.0, 2.0], [2.0, 1.0]]), validate_args=True), "covariance_matrix"),
        (lambda: dist.MultivariateNormal(jnp.zeros(2), scale_tril=jnp.array([[-1.0, 0.0], [0.0, 1.0]]), validate_args=True), "scale_tril"),
        (lambda: dist.MultivariateNormal(jnp.array([0.0, jnp.nan]), scale_tril=jnp.eye(2), validate_args=True), "loc"),
        (lambda: dist.MultivariateNormal(jnp.zeros(3), scale_tril=jnp.eye(2)), "loc"),
        (lambda: dist.MultivariateNormal(jnp.zeros(2), scale_tril=jnp.ones(2)), "scale_tril"),
        (lambda: dist.MultivariateNormal(jnp.zeros(2)), "covariance_matrix"),
        (lambda: dist.LowRankMultivariateNormal(jnp.zeros(2), jnp.ones((2, 1)), -jnp.ones(2), validate_args=True), "cov_diag"),
        (lambda: dist.LowRankMultivariateNormal(jnp.zeros(3), jnp.ones((2, 1)), jnp.ones(2)), "loc"),
        (lambda: dist.Dirichlet(jnp.array([1.0, -1.0]), validate_args=True), "concentration"),
        (lambda: dist.Dirichlet(1.0), "concentration"),
        (lambda: dist.LKJCholesky(1, 1.0), "dimension"),
        (lambda: dist.LKJCholesky(2.5, 1.0), "dimension"),
        (lambda: dist.LKJCholesky(3, -1.0, validate_args=True), "concentration"),
        (lambda: dist.Wishart(1.5, scale_tril=jnp.eye(3), validate_args=True), "df"),
        (lambda: dist.Wishart(4.0, scale_matrix=-jnp.eye(2), validate_args=True), "scale_matrix"),
    ],
)
def test_bad_parameters_raise(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_bad_values_raise_with_validate_args():
    with pytest.raises(ValueError, match="value"):
        dist.Dirichlet(jnp.ones(3), validate_args=True).log_prob(jnp.array([0.5, 0.6, 0.1]))
    with pytest.raises(ValueError, match="value"):
        dist.LKJCholesky(2, 1.0, validate_args=True).log_prob(jnp.eye(2) * 2)
    assert float(dist.Wishart(3.0, scale_tril=jnp.eye(2)).log_prob(-jnp.eye(2))) == -np.inf
