"""`sample()`: the user-facing MCMC driver.

Validates the options, finds finite starting points, runs warmup and sampling as one
compiled program (cached at module level: a second call with the same target
functions, shapes and settings does not recompile, even with new data), and wraps the
draws in an `MCMCResult`.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from probflow._seed import as_key
from probflow.inference._start import (
    explain_nonfinite,
    leaf_names,
    raise_if_observed_outside_support,
)
from probflow.inference.mcmc import progress
from probflow.inference.mcmc._compile_options import jit_sampling_program
from probflow.inference.mcmc._program import ADAPTATIONS, flat_logdensity, run_chains
from probflow.inference.mcmc.diagnostics import convergence_warnings
from probflow.inference.mcmc.hmc import HMC
from probflow.inference.mcmc.low_rank import HISTORY_LENGTH, MIN_DRAWS_PER_DIM
from probflow.inference.mcmc.nuts import NUTS
from probflow.inference.mcmc.result import MCMCResult
from probflow.inference.target import Target

__all__ = ["sample"]

_CHAIN_METHODS = ("vectorized", "parallel", "sequential")
_SCHEDULES = ("lockstep", "ragged")
_NUM_INIT_TRIES = 100
# With the short nutpie-style warmup each chain starts at the most probable of its
# first 10 finite uniform(-2, 2) draws: a start where the log density is astronomically
# steep (posteriordb's ARMA(1,1): gradients ~1e48-1e111 at half of its uniform draws)
# kept a chain stuck through 300 warmup iterations; the best of 10 is still a random,
# dispersed start. Stan's warmup keeps the first finite draw (its 1000 iterations get
# such chains out, and its defaults stay as they were).
_NUM_INIT_CANDIDATES = {"nutpie": 10, "stan": 1}
# Defaults chosen on the posteriordb panel (benchmarks/warmup_panel.py): the nutpie-style
# warmup at 300 iterations gave 1.35x the ESS per gradient of Stan's windows at 1000
# (geometric mean over the eight reference posteriors, benchmarks/README.md). Each
# adaptation has its own default length: Stan's windows keep their 1000, so
# ``adaptation="stan"`` alone runs exactly as before.
DEFAULT_ADAPTATION = "nutpie"
DEFAULT_NUM_WARMUP = {"nutpie": 300, "stan": 1000}
# dense_mass="auto" picks the low-rank metric up to this dimension (see `sample`).
AUTO_LOW_RANK_MAX_DIM = HISTORY_LENGTH // MIN_DRAWS_PER_DIM


def sample(target, init=None, *, kernel="nuts", num_warmup: int | None = None,
           num_samples: int = 1000,
           num_chains: int = 4, chain_method: str = "vectorized", target_accept: float = 0.8,
           max_tree_depth: int = 10, dense_mass: bool | str = "auto", seed=0,
           progress_bar: bool = True, check_convergence: bool = True,
           schedule: str = "lockstep", adaptation: str = DEFAULT_ADAPTATION) -> MCMCResult:
    """Draws posterior samples with NUTS (default) or HMC after an adaptive warmup.

    Args:
        target: a `Target`, a conditioned joint distribution (which is a `Target`),
            anything with a ``condition()`` method returning one, or a plain
            log-density function of a pytree (then `init` is required: it gives the
            structure, and chains start at ``init + uniform(-2, 2)``).
        init: optional starting values in constrained space (the space of
            ``result.samples``): one position for all chains, or leaves with a leading
            ``num_chains`` axis. Default: ``target.init(key)`` (uniform(-2, 2)
            unconstrained), retried up to 100 times until log density and gradient
            are finite.
        kernel: ``"nuts"``, ``"hmc"`` or a kernel object (`NUTS`, `HMC`, or your own
            with ``init``/``step``).
        num_warmup: adaptation iterations (discarded). Default: 300 for the default
            ``adaptation="nutpie"``, 1000 for ``"stan"`` (the lengths each needs on the
            posteriordb panel, benchmarks/README.md).
        num_samples: draws kept per chain.
        num_chains: number of chains.
        chain_method: ``"vectorized"`` (one batched program on one device),
            ``"parallel"`` (the chains split evenly over as many of `jax.devices()` as
            divide `num_chains`, all processes' devices after
            `jax.distributed.initialize`, batched within each device; the draws equal
            the vectorized ones up to float rounding; with one usable device it warns
            and runs vectorized) or ``"sequential"`` (one chain after another).
        target_accept: the mean acceptance statistic warmup aims the sampling step
            size at (0.8; raise it, e.g. to 0.9-0.95, where draws diverge).
        max_tree_depth: NUTS tree depth limit (used when `kernel` is ``"nuts"``).
        dense_mass: ``False``: a diagonal inverse mass matrix; ``True``: a dense one
            (the draws' regularised covariance); ``"low_rank"`` (with
            ``adaptation="nutpie"`` only): nutpie's low-rank modified mass matrix, the
            diagonal ``sqrt(Var[draws] / Var[gradients])`` corrected along the
            directions where the recent draws and gradients both show a variance far
            from it, once there are 3 draws per dimension, recomputed at every 10th
            warmup iteration (for correlated posteriors; a dense matrix in the kernel,
            so each leapfrog step costs ``O(d^2)``).
            ``"auto"`` (default): ``"low_rank"`` with the nutpie-style warmup when the
            unconstrained dimension is at most 42 (its draw history then holds 3 per
            dimension), else ``False``. So ``result.inverse_mass_matrix`` is
            ``[chains, d, d]`` up to 42 dimensions and ``[chains, d]`` above. On the
            posteriordb panel and a logistic regression it gave 1.0-90x the diagonal's
            ESS per gradient (benchmarks/README.md).
        seed: int or `jax.random` key; the same seed gives bit-identical results.
        progress_bar: show a tqdm bar (updated ~20 times from inside the compiled loop).
        check_convergence: warn on divergences, R-hat > 1.01 or bulk ESS < 100/chain.
        schedule: how a batch of NUTS chains shares its loop; the draws are the same
            either way (bit for bit in float64, to float rounding in float32).
            ``"lockstep"``: each transition's batched trajectory runs until the longest
            chain's is built. ``"ragged"``: one loop of leapfrog steps in which a chain
            whose trajectory ends starts its next transition at once; faster where
            trajectory lengths vary a lot between chains and iterations (CPU, warm
            wall time ragged / lockstep: kidiq regression 0.56, logistic regression
            0.8), slower on long trajectories in high dimension (100-d Gaussian 1.7).
            HMC and sequential chains always run lock step.
        adaptation: how warmup tunes the step size and metric. ``"nutpie"``
            (default): nutpie's scheme (Seyboldt et al.): the diagonal metric is
            ``sqrt(Var[draws] / Var[gradients])``, recomputed every iteration from two
            running estimates that take turns, with dual averaging of the step size;
            in the last 15% the metric is final and each chain runs at a fixed step
            size, corrected once by its measured acceptance (so sampling meets
            `target_accept`), or, if it diverged in the second half of warmup,
            restarts dual averaging (Stan's rule, a safety margin for curved
            posteriors); it settles in far fewer
            gradient evaluations (with ``dense_mass`` the metric is the draws'
            covariance on the same schedule); chains start at the most probable of 10
            finite initial draws. ``"stan"``: Stan's windows (the metric is the draws'
            variance, set at the ends of windows of doubling length), the first finite
            initial draw; on the posteriordb panel it needs 1000 warmup iterations
            for what ``"nutpie"`` reaches in 300 (1.35x the ESS per gradient,
            geometric mean; it wins on the dense sblrc, 1.4x).

    Returns:
        An `MCMCResult`.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.inference import sample
        >>> result = sample(lambda p: -0.5 * jnp.sum(p["x"] ** 2), {"x": jnp.zeros(2)},
        ...                 num_warmup=100, num_samples=100, num_chains=2,
        ...                 progress_bar=False, check_convergence=False)
        >>> result.samples["x"].shape
        (2, 100, 2)
    """
    target, init = _as_target(target, init)
    kernel = _as_kernel(kernel, max_tree_depth)
    if adaptation not in ADAPTATIONS:
        raise ValueError(f"`adaptation` must be one of {tuple(ADAPTATIONS)}; got {adaptation!r}")
    dense_mass = _check_dense_mass(dense_mass, adaptation)
    if num_warmup is None:
        num_warmup = DEFAULT_NUM_WARMUP[adaptation]
    _check_int("num_warmup", num_warmup, 0)
    _check_int("num_samples", num_samples, 1)
    _check_int("num_chains", num_chains, 1)
    if schedule not in _SCHEDULES:
        raise ValueError(f"`schedule` must be one of {_SCHEDULES}; got {schedule!r}")
    if chain_method not in _CHAIN_METHODS:
        raise ValueError(f"`chain_method` must be one of {_CHAIN_METHODS}; got {chain_method!r}")
    if not 0.0 < float(target_accept) < 1.0:
        raise ValueError(f"`target_accept` must lie in (0, 1); got {target_accept!r}")
    if chain_method == "parallel" and _num_devices(num_chains) < 2:
        warnings.warn(
            f"chain_method='parallel' spreads the {num_chains} chains over the devices, but "
            f"only {jax.device_count()} device(s) can take an equal share; running the "
            "chains vectorized on one device instead.",
            UserWarning, stacklevel=2,
        )
        chain_method = "vectorized"

    chain_keys, positions = _starting_points(target, init, as_key(seed), num_chains,
                                             _NUM_INIT_CANDIDATES[adaptation])
    dense_mass = _resolve_auto_metric(dense_mass, adaptation, positions.shape[-1])
    # One chain at a time has no other chains to wait for: lock step there.
    schedule = "lockstep" if chain_method == "sequential" else schedule
    settings = dict(kernel=kernel, num_warmup=int(num_warmup), num_samples=int(num_samples),
                    dense_mass=dense_mass, schedule=schedule, adaptation=adaptation)
    total = num_chains * (num_warmup + num_samples) if chain_method == "sequential" else (
        num_warmup + num_samples
    )
    dtype = positions.dtype
    with progress.progress_bar(total, "sampling", progress_bar):
        outputs = _RUNNERS[chain_method](
            target, chain_keys, positions, jnp.asarray(target_accept, dtype),
            report_progress=bool(progress_bar), **settings,
        )
        outputs = jax.block_until_ready(outputs)
    result = MCMCResult.from_run(target, *outputs)
    if check_convergence:
        convergence_warnings(result.samples, result.stats["diverging"])
    return result


# -- the compiled runners, one per chain method, cached by jit on the static settings ----
# Compile options: see `_compile_options` (XLA:CPU's copy-insertion region analysis).
# YNNPACK fusions stay on: the program was once compiled with them off, when per-level
# U-turn reductions of [chains, 6 depth + 1, d] numbers went to YNNPACK; since the O(d)
# bookkeeping, turning them off only slows the model's own dots (logistic regression:
# ~1.4x per leapfrog step).
_STATIC = ("kernel", "num_warmup", "num_samples", "dense_mass", "report_progress", "schedule",
           "adaptation")


@functools.partial(jit_sampling_program, static_argnames=_STATIC)
def _run_vectorized(target, chain_keys, positions, target_accept, **settings):
    return run_chains(target, chain_keys, positions, target_accept, **settings)


@functools.partial(jit_sampling_program, static_argnames=_STATIC)
def _run_sequential(target, chain_keys, positions, target_accept, **settings):
    def one(args):
        chain_key, position = args
        out = run_chains(target, chain_key[None], position[None], target_accept, **settings)
        return jax.tree_util.tree_map(lambda a: a[0], out)

    return jax.lax.map(one, (chain_keys, positions))


def _num_devices(num_chains):
    """The most devices that share `num_chains` evenly."""
    return max(n for n in range(1, min(num_chains, jax.device_count()) + 1)
               if num_chains % n == 0)


def _run_parallel(target, chain_keys, positions, target_accept, **settings):
    num_devices = _num_devices(positions.shape[0])
    program, sharding = _parallel_program(num_devices, **settings)
    if jax.process_count() > 1:
        # Every process holds the same full arrays; make them global, sharded by chain.
        chain_keys, positions = (
            jax.make_array_from_callback(a.shape, sharding, lambda index, a=a: a[index])
            for a in (chain_keys, positions)
        )
        from jax.experimental import multihost_utils

        return multihost_utils.process_allgather(
            program(target, chain_keys, positions, target_accept), tiled=True
        )
    return program(target, chain_keys, positions, target_accept)


@functools.lru_cache(maxsize=32)
def _parallel_program(num_devices, **settings):
    """The sampling program split by chain over a one-axis mesh of `num_devices`."""
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    mesh = Mesh(np.array(jax.devices()[:num_devices]), ("chain",))
    settings = dict(settings, report_progress=False)  # host callbacks stay on one device
    chains, replicated = PartitionSpec("chain"), PartitionSpec()

    def per_device(target, chain_keys, positions, target_accept):
        # Each device runs the batched program on its own block of chains.
        return run_chains(target, chain_keys, positions, target_accept, **settings)

    mapped = jax.shard_map(
        per_device, mesh=mesh, in_specs=(replicated, chains, chains, replicated),
        out_specs=chains, check_vma=False,
    )
    return jit_sampling_program(mapped), NamedSharding(mesh, chains)


_RUNNERS = {
    "vectorized": _run_vectorized,
    "sequential": _run_sequential,
    "parallel": _run_parallel,
}


# -- argument handling ------------------------------------------------------------------
def _check_dense_mass(dense_mass, adaptation):
    if isinstance(dense_mass, str):
        if dense_mass == "auto":
            return dense_mass
        if dense_mass != "low_rank":
            raise ValueError(
                f"`dense_mass` must be False, True, 'low_rank' or 'auto'; got {dense_mass!r}")
        if adaptation != "nutpie":
            raise ValueError(
                "`dense_mass='low_rank'` needs `adaptation='nutpie'` (it is estimated from "
                f"the gradients, which Stan's windows do not use); got adaptation={adaptation!r}")
        return dense_mass
    return bool(dense_mass)


def _resolve_auto_metric(dense_mass, adaptation, dim):
    # "auto": the low-rank metric where its history holds 3 draws per dimension (above
    # that its correction starts late and follows noise: a 100-d Gaussian with a
    # diagonal covariance sampled at 0.27x the diagonal metric's ESS per gradient).
    if dense_mass != "auto":
        return dense_mass
    if adaptation == "nutpie" and dim <= AUTO_LOW_RANK_MAX_DIM:
        return "low_rank"
    return False


def _as_target(target, init):
    if isinstance(target, Target):
        return target, init
    if hasattr(target, "condition") and callable(target.condition):
        conditioned = target.condition()
        if isinstance(conditioned, Target):
            return conditioned, init
    if callable(target):
        if init is None:
            raise ValueError(
                "`init` is required when `target` is a plain log-density function: pass an "
                "example position pytree (e.g. {'x': jnp.zeros(3)}); got init=None"
            )
        return Target.from_logdensity(target, init), None
    raise TypeError(
        "`target` must be a Target, a conditioned joint distribution or a log-density "
        f"function; got {type(target).__name__}"
    )


def _as_kernel(kernel, max_tree_depth):
    if isinstance(kernel, str):
        if kernel == "nuts":
            return NUTS(max_tree_depth=max_tree_depth)
        if kernel == "hmc":
            return HMC()
        raise ValueError(f"`kernel` must be 'nuts', 'hmc' or a kernel object; got {kernel!r}")
    if not (hasattr(kernel, "init") and hasattr(kernel, "step")):
        raise TypeError(
            "`kernel` must be 'nuts', 'hmc' or an object with init() and step(); "
            f"got {type(kernel).__name__}"
        )
    return kernel


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; got {value}")


def _starting_points(target, init, key, num_chains, num_candidates=1):
    """Per-chain keys ``[C]`` and flat starting points ``[C, d]``: `init` (checked) or
    ``target.init`` draws, retried until the log density and gradient are finite.

    One compiled call (eager key splits and array ops would each compile a program of
    their own: ~0.1 s apiece, a visible share of a first `sample()`); only the error
    messages go back to eager code.
    """
    chain_keys, positions, finite = _start(target, key, init, num_chains, _NUM_INIT_TRIES,
                                           num_candidates)
    finite = np.asarray(finite)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        # A chain without a finite draw starts at its first draw (argmax of all-False).
        raise_if_observed_outside_support(target, positions[int(bad[0])])
        explanation = explain_nonfinite(target, positions[int(bad[0])])
        if init is not None:
            raise ValueError(
                "the log density or its gradient is not finite at the given `init` for "
                f"chain(s) {bad.tolist()}; {explanation}"
            )
        raise ValueError(
            f"no finite starting point found in {_NUM_INIT_TRIES} uniform(-2, 2) draws "
            f"(unconstrained) for chain(s) {bad.tolist()}; {explanation}. Pass `init=`."
        )
    return chain_keys, positions


@functools.partial(jax.jit, static_argnames=("num_chains", "num_tries", "num_candidates"))
def _start(target, key, init, num_chains, num_tries, num_candidates=1):
    """``(chain keys, flat starting points, finite)``; see `_starting_points`."""
    key_init, key_run = jax.random.split(key)
    chain_keys = jax.random.split(key_run, num_chains)
    logdensity, _ = flat_logdensity(target)
    if init is not None:
        flat = _flatten_init(target, init, num_chains)
        return chain_keys, flat, _finite(logdensity, flat[:, None])[:, 0]
    keys = jax.random.split(key_init, num_chains * num_tries)
    flat = jax.vmap(lambda k: ravel_pytree(target.init(k))[0])(keys)
    flat = flat.reshape(num_chains, num_tries, -1)
    finite, value = _finite(logdensity, flat, with_value=True)
    candidates = jnp.arange(num_tries) < num_candidates
    best = jnp.argmax(jnp.where(finite & candidates, value, -jnp.inf), axis=1)
    # No finite draw among the candidates: the first finite one of all the tries.
    chosen = jnp.where(jnp.any(finite & candidates, axis=1), best, jnp.argmax(finite, axis=1))
    return chain_keys, flat[jnp.arange(num_chains), chosen], finite.any(axis=1)


def _finite(logdensity, flat, with_value=False):
    value, grad = jax.vmap(jax.vmap(jax.value_and_grad(logdensity)))(flat)
    finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad), axis=-1)
    return (finite, value) if with_value else finite


def _flatten_init(target, init, num_chains):
    example = target.example
    try:
        unconstrained = target.unconstrain(jax.tree_util.tree_map(jnp.asarray, init))
        leaves, treedef = jax.tree_util.tree_flatten(unconstrained)
        example_leaves, example_treedef = jax.tree_util.tree_flatten(example)
        if treedef != example_treedef:
            raise ValueError(f"structure {treedef} differs from the target's {example_treedef}")
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`init` must match the target's parameters {leaf_names(target)}; {error}"
        ) from None
    per_chain = []
    for leaf, ref, name in zip(leaves, example_leaves, leaf_names(target)):
        leaf = jnp.asarray(leaf, ref.dtype)
        if leaf.shape == ref.shape:
            leaf = jnp.broadcast_to(leaf, (num_chains,) + ref.shape)
        elif leaf.shape != (num_chains,) + ref.shape:
            raise ValueError(
                f"`init` for {name!r} must have shape {ref.shape} or {(num_chains,) + ref.shape} "
                f"(unconstrained); got {leaf.shape}"
            )
        per_chain.append(leaf)
    tree = jax.tree_util.tree_unflatten(example_treedef, per_chain)
    return jax.vmap(lambda z: ravel_pytree(z)[0])(tree)
