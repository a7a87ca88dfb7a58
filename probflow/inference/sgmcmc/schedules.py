"""Step-size schedules for SG-MCMC: constant, polynomial decay, cyclical (cSG-MCMC).

A schedule is a function ``step -> step_size`` of a traced int, so it runs inside the
jitted loop.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["constant", "cyclical", "cyclical_is_sampling", "polynomial_decay"]


def constant(step_size: float):
    """``step -> step_size``.

    Example:
        >>> float(constant(0.5)(7))
        0.5
    """
    _check_positive("step_size", step_size)
    return lambda step: jnp.asarray(step_size, jnp.float32)


def polynomial_decay(step_size: float, *, offset: float = 1.0, power: float = 0.55):
    """Welling & Teh (2011) decay: ``step_size * (offset / (offset + step)) ** power``.

    With ``0.5 < power <= 1`` the Robbins-Monro conditions hold.

    Example:
        >>> round(float(polynomial_decay(1.0, offset=1.0, power=1.0)(1)), 3)
        0.5
    """
    _check_positive("step_size", step_size)
    return lambda step: step_size * (offset / (offset + step)) ** power


def cyclical(step_size: float, num_steps: int, num_cycles: int):
    """Cosine cyclical schedule of Zhang et al. (2020), restarting `num_cycles` times.

    ``step_size / 2 * (cos(pi * (t mod L) / L) + 1)`` with cycle length
    ``L = ceil(num_steps / num_cycles)``.

    Example:
        >>> s = cyclical(1.0, num_steps=10, num_cycles=2)
        >>> float(s(0)), float(s(5))
        (1.0, 1.0)
    """
    _check_positive("step_size", step_size)
    cycle_length = _cycle_length(num_steps, num_cycles)

    def schedule(step):
        phase = jnp.mod(step, cycle_length) / cycle_length
        return step_size / 2 * (jnp.cos(jnp.pi * phase) + 1)

    return schedule


def cyclical_is_sampling(num_steps: int, num_cycles: int, exploration_ratio: float = 0.5):
    """``step -> bool``: whether a step of the cyclical schedule is in its sampling stage.

    Zhang et al. (2020) explore (optimise, no noise) in the first `exploration_ratio` of
    each cycle and sample in the rest.
    """
    if not 0.0 <= exploration_ratio < 1.0:
        raise ValueError(f"`exploration_ratio` must be in [0, 1); got {exploration_ratio}")
    cycle_length = _cycle_length(num_steps, num_cycles)
    return lambda step: jnp.mod(step, cycle_length) / cycle_length >= exploration_ratio


def _cycle_length(num_steps, num_cycles):
    if int(num_cycles) <= 0 or int(num_steps) < int(num_cycles):
        raise ValueError(
            f"`num_cycles` must be in [1, num_steps]; got num_cycles={num_cycles}, "
            f"num_steps={num_steps}"
        )
    return -(-int(num_steps) // int(num_cycles))


def _check_positive(name, value):
    if not float(value) > 0:
        raise ValueError(f"`{name}` must be > 0; got {value}")
