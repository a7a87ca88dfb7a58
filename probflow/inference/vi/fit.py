"""`vi.fit`: the user-facing driver of variational inference.

Holds the conveniences (seed handling, validation, initialisation, progress bar,
callbacks) around the compiled chunk loop in `_loop.py`. The steps run as a few
compiled chunks (at most `num_chunks`; fewer when no callback listens); the
host only wakes between chunks to check for NaN, update the bar and run callbacks, and
the next chunk is already dispatched while it does. Losses go into one preallocated
array that callbacks see as a read-only view, so the host work per chunk does not grow
with the steps done.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from probflow._seed import as_key
from probflow.inference._start import (
    explain_nonfinite,
    first_finite_start,
    is_finite_start,
    raise_if_observed_outside_support,
)
from probflow.inference.target import Target
from probflow.inference.vi._loop import (
    chunk_program,
    initial_carry,
    laplace_covariance,
    random_loc,
    run_map,
    split_seed,
)
from probflow.inference.vi.callbacks import FitInfo, TerminateOnNaN
from probflow.inference.vi.families import resolve_family
from probflow.inference.vi.result import VIResult

__all__ = ["fit"]


@functools.cache
def _lbfgs():
    return optax.lbfgs()


@functools.cache
def _adam(learning_rate: float):
    # One instance per rate: optax transformations hash by identity, so a fresh
    # `optax.adam` per call would recompile the loop on every fit.
    return optax.adam(learning_rate)


# Most chunks of a fit with no callback but `TerminateOnNaN`: without, and with, a bar.
QUIET_CHUNKS = 4
# Random starts tried when the first one has a non-finite density (as `sample()`).
_NUM_INIT_TRIES = 100
BAR_CHUNKS = 20


def fit(
    target,
    family="meanfield",
    *,
    optimizer=None,
    num_steps: int = 10_000,
    num_particles: int = 1,
    seed=0,
    callbacks=(),
    progress_bar: bool = True,
    init=None,
    stl: bool = False,
    analytic_entropy: bool | None = None,
    num_chunks: int = 100,
    map_steps: int = 500,
) -> VIResult:
    """Fits a variational approximation to `target` by maximising the ELBO.

    Works on the flat unconstrained vector of the target; the guide is mapped back to
    constrained space by the target's bijectors (see `VIResult.posterior`).

    Args:
        target: a `Target` (e.g. a conditioned `JointDistributionNamed`), or a plain
            log-density function of a pytree, in which case `init` must be an example
            position (also the guide's starting centre).
        family: ``"meanfield" | "fullrank" | "lowrank" | "flow"`` or a `Family`.
        optimizer: an optax transformation (schedules welcome); default
            ``adam(1e-2)``. Reuse the same object to reuse the compiled loop.
        num_steps: number of optimisation steps.
        num_particles: Monte-Carlo draws per ELBO estimate.
        seed: int or `jax.random` key; same seed, same result, bit for bit.
        callbacks: callables run between chunks (protocol in `vi.callbacks`);
            `TerminateOnNaN` is always active.
        progress_bar: show a tqdm bar.
        init: where the guide starts (its centre, unconstrained): None draws
            uniform(-2, 2) (Stan's rule, via `target.init`); ``"map"`` first runs
            `map_steps` L-BFGS steps on the unconstrained log density from there;
            ``"laplace"`` does the same and also starts the guide's scales at the
            Laplace approximation (inverse negative Hessian at the mode), through
            `Family.init_from_gaussian`; a pytree of unconstrained values starts
            exactly there.
        stl: sticking-the-landing gradient (Roeder et al. 2017).
        analytic_entropy: use the family's closed-form entropy; None means "when the
            family has one and `stl` is off".
        num_chunks: at most this many compiled chunks; the bar updates and callbacks
            run between them. With no callbacks (`TerminateOnNaN` aside) at most 20
            with the bar and 4 without, whatever `num_chunks` says: the result does
            not depend on the chunking.
        map_steps: L-BFGS steps of the ``init="map"`` / ``"laplace"`` optimisation.

    Returns:
        A `VIResult`.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.inference import vi
        >>> result = vi.fit(lambda x: -0.5 * jnp.sum((x - 3.0) ** 2), init=jnp.zeros(2),
        ...                 num_steps=2000, progress_bar=False)
        >>> [round(float(m)) for m in result.params["loc"]]
        [3, 3]
    """
    target, init = _as_target(target, init)
    family = resolve_family(family)
    optimizer = _adam(1e-2) if optimizer is None else optimizer
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(
            f"`optimizer` must be an optax GradientTransformation; got {type(optimizer).__name__}"
        )
    num_steps = _positive_int("num_steps", num_steps)
    num_particles = _positive_int("num_particles", num_particles)
    num_chunks = _positive_int("num_chunks", num_chunks)
    analytic_entropy = _resolve_entropy(family, stl, analytic_entropy)
    callbacks = _as_callbacks(callbacks)

    key_init, key_family, key_steps = split_seed(as_key(seed))
    loc = _initial_loc(target, init, key_init, map_steps)
    laplace = isinstance(init, str) and init == "laplace"
    covariance = laplace_covariance(target, loc) if laplace else None
    carry = initial_carry(key_family, loc, covariance, family=family, optimizer=optimizer)

    target_leaves, target_treedef = jax.tree_util.tree_flatten(target)
    program = chunk_program(
        target_treedef, family, optimizer, num_particles, bool(stl), analytic_entropy
    )

    def launch(carry, length, guarded=False):
        return program(target_leaves, carry, key_steps, length=length, guarded=guarded)

    bar = _progress(num_steps, progress_bar)
    if all(type(cb) is TerminateOnNaN for cb in callbacks):
        # No callback to feed: fewer, longer chunks save host round trips (each a sync,
        # a dispatch and this loop's bookkeeping, ~0.1 ms on one core: 40% of a
        # 100-step chunk of a small model); the NaN replay still works per chunk, and a
        # chunk of any length runs at the same speed per step. A bar needs only a few
        # updates to show the rate and the time left.
        num_chunks = min(num_chunks, QUIET_CHUNKS if bar is None else BAR_CHUNKS)
    chunk_size = math.ceil(num_steps / num_chunks)
    bounds = [(s, min(s + chunk_size, num_steps)) for s in range(0, num_steps, chunk_size)]
    losses, done, stop_reason = None, 0, "num_steps reached"
    pending = launch(carry, bounds[0][1] - bounds[0][0])
    for i, (start, stop) in enumerate(bounds):
        start_carry = carry
        carry, chunk_losses, finite = pending
        # Pipelined: chunk i+1 is queued before chunk i's losses reach the host; it is
        # dropped if chunk i turns out bad or a callback stops the fit.
        if i + 1 < len(bounds):
            pending = launch(carry, bounds[i + 1][1] - bounds[i + 1][0])
        nonfinite_step = None
        if not bool(finite):
            # Replay this chunk from its finite start with the guarded step: same keys,
            # same trajectory, parameters frozen at the first non-finite step.
            carry, chunk_losses, _ = launch(start_carry, stop - start, guarded=True)
            bad = int(carry.nonfinite_step)
            if bad >= 0:
                nonfinite_step, stop = bad, bad + 1
            if bad == 0 and not is_finite_start(target, loc):
                # The start itself is bad, not a step: as `sample()`, look for a finite
                # start, or say why there is none.
                if bar is not None:
                    bar.close()
                restart = _finite_start_or_raise(target, init, loc, key_init)
                return fit(target, family, optimizer=optimizer, num_steps=num_steps,
                           num_particles=num_particles, seed=seed, callbacks=callbacks,
                           progress_bar=progress_bar, init=restart, stl=stl,
                           analytic_entropy=analytic_entropy, num_chunks=num_chunks,
                           map_steps=map_steps)
        chunk_losses = np.asarray(chunk_losses)[: stop - start]
        if losses is None:
            losses = np.empty(num_steps, chunk_losses.dtype)
        losses[start:stop] = chunk_losses
        done = stop
        if bar is not None:
            bar.update(stop - start)
            # refresh=False: the bar redraws at tqdm's own rate, not once per chunk.
            bar.set_postfix(loss=f"{float(np.mean(chunk_losses)):.4g}", refresh=False)
        info = FitInfo(
            step=done,
            num_steps=num_steps,
            losses=_read_only(losses[:done]),
            params=carry.params,
            nonfinite_step=nonfinite_step,
        )
        reason = _run_callbacks(callbacks, info)
        if reason is not None:
            stop_reason = reason
            break
    if bar is not None:
        bar.close()
    losses = losses if done == num_steps else losses[:done].copy()
    return VIResult(target, family, carry.params, losses, stop_reason)


# -- helpers ------------------------------------------------------------------------------
def _as_target(target, init):
    if isinstance(target, Target) or (
        hasattr(target, "logdensity") and hasattr(target, "constrain")
    ):
        return target, init
    if callable(target):
        if init is None or isinstance(init, str):
            raise ValueError(
                "`init` must be an example position (a pytree of arrays) when `target` is a "
                f"plain log-density function; got {init!r}"
            )
        return Target.from_logdensity(target, init), init
    raise TypeError(
        "`target` must be a Target, a conditioned JointDistributionNamed or a log-density "
        f"function; got {type(target).__name__}"
    )


def _read_only(view):
    # Callbacks see the losses so far without a copy; the view must not let them
    # overwrite the record that `VIResult.losses` is made of.
    view.flags.writeable = False
    return view


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be an int >= 1; got {value!r}")
    return int(value)


def _resolve_entropy(family, stl, analytic_entropy):
    if analytic_entropy is None:
        return False if stl else _has_closed_form_entropy(family)
    if analytic_entropy and stl:
        raise ValueError("`stl=True` and `analytic_entropy=True` exclude each other; pick one")
    return bool(analytic_entropy)


@functools.lru_cache(maxsize=64)
def _has_closed_form_entropy(family):
    # Cached: the probe is a trace, ~40% of a short fit's set-up when repeated.
    probe = jax.eval_shape(lambda: family.entropy(family.init(jax.random.key(0), jnp.zeros(2))))
    return probe is not None


def _as_callbacks(callbacks):
    if callable(callbacks):
        callbacks = (callbacks,)
    callbacks = tuple(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"each of `callbacks` must be callable; got {type(cb).__name__}")
    if not any(isinstance(cb, TerminateOnNaN) for cb in callbacks):
        callbacks = (TerminateOnNaN(),) + callbacks
    return callbacks


def _run_callbacks(callbacks, info):
    """Returns the stop reason of the first callback that stops, or None."""
    for cb in callbacks:
        try:
            stop = cb(info)
        except StopIteration as exc:
            return str(exc) or getattr(cb, "reason", repr(cb))
        if stop:
            return getattr(cb, "reason", repr(cb))
    return None


def _initial_loc(target, init, key, map_steps):
    if init is None or (isinstance(init, str) and init in ("map", "laplace")):
        loc = random_loc(key, target)
        if init is not None:
            steps = _positive_int("map_steps", map_steps)
            loc = run_map(target, loc, num_steps=steps, optimizer=_lbfgs())
        return loc
    if isinstance(init, str):
        raise ValueError(
            f"`init` must be None, 'map', 'laplace' or a pytree of positions; got {init!r}"
        )
    example_flat, _ = ravel_pytree(target.example)
    init = jax.tree_util.tree_map(jnp.asarray, init)
    want = jax.tree_util.tree_structure(target.example)
    got = jax.tree_util.tree_structure(init)
    loc, _ = ravel_pytree(init)
    if got != want or loc.shape != example_flat.shape:
        raise ValueError(
            f"`init` must have the target's structure {want} ({example_flat.size} values); "
            f"got {got} ({loc.size} values)"
        )
    return loc.astype(example_flat.dtype)


def _finite_start_or_raise(target, init, loc, key):
    """A finite unconstrained start (pytree) to restart from, or a ValueError saying why
    there is none (observed data outside the likelihood's support, or a density that is
    not finite anywhere `target.init` draws)."""
    raise_if_observed_outside_support(target, loc)
    explanation = explain_nonfinite(target, loc)
    if init is not None:
        where = "the given `init`" if not isinstance(init, str) else f"the init={init!r} point"
        raise ValueError(
            f"vi.fit: the log density or its gradient is not finite at {where}; {explanation}"
        )
    flat, found = first_finite_start(target, jax.random.fold_in(key, 1), _NUM_INIT_TRIES)
    if not found:
        raise ValueError(
            f"vi.fit: no finite starting point found in {_NUM_INIT_TRIES} uniform(-2, 2) "
            f"draws (unconstrained); {explanation}. Pass `init=`."
        )
    _, unravel = ravel_pytree(target.example)
    return unravel(flat)


def _progress(total, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="vi.fit", unit="step")
