"""nutpie-style warmup (`sample(adaptation="nutpie")`): schedule, estimate, posterior.

Statistical checks as in test_sample.py: z = |estimate - truth| / (sd / sqrt(ESS)) below
Phi^-1(1 - alpha / (2m)) at alpha = 1e-3; R-hat < 1.01.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import digamma, polygamma

from probflow.inference import Target, sample
from probflow.inference.mcmc import NUTS
from probflow.inference.mcmc._program import run_chains, trace_count
from probflow.inference.mcmc.gradient_warmup import _calibration_factor, gradient_schedule

from .test_sample import COVARIANCE, ILL, check_moments, correlated_log_prob, gaussian

# The diagonal metric: this file tests its estimate (test_low_rank.py the low-rank one).
SETTINGS = dict(num_warmup=300, num_samples=1000, num_chains=4, progress_bar=False,
                adaptation="nutpie", dense_mass=False)


@pytest.fixture(scope="module")
def ill_conditioned():
    return sample(gaussian(ILL), seed=2, **SETTINGS)


def test_schedule_switches_early_and_often_then_in_growing_windows():
    s = gradient_schedule(1000)
    switches = np.flatnonzero(s.switch)
    # Early window (the first 300): every 10 draws (the starting point counts as one).
    early = switches[switches < 300]
    assert early.tolist() == list(range(8, 300, 10))
    # Then windows of 80, 120, ... while a whole next window fits before 850 (the next,
    # 180 -> ends at 678, would be followed by a 270 that does not).
    assert np.diff(switches[switches >= 298]).tolist() == [80, 120]
    # The last 15% only tunes the step size; the metric is set from iteration 1 on.
    assert not s.collect[850:].any() and s.collect[:850].all()
    assert not s.update_metric[850:].any() and s.update_metric[1:850].all()
    assert np.flatnonzero(s.search).tolist() == [1]
    # The final window: a chain that did not diverge in 500 .. 849 runs it at a fixed
    # step size and calibrates that; one that did restarts dual averaging at 850.
    assert np.flatnonzero(s.settle).tolist() == [850]
    assert np.flatnonzero(s.watch).tolist() == list(range(500, 850))
    assert np.flatnonzero(s.calibrate).tolist() == list(range(850, 1000))
    # The low-rank correction is recomputed at every 10th metric update counted back
    # from the last one (849), and at every switch; never outside the metric updates.
    refactor = np.flatnonzero(s.refactor)
    assert not (s.refactor & ~s.update_metric).any()
    assert set(range(849, 0, -10)) | set(switches) == set(refactor.tolist())


@pytest.mark.parametrize("num_warmup", [1, 2, 5, 19, 20, 50])
def test_short_schedules_are_consistent(num_warmup):
    s = gradient_schedule(num_warmup)
    assert all(len(flag) == num_warmup for flag in s)
    assert not (s.switch & ~s.collect).any()
    # The restart needs a later iteration to average over (else the step size is 1);
    # a calibration needs 8 iterations, and then it starts with the restart's window.
    assert s.settle.sum() <= 1 and not s.settle[-1]
    calibrates = num_warmup - int(0.85 * num_warmup + 0.5) >= 8 and s.settle.any()
    assert s.calibrate.any() == calibrates == s.watch.any()
    if calibrates:
        assert np.flatnonzero(s.calibrate)[0] == np.flatnonzero(s.settle)[0]
        assert s.calibrate[np.flatnonzero(s.settle)[0]:].all()
    assert s.search.sum() == (1 if s.update_metric.any() else 0)
    # The final metric is a freshly computed one.
    assert s.refactor[np.flatnonzero(s.update_metric)[-1:]].all()


def banana(x):
    return -0.5 * (x[0] / 10.0) ** 2 - 0.5 * (x[1] - 0.03 * (x[0] ** 2 - 100.0)) ** 2


@pytest.mark.parametrize("dense_mass", [False, "auto"])
def test_step_size_meets_target_accept_on_a_banana(dense_mass):
    # With nutpie's rule (dual averaging's average as the final step), mean acceptance
    # 0.73 with 121 divergences in these 4000 draws (nutpie 0.16.8 itself: 0.74). Every
    # chain here diverges in the second half of warmup, so each takes Stan's restart:
    # 0.90 with 3. (Calibrating every chain at a fixed step instead gave 0.68 with
    # 271: a window of a few dozen draws does not see the banana's arms.)
    result = sample(banana, jnp.zeros(2), seed=0, check_convergence=False,
                    **dict(SETTINGS, dense_mass=dense_mass))
    assert float(np.mean(result.stats["acceptance_rate"])) >= 0.8
    assert int(result.stats["diverging"].sum()) < 0.01 * result.stats["diverging"].size


def test_final_step_size_is_calibrated_to_the_target(ill_conditioned):
    # A Gaussian gives no divergences in warmup, so every chain calibrates its step at
    # a fixed size: the sampling acceptance meets the target (per chain 0.71-0.85 over
    # four seeds), where the restart's margin gave 0.87-0.93 and cost ESS per
    # gradient.
    acceptance = np.asarray(ill_conditioned.stats["acceptance_rate"]).mean()
    assert abs(acceptance - 0.8) < 0.05
    higher = sample(gaussian(ILL), seed=2, target_accept=0.95, **SETTINGS)
    assert abs(np.asarray(higher.stats["acceptance_rate"]).mean() - 0.95) < 0.03
    assert np.all(higher.step_size < ill_conditioned.step_size)


def test_calibration_factor():
    # (1 - a) ~ step^2: half the rejections -> sqrt(2) times the step; bounded.
    factor = lambda a, t: float(_calibration_factor(jnp.float32(a), t))
    assert factor(0.8, 0.8) == pytest.approx(1.0)
    assert factor(0.9, 0.8) == pytest.approx(np.sqrt(2.0), rel=1e-5)
    assert factor(0.6, 0.8) == pytest.approx(np.sqrt(0.5), rel=1e-5)
    assert factor(1.0, 0.8) == 1.5 and factor(0.0, 0.8) == 0.5


def test_diagonal_is_the_exact_scale_of_a_gaussian(ill_conditioned):
    # For x ~ N(0, diag(s^2)) the gradient is -x / s^2, so Var[x] / Var[grad] = s^4
    # whatever the draws: the estimate is the true variance to float rounding. A
    # draws-only estimate (Stan's) is off by ~10% after this many draws.
    np.testing.assert_allclose(ill_conditioned.inverse_mass_matrix, np.tile(ILL**2, (4, 1)),
                               rtol=1e-4)


def test_ill_conditioned_gaussian_moments(ill_conditioned):
    check_moments(ill_conditioned.samples["x"], 0.0, ILL)
    assert int(ill_conditioned.stats["diverging"].sum()) == 0


@pytest.mark.slow
def test_it_needs_fewer_gradients_than_stan_windows(ill_conditioned):
    # Same seed, same draws kept; Stan's 1000-iteration warmup on the same target.
    stan = sample(gaussian(ILL), seed=2, **dict(SETTINGS, num_warmup=1000, adaptation="stan"))
    gradients = lambda r: r.warmup_stats["n_steps"].sum() + r.stats["n_steps"].sum()
    assert gradients(ill_conditioned) < 0.5 * gradients(stan)


def test_same_seed_same_draws(ill_conditioned):
    again = sample(gaussian(ILL), seed=2, **SETTINGS)
    np.testing.assert_array_equal(again.samples["x"], ill_conditioned.samples["x"])
    np.testing.assert_array_equal(again.step_size, ill_conditioned.step_size)
    other = sample(gaussian(ILL), seed=3, **SETTINGS)
    assert not np.array_equal(other.samples["x"], ill_conditioned.samples["x"])


def test_dense_metric_on_the_same_schedule():
    result = sample(correlated_log_prob, jnp.zeros(5), seed=4, **dict(SETTINGS, dense_mass=True))
    check_moments(result.samples["x"], 0.0, np.sqrt(np.diag(COVARIANCE)))
    adapted = result.inverse_mass_matrix.mean(0)
    assert adapted.shape == (5, 5)
    np.testing.assert_allclose(adapted, COVARIANCE, atol=0.3 * np.max(COVARIANCE))


GAMMA_SHAPES = np.array([0.7, 3.0, 20.0])
# Scales 0.1 .. 5. (At 0.01 a start at x ~ 0.8 has gradients ~exp(80): one chain in
# four of one seed then kept a 100x too small scale for that coordinate, a transient
# that dominated the gradients' variance; its draws stayed right but mixed slowly.)
LOG_SCALES = np.array([5.0, 1.0, 0.1])


def log_gamma(x):
    # x = log(y) * scale with y ~ Gamma(shape, 1): skewed, on scales 0.1 .. 5.
    z = x / LOG_SCALES
    return jnp.sum(GAMMA_SHAPES * z - jnp.exp(z))


def test_skewed_badly_scaled_target_moments():
    result = sample(log_gamma, jnp.zeros(3), seed=5, **SETTINGS)
    # log of a Gamma(a) variable: mean digamma(a), variance trigamma(a).
    mean = digamma(GAMMA_SHAPES) * LOG_SCALES
    sd = np.sqrt(polygamma(1, GAMMA_SHAPES)) * LOG_SCALES
    check_moments(result.samples["x"], mean, sd)


_program = jax.jit(run_chains, static_argnames=(
    "kernel", "num_warmup", "num_samples", "dense_mass", "report_progress", "schedule",
    "adaptation"))


def _program_size(num_warmup):
    target = Target.from_logdensity(lambda x: -0.5 * jnp.sum(x**2), jnp.zeros(3))
    args = (target, jax.random.split(jax.random.key(0), 2), jnp.zeros((2, 3)),
            jnp.asarray(0.8))
    jaxpr = jax.make_jaxpr(lambda *a: _program(
        *a, kernel=NUTS(), num_warmup=num_warmup, num_samples=10, dense_mass=False,
        report_progress=False, adaptation="nutpie"))(*args)
    # Only the schedule constants' lengths may differ.
    return re.sub(r"[\d\s]+", "", str(jaxpr))


def test_warmup_is_a_loop_inside_the_compiled_program():
    # Python unrolling per iteration would grow the program with num_warmup.
    assert _program_size(50) == _program_size(500)


def test_second_call_does_not_recompile(ill_conditioned):
    before = trace_count()
    sample(gaussian(ILL * 3), seed=7, **SETTINGS)
    assert trace_count() == before


@pytest.mark.parametrize("dense_mass", [False, "low_rank"])
def test_ragged_schedule_gives_the_lockstep_draws(x64, dense_mass):
    target = Target.from_logdensity(lambda x: -0.5 * jnp.sum((x / ILL[:4]) ** 2),
                                    jnp.zeros(4, jnp.float64))
    positions = jax.random.uniform(jax.random.key(1), (3, 4), jnp.float64, -2.0, 2.0)
    keys = jax.random.split(jax.random.key(7), 3)
    runs = [_program(target, keys, positions, jnp.asarray(0.8, jnp.float64), kernel=NUTS(),
                     num_warmup=60, num_samples=40, dense_mass=dense_mass,
                     report_progress=False, schedule=schedule, adaptation="nutpie")
            for schedule in ("lockstep", "ragged")]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][3].step_size, runs[1][3].step_size)


def test_unknown_adaptation_is_refused():
    with pytest.raises(ValueError, match="`adaptation` must be one of"):
        sample(gaussian(ILL), adaptation="windowed", progress_bar=False)
