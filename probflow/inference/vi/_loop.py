"""The compiled part of `vi.fit`: chunks of optimisation steps, each one jitted program.

Pure functions over a NamedTuple carry. The target travels as *leaves* (its arrays:
data, bijector parameters) with its tree structure as part of the cache key, and the
family / optimizer / estimator settings are static; so a second fit with equal settings
and shapes reuses the compiled program, even with new data, and a chunk call costs
no Python-side pytree flattening of the target.

Speed: the common path has no per-step bookkeeping beyond the optimiser update, and no
random-number generation either. A chunk is a `lax.scan` over blocks of `BLOCK_STEPS`
steps; each block first draws its steps' noise in one vectorised call (for families
that expose their `noise`), then scans the steps over it. Threefry on the CPU is a
small loop of its own, and inside the step loop it cost more than the whole ELBO of a
small model (eight schools: ~2x fewer steps per CPU-second); blocks keep that out of
the step loop while the memory stays one block's noise, however long the chunk. A
non-finite loss is detected on the host from the chunk's `finite` flag; that chunk is
then replayed from its (finite) starting carry with the guarded step, which freezes
the parameters at the first non-finite loss or gradient. Step keys are
``fold_in(key, step)``, so the replay draws the same numbers and neither the chunking
nor the block size changes the result.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from probflow.inference.vi.elbo import negative_elbo, negative_elbo_from_noise

__all__ = [
    "FitCarry",
    "block_noise",
    "chunk_program",
    "flat_logdensity",
    "initial_carry",
    "laplace_covariance",
    "random_loc",
    "run_map",
    "split_seed",
]

# Incremented each time a chunk program is traced (tests check a refit does not).
TRACE_COUNT = {"chunk": 0}

# Steps whose noise is drawn together, before their scan. Long enough that the draw's
# and the outer loop's overheads vanish per step, short enough that a block's noise
# stays in cache; a chunk of any length is a scan over such blocks.
BLOCK_STEPS = 100

# Most noise values drawn ahead for one block (16 MiB of float32): a large guide gets
# shorter blocks, and one whose single step is past it draws its noise inside the step
# loop (the same numbers either way).
MAX_BLOCK_NOISE = 1 << 22


class FitCarry(NamedTuple):
    """State threaded through the steps.

    Attributes:
        params: the family's parameters.
        opt_state: the optax state.
        step: int32 number of steps done (also the index folded into the step key).
        nonfinite_step: int32 index of the first non-finite step, -1 if none (set by
            the guarded replay only; from that step on the parameters are frozen).
    """

    params: Any
    opt_state: Any
    step: jax.Array
    nonfinite_step: jax.Array


def flat_logdensity(target):
    """``fn(x)`` = the target's log density at a flat unconstrained vector `x`."""
    _, unravel = ravel_pytree(target.example)
    return lambda x: target.logdensity(unravel(x))


