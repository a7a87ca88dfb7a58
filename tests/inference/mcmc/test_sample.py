"""The sample() driver: correctness against known posteriors, and its conveniences.

Statistical checks: for m checks at alpha = 1e-3, each z = |estimate - truth| /
(sd / sqrt(ESS)) must stay below Phi^-1(1 - alpha / (2m)); R-hat < 1.01.
Every test shares the compiled programs (same target function, shapes and settings).
"""

import logging
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import ndtri

from probflow.bijectors import Exp
from probflow.inference import Target, sample
from probflow.inference.mcmc import HMC, progress
from probflow.inference.mcmc._program import trace_count
from probflow.inference.mcmc.diagnostics import ess, ess_bulk, rhat
from probflow.inference.mcmc.sample import _starting_points

DIM = 10
SETTINGS = dict(num_warmup=500, num_samples=1000, num_chains=4, progress_bar=False)


def gaussian_log_prob(values, scales):
    return -0.5 * jnp.sum((values["x"] / scales) ** 2)


def gaussian(scales):
    return Target(gaussian_log_prob, {"x": jnp.zeros(DIM)}, data=jnp.asarray(scales, jnp.float32))


UNIT = np.ones(DIM)
ILL = np.logspace(-2, 2, DIM)  # scales 0.01 .. 100


def check_moments(draws, mean, sd, *, alpha=1e-3):
    """Means and variances of [chain, draw, d] draws against the truth."""
    draws = np.asarray(draws, np.float64)
    d = draws.shape[-1]
    critical = ndtri(1 - alpha / (2 * 2 * d))
    z_mean = np.abs(draws.mean((0, 1)) - mean) / (sd / np.sqrt(ess_bulk(draws)))
    squares = (draws - mean) ** 2
    z_var = np.abs(squares.mean((0, 1)) - sd**2) / (
        squares.std((0, 1)) / np.sqrt(ess(squares))
    )
    assert np.all(z_mean < critical), z_mean
    assert np.all(z_var < critical), z_var
    assert np.all(rhat(draws) < 1.01), rhat(draws)


@pytest.fixture(scope="module")
def nuts_unit():
    return sample(gaussian(UNIT), seed=1, **SETTINGS)


@pytest.mark.parametrize("scales", [UNIT, ILL], ids=["standard", "ill-conditioned"])
def test_nuts_gaussian_moments(scales):
    result = sample(gaussian(scales), seed=2, **SETTINGS)
    check_moments(result.samples["x"], 0.0, scales)
    # The adapted metric finds the scales (Welford variance ~ 10% accurate). In 10-d the
    # default is the low-rank metric; on an uncorrelated Gaussian it must stay diagonal.
    inverse_mass = np.asarray(result.inverse_mass_matrix, np.float64)
    assert inverse_mass.shape == (4, 10, 10)
    diagonal = np.diagonal(inverse_mass, axis1=1, axis2=2)
    off_diagonal = inverse_mass - diagonal[:, :, None] * np.eye(10)
    assert np.abs(off_diagonal).max() < 0.05 * np.sqrt(diagonal.max() * diagonal.min())
    np.testing.assert_allclose(np.sqrt(diagonal.mean(0)), scales, rtol=0.25)
    assert set(result.stats) == {"diverging", "energy", "tree_depth", "n_steps",
                                 "acceptance_rate", "step_size", "lp"}
    assert result.stats["tree_depth"].shape == (4, 1000)
    assert int(result.stats["diverging"].sum()) == 0


@pytest.mark.parametrize("scales", [UNIT, ILL], ids=["standard", "ill-conditioned"])
def test_hmc_gaussian_moments(scales):
    # pi/2 ~ 1.5 is a quarter period of a unit Gaussian: near-independent draws.
    result = sample(gaussian(scales), kernel=HMC(trajectory_length=1.5), seed=3, **SETTINGS)
    check_moments(result.samples["x"], 0.0, scales)
    assert 0.6 < float(result.stats["acceptance_rate"].mean()) < 0.95


CORRELATION = 0.9 ** np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
COVARIANCE = CORRELATION * np.outer([1.0, 2.0, 0.5, 1.0, 3.0], [1.0, 2.0, 0.5, 1.0, 3.0])
PRECISION = np.linalg.inv(COVARIANCE).astype(np.float32)


def correlated_log_prob(x):
    return -0.5 * x @ (PRECISION @ x)


def test_dense_mass_correlated_gaussian():
    result = sample(correlated_log_prob, jnp.zeros(5), dense_mass=True, seed=4, **SETTINGS)
    check_moments(result.samples["x"], 0.0, np.sqrt(np.diag(COVARIANCE)))
    adapted = result.inverse_mass_matrix.mean(0)
    assert adapted.shape == (5, 5)
    np.testing.assert_allclose(adapted, COVARIANCE, atol=0.3 * np.max(COVARIANCE))


def funnel_log_prob(values):
    v, x = values["v"], values["x"]
    return -0.5 * v**2 / 9.0 - 0.5 * jnp.sum(x**2) * jnp.exp(-v) - v * x.shape[0] / 2


def test_funnel_divergences_are_reported_and_warned():
    with pytest.warns(UserWarning, match="divergences"):
        # 1000 draws: a chain whose step size was calibrated on the funnel's mouth
        # reaches the neck, and diverges there, only every few hundred draws.
        result = sample(funnel_log_prob, {"v": jnp.zeros(()), "x": jnp.zeros(5)},
                        num_warmup=200, num_samples=1000, num_chains=2, progress_bar=False,
                        seed=0)
    assert int(result.stats["diverging"].sum()) > 0
    assert result.stats["diverging"].dtype == bool


