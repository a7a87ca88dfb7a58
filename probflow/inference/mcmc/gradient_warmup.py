"""nutpie-style warmup: a metric from draws *and* gradients, updated at every iteration.

Seyboldt et al. (nutpie; the Fisher-divergence argument): for a Gaussian posterior with
covariance ``S``, the gradients at the draws have covariance ``S^-1``, so the diagonal
``sqrt(Var[x] / Var[grad log p])`` is the scale that best whitens both the draws and
the gradients; it is right after a handful of draws on a Gaussian, where the draws'
variance alone needs hundreds. The schedule, learnt from nuts-rs (`adapt_strategy`),
written here for a static, vectorised program:

* the initial metric is ``1 / |grad log p|`` at the starting point (clamped);
* two running estimates of the draws' and gradients' variances, a foreground one that
  sets the metric and a background one that only collects; every iteration adds the
  new draw to both and recomputes the metric from the foreground; at a *switch* the
  background becomes the foreground and a new background starts, so old draws from
  far out of the typical set are forgotten. Switches come every 10 draws in an early
  window (the first 30% of warmup), then after windows of 80 draws growing by 1.5x,
  as long as a whole next window fits before the final step-size window;
* the last 15% of warmup keeps the metric and only tunes the step size (below);
* the step size is dual-averaged through the warmup, restarted once, by Stan's
  step-size heuristic, when the metric first changes from its gradient-based start.

The final window calibrates the step size the chain will sample with, measured at
that step size. nuts-rs samples with dual averaging's average; a high-gain
controller's iterate reacts to where the chain is (it shrinks after a rejection in a
curved region), so it meets the target during warmup while a fixed step at its
average need not. Measured (4 seeds x 4 chains x 1000 draws after 300 warmup, target
0.8) on a 2-d banana, nutpie 0.16.8 itself sampled at a mean acceptance of 0.74 with
315 divergences. So:

* a chain *calibrates*: at the final window's start its step size is fixed at dual
  averaging's average, the window runs at it, and the mean acceptance ``a`` of those
  transitions corrects it once, by ``sqrt((1 - target) / (1 - a))`` (leapfrog's
  energy error, and so ``1 - a`` for a small one, grows as the step size squared),
  bounded to [0.5, 1.5];
* unless it diverged in the second half of warmup before the final window: then it
  takes Stan's rule, a fresh dual averaging around its current step size whose
  average becomes the step size. A fresh dual averaging's average leans on its first
  iterates, which fall far after a rejection and rise little after an acceptance, so
  it samples above the target (~0.85-0.93 for 0.8), the margin Stan's warmup has
  always had: on the banana (seeds 0-2, 12,000 draws) 0.84 with 141 divergences,
  where calibrating every chain gave 0.62-0.76 with 196-990; on the Bayesian MLP of
  tests/nn/test_methods.py (3 seeds x 2 warmups, 12,000 draws) none, where
  calibrating every chain gave 32-121 (benchmarks/README.md, 2026-12-07).
  Curved posteriors diverge in warmup, where the controller overshoots; near-Gaussian
  ones rarely do, and for them the margin only cost ESS per gradient (0.57x on the
  logistic regression of benchmarks/nuts.py, 0.65x on posteriordb's arma11);
* a final window too short to calibrate (under 8 iterations) restarts every chain.

Unlike nuts-rs, every draw counts (nuts-rs skips draws that equal the trajectory's
start), so all the schedule's flags are static: one schedule for every chain, and the
branches (metric update, switch, step-size search) are real `lax.cond`s under `vmap`.
A dense metric (``dense_mass=True``) takes the regularised covariance of the draws on
the same schedule. ``dense_mass="low_rank"`` is nutpie's low-rank modified mass matrix
(`low_rank`): the diagonal above, corrected along the directions where the foreground's
draws and gradients (kept in a ring buffer) both show a variance far from it. Before
the foreground holds 3 draws per dimension (`low_rank_min_draws`) it is the diagonal,
updated at every iteration, and its factorisations are skipped; after, it is
recomputed at every 10th metric update and at switches, and kept in between.
``dense_mass="auto"``, `sample`'s default, is the low-rank metric up to 42 dimensions.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from probflow.inference.mcmc.adaptation import (
    DualAveragingState,
    WelfordState,
    dual_averaging_init,
    dual_averaging_update,
    find_reasonable_step_size,
    welford_covariance,
    welford_init,
    welford_update,
)
from probflow.inference.mcmc.kernel import ChainState, KernelParams, SampleInfo
from probflow.inference.mcmc.low_rank import (
    History,
    history_init,
    history_push,
    low_rank_metric,
    low_rank_min_draws,
)
from probflow.inference.mcmc.metrics import dense_diagonal_metric, make_metric

__all__ = ["GradientSchedule", "gradient_schedule", "GradientWarmupState", "GradientWarmup"]

# The inverse mass matrix's diagonal stays within these bounds (float32 keeps ~1e+-38).
_BOUNDS = (1e-10, 1e10)
# The calibration may shrink the final step size to half or grow it by half.
_CALIBRATION_BOUNDS = (0.5, 1.5)


class GradientSchedule(NamedTuple):
    """Per-iteration flags of the nutpie-style schedule (numpy bool arrays).

    Attributes:
        collect: add the draw and gradient to both running estimates.
        switch: after adding, the background estimate becomes the foreground one.
        update_metric: recompute the metric from the foreground estimate.
        search: the metric changes for the first time: rerun the step-size heuristic
            and restart dual averaging around its result.
        settle: the first iteration of the final window: the metric is final. A chain
            that calibrates fixes its step size at dual averaging's average; any other
            restarts dual averaging around its current step size.
        watch: a divergence here marks the chain as one that needs Stan's margin.
        calibrate: the final window's iterations that run at a fixed step size and
            measure its acceptance (in chains not marked by `watch`).
        foreground_count: draws in the foreground estimate after the iteration (int;
            the low-rank metric corrects the diagonal only from enough draws).
        refactor: the low-rank metric recomputes its correction here (every
            `refactor_every`-th metric update counted back from the last, and at
            switches); at the other updates with enough draws it keeps its metric.
    """

    collect: np.ndarray
    switch: np.ndarray
    update_metric: np.ndarray
    search: np.ndarray
    settle: np.ndarray
    watch: np.ndarray
    calibrate: np.ndarray
    foreground_count: np.ndarray
    refactor: np.ndarray


def gradient_schedule(num_warmup: int, *, early_fraction: float = 0.3,
                      step_size_fraction: float = 0.15, early_switch: int = 10,
                      first_window: int = 80, growth: float = 1.5,
                      min_count: int = 3, watch_fraction: float = 0.5,
                      min_calibration: int = 8, refactor_every: int = 10) -> GradientSchedule:
    """The nutpie-style schedule for `num_warmup` iterations.

    Args:
        num_warmup: warmup iterations.
        early_fraction: share of warmup with switches every `early_switch` draws.
        step_size_fraction: final share of warmup that only tunes the step size.
        early_switch: draws per foreground estimate in the early window.
        first_window: draws of the first window after the early one; each next
            window is `growth` times longer.
        growth: window growth factor (>= 1).
        min_count: the foreground holds at least this many draws (the starting
            point counts as one) before it sets the metric.
        watch_fraction: divergences from this share of warmup on, up to the final
            window, mark a chain for Stan's restart instead of the calibration.
        min_calibration: a shorter final window does not calibrate (every chain
            restarts dual averaging).
        refactor_every: the low-rank metric's correction is recomputed at every this
            many metric updates (and at switches).

    Returns:
        A `GradientSchedule` of length `num_warmup`.

    Example:
        >>> s = gradient_schedule(300)
        >>> np.flatnonzero(s.switch).tolist()[:3], int(np.flatnonzero(s.search)[0])
        ([8, 18, 28], 1)
        >>> int(s.collect.sum())        # the last 15% only tunes the step size
        255
        >>> np.flatnonzero(s.settle).tolist()
        [255]
        >>> int(np.flatnonzero(s.watch)[0]), int(np.flatnonzero(s.calibrate)[0])
        (150, 255)
        >>> np.flatnonzero(s.refactor).tolist()[-3:]   # the last metric update included
        [234, 244, 254]
    """
    flags = GradientSchedule(*(np.zeros(num_warmup, bool) for _ in GradientSchedule._fields[:-2]),
                             np.zeros(num_warmup, np.int32), np.zeros(num_warmup, bool))
    early_end = int(early_fraction * num_warmup)
    final_start = num_warmup - int(step_size_fraction * num_warmup)
    window = first_window
    foreground = background = 1  # the starting point is in both estimates
    searched = False
    for i in range(min(final_start, num_warmup)):
        early = i < early_end
        if not early and i == early_end:
            window = max(window, background)  # never shrink the window being filled
        flags.collect[i] = True
        foreground += 1
        background += 1
        needed = early_switch if early else window
        following = early_switch if early else max(window + 1, round(window * growth))
        if background >= needed and following + i <= final_start:
            flags.switch[i] = True
            foreground, background = background, 0
            if not early:
                window = following
        flags.foreground_count[i] = foreground
        if foreground >= min_count:
            flags.update_metric[i] = True
            if not searched:
                flags.search[i] = searched = True
    updates = np.flatnonzero(flags.update_metric)
    flags.refactor[updates[::-1][::refactor_every]] = True
    flags.refactor[flags.switch & flags.update_metric] = True
    if flags.update_metric.any() and final_start < num_warmup - 1:  # a window to settle in
        flags.settle[final_start] = True
        if num_warmup - final_start >= min_calibration:
            flags.watch[int(watch_fraction * num_warmup):final_start] = True
            flags.calibrate[final_start:] = True
    return flags


class FinalWindow(NamedTuple):
    """One chain's step-size calibration in the final window (scalars)."""

    acceptance_sum: jax.Array  # over the iterations run at the fixed step size
    count: jax.Array
    diverged: jax.Array  # bool: a divergence in the `watch` iterations