def all_finite(tree):
    """Whether every leaf of `tree` is finite (a boolean scalar array)."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def _select(ok, new, old):
    return jax.tree_util.tree_map(lambda n, o: jnp.where(ok, n, o), new, old)


@functools.lru_cache(maxsize=64)
def chunk_program(target_treedef, family, optimizer, num_particles, stl, analytic_entropy):
    """The jitted ``program(target_leaves, carry, key, *, length, guarded)`` for a setting.

    Returns a function that runs `length` steps from `carry` and returns
    ``(carry, losses [length], finite)``, `finite` being whether every loss and every
    final parameter is finite. With ``guarded=True`` updates stop at the first
    non-finite loss or gradient and `nonfinite_step` records it.
    """

    def program(target_leaves, carry, key, *, length, guarded):
        TRACE_COUNT["chunk"] += 1
        target = jax.tree_util.tree_unflatten(target_treedef, target_leaves)
        logdensity_fn = flat_logdensity(target)
        estimator = dict(stl=stl, analytic_entropy=analytic_entropy)

        def loss_and_grad(carry, step_noise):
            if step_noise is None:
                return jax.value_and_grad(negative_elbo, argnums=1)(
                    jax.random.fold_in(key, carry.step), carry.params, family, logdensity_fn,
                    num_particles=num_particles, **estimator,
                )
            return jax.value_and_grad(negative_elbo_from_noise, argnums=1)(
                step_noise, carry.params, family, logdensity_fn, **estimator
            )

        def one_step(carry, step_noise):
            loss, grads = loss_and_grad(carry, step_noise)
            updates, opt_state = optimizer.update(grads, carry.opt_state, carry.params)
            params = optax.apply_updates(carry.params, updates)
            if not guarded:
                return FitCarry(params, opt_state, carry.step + 1, carry.nonfinite_step), loss
            finite = jnp.isfinite(loss) & all_finite(grads)
            running = carry.nonfinite_step < 0
            ok = finite & running
            new_carry = FitCarry(
                _select(ok, params, carry.params),
                _select(ok, opt_state, carry.opt_state),
                carry.step + 1,
                jnp.where(running & ~finite, carry.step, carry.nonfinite_step),
            )
            return new_carry, loss

        def block(carry, _, size):
            noise = block_noise(family, key, carry.step, carry.params, num_particles, size)
            return jax.lax.scan(one_step, carry, noise, length=size)

        size = block_size(family, carry.params, num_particles, length)
        if size == 0:  # the noise of one step alone is past the limit: draw it per step
            carry, losses = jax.lax.scan(one_step, carry, None, length=length)
        else:
            num_blocks, rest = divmod(length, size)
            carry, losses = jax.lax.scan(
                functools.partial(block, size=size), carry, None, length=num_blocks
            )
            losses = losses.reshape(-1)
            if rest:
                carry, rest_losses = block(carry, None, rest)
                losses = jnp.concatenate([losses, rest_losses])
        return carry, losses, all_finite((losses, carry.params))

    return jax.jit(program, static_argnames=("length", "guarded"))


def block_size(family, params, num_particles, length):
    """Steps per noise block of a `length`-step chunk; 0 to draw the noise per step.

    At most `BLOCK_STEPS`, and at most `MAX_BLOCK_NOISE` noise values per block, so the
    memory does not grow with the chunk's length nor explode for a large guide.
    """
    shapes = jax.eval_shape(
        lambda p: family.noise(jax.random.key(0), p, num_particles), _shape_only(params)
    )
    if shapes is None:
        return 0
    per_step = sum(leaf.size for leaf in jax.tree_util.tree_leaves(shapes))
    return min(BLOCK_STEPS, length, MAX_BLOCK_NOISE // max(per_step, 1))


def _shape_only(tree):
    return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), tree)


def block_noise(family, key, first_step, params, num_particles, size):
    """The noise of steps ``first_step + [0, size)``, stacked on a leading axis.

    Step ``s`` uses ``family.noise(fold_in(key, s), ...)``, exactly what a per-step draw
    uses, so the trajectory depends neither on the chunking nor on the block size.
    """
    steps = first_step + jnp.arange(size, dtype=first_step.dtype)
    return jax.vmap(
        lambda step: family.noise(jax.random.fold_in(key, step), params, num_particles)
    )(steps)


# The fit's set-up, jitted: eagerly, its few dozen small ops (key splits, the uniform
# start, the family's and the optimiser's init) cost ~5 ms of dispatch per fit, as much
# as 1,500 steps of a small model.
@jax.jit
def split_seed(key):
    """The fit's three keys: ``(key_init, key_family, key_steps)``."""
    key_init, key_family, key_steps = jax.random.split(key, 3)
    return key_init, key_family, key_steps


@jax.jit
def random_loc(key, target):
    """A flat uniform(-2, 2) start in unconstrained space (`target.init`, Stan's rule)."""
    loc, _ = ravel_pytree(target.init(key))
    return loc


@functools.partial(jax.jit, static_argnames=("family", "optimizer"))
def initial_carry(key, loc, covariance, *, family, optimizer):
    """The carry of step 0: the family centred at `loc` and a fresh optimiser state.

    With a `covariance` (not None) the family approximates ``N(loc, covariance)``.
    """
    if covariance is None:
        params = family.init(key, loc)
    else:
        params = family.init_from_gaussian(key, loc, covariance)
    return FitCarry(params, optimizer.init(params), jnp.int32(0), jnp.int32(-1))


@functools.partial(jax.jit, static_argnames=("num_steps", "optimizer"))
def run_map(target, x0, *, num_steps, optimizer):
    """Maximises the unconstrained log density from flat `x0` with L-BFGS (optax).

    L-BFGS, not Adam: posteriors are often badly conditioned (a regression with an
    uncentred predictor has correlations of -0.99), where Adam's fixed-size steps
    neither converge nor resolve scales far below the learning rate. Non-finite steps
    are skipped, so the result is always finite.
    """
    logdensity_fn = flat_logdensity(target)
    objective = lambda x: -logdensity_fn(x)
    value_and_grad = optax.value_and_grad_from_state(objective)

    def one_step(state, _):
        x, opt_state = state
        value, grad = value_and_grad(x, state=opt_state)
        updates, new_opt_state = optimizer.update(
            grad, opt_state, x, value=value, grad=grad, value_fn=objective
        )
        new_x = optax.apply_updates(x, updates)
        ok = jnp.isfinite(value) & all_finite(grad) & all_finite(new_x)
        return (_select(ok, new_x, x), _select(ok, new_opt_state, opt_state)), None

    (x, _), _ = jax.lax.scan(one_step, (x0, optimizer.init(x0)), None, length=num_steps)
    return x


@jax.jit
def laplace_covariance(target, x):
    """Inverse of the negative Hessian of the unconstrained log density at `x`."""
    hessian = jax.hessian(flat_logdensity(target))(x)
    precision = -(hessian + hessian.T) / 2
    return jnp.linalg.inv(precision)
