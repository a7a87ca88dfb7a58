"""Ragged scheduling: a batch of NUTS chains that never wait for each other.

In lock step (`_program`), transition ``i`` of every chain is one batched while loop
that runs until the longest of the chains' trajectories is built; the others idle
with step size 0. Here the whole run is ONE batched while loop whose body is one
leapfrog step of every chain. Each chain keeps its own transition counter; when its
trajectory is done it finishes the transition (proposal, info, draw, warmup
adaptation at its own index) and starts the next one, in the same iteration, while the
other chains keep building theirs. That bookkeeping runs under a `lax.cond` taken only
in iterations where some chain finished, so most iterations cost one leapfrog step and
a test. A chain that has done all ``num_warmup + num_samples`` transitions idles until
the last one is done.

Every random number is tied to (chain, transition index) (``fold_in(step_key, i)``,
the warmup's ``fold_in(adapt_key, i)``), and a chain's trajectory does not depend on
the others', so the draws are those of the lock-step program: bit for bit in float64.
In float32 XLA's CPU code generation may round a reduction (e.g. a trajectory's
initial kinetic energy) one ulp differently in the two programs, depending on the
fusion it lands in; the chains then drift apart like any chaotic system, with the same
distribution.

The noise is drawn a block of transitions at a time, as in lock step: each chain holds
the noise of its transitions ``block_start .. block_start + K - 1``; when a starting
chain runs past its block, every chain's block is redrawn from its next transition on.
(Drawing each restarting chain's noise at its restart was ~10% slower on eight
schools: a `jax.random` call per restart.) One flat loop with a `lax.cond` beat two
nested loops (leapfrog steps until a chain is done, then its bookkeeping), which were
slower than lock step on kidiq.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from probflow.inference.mcmc import progress

__all__ = ["run_ragged"]


def run_ragged(kernel, logdensity, states, warm, buffers, adapt, draw_from, window_end, *,
               num_warmup: int, num_samples: int, report_progress: bool):
    """Warmup + sampling of a batch of NUTS chains, each at its own pace.

    Args:
        kernel: a kernel with ``start_chains``/``extend_chains``/``finish_chains``
            (`NUTS`).
        logdensity: flat position (one chain) -> scalar log density.
        states: `ChainState` of the chains' starting points (leading chain axis).
        warm: `WarmupState` of the chains (leading chain axis).
        buffers: ``(draws [N, C, d], logdensity [N, C], infos (each [N, C]))``, zeros.
        adapt: ``adapt(counter, warm, states, info, window_end)`` -> the warmup update
            of every chain at its own transition index ``counter [C]``; `window_end`
            is ``[C]`` bool, or None where no chain ends a window (then the window-end
            branch is not run at all).
        draw_from: ``draw_from(first [C])`` -> noise of transitions
            ``first .. first + K - 1`` of each chain, leaves ``[K, C, ...]``.
        window_end: the schedule's ``[num_warmup]`` flags of the iterations that run
            the step-size search (Stan's window ends; the ``search`` flags).
        num_warmup, num_samples: transitions per chain (static).
        report_progress: advance the progress bar with the slowest chain's count.

    Returns:
        ``(draws, logdensity, infos, warm, warmup_steps)``, the buffers filled as the
        lock-step program fills them.

    Example:
        See `tests/inference/mcmc/test_ragged.py`: ``run_chains(...,
        schedule="ragged")`` equals ``schedule="lockstep"`` draw for draw.
    """
    num_chains = states.position.shape[0]
    total = num_warmup + num_samples
    chains = jnp.arange(num_chains)
    counter = jnp.zeros((num_chains,), jnp.int32)
    noise = draw_from(counter)
    block = jax.tree_util.tree_leaves(noise)[0].shape[0]
    consts, trees = kernel.start_chains(_pick(noise, counter, chains), states, warm.params)
    warmup_steps = jnp.zeros((num_chains,), jnp.int32)

    def advance(carry):
        counter, block_start, noise, consts, trees, warm, warmup_steps, buffers = carry
        finishing = trees.done & (counter < total)
        new_states, info = kernel.finish_chains(trees)
        if num_warmup > 0:
            adapting = finishing & (counter < num_warmup)
            ends = adapting & window_end[jnp.minimum(counter, num_warmup - 1)]
            # Window ends are rare (a handful a chain): only then pay for the vmapped
            # step-size search, which a batched flag would run for every chain.
            updated = jax.lax.cond(
                jnp.any(ends),
                lambda: adapt(counter, warm, new_states, info, ends),
                lambda: adapt(counter, warm, new_states, info, None),
            )
            warm = _where(adapting, updated, warm)
            warmup_steps = warmup_steps + jnp.where(adapting, info.n_steps, 0)
        # Warmup transitions are not kept; out-of-range slots are dropped.
        slot = jnp.where(finishing & (counter >= num_warmup), counter - num_warmup, num_samples)
        draws, lps, infos = buffers
        buffers = (
            draws.at[slot, chains].set(new_states.position, mode="drop"),
            lps.at[slot, chains].set(new_states.logdensity, mode="drop"),
            jax.tree_util.tree_map(lambda b, v: b.at[slot, chains].set(v, mode="drop"),
                                   infos, info),
        )
        if report_progress:
            progress.report_advance(jnp.min(counter), jnp.min(counter + finishing), total)
        counter = counter + finishing.astype(jnp.int32)
        starting = finishing & (counter < total)
        # Each chain's next transition: the new one of a starting chain, the one after
        # the current one of any other.
        following = jnp.where(starting, counter, counter + 1)
        noise, block_start = jax.lax.cond(
            jnp.any(starting & (counter - block_start >= block)),
            lambda: (draw_from(following), following),
            lambda: (noise, block_start),
        )
        new_consts, new_trees = kernel.start_chains(
            _pick(noise, counter - block_start, chains), new_states, warm.params
        )
        # Only the fields a trajectory reads before writing them are reset: the step
        # size and metric are the chain's `warm.params` already, and the subtree fields
        # and checkpoints are overwritten by the first leaf (see `nuts._body`). Each
        # select is a kernel of its own; for a cheap model they are a large share of a
        # chain's restart.
        consts = new_consts._replace(**_where(
            starting, _fields(new_consts, _CONSTS_RESET), _fields(consts, _CONSTS_RESET)))
        trees = trees._replace(**_where(
            starting, _fields(new_trees, _TREE_RESET), _fields(trees, _TREE_RESET)))
        return counter, block_start, noise, consts, trees, warm, warmup_steps, buffers

    def body(carry):
        counter, block_start, noise, consts, trees, *rest = carry
        trees = kernel.extend_chains(consts, trees, logdensity)
        carry = (counter, block_start, noise, consts, trees, *rest)
        return jax.lax.cond(jnp.any(trees.done & (counter < total)), advance, lambda c: c,
                            carry)

    carry = (counter, counter, noise, consts, trees, warm, warmup_steps, buffers)
    carry = jax.lax.while_loop(lambda c: jnp.any(c[0] < total), body, carry)
    *_, warm, warmup_steps, (draws, lps, infos) = carry
    return draws, lps, infos, warm, warmup_steps


_CONSTS_RESET = ("initial_energy", "directions", "leaf_seed", "merge_seed")
_TREE_RESET = ("leaf", "depth", "num_steps", "forward", "position", "momentum", "velocity",
               "grad", "far_position", "far_momentum", "far_velocity", "far_grad", "rho_tree",
               "log_weight_tree", "proposal", "proposal_energy", "sum_accept", "diverging",
               "done")


def _fields(tuple_, names):
    return {name: getattr(tuple_, name) for name in names}


def _pick(noise, index, chains):
    """Chain ``c``'s entry ``index[c]`` of a noise block with leaves ``[K, C, ...]``."""
    return jax.tree_util.tree_map(lambda leaf: leaf[index, chains], noise)


def _where(mask, new, old):
    """Per chain (leading axis): `new` where `mask`, else `old`."""
    def pick(a, b):
        return jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b)

    return jax.tree_util.tree_map(pick, new, old)
