"""SG-MCMC kernels: SGLD, preconditioned SGLD (pSGLD) and SGHMC, as pure functions.

Each kernel is an `SGMCMCKernel(init, step)` pair over a NamedTuple state:

* ``init(position) -> state``
* ``step(key, state, batch, logdensity_fn, step_size, *, add_noise=True) -> (state, info)``

where ``logdensity_fn(position, batch)`` is a minibatch estimate of the log posterior
(see `minibatch_logdensity`) and `position` any pytree. Setting ``add_noise=False``
turns a kernel into its optimiser (SGD, RMSprop, SGD with momentum), which cyclical
SG-MCMC uses in its exploration stages.

References: Welling & Teh (2011) for SGLD; Li et al. (2016) for pSGLD; Chen, Fox &
Guestrin (2014) for SGHMC and its gradient-noise estimate.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["SGMCMCKernel", "sgld", "psgld", "sghmc", "SGLDState", "PSGLDState", "SGHMCState"]


class SGMCMCKernel(NamedTuple):
    """A pair of pure functions: ``init(position)`` and ``step(key, state, batch, ...)``.

    Example:
        >>> import jax.numpy as jnp
        >>> kernel = sgld()
        >>> type(kernel.init(jnp.zeros(2))).__name__
        'SGLDState'
    """

    init: Callable
    step: Callable


class SGLDState(NamedTuple):
    """State of an SGLD chain: the position.

    Example:
        >>> import jax.numpy as jnp
        >>> sgld().init(jnp.zeros(2)).position.shape
        (2,)
    """

    position: Any


class PSGLDState(NamedTuple):
    """State of a pSGLD chain: the position and the running average of squared gradients.

    Example:
        >>> import jax.numpy as jnp
        >>> psgld().init(jnp.zeros(2)).square_avg.tolist()
        [0.0, 0.0]
    """

    position: Any
    square_avg: Any


class SGHMCState(NamedTuple):
    """State of an SGHMC chain: position, velocity and the gradient-noise estimates.

    Example:
        >>> import jax.numpy as jnp
        >>> sghmc().init(jnp.zeros(2)).velocity.tolist()
        [0.0, 0.0]
    """

    position: Any
    velocity: Any
    grad_mean: Any
    grad_var: Any


class SGMCMCInfo(NamedTuple):
    logdensity: jax.Array
    step_size: jax.Array


def _normal_like(key, tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    keys = jax.random.split(key, len(leaves))
    noise = [jax.random.normal(k, jnp.shape(x), jnp.result_type(x)) for k, x in zip(keys, leaves)]
    return jax.tree_util.tree_unflatten(treedef, noise)


def _value_and_grad(logdensity_fn, position, batch):
    return jax.value_and_grad(logdensity_fn)(position, batch)


def sgld(*, temperature: float = 1.0) -> SGMCMCKernel:
    """Stochastic-gradient Langevin dynamics.

    ``theta <- theta + step_size / 2 * grad + sqrt(step_size * temperature) * xi``.

    Args:
        temperature: posterior temperature (1 samples the posterior; < 1 sharpens it).

    Returns:
        An `SGMCMCKernel`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> kernel = sgld()
        >>> state = kernel.init(jnp.zeros(2))
        >>> fn = lambda theta, batch: -0.5 * jnp.sum(theta ** 2)
        >>> state, info = kernel.step(jax.random.key(0), state, None, fn, 0.1)
        >>> state.position.shape
        (2,)
    """
    _check_temperature(temperature)

    def init(position):
        return SGLDState(position)

    def step(key, state, batch, logdensity_fn, step_size, *, add_noise=True):
        logdensity, grad = _value_and_grad(logdensity_fn, state.position, batch)
        noise = _normal_like(key, state.position)
        scale = jnp.sqrt(step_size * temperature) * add_noise
        position = jax.tree_util.tree_map(
            lambda x, g, n: x + 0.5 * step_size * g + scale * n, state.position, grad, noise
        )
        return SGLDState(position), SGMCMCInfo(logdensity, jnp.asarray(step_size))

    return SGMCMCKernel(init, step)


def psgld(*, decay: float = 0.99, epsilon: float = 1e-5, temperature: float = 1.0) -> SGMCMCKernel:
    """Preconditioned SGLD with an RMSprop diagonal preconditioner (Li et al. 2016).

    ``V <- decay V + (1 - decay) g^2``, ``G = 1 / (epsilon + sqrt(V))``,
    ``theta <- theta + step_size / 2 * G g + sqrt(step_size * temperature * G) * xi``
    (the small Gamma correction term is dropped, as in the paper's experiments).

    Args:
        decay: RMSprop averaging constant in (0, 1).
        epsilon: diagonal bias keeping the preconditioner bounded.
        temperature: posterior temperature.

    Returns:
        An `SGMCMCKernel`.

    Example:
        >>> kernel = psgld(decay=0.9)
        >>> callable(kernel.step)
        True
    """
    _check_temperature(temperature)
    if not 0.0 < decay < 1.0:
        raise ValueError(f"`decay` must be in (0, 1); got {decay}")

    def init(position):
        return PSGLDState(position, jax.tree_util.tree_map(jnp.zeros_like, position))

    def step(key, state, batch, logdensity_fn, step_size, *, add_noise=True):
        logdensity, grad = _value_and_grad(logdensity_fn, state.position, batch)
        square_avg = jax.tree_util.tree_map(
            lambda v, g: decay * v + (1 - decay) * g * g, state.square_avg, grad
        )
        noise = _normal_like(key, state.position)

        def update(x, g, v, n):
            precond = 1.0 / (epsilon + jnp.sqrt(v))
            return x + 0.5 * step_size * precond * g + add_noise * jnp.sqrt(
                step_size * temperature * precond
            ) * n

        position = jax.tree_util.tree_map(update, state.position, grad, square_avg, noise)
        return PSGLDState(position, square_avg), SGMCMCInfo(logdensity, jnp.asarray(step_size))

    return SGMCMCKernel(init, step)


def sghmc(*, friction: float = 0.05, estimate_noise: bool = True, noise_decay: float = 0.99,
          temperature: float = 1.0) -> SGMCMCKernel:
    """Stochastic-gradient Hamiltonian Monte Carlo (Chen, Fox & Guestrin 2014).

    In the paper's practical parametrisation (learning rate ``eta = step_size``,
    momentum decay ``alpha = friction``, unit mass):
    ``v <- (1 - alpha) v + eta g + N(0, 2 (alpha T - beta_hat) eta)``,
    ``theta <- theta + v``, with ``beta_hat = eta * V_hat / 2`` from a running estimate
    ``V_hat`` of the stochastic gradient's variance (clipped so the injected noise stays
    non-negative), or 0 when ``estimate_noise=False``. The injected noise and the
    gradient noise then add up to ``2 alpha eta T``, so the chain targets ``p^(1/T)``.

    Args:
        friction: alpha in (0, 1]: the fraction of the velocity lost per step.
        estimate_noise: subtract the estimated gradient noise from the injected noise.
        noise_decay: averaging constant of the gradient mean/variance estimates.
        temperature: posterior temperature.

    Returns:
        An `SGMCMCKernel`.

    Example:
        >>> kernel = sghmc(friction=0.1)
        >>> callable(kernel.step)
        True
    """
    _check_temperature(temperature)
    if not 0.0 < friction <= 1.0:
        raise ValueError(f"`friction` must be in (0, 1]; got {friction}")

    def init(position):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, position)
        return SGHMCState(position, zeros, zeros, zeros)

    def step(key, state, batch, logdensity_fn, step_size, *, add_noise=True):
        logdensity, grad = _value_and_grad(logdensity_fn, state.position, batch)
        grad_mean = jax.tree_util.tree_map(
            lambda m, g: noise_decay * m + (1 - noise_decay) * g, state.grad_mean, grad
        )
        grad_var = jax.tree_util.tree_map(
            lambda s, g, m: noise_decay * s + (1 - noise_decay) * (g - m) ** 2,
            state.grad_var, grad, grad_mean,
        )
        noise = _normal_like(key, state.position)

        def update_velocity(v, g, var, n):
            beta_hat = 0.5 * step_size * var if estimate_noise else 0.0
            # The gradient's own noise (variance eta^2 V = 2 eta beta_hat) does not cool
            # with the temperature, so it is subtracted from the tempered total
            # 2 alpha eta T, not from 2 alpha eta before tempering.
            noise_var = 2.0 * step_size * jnp.maximum(friction * temperature - beta_hat, 0.0)
            return (1 - friction) * v + step_size * g + add_noise * jnp.sqrt(noise_var) * n

        velocity = jax.tree_util.tree_map(update_velocity, state.velocity, grad, grad_var, noise)
        position = jax.tree_util.tree_map(jnp.add, state.position, velocity)
        new_state = SGHMCState(position, velocity, grad_mean, grad_var)
        return new_state, SGMCMCInfo(logdensity, jnp.asarray(step_size))

    return SGMCMCKernel(init, step)


def _check_temperature(temperature):
    if not float(temperature) > 0:
        raise ValueError(f"`temperature` must be > 0; got {temperature}")