class GradientWarmupState(NamedTuple):
    """One chain's nutpie-style adaptation state and the kernel parameters it implies."""

    dual_averaging: DualAveragingState
    draws: WelfordState  # foreground
    grads: WelfordState
    background_draws: WelfordState
    background_grads: WelfordState
    params: KernelParams
    final_window: FinalWindow
    history: History | None = None  # dense_mass="low_rank" only


def _empty(dim, dense, dtype):
    return (welford_init(dim, dense, dtype), welford_init(dim, False, dtype))


def _diagonal_estimate(draws: WelfordState, grads: WelfordState, previous):
    # sqrt(Var[x] / Var[g]): the (n - 1) normalisers cancel. Where a coordinate has not
    # moved or has a constant gradient the ratio is 0, inf or nan: keep the old value.
    ratio = jnp.sqrt(draws.m2 / grads.m2)
    valid = jnp.isfinite(ratio) & (ratio > 0)
    return jnp.where(valid, jnp.clip(ratio, *_BOUNDS), previous)


class GradientWarmup:
    """nutpie-style adaptation (see the module docstring), as used by `sample()`.

    The interface every adaptation of the compiled program shares: ``schedule``,
    ``init`` and ``update``; ``schedule(...).search`` marks the rare iterations with
    an expensive branch (the step-size heuristic).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.mcmc.kernel import init_state
        >>> f = lambda x: -0.5 * jnp.sum(x ** 2 / jnp.array([1e-2, 1e2]))
        >>> w = GradientWarmup().init(jax.random.key(0), init_state(jnp.ones(2), f),
        ...                           jax.value_and_grad(f), dense_mass=False)
        >>> w.params.metric.inverse_mass_matrix.tolist()   # 1 / |grad| at the start
        [0.009999999776482582, 100.0]
    """

    name = "nutpie"

    def schedule(self, num_warmup: int) -> GradientSchedule:
        return gradient_schedule(num_warmup)

    def init(self, key, state: ChainState, value_and_grad, *, dense_mass):
        """The first metric and step size; `dense_mass` is False, True or "low_rank"."""
        dim, dtype = state.position.shape[0], state.position.dtype
        low_rank = isinstance(dense_mass, str) and dense_mass == "low_rank"
        diagonal = 1.0 / jnp.clip(jnp.abs(state.grad), 1.0 / _BOUNDS[1], 1.0 / _BOUNDS[0])
        diagonal = jnp.where(jnp.isfinite(diagonal), diagonal, 1.0).astype(dtype)
        metric = dense_diagonal_metric(diagonal) if dense_mass else make_metric(diagonal)
        step_size = find_reasonable_step_size(key, state, value_and_grad, metric,
                                              jnp.ones((), dtype))
        # The low-rank metric is dense, but built from the diagonal variance estimates.
        dense_estimates = bool(dense_mass) and not low_rank
        draws, grads = (welford_update(w, v) for w, v in
                        zip(_empty(dim, dense_estimates, dtype), (state.position, state.grad)))
        history = (history_push(history_init(dim, dtype), state.position, state.grad)
                   if low_rank else None)
        zero = jnp.zeros((), dtype)
        return GradientWarmupState(dual_averaging_init(step_size), draws, grads, draws, grads,
                                   KernelParams(step_size, metric),
                                   FinalWindow(zero, zero, jnp.zeros((), bool)), history)

    def update(self, key, warm: GradientWarmupState, state: ChainState, info: SampleInfo,
               value_and_grad, *, target_accept, flags, is_last, iteration=None):
        """Adapts after one warmup transition.

        Args:
            key: a `jax.random` key (the step-size heuristic's, at ``flags.search``).
            warm: this chain's `GradientWarmupState`.
            state: the chain state after the transition.
            info: the transition's `SampleInfo`.
            value_and_grad: flat position -> (log density, gradient).
            target_accept: dual averaging's target.
            flags: this iteration's `GradientSchedule` entries (scalars; unbatched under
                `vmap` for real branches; ``search`` may be a Python False to drop it).
            is_last: the last warmup iteration (use the averaged step size).
            iteration: if given, the heuristic uses ``fold_in(key, iteration)``.

        Returns:
            The new `GradientWarmupState`.
        """
        dual_averaging = dual_averaging_update(warm.dual_averaging, info.acceptance_rate,
                                               target_accept)
        estimates = (warm.draws, warm.grads, warm.background_draws, warm.background_grads)
        history = warm.history

        def collect(operands):
            estimates, history = operands
            values = (state.position, state.grad) * 2
            if history is not None:
                history = history_push(history, state.position, state.grad)
            return tuple(welford_update(w, v) for w, v in zip(estimates, values)), history

        def switch(estimates):
            dim, dense = state.position.shape[0], estimates[0].m2.ndim == 2
            return (*estimates[2:], *_empty(dim, dense, state.position.dtype))

        keep = lambda operands: operands
        estimates, history = jax.lax.cond(flags.collect, collect, keep, (estimates, history))
        estimates = jax.lax.cond(flags.switch, switch, keep, estimates)
        draws, grads = estimates[:2]

        def new_metric(metric):
            if history is not None:
                # The previous diagonal is the dense matrix's: a coordinate's variance
                # estimate falls back to it where the ratio is not usable.
                diagonal = _diagonal_estimate(draws, grads, jnp.diag(metric.inverse_mass_matrix))
                plain = dense_diagonal_metric(diagonal)

                def corrected(_):
                    low_rank = low_rank_metric(history, draws.count, diagonal)
                    # Where rounding spoilt it (not finite), the diagonal alone: one
                    # bad metric would stop the chain for good.
                    usable = jnp.all(jnp.isfinite(low_rank.mass_sqrt))
                    return jax.tree_util.tree_map(lambda a, b: jnp.where(usable, a, b),
                                                  low_rank, plain)

                # With too few draws the estimate is the diagonal: skip its factorisations
                # (in lock step the schedule's count is the same for every chain, so this
                # is a branch; the ragged schedule's per-chain counts make it a select).
                # Between the schedule's `refactor` iterations the corrected metric is
                # kept as it is (diagonal included): the factorisations cost ~100 bare
                # gradients of a cheap model, and one every 10 draws gives the same
                # ESS per gradient (benchmarks/README.md, 2026-12-07, evening).
                enough = flags.foreground_count >= low_rank_min_draws(*history.draws.shape)
                index = jnp.where(enough, jnp.where(flags.refactor, 2, 1), 0)
                return jax.lax.switch(index, (lambda _: plain, lambda _: metric, corrected), None)
            if draws.m2.ndim == 2:
                return make_metric(welford_covariance(draws))
            return make_metric(_diagonal_estimate(draws, grads, metric.inverse_mass_matrix))

        metric = jax.lax.cond(flags.update_metric, new_metric, keep, warm.params.metric)
        params = KernelParams(jnp.exp(dual_averaging.log_step_size), metric)

        def search(operands):
            _, params = operands
            search_key = key if iteration is None else jax.random.fold_in(key, iteration)
            step_size = find_reasonable_step_size(search_key, state, value_and_grad,
                                                  params.metric, params.step_size)
            return dual_averaging_init(step_size), params._replace(step_size=step_size)

        dual_averaging, params = jax.lax.cond(flags.search, search, keep,
                                              (dual_averaging, params))
        # The final window (see the module docstring). Its state is a few scalars per
        # chain, so selects rather than branches.
        # (The restart is built from the log step size itself: log(exp(.)) may or may not
        # be folded by XLA, and the ragged and lock-step programs must round alike.)
        window, dtype = warm.final_window, params.step_size.dtype
        diverged = window.diverged | (flags.watch & info.diverging)
        calibrates = flags.calibrate & ~diverged
        log_step_size, zero = dual_averaging.log_step_size, jnp.zeros_like(params.step_size)
        settled = DualAveragingState(log_step_size, zero, zero, zero, log_step_size)
        dual_averaging = jax.tree_util.tree_map(
            lambda new, old: jnp.where(flags.settle & ~calibrates, new, old), settled,
            dual_averaging)
        averaged = jnp.exp(dual_averaging.log_step_size_avg)
        step_size = jnp.where(calibrates, warm.params.step_size, params.step_size)
        step_size = jnp.where(calibrates & flags.settle, averaged, step_size)
        measured = calibrates & ~flags.settle  # this transition ran at the fixed step
        window = FinalWindow(window.acceptance_sum + jnp.where(measured, info.acceptance_rate, 0),
                             window.count + measured.astype(dtype), diverged)
        calibrated = step_size * _calibration_factor(
            window.acceptance_sum / jnp.maximum(window.count, 1), target_accept)
        final_step_size = jnp.where(calibrates & (window.count > 0), calibrated, averaged)
        params = params._replace(step_size=jnp.where(is_last, final_step_size, step_size))
        return GradientWarmupState(dual_averaging, *estimates, params, window, history)


def _calibration_factor(acceptance, target_accept):
    # Leapfrog's energy error grows as step_size^2 (its variance as step_size^4), and
    # for a small error 1 - acceptance follows it: (1 - a) ~ c * step_size^2, so the step
    # that meets the target is step * sqrt((1 - target) / (1 - a)). Bounded, as the
    # measurement is one chain's few dozen transitions.
    rejected = jnp.maximum(1.0 - acceptance, 1e-3)
    return jnp.clip(jnp.sqrt((1.0 - target_accept) / rejected), *_CALIBRATION_BOUNDS)
