"""The compiled program: warmup and sampling of a batch of chains in one loop.

The ``num_warmup + num_samples`` transitions run in blocks: each block first draws
the random numbers of all its transitions in one vectorised call (per-transition keys
``fold_in(chain_key, iteration)``, so the numbers do not depend on the block length),
then loops over them. On the CPU every `jax.random` call is a small loop of its own;
drawn per transition, these cost about as much as the whole trajectory of a cheap
model. Each transition is one batched kernel step; during warmup an (unbatched)
`lax.cond` adapts, so the kernel's loop body is traced and compiled once for both
phases. Draws are written into preallocated buffers (warmup iterations write slot 0,
which the first draw then overwrites).

That is the lock-step schedule: each transition's batched trajectory loop runs until
the longest of the chains' trajectories is built. With ``schedule="ragged"`` a NUTS
batch runs as one loop of leapfrog steps in which a chain whose trajectory is done
starts its next transition at once (`_ragged`); the draws are the same.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from probflow.inference.mcmc import progress
from probflow.inference.mcmc._ragged import run_ragged
from probflow.inference.mcmc.gradient_warmup import GradientWarmup
from probflow.inference.mcmc.kernel import KernelParams
from probflow.inference.mcmc.warmup import StanWarmup

__all__ = ["run_chains", "trace_count", "ADAPTATIONS"]

# The warmup strategies by name (`sample(adaptation=...)`); each has ``schedule``,
# ``init`` and ``update`` (see `StanWarmup`, `GradientWarmup`).
ADAPTATIONS = {"stan": StanWarmup(), "nutpie": GradientWarmup()}

_traces = 0

# Transitions whose random numbers are drawn in one call; past ~100 the per-call cost
# is amortised. The block shrinks so that its noise stays under MAX_BLOCK_NOISE numbers
# (4 MiB of float32) for large models, down to one transition.
MAX_BLOCK_LENGTH = 100

MAX_BLOCK_NOISE = 1 << 20


def trace_count() -> int:
    """How many times the sampling program has been traced (compiled) in this process."""
    return _traces


def flat_logdensity(target):
    """``(logdensity(flat), unravel)`` for a target's flattened unconstrained position."""
    _, unravel = ravel_pytree(target.example)
    return (lambda flat: target.logdensity(unravel(flat))), unravel


