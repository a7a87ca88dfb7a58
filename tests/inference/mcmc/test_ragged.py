"""The ragged schedule gives the lock-step program's draws.

Each chain's randomness is tied to (chain key, transition index) and its trajectory
does not depend on the other chains, so running the chains at their own pace must not
change a single number. In float64 it does not (bit for bit, warmup, window ends and
dense metrics included). In float32 XLA's CPU code generation rounds some reductions
(e.g. the kinetic energy at the start of a trajectory) differently by one ulp
depending on the fusion they land in, so there the check is on a fixed-parameter run:
the same trajectories, the acceptance statistic to float rounding.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference import Target
from probflow.inference.mcmc import HMC, NUTS, progress
from probflow.inference.mcmc._program import run_chains

OBSERVED = jnp.asarray([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = jnp.asarray([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
SCALES = jnp.asarray([0.5, 1.0, 2.0, 5.0])


def eight_schools(x):
    """Non-centred eight schools: x = (mu, log tau, theta_tilde[8])."""
    mu, log_tau, theta_tilde = x[0], x[1], x[2:]
    theta = mu + jnp.exp(log_tau) * theta_tilde
    return (-0.5 * jnp.sum(((OBSERVED - theta) / SIGMA) ** 2) - 0.5 * jnp.sum(theta_tilde**2)
            - 0.5 * (mu / 5.0) ** 2 - 0.5 * (jnp.exp(log_tau) / 5.0) ** 2 + log_tau)


def gaussian(x):
    return -0.5 * jnp.sum((x / SCALES) ** 2)


MODELS = {"eight_schools": (eight_schools, 10), "gaussian": (gaussian, 4)}
_program = jax.jit(run_chains, static_argnames=(
    "kernel", "num_warmup", "num_samples", "dense_mass", "report_progress", "block_length",
    "schedule"))


_NUTS = NUTS()


def _run(model, schedule, *, kernel=_NUTS, num_warmup=60, num_samples=40, dense_mass=False,
         block_length=None, report_progress=False):
    logdensity, dim = MODELS[model]
    target = Target.from_logdensity(logdensity, jnp.zeros(dim))
    positions = jax.random.uniform(jax.random.key(1), (3, dim), minval=-2.0, maxval=2.0)
    chain_keys = jax.random.split(jax.random.key(7), 3)
    return _program(target, chain_keys, positions, jnp.asarray(0.8), kernel=kernel,
                    num_warmup=num_warmup, num_samples=num_samples, dense_mass=dense_mass,
                    report_progress=report_progress, block_length=block_length,
                    schedule=schedule)


def _assert_identical(a, b):
    (draws_a, lps_a, infos_a, params_a, steps_a) = a
    (draws_b, lps_b, infos_b, params_b, steps_b) = b
    np.testing.assert_array_equal(draws_a, draws_b)
    np.testing.assert_array_equal(lps_a, lps_b)
    for name in infos_a._fields:
        np.testing.assert_array_equal(getattr(infos_a, name), getattr(infos_b, name), name)
    for leaf_a, leaf_b in zip(jax.tree_util.tree_leaves(params_a),
                              jax.tree_util.tree_leaves(params_b)):
        np.testing.assert_array_equal(leaf_a, leaf_b)
    np.testing.assert_array_equal(steps_a, steps_b)


@pytest.mark.parametrize("model,dense_mass", [("eight_schools", False), ("gaussian", True)])
def test_ragged_equals_lockstep_bit_for_bit_in_float64(x64, model, dense_mass):
    # 60 warmup iterations: Stan's fallback windows (one window end, at iteration 50)
    # happen at different loop iterations for each chain in the ragged run. Blocks of 7
    # transitions of noise make the ragged run redraw its blocks many times.
    lockstep = _run(model, "lockstep", dense_mass=dense_mass)
    ragged = _run(model, "ragged", dense_mass=dense_mass, block_length=7)
    # The chains really did run at different paces.
    assert len(set(np.asarray(lockstep[2].n_steps).sum(axis=1).tolist())) > 1
    _assert_identical(lockstep, ragged)


def test_ragged_equals_lockstep_in_float32_to_rounding():
    lockstep = _run("eight_schools", "lockstep", num_warmup=0)
    ragged = _run("eight_schools", "ragged", num_warmup=0)
    np.testing.assert_array_equal(lockstep[2].n_steps, ragged[2].n_steps)
    np.testing.assert_allclose(lockstep[0], ragged[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lockstep[2].acceptance_rate, ragged[2].acceptance_rate,
                               rtol=1e-6)


def test_kernels_without_trajectory_pieces_keep_lock_step():
    hmc = HMC(num_integration_steps=3)
    _assert_identical(_run("gaussian", "lockstep", kernel=hmc, num_warmup=30, num_samples=10),
                      _run("gaussian", "ragged", kernel=hmc, num_warmup=30, num_samples=10))


def test_ragged_progress_reports_a_bounded_number_of_times():
    before = progress.callback_count()
    jax.block_until_ready(_run("gaussian", "ragged", report_progress=True))
    # 100 transitions, a report every 5 of the slowest chain's: 20 calls at most.
    assert 1 <= progress.callback_count() - before <= 20


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="schedule"):
        _run("gaussian", "sideways", kernel=HMC(num_integration_steps=3), num_samples=5)


def test_sample_schedule_argument(x64):
    from probflow.inference import sample

    def run(schedule):
        return sample(gaussian, jnp.zeros(4), num_warmup=30, num_samples=20, num_chains=3,
                      seed=4, progress_bar=False, check_convergence=False, schedule=schedule)

    lockstep, ragged = run("lockstep"), run("ragged")
    for a, b in zip(jax.tree_util.tree_leaves(lockstep.samples),
                    jax.tree_util.tree_leaves(ragged.samples)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for name in lockstep.stats:
        np.testing.assert_array_equal(np.asarray(lockstep.stats[name]),
                                      np.asarray(ragged.stats[name]), name)
    with pytest.raises(ValueError, match="`schedule` must be one of"):
        run("sideways")
