"""DenseReparameterization / DenseFlipout: counts, KL, priors, Flipout's mean and variance."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _layer_stats import assert_mean_is, assert_means_equal
from _scale_mixture import ScaleMixtureNormal, quadrature_kl

from probflow import distributions as dist
from probflow import nn

BAYESIAN_DENSE = [nn.DenseReparameterization, nn.DenseFlipout]


def _raw(scale):
    return math.log(math.expm1(scale))


def _with_scale(params, scale):
    """Params with every posterior scale set to `scale` (so the noise is visible)."""
    return {k: (jnp.full_like(v, _raw(scale)) if k.endswith("raw_scale") else v) for k, v in params.items()}


@pytest.mark.parametrize("cls", BAYESIAN_DENSE)
@pytest.mark.parametrize(
    "kwargs, trainable, stochastic",
    [
        ({}, 2 * (3 * 4 + 4), 3 * 4 + 4),  # loc + scale for kernel and bias
        ({"bias_posterior": None}, 2 * 3 * 4 + 4, 3 * 4),  # point-estimated bias
        ({"use_bias": False}, 2 * 3 * 4, 3 * 4),
    ],
)
def test_counts_shapes_and_init(cls, kwargs, trainable, stochastic):
    layer = cls(4, **kwargs)
    assert layer.is_bayesian and not layer.stateful
    assert layer.output_shape((3,)) == (4,)
    assert layer.count_params((3,)) == {"trainable": trainable, "non_trainable": 0, "stochastic": stochastic}
    params, state = layer.init(jax.random.key(0), (3,))
    np.testing.assert_allclose(jax.nn.softplus(params["kernel_raw_scale"]), 1e-3, rtol=1e-4)
    limit = math.sqrt(6 / (3 + 4))
    assert np.all(np.abs(params["kernel_loc"]) <= limit)
    y, _ = layer.apply(params, state, jnp.ones((5, 3)), key=jax.random.key(1))
    assert y.shape == (5, 4)
    assert set(layer.weight_shapes((3,))) == ({"kernel"} if not layer.use_bias else {"kernel", "bias"})


@pytest.mark.parametrize("cls", BAYESIAN_DENSE)
def test_key_is_required(cls):
    layer = cls(2)
    params, state = layer.init(jax.random.key(0), (3,))
    with pytest.raises(ValueError, match="key"):
        layer.apply(params, state, jnp.ones((1, 3)))


def test_reparameterization_and_mc_kl_use_the_same_draw():
    layer = nn.DenseReparameterization(3, kl_method="mc")
    params, state = layer.init(jax.random.key(0), (2,))
    params = _with_scale(params, 0.3)
    key = jax.random.key(7)
    weights = layer.sample_weights(jax.random.split(key)[0], params)
    x = jnp.ones((4, 2))
    y, _ = layer.apply(params, state, x, key=key)
    np.testing.assert_allclose(y, layer.apply_with_weights(weights, state, x)[0], rtol=1e-6)
    posteriors = layer.posterior_distributions(params)
    expected = sum(
        jnp.sum(q.log_prob(weights[n]) - layer.prior.log_prob(weights[n])) for n, q in posteriors.items()
    )
    np.testing.assert_allclose(layer.kl(params, key), expected, rtol=1e-5)


# -- Flipout: same mean as reparameterization, lower gradient variance ----------------

NUM_KEYS = 1000
X_SMALL = jax.random.normal(jax.random.key(11), (6, 3))


def _output_draws(cls, activation):
    layer = cls(2, activation=activation)
    params, state = layer.init(jax.random.key(0), (3,))
    params = _with_scale(params, 0.5)
    keys = jax.random.split(jax.random.key(5), NUM_KEYS)
    draw = jax.jit(jax.vmap(lambda k: layer.apply(params, state, X_SMALL, key=k)[0]))
    return params, np.asarray(draw(keys))


def test_flipout_mean_equals_reparameterization_mean_nonlinear():
    _, flip = _output_draws(nn.DenseFlipout, "tanh")
    _, rep = _output_draws(nn.DenseReparameterization, "tanh")
    assert_means_equal(flip, rep)


@pytest.mark.parametrize("cls", BAYESIAN_DENSE)
def test_linear_output_mean_is_mean_weights_output(cls):
    params, draws = _output_draws(cls, None)
    truth = X_SMALL @ params["kernel_loc"] + params["bias_loc"]
    assert_mean_is(draws, truth)


BATCH, IN, OUT, GRAD_KEYS = 64, 8, 4, 200


@pytest.fixture(scope="module")
def loc_gradients():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(BATCH, IN)), jnp.float32)
    y = jnp.asarray(rng.normal(size=(BATCH, OUT)), jnp.float32)
    keys = jax.random.split(jax.random.key(3), GRAD_KEYS)
    grads = {}
    for cls in BAYESIAN_DENSE:
        layer = cls(OUT)
        params, state = layer.init(jax.random.key(0), (IN,))
        params = _with_scale(params, 0.3)

        def loss(p, k, layer=layer, state=state):
            return jnp.mean((layer.apply(p, state, x, key=k)[0] - y) ** 2)

        grad_fn = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))
        grads[cls.__name__] = np.asarray(grad_fn(params, keys)["kernel_loc"], np.float64)
    return grads


def test_flipout_gradient_is_unbiased(loc_gradients):
    assert_means_equal(loc_gradients["DenseFlipout"], loc_gradients["DenseReparameterization"])


def test_flipout_gradient_variance_is_lower(loc_gradients):
    var_flip = loc_gradients["DenseFlipout"].var(0, ddof=1).mean()
    var_rep = loc_gradients["DenseReparameterization"].var(0, ddof=1).mean()
    ratio = var_flip / var_rep
    print(f"Flipout / reparameterization gradient variance ratio (batch {BATCH}): {ratio:.3f}")
    # Each variance is averaged over 32 entries of 200 draws each (relative sd ~2%),
    # so a ratio above 0.5 would be a real failure, not noise.
    assert ratio < 0.5


# -- KL --------------------------------------------------------------------------------


def _kl_params(layer, key):
    params, _ = layer.init(key, (5,))
    loc_key, scale_key = jax.random.split(key)
    return {
        k: (
            0.5 * jax.random.normal(loc_key, v.shape, v.dtype)
            if k.endswith("_loc")
            else jnp.log(jnp.expm1(jax.random.uniform(scale_key, v.shape, v.dtype, 0.05, 0.8)))
        )
        for k, v in params.items()
    }


@pytest.mark.parametrize("prior_scale", [1.0, 0.1])
def test_analytic_kl_matches_formula_and_monte_carlo(prior_scale, x64):
    prior = dist.Normal(0.0, prior_scale)
    analytic_layer = nn.DenseFlipout(3, prior=prior)
    mc_layer = nn.DenseFlipout(3, prior=prior, kl_method="mc")
    params = _kl_params(analytic_layer, jax.random.key(2))
    analytic = float(analytic_layer.kl(params))
    prior_scale = float(prior.scale)  # the prior's own (float32) parameter
    formula = 0.0
    for name in ("kernel", "bias"):
        m = np.asarray(params[f"{name}_loc"])
        s = np.log1p(np.exp(np.asarray(params[f"{name}_raw_scale"])))
        formula += np.sum(np.log(prior_scale / s) + (s**2 + m**2) / (2 * prior_scale**2) - 0.5)
    np.testing.assert_allclose(analytic, formula, rtol=1e-10)
    keys = jax.random.split(jax.random.key(4), 1000)
    draws = jax.jit(jax.vmap(lambda k: mc_layer.kl(params, k)))(keys)
    assert_mean_is(np.asarray(draws)[:, None], [analytic])


def test_scale_mixture_prior_uses_monte_carlo_kl(x64):
    prior = ScaleMixtureNormal(0.5, 1.0, 0.05)
    layer = nn.DenseReparameterization(3, prior=prior)
    params = _kl_params(layer, jax.random.key(6))
    with pytest.raises(ValueError, match="key"):
        layer.kl(params)
    with pytest.raises(NotImplementedError):
        nn.DenseReparameterization(3, prior=prior, kl_method="analytic").kl(params)
    keys = jax.random.split(jax.random.key(8), 1000)
    draws = np.asarray(jax.jit(jax.vmap(lambda k: layer.kl(params, k)))(keys))
    truth = sum(
        quadrature_kl(
            params[f"{n}_loc"], jax.nn.softplus(params[f"{n}_raw_scale"]), prior.numpy_log_prob
        )
        for n in ("kernel", "bias")
    )
    assert_mean_is(draws[:, None], [truth])
    weights = layer.mean_weights(params)
    expected = sum(np.sum(prior.numpy_log_prob(np.asarray(w))) for w in weights.values())
    # The prior holds float32 parameters, so its log density is float32-accurate.
    np.testing.assert_allclose(float(layer.log_prior(weights)), expected, rtol=1e-6)


def test_library_mixture_prior_is_accepted():
    mixture = getattr(dist, "MixtureSameFamily", None)
    if mixture is None or not hasattr(dist, "Categorical"):
        pytest.skip("MixtureSameFamily not available")
    prior = mixture(dist.Categorical(probs=jnp.asarray([0.5, 0.5])), dist.Normal(0.0, jnp.asarray([1.0, 0.05])))
    layer = nn.DenseFlipout(2, prior=prior)
    params, state = layer.init(jax.random.key(0), (3,))
    kl = layer.kl(params, jax.random.key(1))
    assert np.isfinite(float(kl))
    assert np.isfinite(float(layer.log_prior(layer.mean_weights(params))))


def test_bias_prior_separate_from_kernel_prior(x64):
    layer = nn.DenseReparameterization(2, prior=dist.Normal(0.0, 1.0), bias_prior=dist.Normal(0.0, 0.1))
    params = _kl_params(layer, jax.random.key(9))
    only_kernel = nn.DenseReparameterization(2, use_bias=False)
    kernel_kl = only_kernel.kl({k: v for k, v in params.items() if k.startswith("kernel")})
    bias_q = layer.posterior_distributions(params)["bias"]
    bias_kl = jnp.sum(dist.kl_divergence(bias_q, dist.Normal(0.0, 0.1)))
    np.testing.assert_allclose(layer.kl(params), kernel_kl + bias_kl, rtol=1e-10)


# -- jit / grad -----------------------------------------------------------------------


@pytest.mark.parametrize("cls", BAYESIAN_DENSE)
def test_jit_and_grad_through_apply_and_kl(cls):
    layer = cls(3, activation="relu", bias_posterior=None)
    params, state = layer.init(jax.random.key(0), (4,))
    x = jnp.ones((5, 4))

    @jax.jit
    def loss(p, key):
        y, _ = layer.apply(p, state, x, key=key)
        return jnp.sum(y**2) + layer.kl(p, key)

    grads = jax.grad(loss)(params, jax.random.key(1))
    assert set(grads) == {"kernel_loc", "kernel_raw_scale", "bias"}
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads.values())
    assert float(jnp.abs(grads["kernel_raw_scale"]).sum()) > 0
