"""Variational inference side by side: probflow `vi.fit` vs NumPyro SVI vs a hand-written loop.

The same flat log density for every library (NumPyro sees it through `numpyro.factor` on
an improper flat site), the same family (mean-field / full-rank Gaussian), one particle,
Adam(1e-2), the same number of steps. Times use `block_until_ready`.

Rows per (model, family):

* ``probflow``: `vi.fit` (progress bar off), warm call = a second fit with a new seed
  (no recompile); also with the progress bar on, to show its cost.
* ``numpyro``: `SVI.run(progress_bar=False)`, as users call it (recompiles every call).
* ``numpyro-jit``: NumPyro's `svi.update` in a `lax.scan` inside one `jax.jit`, warm;
  the speed to beat.
* ``hand-written``: the same maths as probflow (reparameterised draw, analytic Gaussian
  entropy, optax Adam) as a bare jitted loop in its fastest form (blocks of 100 steps,
  each block's noise drawn before its scan) — the limit.

Same maths, checked: the same log density (prior included), one particle, float32,
Adam(1e-2), per-step losses returned by every loop. NumPyro's `Trace_ELBO` estimates the
entropy from the draw (``-log q(z)``) where probflow uses the closed form; both are
unbiased and cost the same here.

Timing: by default the process is pinned to one CPU core (``--cpus 1``). XLA:CPU runs
the independent ops of a loop body concurrently on its thread pool; for steps of a few
microseconds those hand-offs are pure overhead, and on a shared, oversubscribed machine
each becomes a wait for the scheduler, worth up to 2x depending on nothing but the
shape of the compiled graph (this is what once showed NumPyro 2x ahead on logistic
regression while both did the same work per step). Pinned, every library gets the same
single core. Libraries run in turns; the ratios quoted are medians of per-round ratios.

Usage::

    python benchmarks/vi.py            # both models, both families
    python benchmarks/vi.py --quick    # fewer steps, a smoke test
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from probflow import datasets
from probflow.inference import Target, vi


def model_logistic():
    X, y, _ = datasets.logistic_regression_data(5000, 25, seed=0)
    return datasets.logistic_regression_logdensity(X, y)


def model_eight_schools():
    target = datasets.posteriordb.load("eight_schools-eight_schools_noncentered").target
    flat, unravel = target.ravel(target.example)
    return (lambda x: target.logdensity(unravel(x))), flat.shape[0]


MODELS = {"logistic_regression": model_logistic, "eight_schools": model_eight_schools}
LEARNING_RATE = 1e-2


def _timed(fn, *args):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def _interleaved(runners, repeats):
    """First-call time and the warm times of `repeats` rounds, runners taken in turns.

    Round-robin so that every library sees the same background load (the machine is
    shared); ratios are then taken within a round.
    """
    first = {name: _timed(run, 0) for name, run in runners.items()}
    warm = {name: [] for name in runners}
    for seed in range(1, repeats + 1):
        for name, run in runners.items():
            warm[name].append(_timed(run, seed))
    return first, {name: np.asarray(times) for name, times in warm.items()}


# -- probflow ------------------------------------------------------------------------------
def probflow_runner(logdensity, dim, family, num_steps, progress_bar=False):
    target = Target.from_logdensity(logdensity, jnp.zeros(dim))
    optimizer = optax.adam(LEARNING_RATE)

    def run(seed):
        return vi.fit(target, family, optimizer=optimizer, num_steps=num_steps, seed=seed,
                      progress_bar=progress_bar).params

    return run


# -- hand-written: the same maths as probflow, nothing else -----------------------------
_HALF_LOG_2PI_E = 0.5 * (1.0 + np.log(2 * np.pi))


def _hand_written_loss(family):
    def meanfield(params, eps, logdensity):
        scale = jax.nn.softplus(params["raw_scale"])
        z = params["loc"] + scale * eps
        return -(logdensity(z) + jnp.sum(jnp.log(scale)) + scale.size * _HALF_LOG_2PI_E)

    def fullrank(params, eps, logdensity):
        raw = params["raw_scale_tril"]
        diag = jax.nn.softplus(jnp.diagonal(raw))
        tril = jnp.tril(raw, -1) + jnp.diag(diag)
        z = params["loc"] + tril @ eps
        return -(logdensity(z) + jnp.sum(jnp.log(diag)) + diag.size * _HALF_LOG_2PI_E)

    return {"meanfield": meanfield, "fullrank": fullrank}[family]


def hand_written_runner(logdensity, dim, family, num_steps):
    loss_fn = _hand_written_loss(family)
    optimizer = optax.adam(LEARNING_RATE)
    raw = float(np.log(np.expm1(0.1)))

    @jax.jit
    def run(key):
        key_init, key_steps = jax.random.split(key)
        loc = jax.random.uniform(key_init, (dim,), minval=-2.0, maxval=2.0)
        if family == "meanfield":
            params = {"loc": loc, "raw_scale": jnp.full(dim, raw)}
        else:
            params = {"loc": loc, "raw_scale_tril": jnp.eye(dim) * raw}

        def step(carry, eps):
            params, opt_state = carry
            loss, grads = jax.value_and_grad(loss_fn)(params, eps, logdensity)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        # Blocks of `inner` steps, each block's noise drawn before its scan: random
        # numbers inside the step loop cost more than a small model's whole ELBO on
        # the CPU, and one long scan that stacks a per-step output is slower per step.
        inner = math.gcd(num_steps, 100)
        keys = jax.random.split(key_steps, num_steps).reshape(num_steps // inner, inner)

        def block(carry, block_keys):
            noise = jax.vmap(lambda k: jax.random.normal(k, (dim,)))(block_keys)
            return jax.lax.scan(step, carry, noise)

        (params, _), losses = jax.lax.scan(block, (params, optimizer.init(params)), keys)
        return params, losses.reshape(-1)

    return lambda seed: run(jax.random.key(seed))


# -- NumPyro ---------------------------------------------------------------------------------
def numpyro_runners(logdensity, dim, family, num_steps):
    import numpyro
    import numpyro.distributions as ndist
    from numpyro.infer import SVI, Trace_ELBO
    from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal

    def model():
        x = numpyro.sample("x", ndist.ImproperUniform(ndist.constraints.real_vector, (), (dim,)))
        numpyro.factor("logdensity", logdensity(x))

    guide_cls = AutoNormal if family == "meanfield" else AutoMultivariateNormal
    guide = guide_cls(model, init_scale=0.1)
    svi = SVI(model, guide, numpyro.optim.Adam(LEARNING_RATE), Trace_ELBO(num_particles=1))

    def run_default(seed):
        return svi.run(jax.random.key(seed), num_steps, progress_bar=False).params

    @jax.jit
    def run_jit(key):
        state = svi.init(key)
        state, losses = jax.lax.scan(lambda s, _: svi.update(s), state, None, length=num_steps)
        return svi.get_params(state), losses

    return run_default, lambda seed: run_jit(jax.random.key(seed))


def _pin(cpus):
    if cpus and hasattr(os, "sched_setaffinity"):
        chosen = sorted(os.sched_getaffinity(0))[-cpus:]
        # Every thread already started (JAX's pools may exist after the imports);
        # threads started later inherit the mask.
        for thread_id in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(thread_id), chosen)
        return f"pinned to CPU {chosen}"
    return "not pinned"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cpus", type=int, default=1,
                        help="pin to this many CPU cores before JAX starts (0: no pinning)")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args(argv)
    pinned = _pin(args.cpus)
    num_steps = args.steps or (1000 if args.quick else 10_000)
    repeats = 1 if args.quick else args.repeats
    warnings.simplefilter("ignore")
    print(f"jax {jax.__version__}, {num_steps} steps, 1 particle, Adam({LEARNING_RATE}), "
          f"{pinned}; steps/s = median of {repeats} warm calls (libraries in turns); "
          "first call includes compilation\n")
    header = f"{'model':<20} {'family':<10} {'library':<22} {'first s':>8} {'steps/s':>10}"
    print(header)
    print("-" * len(header))
    summary = []
    for model_name in args.models.split(","):
        logdensity, dim = MODELS[model_name]()
        for family in ("meanfield", "fullrank"):
            numpyro_default, numpyro_jit = numpyro_runners(logdensity, dim, family, num_steps)
            runners = {
                "probflow": probflow_runner(logdensity, dim, family, num_steps),
                "probflow (bar on)": probflow_runner(logdensity, dim, family, num_steps, True),
                "numpyro": numpyro_default,
                "numpyro-jit": numpyro_jit,
                "hand-written": hand_written_runner(logdensity, dim, family, num_steps),
            }
            first, warm = _interleaved(runners, repeats)
            for library in runners:
                print(f"{model_name:<20} {family:<10} {library:<22} {first[library]:8.2f} "
                      f"{num_steps / np.median(warm[library]):10.0f}")
            pf = warm["probflow"]
            ratios = {
                "vs numpyro-jit": np.median(warm["numpyro-jit"] / pf),
                "vs numpyro": np.median(warm["numpyro"] / pf),
                "hand-written / probflow": np.median(pf / warm["hand-written"]),
                "bar cost": np.median(warm["probflow (bar on)"] / pf),
            }
            print(f"{'':<31} " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()) + "\n")
            summary.append((model_name, family, num_steps / np.median(pf),
                            num_steps / np.median(warm["numpyro-jit"]),
                            num_steps / np.median(warm["hand-written"]), ratios))
    print("| model | family | probflow steps/s | NumPyro jit steps/s | hand-written steps/s "
          "| probflow / NumPyro jit | hand-written / probflow |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for model_name, family, pf, npj, hand, ratios in summary:
        print(f"| {model_name} | {family} | {pf:,.0f} | {npj:,.0f} | {hand:,.0f} | "
              f"{ratios['vs numpyro-jit']:.2f}x | {ratios['hand-written / probflow']:.2f}x |")


if __name__ == "__main__":
    main()
