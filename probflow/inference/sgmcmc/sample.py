"""The SG-MCMC driver: minibatches, burn-in, thinning and chains in one jitted program."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from probflow._seed import as_key
from probflow.inference.sgmcmc import schedules
from probflow.inference.sgmcmc.kernels import SGMCMCKernel, adaptive_sghmc, psgld, sghmc, sgld

__all__ = ["SGMCMCResult", "sample"]

_KERNELS = {"sgld": sgld, "psgld": psgld, "sghmc": sghmc, "adaptive_sghmc": adaptive_sghmc}


class SGMCMCResult(NamedTuple):
    """Draws of an SG-MCMC run.

    Attributes:
        samples: pytree like `init` with leaves ``[chain, draw, ...]``; with a cyclical
            schedule only the draws taken in sampling stages are kept.
        stats: dict of ``[chain, draw]`` arrays: ``logdensity`` (the minibatch estimate
            at the step that produced the draw) and ``step_size``.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.inference.sgmcmc import minibatch_logdensity
        >>> fn = minibatch_logdensity(lambda t: -t**2 / 2, lambda t, x: -(x - t) ** 2 / 2, 50)
        >>> result = sample(fn, jnp.zeros(()), jnp.zeros(50), num_steps=20, batch_size=10)
        >>> result.samples.shape, sorted(result.stats)
        ((1, 20), ['logdensity', 'step_size'])
    """

    samples: Any
    stats: dict

    def to_arviz(self):
        """The draws as ArviZ InferenceData (posterior and sample_stats)."""
        from probflow.inference.arviz import to_inference_data

        posterior = self.samples if isinstance(self.samples, dict) else {"x": self.samples}
        return to_inference_data(posterior=posterior, sample_stats=self.stats)


def sample(
    logdensity_fn: Callable,
    init: Any,
    data: Any,
    *,
    kernel: str | SGMCMCKernel = "sgld",
    step_size: float | Callable = 1e-3,
    num_steps: int = 10_000,
    batch_size: int = 32,
    burn_in: int = 0,
    thin: int = 1,
    num_chains: int = 1,
    is_sampling: Callable | None = None,
    seed=0,
) -> SGMCMCResult:
    """Runs stochastic-gradient MCMC over minibatches of `data`.

    Minibatches follow a fresh permutation each epoch (every example once per epoch;
    the remainder ``N mod batch_size`` rotates through later epochs). Chains share
    the minibatch sequence and differ in their noise.

    Args:
        logdensity_fn: ``fn(position, batch) -> scalar`` minibatch log-posterior estimate
            (build one with `minibatch_logdensity`).
        init: initial position (pytree) of one chain; every chain starts there and
            the chains separate through their independent noise.
        data: pytree of arrays with a common leading dim N.
        kernel: "sgld", "psgld", "sghmc", "adaptive_sghmc" (its mass adapts with the
            tau window for 1000 steps; build it with
            ``adaptive_sghmc(num_adapt_steps=burn_in)`` to match the burn-in) or an
            `SGMCMCKernel`.
        step_size: a float or a schedule ``step -> step_size`` (see `schedules`).
        num_steps: total steps, burn-in included.
        batch_size: examples per step.
        burn_in: steps discarded first.
        thin: keep one draw every `thin` steps after burn-in.
        num_chains: independent chains (vmapped).
        is_sampling: optional ``step -> bool``; steps where it is False run the kernel
            without noise and their draws are dropped (cyclical SG-MCMC's exploration).
        seed: int or `jax.random` key.

    Returns:
        An `SGMCMCResult`.

    Example:
        >>> import jax.numpy as jnp
        >>> from probflow.inference import sgmcmc
        >>> data = jnp.linspace(-1.0, 1.0, 100)
        >>> fn = sgmcmc.minibatch_logdensity(lambda t: -t**2 / 2,
        ...                                  lambda t, x: -(x - t) ** 2 / 2, 100)
        >>> result = sgmcmc.sample(fn, jnp.zeros(()), data, step_size=1e-3,
        ...                        num_steps=200, batch_size=10, burn_in=100)
        >>> result.samples.shape
        (1, 100)
    """
    kernel = _resolve_kernel(kernel)
    schedule = step_size if callable(step_size) else schedules.constant(step_size)
    num_steps, batch_size, burn_in, thin, num_chains = (
        _positive_int("num_steps", num_steps), _positive_int("batch_size", batch_size),
        _nonnegative_int("burn_in", burn_in), _positive_int("thin", thin),
        _positive_int("num_chains", num_chains),
    )
    if burn_in >= num_steps:
        raise ValueError(f"`burn_in` must be < num_steps={num_steps}; got {burn_in}")
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ValueError("`data` must contain at least one array")
    data_size = int(np.shape(leaves[0])[0])
    if any(np.shape(leaf)[0] != data_size for leaf in leaves):
        raise ValueError(f"every array in `data` must have the same leading dim; got "
                         f"{[np.shape(leaf) for leaf in leaves]}")
    if batch_size > data_size:
        raise ValueError(f"`batch_size` must be <= the data size {data_size}; got {batch_size}")
    init = _broadcast_chains(init, num_chains)

    run = _build_run(kernel, logdensity_fn, schedule, is_sampling, num_steps, batch_size,
                     burn_in, thin, data_size)
    positions, stats, sampling_mask = run(as_key(seed), init, data)
    keep = np.asarray(sampling_mask)
    samples = jax.tree_util.tree_map(lambda x: np.asarray(x)[:, keep], positions)
    stats = {k: np.asarray(v)[:, keep] for k, v in stats.items()}
    return SGMCMCResult(samples, stats)


def _build_run(kernel, logdensity_fn, schedule, is_sampling, num_steps, batch_size, burn_in,
               thin, data_size):
    batches_per_epoch = data_size // batch_size
    num_draws = (num_steps - burn_in) // thin

    def run(key, init, data):
        key_data, key_noise = jax.random.split(key)
        states = jax.vmap(kernel.init)(init)
        num_chains = jax.tree_util.tree_leaves(init)[0].shape[0]

        def one_step(carry, step):
            states, permutation = carry
            offset = jnp.mod(step, batches_per_epoch) * batch_size
            new_epoch = offset == 0
            permutation = jax.lax.cond(
                new_epoch,
                lambda: jax.random.permutation(jax.random.fold_in(key_data, step), data_size),
                lambda: permutation,
            )
            index = jax.lax.dynamic_slice(permutation, (offset,), (batch_size,))
            batch = jax.tree_util.tree_map(lambda a: a[index], data)
            step_size = schedule(step)
            noisy = True if is_sampling is None else is_sampling(step)
            keys = jax.random.split(jax.random.fold_in(key_noise, step), num_chains)
            states, info = jax.vmap(
                lambda k, s: kernel.step(k, s, batch, logdensity_fn, step_size, add_noise=noisy)
            )(keys, states)
            return (states, permutation), (info, noisy)

        permutation = jnp.arange(data_size)
        carry = (states, permutation)
        if burn_in:
            carry, _ = jax.lax.scan(one_step, carry, jnp.arange(burn_in))

        def one_draw(carry, draw):
            steps = burn_in + draw * thin + jnp.arange(thin)
            carry, (info, noisy) = jax.lax.scan(one_step, carry, steps)
            last = jax.tree_util.tree_map(lambda x: x[-1], info)
            return carry, (carry[0].position, last, noisy[-1])

        _, (positions, info, noisy) = jax.lax.scan(one_draw, carry, jnp.arange(num_draws))
        positions = jax.tree_util.tree_map(lambda x: jnp.swapaxes(x, 0, 1), positions)
        stats = {"logdensity": info.logdensity.T, "step_size": info.step_size.T}
        return positions, stats, jnp.broadcast_to(noisy, (num_draws,))

    return jax.jit(run)


def _resolve_kernel(kernel):
    if isinstance(kernel, SGMCMCKernel):
        return kernel
    if isinstance(kernel, str) and kernel in _KERNELS:
        return _KERNELS[kernel]()
    raise ValueError(f"`kernel` must be one of {sorted(_KERNELS)} or an SGMCMCKernel; got {kernel!r}")


def _broadcast_chains(init, num_chains):
    init = jax.tree_util.tree_map(jnp.asarray, init)
    leaves = jax.tree_util.tree_leaves(init)
    if not leaves:
        raise ValueError("`init` must contain at least one array")
    return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (num_chains,) + x.shape), init)


def _positive_int(name, value):
    if int(value) != value or int(value) < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}")
    return int(value)


def _nonnegative_int(name, value):
    if int(value) != value or int(value) < 0:
        raise ValueError(f"`{name}` must be a non-negative int; got {value!r}")
    return int(value)
