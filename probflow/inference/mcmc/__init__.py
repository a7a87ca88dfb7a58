"""MCMC: HMC and NUTS kernels, Stan's and nutpie-style warmup, the `sample()` driver.

Kernels are objects with static settings and two pure methods over NamedTuple states,
usable in your own `lax.scan`::

    state = kernel.init(position, logdensity_fn)                # ChainState
    state, info = kernel.step(key, state, logdensity_fn, params)  # info: SampleInfo

`position` is a flat 1-D array, `logdensity_fn(position) -> scalar`, and `params` is
`KernelParams(step_size, metric)` (build it with `kernel_params(step_size,
inverse_mass_matrix)`; a vector inverse mass matrix is diagonal, a matrix dense).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from probflow.inference.mcmc import NUTS, kernel_params
    >>> logdensity = lambda x: -0.5 * x @ x
    >>> kernel, params = NUTS(), kernel_params(0.8, jnp.ones(2))
    >>> def one_step(state, key):
    ...     state, info = kernel.step(key, state, logdensity, params)
    ...     return state, state.position
    >>> _, draws = jax.lax.scan(one_step, kernel.init(jnp.zeros(2), logdensity),
    ...                         jax.random.split(jax.random.key(0), 100))
    >>> draws.shape
    (100, 2)
"""

from probflow.inference.mcmc.hmc import HMC
from probflow.inference.mcmc.kernel import (
    ChainState,
    KernelParams,
    SampleInfo,
    init_state,
    kernel_params,
)
from probflow.inference.mcmc.metrics import Metric, make_metric
from probflow.inference.mcmc.nuts import NUTS
from probflow.inference.mcmc.result import MCMCResult
from probflow.inference.mcmc.sample import sample

__all__ = [
    "HMC",
    "NUTS",
    "ChainState",
    "KernelParams",
    "MCMCResult",
    "Metric",
    "SampleInfo",
    "init_state",
    "kernel_params",
    "make_metric",
    "sample",
]
