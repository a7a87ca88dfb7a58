"""Guide families: densities against scipy, entropies, draws, and the ELBO estimators."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from probflow.inference.vi import FullRank, LowRank, MeanField, negative_elbo, resolve_family
from probflow.inference.vi.elbo import negative_elbo_from_noise
from probflow.inference.vi.families import Family, GuideDistribution

FAMILIES = [
    MeanField(),
    MeanField(scale_transform="exp"),
    FullRank(),
    FullRank(scale_transform="exp"),
    LowRank(rank=1),
    LowRank(rank=2, scale_transform="exp"),
]
D = 4


def _random_params(family, key, dim=D):
    """Perturbs every parameter so that off-diagonal structure is exercised."""
    params = family.init(key, jnp.zeros(dim))
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.fold_in(key, 1), len(leaves))
    leaves = [x + 0.5 * jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)]
    return jax.tree_util.tree_unflatten(treedef, leaves)


@pytest.mark.parametrize("family", FAMILIES, ids=repr)
def test_log_prob_and_entropy_match_scipy(family, x64):
    key = jax.random.key(3)
    params = _random_params(family, key)
    loc = np.asarray(family.mean(params))
    cov = np.asarray(family.covariance(params))
    reference = scipy.stats.multivariate_normal(loc, cov)
    z, log_q = family.sample_and_log_prob(jax.random.key(4), params, 7)
    np.testing.assert_allclose(log_q, reference.logpdf(np.asarray(z)), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(family.log_prob(params, z), log_q, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(family.entropy(params), reference.entropy(), rtol=1e-9)


@pytest.mark.parametrize("family", FAMILIES[::2], ids=repr)
def test_draws_have_the_stated_mean_and_covariance(family, x64):
    params = _random_params(family, jax.random.key(5))
    n = 40_000
    z = np.asarray(family.sample(jax.random.key(6), params, n))
    cov = np.asarray(family.covariance(params))
    sd = np.sqrt(np.diag(cov))
    # Sample mean: z-score per coordinate, 4 sigma (D checks at ~6e-5 each).
    z_mean = (z.mean(0) - np.asarray(family.mean(params))) / (sd / np.sqrt(n))
    assert np.all(np.abs(z_mean) < 4.0), z_mean
    # Sample covariance entries: sd of the estimate of Cov_ij is
    # sqrt((S_ii S_jj + S_ij^2) / n) for Gaussian draws.
    err = np.cov(z.T) - cov
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(err / se) < 4.5), err / se


def test_guide_distribution_shapes_and_methods():
    family = FullRank()
    params = family.init(jax.random.key(0), jnp.arange(3.0))
    q = family.distribution(params)
    assert isinstance(q, GuideDistribution)
    assert q.event_shape == (3,) and q.batch_shape == ()
    x = q.sample(jax.random.key(1), (2, 5))
    assert x.shape == (2, 5, 3)
    assert q.log_prob(x).shape == (2, 5)
    np.testing.assert_allclose(q.mean(), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(q.entropy(), family.entropy(params), rtol=1e-6)
    x, lp = q.sample_and_log_prob(jax.random.key(2), (4,))
    np.testing.assert_allclose(lp, q.log_prob(x), rtol=1e-5)
    # A pytree: passes through jit.
    assert jax.jit(lambda d: d.mean())(q).shape == (3,)


def test_resolve_family_and_bad_settings():
    assert resolve_family("meanfield") == MeanField()
    assert resolve_family("lowrank") == LowRank()
    custom = FullRank(init_scale=0.5)
    assert resolve_family(custom) is custom
    with pytest.raises(ValueError, match="`family` must be one of"):
        resolve_family("gaussian")
    with pytest.raises(ValueError, match="scale_transform"):
        MeanField(scale_transform="square")
    with pytest.raises(ValueError, match="rank"):
        LowRank(rank=0)
    with pytest.raises(ValueError, match="init_scale"):
        FullRank(init_scale=-1.0)
    with pytest.raises(TypeError, match="family"):
        GuideDistribution("meanfield", {})
    assert Family().entropy({}) is None


# -- estimators ---------------------------------------------------------------------------
_COV = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
_MEAN = np.array([1.0, -1.0, 0.5])


_PRECISION = np.linalg.inv(_COV)


def _gaussian_logdensity(z):
    r = z - jnp.asarray(_MEAN, z.dtype)
    return -0.5 * r @ jnp.asarray(_PRECISION, z.dtype) @ r


def _exact_fullrank_params():
    tril = np.linalg.cholesky(_COV)
    raw = np.tril(tril, -1) + np.diag(np.log(np.diag(tril)))
    return {"loc": jnp.asarray(_MEAN), "raw_scale_tril": jnp.asarray(raw)}


_elbo_and_grad = jax.jit(
    jax.value_and_grad(negative_elbo, argnums=1),
    static_argnames=("family", "logdensity_fn", "num_particles", "stl", "analytic_entropy"),
)


def test_stl_gradient_vanishes_at_the_exact_posterior(x64):
    # At q = p, log p(z) - log q(z) is constant in z, so the path derivative is exactly 0
    # for every draw; the standard estimator's score term is not (Roeder et al. 2017).
    family = FullRank(scale_transform="exp")
    params = _exact_fullrank_params()
    key = jax.random.key(0)
    kw = dict(family=family, logdensity_fn=_gaussian_logdensity, num_particles=1)
    loss, stl = _elbo_and_grad(key, params, stl=True, analytic_entropy=False, **kw)
    _, plain = _elbo_and_grad(key, params, stl=False, analytic_entropy=False, **kw)
    stl_norm = max(float(jnp.max(jnp.abs(g))) for g in jax.tree_util.tree_leaves(stl))
    plain_norm = max(float(jnp.max(jnp.abs(g))) for g in jax.tree_util.tree_leaves(plain))
    assert stl_norm < 1e-10
    assert plain_norm > 1e-2
    # And the loss equals -log Z exactly for every draw.
    log_z = 0.5 * np.linalg.slogdet(2 * np.pi * _COV)[1]
    np.testing.assert_allclose(loss, -log_z, rtol=1e-12)


@pytest.mark.parametrize("family", [MeanField(), FullRank(), LowRank(rank=2)], ids=repr)
def test_estimators_agree_in_expectation(family, x64):
    # All three estimators are unbiased for the same ELBO and its gradient.
    params = _random_params(family, jax.random.key(1), dim=3)
    n = 5000
    kw = dict(family=family, logdensity_fn=_gaussian_logdensity, num_particles=n)
    results = [
        _elbo_and_grad(jax.random.key(2), params, stl=stl, analytic_entropy=ae, **kw)
        for stl, ae in [(False, False), (True, False), (False, True)]
    ]
    losses = [loss for loss, _ in results]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)  # same value, other grad
    # Difference of MC vs analytic entropy: mean of (log q - E log q) over n draws has sd
    # sqrt(D/2) / sqrt(n) (log q of a Gaussian is -chi2_D / 2 + const).
    assert abs(float(losses[0] - losses[2])) < 4.5 * np.sqrt(3 / 2) / np.sqrt(n)
    # Gradients: per draw, each estimator minus the plain one has mean zero; its sample
    # mean must sit within 4.5 standard errors (Bonferroni over the <= 24 coordinates
    # checked at alpha = 1e-3 needs 4.06). The STL path term has sd ~ 1 / scale, so a
    # fixed tolerance cannot be both safe and tight.
    noise = family.noise(jax.random.key(2), params, n)
    per_draw = [_per_draw_grads(family, params, noise, stl, ae)
                for stl, ae in [(False, False), (True, False), (False, True)]]
    for other in per_draw[1:]:
        for a, b in zip(jax.tree_util.tree_leaves(per_draw[0]), jax.tree_util.tree_leaves(other)):
            diff = np.asarray(b - a).reshape(n, -1)
            mean, se = diff.mean(0), diff.std(0, ddof=1) / np.sqrt(n)
            assert np.all(np.abs(mean) <= 4.5 * se + 1e-9), (mean, se)
    # The batched estimate is the mean of the per-draw ones (same draws, same key).
    for a, b in zip(jax.tree_util.tree_leaves(results[0][1]), jax.tree_util.tree_leaves(per_draw[0])):
        np.testing.assert_allclose(a, np.asarray(b).mean(0), rtol=1e-8, atol=1e-10)


@functools.partial(jax.jit, static_argnames=("family", "stl", "ae"))
def _per_draw_grads(family, params, noise, stl, ae):
    def one(noise_i):
        single = jax.tree_util.tree_map(lambda leaf: leaf[None], noise_i)
        return jax.grad(negative_elbo_from_noise, argnums=1)(
            single, params, family, _gaussian_logdensity, stl=stl, analytic_entropy=ae
        )

    return jax.vmap(one)(noise)


def test_conflicting_estimator_options():
    family = MeanField()
    params = family.init(jax.random.key(0), jnp.zeros(2))
    with pytest.raises(ValueError, match="exclude each other"):
        negative_elbo(jax.random.key(0), params, family, lambda z: -z @ z, stl=True,
                      analytic_entropy=True)
