"""What every MCMC kernel shares: the chain state, per-draw info and kernel parameters.

A kernel is an object with static settings and two pure methods::

    state = kernel.init(position, logdensity_fn)
    state, info = kernel.step(key, state, logdensity_fn, params)

`position` is a flat 1-D array (use `jax.flatten_util.ravel_pytree` for pytrees) and
`logdensity_fn` maps it to a scalar. Both methods are jit/vmap/scan friendly.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from probflow.inference.mcmc.metrics import Metric, make_metric

__all__ = ["ChainState", "SampleInfo", "KernelParams", "kernel_params", "init_state"]


class ChainState(NamedTuple):
    """The state of one chain: where it is, with the log density and its gradient there.

    Example:
        >>> import jax.numpy as jnp
        >>> state = init_state(jnp.ones(2), lambda x: -0.5 * x @ x)
        >>> float(state.logdensity), state.grad.tolist()
        (-1.0, [-1.0, -1.0])
    """

    position: jax.Array
    logdensity: jax.Array
    grad: jax.Array


class SampleInfo(NamedTuple):
    """Per-transition statistics (ArviZ's sample_stats names).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.mcmc import NUTS
        >>> logdensity = lambda x: -0.5 * x @ x
        >>> state = NUTS().init(jnp.zeros(2), logdensity)
        >>> _, info = NUTS().step(jax.random.key(0), state, logdensity,
        ...                      kernel_params(0.5, jnp.ones(2)))
        >>> info._fields[:2]
        ('diverging', 'energy')
    """

    diverging: jax.Array
    energy: jax.Array
    tree_depth: jax.Array
    n_steps: jax.Array
    acceptance_rate: jax.Array


class KernelParams(NamedTuple):
    """The tunable parameters of a Hamiltonian kernel: step size and metric.

    Example:
        >>> import jax.numpy as jnp
        >>> params = kernel_params(0.5, jnp.ones(3))
        >>> float(params.step_size), params.metric.inverse_mass_matrix.shape
        (0.5, (3,))
    """

    step_size: jax.Array
    metric: Metric


def kernel_params(step_size, inverse_mass_matrix) -> KernelParams:
    """Builds `KernelParams` from a step size and an inverse mass matrix.

    Args:
        step_size: positive scalar.
        inverse_mass_matrix: ``(d,)`` for a diagonal metric, ``(d, d)`` for a dense one.

    Returns:
        `KernelParams`.

    Example:
        >>> import jax.numpy as jnp
        >>> kernel_params(0.1, jnp.ones(3)).metric.inverse_mass_matrix.shape
        (3,)
    """
    metric = make_metric(inverse_mass_matrix)
    return KernelParams(jnp.asarray(step_size, metric.inverse_mass_matrix.dtype), metric)


def init_state(position, logdensity_fn) -> ChainState:
    """Evaluates the log density and gradient at a flat `position`.

    Example:
        >>> import jax.numpy as jnp
        >>> s = init_state(jnp.ones(2), lambda x: -0.5 * x @ x)
        >>> float(s.logdensity), s.grad.tolist()
        (-1.0, [-1.0, -1.0])
    """
    position = jnp.asarray(position)
    if position.ndim != 1:
        raise ValueError(
            f"`position` must be a flat 1-D array (ravel pytrees first); got shape {position.shape}"
        )
    logdensity, grad = jax.value_and_grad(logdensity_fn)(position)
    return ChainState(position, logdensity, grad)