def test_second_call_does_not_recompile(nuts_unit):
    before = trace_count()
    result = sample(gaussian(ILL * 2), seed=9, **SETTINGS)  # new data, same shapes
    assert trace_count() == before
    assert result.samples["x"].shape == (4, 1000, DIM)


def test_a_first_call_compiles_three_programs(caplog):
    # Starting points, the sampling program, the results: on the CPU each further
    # program (an eager key split, a broadcast) costs ~0.1-0.5 s of a first call.
    target = Target(lambda values: -0.5 * jnp.sum(values["y"] ** 2), {"y": jnp.zeros(3)})
    key = jax.random.key(3)  # an int seed's key is built by a program compiled once a process
    with jax.log_compiles(True), caplog.at_level(logging.WARNING, logger="jax"):
        sample(target, num_warmup=30, num_samples=20, num_chains=2, progress_bar=False,
               seed=key)
    compiled = [r.getMessage() for r in caplog.records
                if r.getMessage().startswith("Finished XLA compilation")]
    assert len(compiled) == 3, compiled


def test_same_seed_is_bit_identical(nuts_unit):
    again = sample(gaussian(UNIT), seed=1, **SETTINGS)
    np.testing.assert_array_equal(again.samples["x"], nuts_unit.samples["x"])
    for name in nuts_unit.stats:
        np.testing.assert_array_equal(again.stats[name], nuts_unit.stats[name])
    other = sample(gaussian(UNIT), seed=2, **SETTINGS)
    assert not np.array_equal(other.samples["x"], nuts_unit.samples["x"])


def test_progress_bar_calls_host_a_bounded_number_of_times():
    before = progress.callback_count()
    sample(gaussian(UNIT), seed=1, **dict(SETTINGS, progress_bar=True))
    assert 1 <= progress.callback_count() - before <= 21


def test_parallel_falls_back_with_a_warning(nuts_unit):
    if jax.device_count() >= 4:
        pytest.skip("enough devices for real parallel chains")
    with pytest.warns(UserWarning, match="parallel"):
        result = sample(gaussian(UNIT), chain_method="parallel", seed=1, **SETTINGS)
    np.testing.assert_array_equal(result.samples["x"], nuts_unit.samples["x"])


@pytest.mark.slow
def test_sequential_chains():
    result = sample(gaussian(UNIT), chain_method="sequential", num_warmup=100, num_samples=100,
                    num_chains=2, progress_bar=False, check_convergence=False, seed=0)
    assert result.samples["x"].shape == (2, 100, DIM)
    assert np.isfinite(result.samples["x"]).all()


def test_init_retries_until_finite():
    def log_prob(values):
        x = values["x"]
        return jnp.where(jnp.all(x > 1.0), -0.5 * jnp.sum(x**2), -jnp.inf)

    target = Target(log_prob, {"x": jnp.zeros(2)})  # P(start is finite) = 1/16 per draw
    _, positions = _starting_points(target, None, jax.random.key(0), 8)
    assert positions.shape == (8, 2)
    assert np.all(np.asarray(positions) > 1.0)


def test_init_error_names_the_parameter():
    def log_prob(values):
        return -jnp.sum(values["mu"] ** 2) + jnp.sum(jnp.sqrt(-values["sigma"] ** 2 - 1.0))

    target = Target(log_prob, {"mu": jnp.zeros(2), "sigma": jnp.zeros(())})
    with pytest.raises(ValueError, match=r"no finite starting point.*'sigma'"):
        _starting_points(target, None, jax.random.key(0), 2)
    with pytest.raises(ValueError, match=r"given `init`.*'sigma'"):
        _starting_points(target, {"mu": jnp.zeros(2), "sigma": jnp.ones(())}, jax.random.key(0), 2)


def test_user_init_is_constrained_space():
    target = Target(lambda v: -0.5 * v["s"] ** 2, {"s": jnp.zeros(())}, bijectors={"s": Exp()})
    _, positions = _starting_points(target, {"s": jnp.asarray([1.0, np.e])}, jax.random.key(0), 2)
    np.testing.assert_allclose(np.asarray(positions)[:, 0], [0.0, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        _starting_points(target, {"s": jnp.ones(3)}, jax.random.key(0), 2)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(num_chains=0), ValueError, "num_chains"),
        (dict(num_samples=0), ValueError, "num_samples"),
        (dict(num_warmup=1.5), TypeError, "num_warmup"),
        (dict(kernel="gibbs"), ValueError, "kernel"),
        (dict(kernel=42), TypeError, "kernel"),
        (dict(chain_method="threads"), ValueError, "chain_method"),
        (dict(target_accept=1.2), ValueError, "target_accept"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        sample(gaussian(UNIT), progress_bar=False, **kwargs)


def test_bare_function_needs_init():
    with pytest.raises(ValueError, match="init"):
        sample(lambda x: -x @ x, progress_bar=False)
    with pytest.raises(TypeError, match="target"):
        sample(42, progress_bar=False)


def test_no_warning_on_a_healthy_run(nuts_unit):
    from probflow.inference.mcmc.diagnostics import convergence_warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert convergence_warnings(nuts_unit.samples, nuts_unit.stats["diverging"]) == []


def test_warmup_stats_count_warmup_gradients():
    # HMC with a fixed number of leapfrog steps: the count is known exactly.
    result = sample(gaussian(np.ones(DIM)), kernel=HMC(num_integration_steps=7), num_warmup=30,
                    num_samples=10, num_chains=3, seed=1, progress_bar=False,
                    check_convergence=False)
    np.testing.assert_array_equal(np.asarray(result.warmup_stats["n_steps"]), [7 * 30] * 3)
    assert int(np.sum(result.stats["n_steps"])) == 7 * 10 * 3
