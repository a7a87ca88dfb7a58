"""SG-MCMC kernels: SGLD, preconditioned SGLD (pSGLD) and SGHMC, as pure functions.

Each kernel is an `SGMCMCKernel(init, step)` pair over a NamedTuple state:

* ``init(position) -> state``
* ``step(key, state, batch, logdensity_fn, step_size, *, add_noise=True) -> (state, info)``

where ``logdensity_fn(position, batch)`` is a minibatch estimate of the log posterior
(see `minibatch_logdensity`) and `position` any pytree. Setting ``add_noise=False``
turns a kernel into its optimiser (SGD, RMSprop, SGD with momentum), which cyclical
SG-MCMC uses in its exploration stages.

References: Welling & Teh (2011) for SGLD; Li et al. (2016) for pSGLD; Chen, Fox &
Guestrin (2014) for SGHMC and its gradient-noise estimate; Springenberg et al. (2016)
for scale-adapted SGHMC.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["SGMCMCKernel", "sgld", "psgld", "sghmc", "adaptive_sghmc", "SGLDState",
           "PSGLDState", "SGHMCState", "AdaptiveSGHMCState"]


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


class AdaptiveSGHMCState(NamedTuple):
    """State of a scale-adapted SGHMC chain (`adaptive_sghmc`).

    Attributes:
        position: the current position.
        velocity: the current velocity (position change of the last step).
        grad_mean: running mean of the stochastic gradient (sets the window).
        grad_square: running mean of the squared gradient; its root is the mass.
        window: the adaptive averaging window tau.
        count: steps taken so far (int32); adaptation stops after `num_adapt_steps`
            when the kernel has one.

    Example:
        >>> import jax.numpy as jnp
        >>> adaptive_sghmc().init(jnp.zeros(2)).grad_square.tolist()
        [1.0, 1.0]
    """

    position: Any
    velocity: Any
    grad_mean: Any
    grad_square: Any
    window: Any
    count: Any


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


def adaptive_sghmc(*, friction: float = 0.05, temperature: float = 1.0,
                   num_adapt_steps: int = 1000, keep_averaging: bool = True,
                   epsilon: float = 1e-16) -> SGMCMCKernel:
    """Scale-adapted SGHMC: a per-coordinate mass from the gradient's scale.

    Springenberg et al. (2016), "Bayesian optimization with robust Bayesian neural
    networks". The mass of each coordinate is ``sqrt(V_hat)``, the root of a running
    mean of its squared stochastic gradient, so steps are relative to each weight's
    gradient scale (as in RMSprop or Adam) and one `step_size` suits weights whose
    gradients differ by orders of magnitude, and networks of any data size. With
    ``M^-1 = 1 / sqrt(V_hat)`` and learning rate ``eta = step_size``:
    ``v <- (1 - alpha) v + eta M^-1 g + N(0, 2 alpha eta T M^-1 - eta^2)``,
    ``theta <- theta + v``, where ``eta^2`` bounds the variance that the gradient's own
    noise adds (``eta^2 M^-2 Var(g) <= eta^2``, the paper's ``B_hat``).

    For its first `num_adapt_steps` steps (burn-in) the running means use the paper's
    adaptive window tau (Eq. 8-9): short while a gradient is consistent (a coordinate
    still travelling), one step longer per step while the gradient is noise. After
    them the paper fixes the mass, and a fixed-mass SGHMC targets ``p^(1/T)`` for any
    mass. Here, by default (``keep_averaging=True``), the means instead become plain
    averages over all steps so far, whose change per step falls as 1 / step (a
    diminishing adaptation): on a 64-32-10 digits network with a mass frozen after
    burn-in, 4 of 6 runs of 20 chains x 400 epochs (temperatures 1, 0.3, 0.1) had one
    chain diverge after 300-365 epochs (a weight whose gradient was rare at freezing
    time met a large one later); with averaging none did. Keeping the tau window forever is not an option: on a noise-free
    gradient the window stays short, the mass follows the position and the stationary
    variance of a Gaussian came out 40% too large.

    ``step_size`` is the paper's ``epsilon^2`` (its code's default ``epsilon = 0.01``
    is ``step_size = 1e-4``); it is absolute, not divided by the data size, since the
    mass already carries the gradient's scale.

    Args:
        friction: alpha in (0, 1], the fraction of velocity lost per step (the paper's
            ``mdecay``, 0.05).
        temperature: posterior temperature.
        num_adapt_steps: burn-in steps that adapt the mass with the tau window.
        keep_averaging: after them, keep averaging over all steps (True) or fix the
            mass (False, the paper's choice).
        epsilon: keeps ``1 / sqrt(V_hat)`` finite.

    Returns:
        An `SGMCMCKernel`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> kernel = adaptive_sghmc(num_adapt_steps=100)
        >>> fn = lambda theta, batch: -0.5 * jnp.sum(1e4 * theta ** 2)
        >>> state = kernel.init(jnp.ones(2))
        >>> state, info = kernel.step(jax.random.key(0), state, None, fn, 1e-3)
        >>> int(state.count), state.grad_square.tolist()  # 1/2 of 1 + 1/2 of 1e8
        (1, [50000000.0, 50000000.0])
    """
    _check_temperature(temperature)
    if not 0.0 < friction <= 1.0:
        raise ValueError(f"`friction` must be in (0, 1]; got {friction}")
    if isinstance(num_adapt_steps, bool) or int(num_adapt_steps) != num_adapt_steps \
            or num_adapt_steps < 0:
        raise ValueError(f"`num_adapt_steps` must be an int >= 0; got {num_adapt_steps!r}")

    def init(position):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, position)
        # The paper's start: unit window, mean and mean square; the first step's rate
        # 1 / (1 + 1) then puts half the weight on the first gradient.
        ones = jax.tree_util.tree_map(jnp.ones_like, position)
        return AdaptiveSGHMCState(position, zeros, ones, ones, ones, jnp.zeros((), jnp.int32))

    def step(key, state, batch, logdensity_fn, step_size, *, add_noise=True):
        logdensity, grad = _value_and_grad(logdensity_fn, state.position, batch)
        adapting = state.count < num_adapt_steps
        tree_map = jax.tree_util.tree_map
        if keep_averaging:
            # After adaptation: plain averages over every step so far (the estimate of
            # the adaptation weighing as its steps), so the mass converges.
            averaging = 1.0 / (state.count.astype(jnp.result_type(float)) + 1.0)
            rate = tree_map(lambda w: jnp.where(adapting, 1.0 / (w + 1.0), averaging),
                            state.window)
            adapting = True
        else:
            rate = tree_map(lambda w: 1.0 / (w + 1.0), state.window)  # the old window's

        def updated(new, old):
            return tree_map(lambda a, b: jnp.where(adapting, a, b), new, old)

        window = updated(tree_map(lambda w, m, v: w - w * m * m / (v + epsilon) + 1.0,
                                  state.window, state.grad_mean, state.grad_square),
                         state.window)
        grad_mean = updated(tree_map(lambda m, r, g: m + r * (g - m), state.grad_mean, rate,
                                     grad), state.grad_mean)
        grad_square = updated(tree_map(lambda v, r, g: v + r * (g * g - v),
                                       state.grad_square, rate, grad), state.grad_square)
        noise = _normal_like(key, state.position)

        def update_velocity(v, g, square, n):
            inverse_mass = 1.0 / (jnp.sqrt(square) + epsilon)
            noise_var = jnp.maximum(
                2.0 * friction * temperature * step_size * inverse_mass - step_size**2, 0.0)
            return ((1 - friction) * v + step_size * inverse_mass * g
                    + add_noise * jnp.sqrt(noise_var) * n)

        velocity = tree_map(update_velocity, state.velocity, grad, grad_square, noise)
        position = tree_map(jnp.add, state.position, velocity)
        new_state = AdaptiveSGHMCState(position, velocity, grad_mean, grad_square, window,
                                       state.count + 1)
        return new_state, SGMCMCInfo(logdensity, jnp.asarray(step_size))

    return SGMCMCKernel(init, step)


def _check_temperature(temperature):
    if not float(temperature) > 0:
        raise ValueError(f"`temperature` must be > 0; got {temperature}")
