"""SG-MCMC kernels and driver on a conjugate Gaussian model with a known posterior."""

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import norm

from probflow.inference import sgmcmc

N, PRIOR_SD = 1000, 10.0
DATA = np.random.default_rng(0).normal(1.5, 1.0, N).astype(np.float32)
POST_PRECISION = 1 / PRIOR_SD**2 + N
POST_MEAN = DATA.sum() / POST_PRECISION
POST_SD = POST_PRECISION**-0.5

log_posterior = sgmcmc.minibatch_logdensity(
    lambda theta: -0.5 * (theta / PRIOR_SD) ** 2,
    lambda theta, x: -0.5 * (x - theta) ** 2,
    data_size=N,
)


def test_minibatch_estimate_is_unbiased_over_an_epoch():
    theta = jnp.asarray(0.3)
    full = -0.5 * (theta / PRIOR_SD) ** 2 + jnp.sum(-0.5 * (DATA - theta) ** 2)
    batches = DATA.reshape(10, 100)
    estimates = jnp.stack([log_posterior(theta, b) for b in batches])
    np.testing.assert_allclose(estimates.mean(), full, rtol=1e-5)


def _variance_bias(effective_step):
    """Relative variance inflation of Langevin dynamics with a noisy gradient.

    For a Gaussian of precision P, step eps and gradient-noise variance s2 the
    stationary variance is (1 + eps P / 4 + eps s2 / 4) / P to first order; with
    minibatches of b, s2 = N^2 / b * var(x) = 1e4 here.
    """
    return effective_step * POST_PRECISION / 4 + effective_step * N**2 / 100 / 4


@pytest.mark.slow
@pytest.mark.parametrize(
    "kernel, step_size, var_bias",
    [
        (sgmcmc.sgld(), 1e-5, _variance_bias(1e-5)),
        # pSGLD preconditions by 1 / sqrt(V) with V ~ s2 = 1e4: effective step 2e-5.
        (sgmcmc.psgld(), 2e-3, _variance_bias(2e-5)),
        # SGHMC with friction a and learning rate eta behaves like Langevin with
        # effective step eta / a.
        (sgmcmc.sghmc(friction=0.1), 1e-6, _variance_bias(1e-5)),
    ],
    ids=["sgld", "psgld", "sghmc"],
)
def test_kernels_recover_the_conjugate_posterior(kernel, step_size, var_bias):
    num_chains = 16
    result = sgmcmc.sample(log_posterior, jnp.asarray(POST_MEAN + 3 * POST_SD), DATA, kernel=kernel, step_size=step_size,
                           num_steps=12_000, batch_size=100, burn_in=2_000, thin=10,
                           num_chains=num_chains, seed=0)
    draws = np.asarray(result.samples)
    assert draws.shape == (num_chains, 1000)
    ess = float(az.ess(draws))
    assert ess > 200, ess
    # 3 checks at family-wise alpha = 1e-3 per kernel.
    z_crit = norm.ppf(1 - 1e-3 / (2 * 2))
    z = abs(draws.mean() - POST_MEAN) / (POST_SD / np.sqrt(ess))
    assert z < z_crit, (draws.mean(), POST_MEAN, z)
    # Relative sd of a variance estimate from ESS draws is about sqrt(2 / ESS).
    var_ratio = draws.var() / POST_SD**2
    assert abs(var_ratio - 1) < var_bias + z_crit * np.sqrt(2 / ess), var_ratio


def test_burn_in_thinning_and_reproducibility():
    kwargs = dict(step_size=1e-5, num_steps=100, batch_size=50, burn_in=20, thin=4, num_chains=3)
    a = sgmcmc.sample(log_posterior, jnp.zeros(()), DATA, seed=5, **kwargs)
    b = sgmcmc.sample(log_posterior, jnp.zeros(()), DATA, seed=5, **kwargs)
    c = sgmcmc.sample(log_posterior, jnp.zeros(()), DATA, seed=6, **kwargs)
    assert a.samples.shape == (3, 20)
    assert a.stats["logdensity"].shape == (3, 20)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)


def test_cyclical_schedule_keeps_only_sampling_stage_draws():
    num_steps, cycles = 400, 4
    schedule = sgmcmc.schedules.cyclical(1e-4, num_steps, cycles)
    sampling = sgmcmc.schedules.cyclical_is_sampling(num_steps, cycles, exploration_ratio=0.5)
    result = sgmcmc.sample(log_posterior, jnp.zeros(()), DATA, kernel="sghmc",
                           step_size=schedule, is_sampling=sampling, num_steps=num_steps,
                           batch_size=100, thin=10)
    # Each 100-step cycle has draws at steps 9, 19, ..., 99; those with phase >= 0.5 kept.
    assert result.samples.shape == (1, 4 * 5)
    np.testing.assert_allclose(float(schedule(0)), 1e-4)
    np.testing.assert_allclose(float(schedule(50)), 0.5e-4, rtol=1e-5)
    np.testing.assert_allclose(float(schedule(100)), 1e-4)


def test_polynomial_decay_satisfies_its_formula():
    s = sgmcmc.schedules.polynomial_decay(0.1, offset=10.0, power=0.55)
    np.testing.assert_allclose(float(s(30)), 0.1 * (10 / 40) ** 0.55, rtol=1e-6)


def test_pytree_positions_and_sghmc_state():
    kernel = sgmcmc.sghmc()
    fn = lambda p, batch: -0.5 * (jnp.sum(p["a"] ** 2) + p["b"] ** 2)
    state = kernel.init({"a": jnp.ones(3), "b": jnp.asarray(2.0)})
    state, info = kernel.step(jax.random.key(0), state, None, fn, 1e-2)
    assert state.position["a"].shape == (3,)
    np.testing.assert_allclose(float(info.logdensity), -0.5 * (3 + 4))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kernel="nope"), "`kernel`"),
        (dict(batch_size=0), "`batch_size`"),
        (dict(batch_size=5000), "`batch_size`"),
        (dict(burn_in=100, num_steps=100), "`burn_in`"),
        (dict(thin=0), "`thin`"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    base = dict(step_size=1e-5, num_steps=100, batch_size=10)
    with pytest.raises(ValueError, match=match):
        sgmcmc.sample(log_posterior, jnp.zeros(()), DATA, **{**base, **kwargs})


def test_schedule_arguments_are_validated():
    with pytest.raises(ValueError, match="`num_cycles`"):
        sgmcmc.schedules.cyclical(1e-3, num_steps=10, num_cycles=0)
    with pytest.raises(ValueError, match="`step_size`"):
        sgmcmc.schedules.constant(-1.0)
    with pytest.raises(ValueError, match="`friction`"):
        sgmcmc.sghmc(friction=0.0)
