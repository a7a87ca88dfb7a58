"""Hamiltonian Monte Carlo with a Metropolis correction (Neal 2011).

The trajectory has either a fixed number of leapfrog steps or a fixed length
(``trajectory_length``), the latter jittered uniformly in [0.5, 1.5] times the length
each transition so that no fixed period of the target resonates with it.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from probflow.inference.mcmc.integrators import IntegratorState, integrate
from probflow.inference.mcmc.kernel import ChainState, KernelParams, SampleInfo, init_state
from probflow.inference.mcmc.metrics import kinetic_energy, sample_momentum

__all__ = ["HMC"]


@dataclasses.dataclass(frozen=True)
class HMC:
    """Hamiltonian Monte Carlo kernel.

    Args:
        num_integration_steps: leapfrog steps per transition (when no trajectory length).
        trajectory_length: if given, the integration time per transition (jittered);
            the number of steps is then ``ceil(length / step_size)``.
        max_energy_error: an energy error above this marks the transition divergent.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from probflow.inference.mcmc import HMC, kernel_params
        >>> logdensity = lambda x: -0.5 * x @ x
        >>> kernel = HMC(num_integration_steps=5)
        >>> state = kernel.init(jnp.zeros(2), logdensity)
        >>> state, info = kernel.step(jax.random.key(0), state, logdensity,
        ...                           kernel_params(0.3, jnp.ones(2)))
        >>> int(info.n_steps)
        5
    """

    num_integration_steps: int = 10
    trajectory_length: float | None = None
    max_energy_error: float = 1000.0

    def __post_init__(self):
        if not isinstance(self.num_integration_steps, int) or self.num_integration_steps < 1:
            raise ValueError(
                "`num_integration_steps` must be a positive int; "
                f"got {self.num_integration_steps!r}"
            )
        if self.trajectory_length is not None and not self.trajectory_length > 0:
            raise ValueError(
                f"`trajectory_length` must be positive; got {self.trajectory_length!r}"
            )

    def init(self, position, logdensity_fn) -> ChainState:
        """Evaluates the log density and its gradient at the flat `position`."""
        return init_state(position, logdensity_fn)

    def step(self, key, state: ChainState, logdensity_fn, params: KernelParams):
        """One HMC transition: draw momentum, integrate, accept or reject.

        Returns:
            ``(new_state, SampleInfo)``; `tree_depth` is 0 for HMC.
        """
        value_and_grad = jax.value_and_grad(logdensity_fn)
        metric, step_size = params.metric, params.step_size
        dtype = state.position.dtype
        key_momentum, key_accept, key_length = jax.random.split(key, 3)
        momentum = sample_momentum(key_momentum, metric, state.position)
        initial_energy = -state.logdensity + kinetic_energy(metric, momentum)
        if self.trajectory_length is None:
            num_steps = jnp.int32(self.num_integration_steps)
        else:
            length = self.trajectory_length * jax.random.uniform(key_length, (), dtype, 0.5, 1.5)
            num_steps = jnp.maximum(jnp.ceil(length / step_size), 1).astype(jnp.int32)
        start = IntegratorState(state.position, momentum, state.logdensity, state.grad)
        end = integrate(value_and_grad, metric, start, step_size, num_steps)
        energy = -end.logdensity + kinetic_energy(metric, end.momentum)
        energy = jnp.where(jnp.isnan(energy), jnp.inf, energy)
        delta = energy - initial_energy
        acceptance_rate = jnp.exp(jnp.minimum(-delta, 0.0))
        accept = jax.random.uniform(key_accept, (), dtype) < acceptance_rate
        proposal = ChainState(end.position, end.logdensity, end.grad)
        new_state = jax.tree_util.tree_map(
            lambda a, b: jnp.where(accept, a, b), proposal, state
        )
        info = SampleInfo(
            diverging=delta > self.max_energy_error,
            energy=jnp.where(accept, energy, initial_energy),
            tree_depth=jnp.zeros((), jnp.int32),
            n_steps=num_steps,
            acceptance_rate=acceptance_rate,
        )
        return new_state, info
