"""Warmup schedule (Stan's windows), dual averaging, Welford, U-turn and multinomial logic."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference.mcmc._random import hash_uniform
from probflow.inference.mcmc.adaptation import (
    dual_averaging_init,
    dual_averaging_update,
    find_reasonable_step_size,
    welford_covariance,
    welford_init,
    welford_update,
    window_schedule,
)
from probflow.inference.mcmc.integrators import IntegratorState, leapfrog
from probflow.inference.mcmc.kernel import init_state
from probflow.inference.mcmc.metrics import kinetic_energy, make_metric, sample_momentum
from probflow.inference.mcmc.termination import no_u_turn, no_u_turn_merged


def windows(num_warmup):
    in_window, window_end = window_schedule(num_warmup)
    ends = np.flatnonzero(window_end).tolist()
    inside = np.flatnonzero(in_window)
    return ends, (int(inside[0]), int(inside[-1])) if inside.size else None


def test_stan_default_windows():
    ends, span = windows(1000)
    # 75 init, slow windows 25, 50, 100, 200, 500 (the last stretched), 50 term.
    assert ends == [99, 149, 249, 449, 949]
    assert span == (75, 949)


@pytest.mark.parametrize(
    "num_warmup, expected_ends, expected_span",
    [
        (100, [89], (15, 89)),  # fallback: 15% init, 75% window, 10% term
        (149, [134], (22, 134)),  # int(0.15 * 149) = 22, int(0.1 * 149) = 14
        (150, [99], (75, 99)),  # 75 + 25 + 50 fit exactly: one window
        (200, [99, 149], (75, 149)),  # windows of 25 and 50
        (19, [], None),  # no metric adaptation below 20
    ],
)
def test_small_warmup_windows(num_warmup, expected_ends, expected_span):
    ends, span = windows(num_warmup)
    assert ends == expected_ends
    assert span == expected_span


def test_dual_averaging_converges_to_target():
    # Acceptance that falls with log step size: accept = exp(-exp(log eps)); the fixed
    # point of dual averaging is where accept == target.
    state = dual_averaging_init(jnp.float32(1.0))
    for _ in range(2000):
        accept = jnp.exp(-jnp.exp(state.log_step_size))
        state = dual_averaging_update(state, accept, 0.8)
    np.testing.assert_allclose(float(jnp.exp(-jnp.exp(state.log_step_size_avg))), 0.8, atol=0.01)


@pytest.mark.parametrize("dense", [False, True])
def test_welford_matches_numpy(x64, dense):
    x = np.random.default_rng(0).normal(size=(50, 3)) * [1.0, 2.0, 0.5]
    state = welford_init(3, dense, jnp.float64)
    for row in x:
        state = welford_update(state, jnp.asarray(row))
    n = 50
    cov = np.cov(x.T) if dense else x.var(axis=0, ddof=1)
    eye = np.eye(3) if dense else 1.0
    np.testing.assert_allclose(welford_covariance(state),
                               n / (n + 5) * cov + 1e-3 * 5 / (n + 5) * eye, rtol=1e-10)


def test_no_u_turn_on_hand_built_trajectories():
    v = lambda *a: jnp.asarray(a, jnp.float32)
    # A straight line keeps going; ends pointing back against the summed momentum stop.
    assert bool(no_u_turn(v(1.0, 0.0), v(1.0, 0.0), v(3.0, 0.0)))
    assert not bool(no_u_turn(v(1.0, 0.0), v(-1.0, 0.1), v(0.5, 0.5)))
    assert not bool(no_u_turn(v(-0.2, 1.0), v(1.0, 0.0), v(1.0, -1.0)))


def test_merged_checks_catch_a_turn_between_subtrees():
    v = lambda *a: jnp.asarray(a, jnp.float32)
    # Two subtrees of two leaves each, momenta (identity metric): A = [(1, 0), (1, 0)],
    # B = [(-1, 0.1), (1, 3)]. The whole tree does not turn, but A plus B's first leaf does.
    a_far, a_near = v(1.0, 0.0), v(1.0, 0.0)
    b_near, b_far = v(-1.0, 0.1), v(1.0, 3.0)
    rho_a, rho_b = a_far + a_near, b_near + b_far
    assert bool(no_u_turn(a_far, b_far, rho_a + rho_b))
    assert bool(no_u_turn(a_near, b_far, rho_b + a_near))
    assert not bool(no_u_turn(a_far, b_near, rho_a + b_near))
    assert not bool(no_u_turn_merged(a_far, rho_a, a_near, a_near, b_near, b_near, rho_b, b_far))
    # Without the turn in B's first leaf all three checks pass.
    b_near = v(1.0, 0.1)
    assert bool(no_u_turn_merged(a_far, rho_a, a_near, a_near, b_near, b_near,
                                 b_near + b_far, b_far))


def test_progressive_sampling_picks_leaves_in_proportion_to_weight():
    # NUTS's in-subtree rule: leaf i replaces the proposal with prob w_i / (w_0 + .. + w_i).
    log_weights = jnp.log(jnp.asarray([0.1, 0.4, 0.2, 0.3]))
    seeds = jax.random.bits(jax.random.key(0), (20000,), jnp.uint32)

    def pick(seed):
        def body(carry, i):
            chosen, total = carry
            total = jnp.logaddexp(total, log_weights[i])
            take = hash_uniform(seed, i + 1) < jnp.exp(log_weights[i] - total)
            return (jnp.where(take, i, chosen), total), None
        (chosen, _), _ = jax.lax.scan(body, (0, -jnp.inf), jnp.arange(4))
        return chosen

    counts = np.bincount(np.asarray(jax.vmap(pick)(seeds)), minlength=4)
    expected = 20000 * np.exp(np.asarray(log_weights))
    # Chi-square with 3 dof at alpha = 1e-3: critical value 16.27.
    assert ((counts - expected) ** 2 / expected).sum() < 16.27


def reference_step_size(key, state, value_and_grad, metric, step_size, max_iterations=100):
    """Stan's heuristic as a plain loop: trial 0 picks the direction, trial i uses
    ``fold_in(key, i)``; double (or halve) until the acceptance crosses 0.8."""
    def accepts_above(trial, eps):
        momentum = sample_momentum(jax.random.fold_in(key, trial), metric, state.position)
        start = IntegratorState(state.position, momentum, state.logdensity, state.grad)
        end = leapfrog(value_and_grad, metric, start, eps)
        delta = (end.logdensity - kinetic_energy(metric, end.momentum)) - (
            state.logdensity - kinetic_energy(metric, momentum))
        return bool(delta > np.log(0.8))  # NaN compares False: a NaN step is rejected

    up = accepts_above(0, step_size)
    eps = step_size
    for trial in range(1, max_iterations):
        if accepts_above(trial, eps) != up:
            return eps
        new_eps = 2.0 * eps if up else 0.5 * eps
        if new_eps > 1e7 or new_eps < 1e-10:
            return eps
        eps = new_eps
    return eps


@pytest.mark.parametrize(
    "logdensity, start",
    [
        (lambda x: -0.5 * jnp.sum((x / 0.1) ** 2), 1.0),  # halves
        (lambda x: -0.5 * jnp.sum((x / 30.0) ** 2), 1e-3),  # doubles
        (lambda x: 0.0 * jnp.sum(x), 1.0),  # always accepts: stops at the 1e7 bound
        (lambda x: jnp.where(jnp.sum(x**2) < 4.0, -jnp.sum(x**2), jnp.nan), 8.0),  # NaN
    ],
    ids=["halve", "double", "upper-bound", "nan"],
)
def test_step_size_search_is_stans_heuristic(logdensity, start):
    state = init_state(jnp.asarray([0.3, -0.2, 0.1]), logdensity)
    metric = make_metric(jnp.asarray([1.0, 2.0, 0.5]))
    value_and_grad = jax.value_and_grad(logdensity)
    search = jax.jit(lambda key, eps: find_reasonable_step_size(key, state, value_and_grad, metric,
                                                                eps))
    for seed in range(3):
        key = jax.random.key(seed)
        expected = reference_step_size(key, state, value_and_grad, metric, start)
        assert float(search(key, jnp.float32(start))) == pytest.approx(expected, rel=1e-6)


def test_step_size_search_traces_the_log_density_once():
    # One loop body serves every trial: a second copy of the leapfrog step (and of its
    # momentum draw) would add about a fifth to the sampling program's compile time.
    traces = []

    def logdensity(x):
        traces.append(None)
        return -0.5 * jnp.sum(x**2)

    state = init_state(jnp.ones(2), lambda x: -0.5 * jnp.sum(x**2))
    jax.make_jaxpr(lambda key: find_reasonable_step_size(
        key, state, jax.value_and_grad(logdensity), make_metric(jnp.ones(2)), 1.0))(
        jax.random.key(0))
    assert len(traces) == 1
