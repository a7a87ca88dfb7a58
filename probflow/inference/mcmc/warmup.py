"""Stan's windowed warmup as a per-chain state and a pure update.

Every warmup iteration updates the step size by dual averaging towards
`target_accept`. Inside the slow windows the chain's positions feed a Welford
estimate; at the end of each window the metric becomes the regularised estimate, the
step size is re-initialised by Stan's heuristic and dual averaging restarts around it.
After the last warmup iteration the step size is the dual-averaging average.
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
    window_schedule,
)
from probflow.inference.mcmc.kernel import ChainState, KernelParams, SampleInfo
from probflow.inference.mcmc.metrics import dense_diagonal_metric, make_metric

__all__ = ["WarmupState", "warmup_init", "warmup_update", "StanSchedule", "StanWarmup"]


class WarmupState(NamedTuple):
    """Adaptation state of one chain and the kernel parameters it currently implies."""

    dual_averaging: DualAveragingState
    welford: WelfordState
    params: KernelParams


def warmup_init(key, state: ChainState, value_and_grad, *, dense_mass: bool) -> WarmupState:
    """Identity metric and Stan's initial step size at the chain's first position.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.mcmc.kernel import init_state
        >>> f = lambda x: -0.5 * x @ x
        >>> w = warmup_init(jax.random.key(0), init_state(jnp.zeros(2), f),
        ...                 jax.value_and_grad(f), dense_mass=True)
        >>> w.params.metric.inverse_mass_matrix.shape
        (2, 2)
    """
    dim, dtype = state.position.shape[0], state.position.dtype
    ones = jnp.ones(dim, dtype)
    metric = dense_diagonal_metric(ones) if dense_mass else make_metric(ones)
    step_size = find_reasonable_step_size(key, state, value_and_grad, metric, jnp.ones((), dtype))
    return WarmupState(
        dual_averaging_init(step_size), welford_init(dim, dense_mass, dtype),
        KernelParams(step_size, metric),
    )


def warmup_update(key, warm: WarmupState, state: ChainState, info: SampleInfo, value_and_grad,
                  *, target_accept, in_window, window_end, is_last,
                  iteration=None) -> WarmupState:
    """Adapts after one warmup transition.

    Args:
        key: a `jax.random` key (used at window ends for the step-size heuristic).
        warm: this chain's `WarmupState`.
        state: the chain state after the transition.
        info: the transition's `SampleInfo` (its acceptance rate drives dual averaging).
        value_and_grad: flat position -> (log density, gradient).
        target_accept: target mean acceptance statistic.
        in_window, window_end, is_last: the schedule's flags for this iteration; keep
            them unbatched under `vmap` so the window-end branch really is skipped.
        iteration: if given, the heuristic uses ``fold_in(key, iteration)``, folded
            inside the window-end branch: a `jax.random` call costs a small loop on
            the CPU, which every other warmup iteration then skips.

    Returns:
        The new `WarmupState`.
    """
    dual_averaging = dual_averaging_update(warm.dual_averaging, info.acceptance_rate, target_accept)
    welford = jax.tree_util.tree_map(
        lambda a, b: jnp.where(in_window, a, b), welford_update(warm.welford, state.position),
        warm.welford,
    )
    params = KernelParams(jnp.exp(dual_averaging.log_step_size), warm.params.metric)

    def end_window(operands):
        _, welford, params = operands
        metric = make_metric(welford_covariance(welford))
        search_key = key if iteration is None else jax.random.fold_in(key, iteration)
        step_size = find_reasonable_step_size(search_key, state, value_and_grad, metric,
                                              params.step_size)
        dim = state.position.shape[0]
        dense = welford.m2.ndim == 2
        return (dual_averaging_init(step_size), welford_init(dim, dense, state.position.dtype),
                KernelParams(step_size, metric))

    dual_averaging, welford, params = jax.lax.cond(
        window_end, end_window, lambda operands: operands, (dual_averaging, welford, params)
    )
    final_step_size = jnp.exp(dual_averaging.log_step_size_avg)
    params = params._replace(step_size=jnp.where(is_last, final_step_size, params.step_size))
    return WarmupState(dual_averaging, welford, params)


class StanSchedule(NamedTuple):
    """Per-iteration flags of Stan's windows (numpy bool arrays): `in_window` (the draw
    feeds the estimate) and `search` (a window ends: new metric, step-size search)."""

    in_window: np.ndarray
    search: np.ndarray


class StanWarmup:
    """Stan's windowed adaptation behind the interface `sample()`'s program uses
    (``schedule``, ``init``, ``update``; see `GradientWarmup` for the other one).

    Example:
        >>> np.flatnonzero(StanWarmup().schedule(1000).search).tolist()
        [99, 149, 249, 449, 949]
    """

    name = "stan"

    def schedule(self, num_warmup: int) -> StanSchedule:
        return StanSchedule(*window_schedule(num_warmup))

    def init(self, key, state, value_and_grad, *, dense_mass: bool) -> WarmupState:
        return warmup_init(key, state, value_and_grad, dense_mass=dense_mass)

    def update(self, key, warm, state, info, value_and_grad, *, target_accept, flags,
               is_last, iteration=None) -> WarmupState:
        return warmup_update(key, warm, state, info, value_and_grad,
                             target_accept=target_accept, in_window=flags.in_window,
                             window_end=flags.search, is_last=is_last, iteration=iteration)
