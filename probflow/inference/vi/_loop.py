"""The compiled part of `vi.fit`: one chunk of optimisation steps as a `lax.scan`.

Pure functions over a NamedTuple carry. The target is a jit *argument* (never closed
over) and the family / optimizer / estimator settings are static, so a second fit with
equal settings and shapes reuses the compiled program, even with new data.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from probflow.inference.vi.elbo import negative_elbo

__all__ = ["FitCarry", "flat_logdensity", "run_chunk", "run_map"]


class FitCarry(NamedTuple):
    """State threaded through the steps.

    Attributes:
        params: the family's parameters; never overwritten by non-finite values.
        opt_state: the optax state.
        step: int32 number of steps done.
        nonfinite_step: int32 index of the first non-finite step, -1 if none. Once set,
            updates stop, so `params` are the last finite ones.
    """

    params: Any
    opt_state: Any
    step: jax.Array
    nonfinite_step: jax.Array


def flat_logdensity(target):
    """``fn(x)`` = the target's log density at a flat unconstrained vector `x`."""
    _, unravel = ravel_pytree(target.example)
    return lambda x: target.logdensity(unravel(x))


def _all_finite(tree):
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def _guarded_update(ok, new, old):
    return jax.tree_util.tree_map(lambda n, o: jnp.where(ok, n, o), new, old)


@partial(
    jax.jit,
    static_argnames=("family", "optimizer", "num_particles", "stl", "analytic_entropy"),
)
def run_chunk(target, carry, keys, *, family, optimizer, num_particles, stl, analytic_entropy):
    """Runs ``len(keys)`` ELBO steps; returns ``(carry, losses [len(keys)])``."""
    logdensity_fn = flat_logdensity(target)
    loss_and_grad = jax.value_and_grad(negative_elbo, argnums=1)

    def one_step(carry, key):
        loss, grads = loss_and_grad(
            key,
            carry.params,
            family,
            logdensity_fn,
            num_particles=num_particles,
            stl=stl,
            analytic_entropy=analytic_entropy,
        )
        updates, opt_state = optimizer.update(grads, carry.opt_state, carry.params)
        params = optax.apply_updates(carry.params, updates)
        finite = jnp.isfinite(loss) & _all_finite(grads)
        running = carry.nonfinite_step < 0
        ok = finite & running
        nonfinite_step = jnp.where(running & ~finite, carry.step, carry.nonfinite_step)
        new_carry = FitCarry(
            _guarded_update(ok, params, carry.params),
            _guarded_update(ok, opt_state, carry.opt_state),
            carry.step + 1,
            nonfinite_step,
        )
        return new_carry, loss

    return jax.lax.scan(one_step, carry, keys)


@partial(jax.jit, static_argnames=("num_steps", "optimizer"))
def run_map(target, x0, *, num_steps, optimizer):
    """Maximises the unconstrained log density from flat `x0` for `num_steps` steps.

    Non-finite steps are skipped, so the result is always finite.
    """
    logdensity_fn = flat_logdensity(target)
    loss_and_grad = jax.value_and_grad(lambda x: -logdensity_fn(x))

    def one_step(state, _):
        x, opt_state = state
        loss, grad = loss_and_grad(x)
        updates, new_opt_state = optimizer.update(grad, opt_state, x)
        ok = jnp.isfinite(loss) & jnp.all(jnp.isfinite(grad))
        new_x = optax.apply_updates(x, updates)
        return (_guarded_update(ok, new_x, x), _guarded_update(ok, new_opt_state, opt_state)), None

    (x, _), _ = jax.lax.scan(one_step, (x0, optimizer.init(x0)), None, length=num_steps)
    return x
