"""Stan's warmup pieces: window schedule, dual averaging, Welford estimates, step-size init.

Stan reference manual, "HMC algorithm parameters" / "Automatic parameter tuning";
Hoffman & Gelman (2014) for dual averaging (gamma=0.05, t0=10, kappa=0.75).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from probflow.inference.mcmc.integrators import IntegratorState, leapfrog
from probflow.inference.mcmc.kernel import ChainState
from probflow.inference.mcmc.metrics import Metric, kinetic_energy, sample_momentum

__all__ = [
    "window_schedule",
    "DualAveragingState",
    "dual_averaging_init",
    "dual_averaging_update",
    "WelfordState",
    "welford_init",
    "welford_update",
    "welford_covariance",
    "find_reasonable_step_size",
]


def window_schedule(num_warmup: int, *, init_buffer: int = 75, term_buffer: int = 50,
                    base_window: int = 25):
    """Stan's windowed adaptation schedule.

    Args:
        num_warmup: number of warmup iterations.
        init_buffer, term_buffer, base_window: Stan's defaults 75 / 50 / 25. When they do
            not fit, Stan's fallback applies: 15% / 75% / 10% of `num_warmup`; below 20
            iterations no mass matrix is estimated (step size only).

    Returns:
        ``(in_window, window_end)``: boolean numpy arrays of length `num_warmup`; the
        iteration's position is added to the estimate where `in_window`, and the metric
        is updated (and the estimate restarted) after iterations where `window_end`.

    Example:
        >>> in_window, window_end = window_schedule(1000)
        >>> np.flatnonzero(window_end).tolist()
        [99, 149, 249, 449, 949]
    """
    in_window = np.zeros(num_warmup, bool)
    window_end = np.zeros(num_warmup, bool)
    if num_warmup < 20:
        return in_window, window_end
    if init_buffer + base_window + term_buffer > num_warmup:
        init_buffer = int(0.15 * num_warmup)
        term_buffer = int(0.1 * num_warmup)
        base_window = num_warmup - (init_buffer + term_buffer)
    last = num_warmup - term_buffer - 1
    window_size = base_window
    next_end = init_buffer + window_size - 1
    for counter in range(num_warmup):
        in_window[counter] = init_buffer <= counter < num_warmup - term_buffer
        if counter == next_end:
            window_end[counter] = True
            if next_end == last:
                continue
            # Stan's compute_next_window: double, and stretch the last slow window
            # to the terminal buffer when the one after it would not fit.
            window_size *= 2
            next_end = counter + window_size
            if next_end != last and next_end + 2 * window_size >= num_warmup - term_buffer:
                next_end = last
    return in_window, window_end


class DualAveragingState(NamedTuple):
    """Nesterov dual averaging of log step size (Hoffman & Gelman 2014, sec. 3.2)."""

    log_step_size: jax.Array
    log_step_size_avg: jax.Array
    error_avg: jax.Array
    count: jax.Array
    mu: jax.Array


def dual_averaging_init(step_size) -> DualAveragingState:
    """Starts dual averaging around ``log(10 * step_size)`` (Stan's mu).

    Example:
        >>> s = dual_averaging_init(jnp.float32(0.1))
        >>> round(float(jnp.exp(s.mu)), 4)
        1.0
    """
    step_size = jnp.asarray(step_size)
    zero = jnp.zeros_like(step_size)
    return DualAveragingState(jnp.log(step_size), zero, zero, zero, jnp.log(10.0 * step_size))


def dual_averaging_update(state: DualAveragingState, acceptance_rate, target_accept, *,
                          gamma=0.05, t0=10.0, kappa=0.75) -> DualAveragingState:
    """One dual-averaging update with the observed acceptance statistic.

    Example:
        >>> s = dual_averaging_init(jnp.float32(1.0))
        >>> low = dual_averaging_update(s, 0.2, 0.8)     # too few accepted -> smaller step
        >>> high = dual_averaging_update(s, 1.0, 0.8)
        >>> bool(low.log_step_size < high.log_step_size)
        True
    """
    count = state.count + 1
    eta = 1.0 / (count + t0)
    error_avg = (1.0 - eta) * state.error_avg + eta * (target_accept - acceptance_rate)
    log_step_size = state.mu - jnp.sqrt(count) / gamma * error_avg
    weight = count ** (-kappa)
    log_step_size_avg = weight * log_step_size + (1.0 - weight) * state.log_step_size_avg
    return DualAveragingState(log_step_size, log_step_size_avg, error_avg, count, state.mu)


class WelfordState(NamedTuple):
    """Running mean and sum of squared deviations (vector or outer-product)."""

    count: jax.Array
    mean: jax.Array
    m2: jax.Array


def welford_init(dim: int, dense: bool, dtype) -> WelfordState:
    """An empty Welford accumulator for `dim` coordinates.

    Example:
        >>> welford_init(3, False, jnp.float32).m2.shape
        (3,)
    """
    m2 = jnp.zeros((dim, dim) if dense else (dim,), dtype)
    return WelfordState(jnp.zeros((), dtype), jnp.zeros((dim,), dtype), m2)


def welford_update(state: WelfordState, x) -> WelfordState:
    """Adds one sample `x` of shape ``(d,)``.

    Example:
        >>> s = welford_init(1, False, jnp.float32)
        >>> for v in (1.0, 2.0, 3.0):
        ...     s = welford_update(s, jnp.array([v]))
        >>> float(s.mean[0]), float(s.m2[0])
        (2.0, 2.0)
    """
    count = state.count + 1
    delta = x - state.mean
    mean = state.mean + delta / count
    if state.m2.ndim == 1:
        m2 = state.m2 + delta * (x - mean)
    else:
        m2 = state.m2 + jnp.outer(x - mean, delta)
    return WelfordState(count, mean, m2)


def welford_covariance(state: WelfordState):
    """Stan's regularised estimate ``n/(n+5) * cov + 1e-3 * 5/(n+5) * I``.

    Example:
        >>> s = welford_init(1, False, jnp.float32)
        >>> for v in (1.0, 2.0, 3.0):
        ...     s = welford_update(s, jnp.array([v]))
        >>> round(float(welford_covariance(s)[0]), 4)   # 3/8 * 1 + 1e-3 * 5/8
        0.3756
    """
    n = state.count
    covariance = state.m2 / (n - 1.0)
    shrink = 1e-3 * (5.0 / (n + 5.0))
    identity = 1.0 if covariance.ndim == 1 else jnp.eye(covariance.shape[0], dtype=covariance.dtype)
    return (n / (n + 5.0)) * covariance + shrink * identity


def find_reasonable_step_size(key, state: ChainState, value_and_grad, metric: Metric,
                              step_size, *, max_iterations: int = 100):
    """Stan's step-size heuristic: double or halve until one leapfrog step's acceptance
    crosses 0.8 (a fresh momentum for every trial).

    Args:
        key: a `jax.random` key.
        state: the chain's current `ChainState`.
        value_and_grad: flat position -> (log density, gradient).
        metric: the current `Metric`.
        step_size: the starting step size.
        max_iterations: bound on the doublings/halvings.

    Returns:
        The new step size (scalar).

    Example:
        >>> import jax
        >>> from probflow.inference.mcmc.kernel import init_state
        >>> from probflow.inference.mcmc.metrics import make_metric
        >>> f = lambda x: -0.5 * x @ x / 0.01          # scale 0.1
        >>> s = init_state(jnp.ones(2) * 0.1, f)
        >>> eps = find_reasonable_step_size(jax.random.key(0), s, jax.value_and_grad(f),
        ...                                 make_metric(jnp.ones(2)), jnp.float32(1.0))
        >>> 0.01 < float(eps) < 0.5
        True
    """
    log_threshold = jnp.log(0.8)

    def momentum(trial):
        return sample_momentum(jax.random.fold_in(key, trial), metric, state.position)

    def energy_gain(momentum, eps):
        start = IntegratorState(state.position, momentum, state.logdensity, state.grad)
        end = leapfrog(value_and_grad, metric, start, eps)
        delta = (end.logdensity - kinetic_energy(metric, end.momentum)) - (
            state.logdensity - kinetic_energy(metric, momentum)
        )
        return jnp.where(jnp.isnan(delta), -jnp.inf, delta)

    # One loop body serves every trial, so that the leapfrog step and the momentum draw
    # appear once in the program: trial 0 only sets the direction (double while a step
    # accepts above 0.8, else halve), and each trial's momentum is drawn one iteration
    # ahead and carried (iteration -1 only draws). A momentum drawn where it is used is
    # copied by XLA into each of its ~8 consumer fusions (a normal draw: ~180 ops);
    # those copies made the two searches 60% of the sampling program's HLO.
    def cond(carry):
        trial, eps, direction_up, finished, _ = carry
        return ~finished & (trial < max_iterations)

    def body(carry):
        trial, eps, direction_up, _, trial_momentum = carry
        gain = energy_gain(trial_momentum, jnp.where(trial < 0, 0.0, eps))  # -1: no move
        first = trial == 0
        direction_up = jnp.where(first, gain > log_threshold, direction_up)
        finished = jnp.where(direction_up, ~(gain > log_threshold), ~(gain < log_threshold))
        new_eps = jnp.where(direction_up, 2.0 * eps, 0.5 * eps)
        finished = (trial > 0) & (finished | (new_eps > 1e7) | (new_eps < 1e-10))
        return (trial + 1, jnp.where(finished | (trial <= 0), eps, new_eps), direction_up,
                finished, momentum(trial + 1))

    false = jnp.zeros((), bool)
    _, step_size, _, _, _ = jax.lax.while_loop(
        cond, body, (jnp.int32(-1), step_size, false, false, jnp.zeros_like(state.position))
    )
    return step_size
