"""Independent, TransformedDistribution, mixtures and Deterministic against scipy."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from probflow import bijectors as bij
from probflow import distributions as dist
from probflow.distributions import constraints

# Kolmogorov-Smirnov tests reject at this level (fixed seeds, one test each).
KS_ALPHA = 1e-3


# Jitted entry points shared by every test: one compile per distribution structure
# instead of one per eager op (which dominates the run time on a busy machine).
@partial(jax.jit, static_argnums=1)
def call(d, method, *args):
    return getattr(d, method)(*args)


@partial(jax.jit, static_argnums=2)
def draw(d, key, shape):
    return d.sample(key, shape)


@partial(jax.jit, static_argnums=3)
def evaluate(d, x, key, num_draws):
    """log_prob, cdf, moments and draws of a univariate `d` in one compiled program."""
    return {
        "log_prob": d.log_prob(x),
        "cdf": d.cdf(x),
        "mean": d.mean(),
        "variance": d.variance(),
        "draws": d.sample(key, (num_draws,)),
    }


# -- Independent -----------------------------------------------------------------------
def test_independent_shapes_and_reduction(key):
    base = dist.Normal(jnp.arange(6.0).reshape(2, 3), 2.0)
    d = dist.Independent(base, 1)
    assert (d.batch_shape, d.event_shape) == ((2,), (3,))
    x = draw(base, key, (4,))
    assert draw(d, key, (4,)).shape == (4, 2, 3)
    np.testing.assert_allclose(call(d, "log_prob", x), call(base, "log_prob", x).sum(-1), rtol=1e-6)
    np.testing.assert_allclose(call(d, "entropy"), call(base, "entropy").sum(-1), rtol=1e-6)
    assert call(d, "mean").shape == (2, 3)
    whole = dist.Independent(base, 2)
    assert (whole.batch_shape, whole.event_shape) == ((), (2, 3))
    np.testing.assert_allclose(
        call(whole, "log_prob", x), call(base, "log_prob", x).sum((-1, -2)), rtol=1e-6
    )
    assert repr(d.support) == "independent(real, 1)"
    # A value outside the base support makes the whole event impossible.
    positive = dist.Independent(dist.HalfCauchy(jnp.ones(3)), 1)
    assert float(call(positive, "log_prob", jnp.array([1.0, -1.0, 1.0]))) == -np.inf
    assert d.expand((5, 2)).batch_shape == (5, 2)
    assert d.expand((5, 2)).event_shape == (3,)


def test_independent_kl_sums_base_kl(x64):
    p = dist.Independent(dist.Normal(jnp.array([0.0, 1.0, -2.0]), jnp.array([1.0, 2.0, 0.5])), 1)
    q = dist.Independent(dist.Normal(jnp.array([0.5, 0.0, 0.0]), jnp.array([2.0, 1.0, 1.0])), 1)
    # Closed form of KL between univariate normals, summed by hand.
    m1, s1 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 2.0, 0.5])
    m2, s2 = np.array([0.5, 0.0, 0.0]), np.array([2.0, 1.0, 1.0])
    expected = np.sum(np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5)
    np.testing.assert_allclose(dist.kl_divergence(p, q), expected, rtol=1e-12)
    with pytest.raises(NotImplementedError, match="event shapes"):
        dist.kl_divergence(p, dist.Independent(dist.Normal(jnp.zeros((3, 1)), 1.0), 2))


def test_independent_bad_ndims():
    with pytest.raises(ValueError, match=r"reinterpreted_batch_ndims.*got 2"):
        dist.Independent(dist.Normal(jnp.zeros(3), 1.0), 2)
    with pytest.raises(TypeError, match="reinterpreted_batch_ndims"):
        dist.Independent(dist.Normal(jnp.zeros(3), 1.0), 1.0)


# -- TransformedDistribution -------------------------------------------------------------
def test_transformed_normal_exp_is_lognormal(x64, key):
    # float64 parameters: Python scalars alone would give float32 (weak types).
    loc, scale = np.float64(0.3), np.float64(0.8)
    d = dist.TransformedDistribution(
        dist.Normal(loc, scale), bij.Exp(), support=constraints.positive
    )
    reference = st.lognorm(s=scale, scale=np.exp(loc))
    y = np.array([0.05, 0.5, 1.0, 2.0, 7.5])
    np.testing.assert_allclose(call(d, "log_prob", y), reference.logpdf(y), rtol=1e-12)
    assert float(call(d, "log_prob", -1.0)) == -np.inf
    draws = np.asarray(draw(d, key, (2000,)))
    assert draws.shape == (2000,) and d.has_rsample
    assert st.kstest(draws, reference.cdf).pvalue > KS_ALPHA
    draws, lp = jax.jit(lambda d, k: d.sample_and_log_prob(k, (5,)))(d, key)
    np.testing.assert_allclose(lp, reference.logpdf(np.asarray(draws)), rtol=1e-10)
    with pytest.raises(NotImplementedError):
        call(d, "mean")


def test_transformed_batch_and_rank_change(key):
    # A rank-1 bijector on a batch of scalars reinterprets the batch as the event.
    base = dist.Normal(jnp.zeros((4, 2)), 1.0)
    d = dist.TransformedDistribution(base, bij.StickBreaking())
    assert (d.batch_shape, d.event_shape) == ((4,), (3,))
    y = draw(d, key, (5,))
    assert y.shape == (5, 4, 3)
    np.testing.assert_allclose(jnp.sum(y, -1), 1.0, rtol=1e-5)
    x, log_det = bij.StickBreaking().inverse_and_log_det(y)
    np.testing.assert_allclose(
        call(d, "log_prob", y), call(base, "log_prob", x).sum(-1) + log_det, rtol=1e-5
    )
    # Bijector parameters may broadcast the batch shape.
    shifted = dist.TransformedDistribution(dist.Normal(0.0, 1.0), bij.Shift(jnp.arange(3.0)))
    assert (shifted.batch_shape, shifted.event_shape) == ((3,), ())
    np.testing.assert_allclose(
        call(shifted, "log_prob", jnp.arange(3.0)),
        dist.Normal(0.0, 1.0).log_prob(0.0) * jnp.ones(3),
    )
    with pytest.raises(TypeError, match="bijector"):
        dist.TransformedDistribution(dist.Normal(0.0, 1.0), jnp.exp)


# -- mixtures ------------------------------------------------------------------------------
WEIGHTS = np.array([0.2, 0.5, 0.3])
LOCS = np.array([-2.0, 0.5, 3.0])
SCALES = np.array([0.5, 1.0, 2.0])


def _mixture_pdf_cdf(x):
    pdf = sum(w * st.norm(m, s).pdf(x) for w, m, s in zip(WEIGHTS, LOCS, SCALES))
    cdf = sum(w * st.norm(m, s).cdf(x) for w, m, s in zip(WEIGHTS, LOCS, SCALES))
    return pdf, cdf


def _hand_moments():
    mean = np.sum(WEIGHTS * LOCS)
    return mean, np.sum(WEIGHTS * (SCALES**2 + LOCS**2)) - mean**2


def _normal_same_family():
    return dist.MixtureSameFamily(
        dist.Categorical(probs=jnp.asarray(WEIGHTS)),
        dist.Normal(jnp.asarray(LOCS), jnp.asarray(SCALES)),
    )


def _laplace_mixture():
    f64 = np.float64
    components = [dist.Normal(f64(-1.0), f64(0.5)), dist.Laplace(f64(2.0), f64(1.5))]
    return dist.Mixture(dist.Categorical(logits=np.log(np.array([0.4, 0.6]))), components)


def test_mixture_same_family_against_scipy(x64, key):
    mix = _normal_same_family()
    assert (mix.batch_shape, mix.event_shape, mix.has_rsample) == ((), (), False)
    x = np.linspace(-5.0, 7.0, 13)
    pdf, cdf = _mixture_pdf_cdf(x)
    out = evaluate(mix, x, key, 3000)
    np.testing.assert_allclose(out["log_prob"], np.log(pdf), rtol=1e-12)
    np.testing.assert_allclose(out["cdf"], cdf, rtol=1e-12)
    mean, variance = _hand_moments()
    np.testing.assert_allclose([out["mean"], out["variance"]], [mean, variance], rtol=1e-12)
    draws = np.asarray(out["draws"])
    assert st.kstest(draws, lambda t: _mixture_pdf_cdf(t)[1]).pvalue > KS_ALPHA


def test_mixture_same_family_batched(key):
    # Batch (2,) of mixtures over K = 3 components with a vector event (Independent).
    locs = jnp.arange(12.0).reshape(2, 3, 2)
    components = dist.Independent(dist.Normal(locs, 1.0), 1)
    weights = dist.Categorical(logits=jnp.zeros((2, 3)))
    mix = dist.MixtureSameFamily(weights, components)
    assert (mix.batch_shape, mix.event_shape) == ((2,), (2,))
    draws = draw(mix, key, (7,))
    assert draws.shape == (7, 2, 2)
    lp = call(mix, "log_prob", draws)
    expected = jax.nn.logsumexp(
        call(components, "log_prob", draws[:, :, None, :]) + jnp.log(1 / 3), -1
    )
    np.testing.assert_allclose(lp, expected, rtol=1e-6)
    np.testing.assert_allclose(call(mix, "mean"), locs.mean(1), rtol=1e-6)
    with pytest.raises(ValueError, match="number of categories"):
        dist.MixtureSameFamily(
            dist.Categorical(logits=jnp.zeros(4)), dist.Normal(jnp.zeros(3), 1.0)
        )


def test_mixture_heterogeneous_against_scipy(x64, key):
    mix = _laplace_mixture()
    refs = [(0.4, st.norm(-1.0, 0.5)), (0.6, st.laplace(2.0, 1.5))]
    x = np.linspace(-4.0, 6.0, 11)
    pdf = sum(w * r.pdf(x) for w, r in refs)
    out = evaluate(mix, x, key, 3000)
    np.testing.assert_allclose(out["log_prob"], np.log(pdf), rtol=1e-12)
    np.testing.assert_allclose(out["cdf"], sum(w * r.cdf(x) for w, r in refs), rtol=1e-12)
    mean = sum(w * r.mean() for w, r in refs)
    variance = sum(w * (r.var() + r.mean() ** 2) for w, r in refs) - mean**2
    np.testing.assert_allclose([out["mean"], out["variance"]], [mean, variance], rtol=1e-12)
    draws = np.asarray(out["draws"])
    ks = st.kstest(draws, lambda t: sum(w * r.cdf(t) for w, r in refs))
    assert ks.pvalue > KS_ALPHA
    with pytest.raises(ValueError, match="equal batch and event shapes"):
        dist.Mixture(
            dist.Categorical(logits=jnp.zeros(2)),
            [dist.Normal(0.0, 1.0), dist.Normal(jnp.zeros(2), 1.0)],
        )
    with pytest.raises(ValueError, match="2 categories but 3 components"):
        dist.Mixture(dist.Categorical(logits=jnp.zeros(2)), [dist.Normal(0.0, 1.0)] * 3)


# -- Deterministic ---------------------------------------------------------------------------
def test_deterministic(key):
    d = dist.Deterministic(jnp.array([1.0, -2.0]))
    out = evaluate(d, jnp.array([1.0, -2.5]), key, 3)
    assert out["draws"].shape == (3, 2)
    np.testing.assert_array_equal(out["draws"][2], [1.0, -2.0])
    np.testing.assert_array_equal(out["log_prob"], [0.0, -np.inf])
    np.testing.assert_array_equal(out["cdf"], [1.0, 0.0])
    np.testing.assert_array_equal(out["variance"], [0.0, 0.0])
    np.testing.assert_array_equal(out["mean"], [1.0, -2.0])
    # The draw is differentiable in loc (a point mass moves with its parameter).
    grad = jax.grad(lambda loc: dist.Deterministic(loc).sample(key).sum())(jnp.array([1.0, 2.0]))
    np.testing.assert_array_equal(grad, [1.0, 1.0])
