"""Sampling a plain JAX log density, BlackJAX style: the driver, then your own loop.

The target is a "banana": x1 ~ Normal(0, 2) and x2 = y + b (x1^2 - 4) with
y ~ Normal(0, 1), written as a plain function of a dict — no probflow distribution in
sight. Its moments are known (E x1 = E x2 = 0, Var x1 = 4, Var x2 = 1 + 32 b^2).

1. `probflow.inference.sample(logdensity, init, kernel="hmc")`: the driver runs
   Stan's warmup (step size and mass matrix) and HMC, one compiled program.
2. The same with NUTS, but the sampling loop is ours: the kernel is a pair of pure
   functions (``init``, ``step``) over NamedTuple states, driven by `jax.lax.scan`,
   with the step size and mass matrix adapted by the driver in step 1.

The script prints estimates against the exact moments (with Monte-Carlo standard
errors) and writes a scatter plot of both sets of draws.

Run:  python examples/custom_logdensity_hmc.py [--quick]
"""

from __future__ import annotations

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
from _common import parse_args, pyplot, save_figure

from probflow.inference import mcmc, sample

BEND = 0.5


def banana_logdensity(position):
    """Unnormalised log density of the banana; `position` is {"x1": (), "x2": ()}."""
    x1, x2 = position["x1"], position["x2"]
    return -0.5 * (x1 / 2.0) ** 2 - 0.5 * (x2 - BEND * (x1**2 - 4.0)) ** 2


EXACT = {"x1": (0.0, 4.0), "x2": (0.0, 1.0 + 32.0 * BEND**2)}  # (mean, variance)


def own_nuts_loop(key, logdensity_flat, start, step_size, inverse_mass_matrix, num_draws):
    """Runs `num_draws` NUTS transitions with `lax.scan`; returns draws ``[num_draws, 2]``."""
    kernel = mcmc.NUTS(max_tree_depth=8)
    params = mcmc.kernel_params(step_size, inverse_mass_matrix)

    def one_step(state, step_key):
        state, info = kernel.step(step_key, state, logdensity_flat, params)
        return state, (state.position, info.diverging)

    state = kernel.init(start, logdensity_flat)
    _, (draws, diverging) = jax.lax.scan(one_step, state, jax.random.split(key, num_draws))
    return draws, diverging


def report(name, draws):
    """Prints mean and variance of x1, x2 against the exact values, in MCSE units."""
    idata = az.from_dict(posterior=draws)
    ess = az.ess(idata)
    for var, (mean, variance) in EXACT.items():
        values = np.asarray(draws[var])
        mcse = values.std() / np.sqrt(float(ess[var]))
        z = (values.mean() - mean) / mcse
        print(f"{name:12s} {var}: mean {values.mean():6.3f} (exact {mean}, {z:+.1f} MCSE)   "
              f"variance {values.var():6.3f} (exact {variance})   ESS {float(ess[var]):7.0f}")


def main(argv=None):
    args = parse_args("Sample a plain JAX log density with HMC and a hand-written NUTS loop",
                      argv)
    warmup, draws = (150, 150) if args.quick else (1000, 2000)
    init = {"x1": jnp.zeros(()), "x2": jnp.zeros(())}

    # 1. The driver, HMC kernel.
    result = sample(banana_logdensity, init, kernel="hmc", num_warmup=warmup,
                    num_samples=draws, num_chains=4, seed=0, progress_bar=not args.quick,
                    check_convergence=False)
    print(f"HMC: adapted step sizes {np.round(np.asarray(result.step_size), 3)}")
    report("HMC (driver)", result.samples)

    # 2. Our own loop with the NUTS kernel, reusing chain 0's adapted step size and mass.
    def logdensity_flat(flat_position):
        return banana_logdensity({"x1": flat_position[0], "x2": flat_position[1]})

    run_chains = jax.jit(jax.vmap(own_nuts_loop, in_axes=(0, None, None, None, None, None)),
                         static_argnums=(1, 5))
    keys = jax.random.split(jax.random.key(1), 4)
    start = jnp.zeros(2)
    flat_draws, diverging = run_chains(keys, logdensity_flat, start, result.step_size[0],
                                       result.inverse_mass_matrix[0], draws)
    own = {"x1": np.asarray(flat_draws[..., 0]), "x2": np.asarray(flat_draws[..., 1])}
    print(f"own NUTS loop: {int(diverging.sum())} divergences")
    report("NUTS (own)", own)

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True, sharey=True)
    for ax, (name, d) in zip(axes, (("HMC via sample()", result.samples),
                                    ("NUTS, own lax.scan loop", own))):
        ax.scatter(np.ravel(d["x1"]), np.ravel(d["x2"]), s=2, alpha=0.3)
        ax.set(title=name, xlabel="x1")
    axes[0].set_ylabel("x2")
    save_figure(fig, args.output / "custom_logdensity_draws.png")


if __name__ == "__main__":
    main()
