"""The velocity Verlet (leapfrog) integrator on a flat position vector.

The gradient at the end of a step is carried into the next one, so each step costs
exactly one evaluation of the log density and its gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax

from probflow.inference.mcmc.metrics import Metric, velocity

__all__ = ["IntegratorState", "leapfrog", "integrate"]


class IntegratorState(NamedTuple):
    """A point in phase space with its log density and gradient."""

    position: jax.Array
    momentum: jax.Array
    logdensity: jax.Array
    grad: jax.Array


def leapfrog(value_and_grad: Callable, metric: Metric, state: IntegratorState, step_size):
    """One velocity Verlet step (a negative `step_size` integrates backwards in time).

    Args:
        value_and_grad: ``position -> (logdensity, grad)``.
        metric: the Euclidean `Metric`.
        state: the current `IntegratorState`.
        step_size: scalar step size.

    Returns:
        The new `IntegratorState`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.mcmc.metrics import make_metric
        >>> vg = jax.value_and_grad(lambda x: -0.5 * x @ x)
        >>> x = jnp.ones(2)
        >>> s = IntegratorState(x, jnp.zeros(2), *vg(x))
        >>> s = leapfrog(vg, make_metric(jnp.ones(2)), s, 0.1)
        >>> [round(float(v), 3) for v in s.position]
        [0.995, 0.995]
    """
    half = 0.5 * step_size
    momentum = state.momentum + half * state.grad
    position = state.position + step_size * velocity(metric, momentum)
    logdensity, grad = value_and_grad(position)
    momentum = momentum + half * grad
    return IntegratorState(position, momentum, logdensity, grad)


def integrate(value_and_grad: Callable, metric: Metric, state: IntegratorState, step_size,
              num_steps):
    """Runs `num_steps` leapfrog steps (a traced count is allowed) in one compiled loop.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.mcmc.metrics import make_metric
        >>> vg = jax.value_and_grad(lambda x: -0.5 * x @ x)
        >>> s = IntegratorState(jnp.ones(1), jnp.zeros(1), *vg(jnp.ones(1)))
        >>> out = integrate(vg, make_metric(jnp.ones(1)), s, 0.01, 157)   # ~ a quarter turn
        >>> abs(float(out.position[0])) < 0.01
        True
    """
    return jax.lax.fori_loop(
        0, num_steps, lambda _, s: leapfrog(value_and_grad, metric, s, step_size), state
    )
