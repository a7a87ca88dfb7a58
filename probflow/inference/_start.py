"""Why a target has no finite starting point: the messages `sample` and `vi.fit` share.

Host-side and eager: these run only after a start has failed, so they cost nothing on
the common path.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

__all__ = [
    "leaf_names",
    "explain_nonfinite",
    "first_finite_start",
    "is_finite_start",
    "raise_if_observed_outside_support",
]


def leaf_names(target):
    """The names of the target's parameters, one per leaf of its position."""
    paths, _ = jax.tree_util.tree_flatten_with_path(target.example)
    return [jax.tree_util.keystr(path) or "position" for path, _ in paths]


def explain_nonfinite(target, flat):
    """Names the parameters whose gradient is not finite at flat position `flat`."""
    _, unravel = ravel_pytree(target.example)
    value, grad = jax.value_and_grad(lambda x: target.logdensity(unravel(x)))(jnp.asarray(flat))
    names = leaf_names(target)
    bad = [
        name for name, g in zip(names, jax.tree_util.tree_leaves(unravel(grad)))
        if not bool(jnp.all(jnp.isfinite(g)))
    ]
    detail = f"log density there = {float(value)}"
    if bad:
        return f"{detail}; non-finite gradient for parameter(s) {bad}"
    return f"{detail}; parameters: {names}"


def raise_if_observed_outside_support(target, flat) -> None:
    """Raises ValueError naming each observed variable with values outside its support.

    An observed value the likelihood cannot produce (a Poisson count of 2.5) makes the
    log density -inf at every point; the useful message names the data, not `init=`.
    Targets without observed data (or without the `observed_outside_support` method)
    pass silently.
    """
    check = getattr(target, "observed_outside_support", None)
    if check is None:
        return
    _, unravel = ravel_pytree(target.example)
    problems = check(unravel(jnp.asarray(flat)))
    if problems:
        raise ValueError(
            "; ".join(problems) + ". The log density is -inf wherever the parameters are, "
            "so no starting point can help: fix the data or choose a likelihood whose "
            "support holds it"
        )


@functools.partial(jax.jit, static_argnames=("num_tries",))
def _first_finite(target, key, num_tries):
    _, unravel = ravel_pytree(target.example)
    flat = jax.vmap(lambda k: ravel_pytree(target.init(k))[0])(jax.random.split(key, num_tries))
    value, grad = jax.vmap(jax.value_and_grad(lambda x: target.logdensity(unravel(x))))(flat)
    finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad), axis=-1)
    return flat[jnp.argmax(finite)], jnp.any(finite)


def is_finite_start(target, flat) -> bool:
    """Whether the log density and its gradient are finite at flat position `flat`."""
    _, unravel = ravel_pytree(target.example)
    value, grad = jax.value_and_grad(lambda x: target.logdensity(unravel(x)))(jnp.asarray(flat))
    return bool(jnp.isfinite(value)) and bool(jnp.all(jnp.isfinite(grad)))


def first_finite_start(target, key, num_tries: int = 100):
    """The first of `num_tries` ``target.init`` draws with a finite density and gradient.

    Returns:
        ``(flat position, found)``; without a finite draw, the first draw and False.
    """
    flat, found = _first_finite(target, key, num_tries)
    return flat, bool(found)
