"""The compiled program: warmup and sampling of a batch of chains in one loop.

One `lax.fori_loop` runs ``num_warmup + num_samples`` iterations. Each iteration is
one vmapped kernel transition; during warmup an (unbatched) `lax.cond` adapts, so the
kernel's loop body is traced and compiled once for both phases. Draws are written into
preallocated buffers (warmup iterations write slot 0, which the first draw then
overwrites).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from probflow.inference.mcmc import progress
from probflow.inference.mcmc.adaptation import window_schedule
from probflow.inference.mcmc.kernel import KernelParams
from probflow.inference.mcmc.warmup import warmup_init, warmup_update

__all__ = ["run_chains", "trace_count"]

_traces = 0


def trace_count() -> int:
    """How many times the sampling program has been traced (compiled) in this process."""
    return _traces


def flat_logdensity(target):
    """``(logdensity(flat), unravel)`` for a target's flattened unconstrained position."""
    _, unravel = ravel_pytree(target.example)
    return (lambda flat: target.logdensity(unravel(flat))), unravel


def run_chains(target, chain_keys, positions, target_accept, *, kernel, num_warmup: int,
               num_samples: int, dense_mass: bool, report_progress: bool):
    """Warmup + sampling for a batch of chains (vmapped); pure, jit it from outside.

    Args:
        target: the `Target` (a jit argument, so new data does not recompile).
        chain_keys: one key per chain, shape ``[C]``.
        positions: flat initial positions ``[C, d]``.
        target_accept: dual-averaging target.
        kernel: the kernel object (static).
        num_warmup, num_samples: static loop lengths.
        dense_mass: adapt a dense metric.
        report_progress: call the progress bar from inside the loop.

    Returns:
        ``(flat_draws [C, N, d], logdensity [C, N], infos (each [C, N]), params,
        warmup_steps [C])``; ``warmup_steps`` counts the leapfrog steps (= gradient
        evaluations) of the warmup transitions, step-size searches excluded.
    """
    global _traces
    _traces += 1
    logdensity, _ = flat_logdensity(target)
    value_and_grad = jax.value_and_grad(logdensity)
    num_chains, dim = positions.shape
    dtype = positions.dtype
    total = num_warmup + num_samples
    keys = jax.vmap(lambda k: jax.random.split(k, 3))(chain_keys)
    init_keys, step_keys, adapt_keys = keys[:, 0], keys[:, 1], keys[:, 2]

    states = jax.vmap(lambda x: kernel.init(x, logdensity))(positions)
    warm = jax.vmap(lambda k, s: warmup_init(k, s, value_and_grad, dense_mass=dense_mass))(
        init_keys, states
    )
    in_window, window_end = (jnp.asarray(a) for a in window_schedule(max(num_warmup, 1)))
    if hasattr(kernel, "step_chains"):  # a kernel's own batched step beats vmap(step)
        step = lambda k, s, p: kernel.step_chains(k, s, logdensity, p)
    else:
        step = jax.vmap(lambda k, s, p: kernel.step(k, s, logdensity, p))
    _, info_shape = jax.eval_shape(step, step_keys, states, warm.params)
    buffers = (
        jnp.zeros((num_samples, num_chains, dim), dtype),
        jnp.zeros((num_samples, num_chains), dtype),
        jax.tree_util.tree_map(
            lambda s: jnp.zeros((num_samples,) + s.shape, s.dtype), info_shape
        ),
    )

    def body(i, carry):
        states, warm, warmup_steps, (draws, lps, infos) = carry
        iteration_keys = jax.vmap(jax.random.fold_in, (0, None))(step_keys, i)
        states, info = step(iteration_keys, states, warm.params)
        if num_warmup > 0:
            w = jnp.minimum(i, num_warmup - 1)

            def adapt(warm):
                keys = jax.vmap(jax.random.fold_in, (0, None))(adapt_keys, i)
                return jax.vmap(
                    lambda k, wm, s, inf: warmup_update(
                        k, wm, s, inf, value_and_grad, target_accept=target_accept,
                        in_window=in_window[w], window_end=window_end[w],
                        is_last=i == num_warmup - 1,
                    )
                )(keys, warm, states, info)

            warm = jax.lax.cond(i < num_warmup, adapt, lambda warm: warm, warm)
            warmup_steps = warmup_steps + jnp.where(i < num_warmup, info.n_steps, 0)
        slot = jnp.maximum(i - num_warmup, 0)
        draws = draws.at[slot].set(states.position)
        lps = lps.at[slot].set(states.logdensity)
        infos = jax.tree_util.tree_map(lambda b, v: b.at[slot].set(v), infos, info)
        if report_progress:
            progress.report(i, total)
        return states, warm, warmup_steps, (draws, lps, infos)

    warmup_steps = jnp.zeros((num_chains,), jnp.int32)
    _, warm, warmup_steps, (draws, lps, infos) = jax.lax.fori_loop(
        0, total, body, (states, warm, warmup_steps, buffers)
    )
    swap = lambda a: jnp.swapaxes(a, 0, 1)
    return (swap(draws), swap(lps), jax.tree_util.tree_map(swap, infos), warm.params,
            warmup_steps)


def params_of(params: KernelParams):
    """``(step_size, inverse_mass_matrix)`` arrays of (batched) kernel params."""
    return params.step_size, params.metric.inverse_mass_matrix