def run_chains(target, chain_keys, positions, target_accept, *, kernel, num_warmup: int,
               num_samples: int, dense_mass: bool | str, report_progress: bool,
               block_length: int | None = None, schedule: str = "lockstep",
               adaptation: str = "stan"):
    """Warmup + sampling for a batch of chains (vmapped); pure, jit it from outside.

    Args:
        target: the `Target` (a jit argument, so new data does not recompile).
        chain_keys: one key per chain, shape ``[C]``.
        positions: flat initial positions ``[C, d]``.
        target_accept: dual-averaging target.
        kernel: the kernel object (static).
        num_warmup, num_samples: static loop lengths.
        dense_mass: adapt a dense metric; ``"low_rank"`` (``"nutpie"`` only): nutpie's
            low-rank modified one.
        report_progress: call the progress bar from inside the loop.
        block_length: transitions per block of pre-drawn random numbers (static);
            default `_block_length`. The draws do not depend on it.
        schedule: ``"lockstep"``: transition ``i`` of every chain runs together, one
            batched kernel step a transition; ``"ragged"`` (NUTS only, see `_ragged`):
            one loop of leapfrog steps in which a chain whose trajectory ends starts its
            next transition at once. Both give the same draws.
        adaptation: a key of `ADAPTATIONS`: ``"stan"`` (windowed, draws only) or
            ``"nutpie"`` (draws and gradients, updated every iteration).

    Returns:
        ``(flat_draws [C, N, d], logdensity [C, N], infos (each [C, N]), params,
        warmup_steps [C])``; ``warmup_steps`` counts the leapfrog steps (= gradient
        evaluations) of the warmup transitions, step-size searches excluded.
    """
    if schedule not in ("lockstep", "ragged"):
        raise ValueError(f"`schedule` must be 'lockstep' or 'ragged'; got {schedule!r}")
    if adaptation not in ADAPTATIONS:
        raise ValueError(f"`adaptation` must be one of {tuple(ADAPTATIONS)}; got {adaptation!r}")
    if dense_mass == "low_rank" and adaptation != "nutpie":
        raise ValueError("`dense_mass='low_rank'` needs `adaptation='nutpie'`; "
                         f"got adaptation={adaptation!r}")
    warmup = ADAPTATIONS[adaptation]
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
    warm = jax.vmap(lambda k, s: warmup.init(k, s, value_and_grad, dense_mass=dense_mass))(
        init_keys, states
    )
    flags = jax.tree_util.tree_map(jnp.asarray, warmup.schedule(max(num_warmup, 1)))
    draw, step = _transition_fns(kernel, logdensity)

    def draw_block(first, length):
        # The randomness of iterations first .. first + length - 1, leaves [length, C, ...].
        def one(i):
            return jax.vmap(lambda k, x: draw(jax.random.fold_in(k, i), x))(step_keys, positions)

        return jax.vmap(one)(first + jnp.arange(length, dtype=jnp.int32))

    def draw_block_at(first, length):
        # Like `draw_block`, from each chain's own first iteration ``first [C]``.
        def one(j):
            return jax.vmap(lambda k, f, x: draw(jax.random.fold_in(k, f + j), x))(
                step_keys, first, positions)

        return jax.vmap(one)(jnp.arange(length, dtype=jnp.int32))

    noise_shape = jax.eval_shape(lambda: draw_block(0, 1))
    _, info_shape = jax.eval_shape(
        lambda: step(jax.tree_util.tree_map(lambda a: a[0], draw_block(0, 1)), states,
                     warm.params)
    )
    buffers = (
        jnp.zeros((num_samples, num_chains, dim), dtype),
        jnp.zeros((num_samples, num_chains), dtype),
        jax.tree_util.tree_map(
            lambda s: jnp.zeros((num_samples,) + s.shape, s.dtype), info_shape
        ),
    )

    def transition(i, noise, carry):
        states, warm, warmup_steps, (draws, lps, infos) = carry
        states, info = step(noise, states, warm.params)
        if num_warmup > 0:
            w = jnp.minimum(i, num_warmup - 1)

            def adapt(operands):
                warm, warmup_steps = operands
                now = jax.tree_util.tree_map(lambda a: a[w], flags)
                warm = jax.vmap(
                    lambda k, wm, s, inf: warmup.update(
                        k, wm, s, inf, value_and_grad, target_accept=target_accept,
                        flags=now, is_last=i == num_warmup - 1, iteration=i,
                    )
                )(adapt_keys, warm, states, info)
                return warm, warmup_steps + info.n_steps

            warm, warmup_steps = jax.lax.cond(
                i < num_warmup, adapt, lambda operands: operands, (warm, warmup_steps)
            )
        slot = jnp.maximum(i - num_warmup, 0)
        draws = draws.at[slot].set(states.position)
        lps = lps.at[slot].set(states.logdensity)
        infos = jax.tree_util.tree_map(lambda b, v: b.at[slot].set(v), infos, info)
        if report_progress:
            progress.report(i, total)
        return states, warm, warmup_steps, (draws, lps, infos)

    length = block_length or _block_length(
        total, sum(leaf.size for leaf in jax.tree_util.tree_leaves(noise_shape))
    )
    if schedule == "ragged" and supports_ragged(kernel):
        def adapt(counter, warm, states, info, search):
            # The schedule's flags at each chain's own transition index; search None: no
            # chain is at a step-size search, and an unbatched False skips that branch.
            w = jnp.minimum(counter, max(num_warmup, 1) - 1)
            now = jax.tree_util.tree_map(lambda a: a[w], flags)
            if search is None:
                now = now._replace(search=jnp.zeros_like(counter, bool))

            def one(k, wm, s, inf, i, now):
                if search is None:
                    now = now._replace(search=False)
                return warmup.update(k, wm, s, inf, value_and_grad,
                                     target_accept=target_accept, flags=now,
                                     is_last=i == num_warmup - 1, iteration=i)

            return jax.vmap(one)(adapt_keys, warm, states, info, counter, now)

        draws, lps, infos, warm, warmup_steps = run_ragged(
            kernel, logdensity, states, warm, buffers, adapt,
            lambda first: draw_block_at(first, length), flags.search,
            num_warmup=num_warmup, num_samples=num_samples, report_progress=report_progress,
        )
        swap = lambda a: jnp.swapaxes(a, 0, 1)
        return (swap(draws), swap(lps), jax.tree_util.tree_map(swap, infos), warm.params,
                warmup_steps)

    def block(b, carry):
        first = b * length
        noise = draw_block(first, length)
        return jax.lax.fori_loop(
            0, jnp.minimum(length, total - first),
            lambda j, carry: transition(
                first + j, jax.tree_util.tree_map(lambda a: a[j], noise), carry
            ),
            carry,
        )

    warmup_steps = jnp.zeros((num_chains,), jnp.int32)
    _, warm, warmup_steps, (draws, lps, infos) = jax.lax.fori_loop(
        0, -(-total // length), block, (states, warm, warmup_steps, buffers)
    )
    swap = lambda a: jnp.swapaxes(a, 0, 1)
    return (swap(draws), swap(lps), jax.tree_util.tree_map(swap, infos), warm.params,
            warmup_steps)


def _transition_fns(kernel, logdensity):
    """``(draw(key, position), step(randomness, states, params))`` for a batch of chains.

    A kernel that separates its random numbers from its step (`NUTS`: ``noise`` and
    ``step_chains_from_noise``) gets them drawn ahead, a block at a time; any other
    kernel gets its per-transition keys, also split ahead.
    """
    if hasattr(kernel, "noise") and hasattr(kernel, "step_chains_from_noise"):
        return kernel.noise, lambda n, s, p: kernel.step_chains_from_noise(n, s, logdensity, p)
    keep_key = lambda key, position: key
    if hasattr(kernel, "step_chains"):  # a kernel's own batched step beats vmap(step)
        return keep_key, lambda k, s, p: kernel.step_chains(k, s, logdensity, p)
    return keep_key, jax.vmap(lambda k, s, p: kernel.step(k, s, logdensity, p))


def supports_ragged(kernel) -> bool:
    """Whether `kernel` exposes the batched trajectory pieces the ragged schedule runs."""
    return all(hasattr(kernel, name) for name in (
        "noise", "start_chains", "extend_chains", "finish_chains"))


def _block_length(total: int, noise_size: int) -> int:
    """Transitions per block: up to `MAX_BLOCK_LENGTH`, within `MAX_BLOCK_NOISE` numbers."""
    return max(1, min(total, MAX_BLOCK_LENGTH, MAX_BLOCK_NOISE // max(noise_size, 1)))


def params_of(params: KernelParams):
    """``(step_size, inverse_mass_matrix)`` arrays of (batched) kernel params."""
    return params.step_size, params.metric.inverse_mass_matrix
