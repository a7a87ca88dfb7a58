"""NUTS side by side: probflow vs NumPyro vs BlackJAX on the same log densities.

Rules (../shared/BENCHMARKING.md): the same flat log-density function for every library,
the same chains, warmup, draws and initial points; time with `block_until_ready`; report
the first call (compile included) and the median of later calls with new seeds; ESS is
ArviZ's bulk ESS, minimum over parameters, on the unconstrained draws; the physical
limit is a bare jitted `lax.scan` of `vmap(grad(logdensity))` with the same number of
gradient evaluations (per chain, in lockstep) as the sampler used, warmup included.

NumPyro's `MCMC.run` recompiles on every call, so it is reported twice: as is
("numpyro") and with the whole run wrapped in one `jax.jit` ("numpyro-jit").

Usage::

    python benchmarks/nuts.py                         # every model, every library
    python benchmarks/nuts.py --models eight_schools,kidiq --libs probflow,blackjax
    python benchmarks/nuts.py --quick                 # small settings, a smoke test
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np

from probflow import datasets

NUM_CHAINS = 4


# -- models: (logdensity of a flat vector, dim, dense mass?) ------------------------------


def _from_target(target):
    flat, unravel = target.ravel(target.example)
    return (lambda x: target.logdensity(unravel(x))), flat.shape[0]


def model_eight_schools():
    return (*_from_target(datasets.posteriordb.load("eight_schools-eight_schools_noncentered").target), False)


def model_kidiq():
    return (*_from_target(datasets.posteriordb.load("kidiq-kidscore_momiq").target), False)


def model_logistic():
    X, y, _ = datasets.logistic_regression_data(5000, 25, seed=0)
    return (*datasets.logistic_regression_logdensity(X, y), False)


def model_gauss100():
    return (*datasets.scaled_gaussian_logdensity(100), False)


def model_corr50():
    return (*datasets.correlated_gaussian_logdensity(50, condition_number=1e3), True)


MODELS = {
    "eight_schools": model_eight_schools,
    "logistic": model_logistic,
    "gauss100": model_gauss100,
    "corr50": model_corr50,
    "kidiq": model_kidiq,
}


# -- libraries: each returns run(seed, init) -> (draws [chain, draw, d], total gradient evals)


def lib_probflow(logdensity, dim, dense, num_warmup, num_samples, schedule="lockstep"):
    from probflow.inference import Target, sample

    target = Target.from_logdensity(logdensity, jnp.zeros(dim, jnp.float32))

    def run(seed, init):
        result = sample(target, init=init, num_warmup=num_warmup, num_samples=num_samples,
                        num_chains=NUM_CHAINS, dense_mass=dense, seed=seed, progress_bar=False,
                        schedule=schedule)
        samples = result.samples
        draws = next(iter(samples.values())) if isinstance(samples, dict) else samples
        grads = np.sum(result.stats["n_steps"])
        warmup_stats = getattr(result, "warmup_stats", None)
        if warmup_stats is not None and "n_steps" in warmup_stats:
            grads += np.sum(warmup_stats["n_steps"])
        return jax.block_until_ready(draws), int(grads)

    return run


def _numpyro_program(logdensity, dense, num_warmup, num_samples):
    from numpyro.infer import MCMC, NUTS

    def program(key, init):
        kernel = NUTS(potential_fn=lambda x: -logdensity(x), dense_mass=dense)
        mcmc = MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples,
                    num_chains=NUM_CHAINS, chain_method="vectorized", progress_bar=False)
        key_warmup, key_sample = jax.random.split(key)
        mcmc.warmup(key_warmup, init_params=init, extra_fields=("num_steps",), collect_warmup=True)
        warmup_steps = mcmc.get_extra_fields()["num_steps"]
        mcmc.run(key_sample, extra_fields=("num_steps",))
        draws = mcmc.get_samples(group_by_chain=True)
        return draws, jnp.sum(warmup_steps) + jnp.sum(mcmc.get_extra_fields()["num_steps"])

    return program


def lib_numpyro(logdensity, dim, dense, num_warmup, num_samples):
    program = _numpyro_program(logdensity, dense, num_warmup, num_samples)

    def run(seed, init):
        draws, grads = program(jax.random.key(seed), init)
        return jax.block_until_ready(draws), int(grads)

    return run


def lib_numpyro_jit(logdensity, dim, dense, num_warmup, num_samples):
    program = jax.jit(_numpyro_program(logdensity, dense, num_warmup, num_samples))

    def run(seed, init):
        draws, grads = program(jax.random.key(seed), init)
        return jax.block_until_ready(draws), int(grads)

    return run


def lib_blackjax(logdensity, dim, dense, num_warmup, num_samples):
    import blackjax

    def one_chain(key, init):
        key_warmup, key_sample = jax.random.split(key)
        warmup = blackjax.window_adaptation(blackjax.nuts, logdensity,
                                            is_mass_matrix_diagonal=not dense)
        (state, params), warmup_info = warmup.run(key_warmup, init, num_steps=num_warmup)
        step = blackjax.nuts(logdensity, **params).step

        def body(state, key):
            state, info = step(key, state)
            return state, (state.position, info.num_integration_steps)

        _, (draws, steps) = jax.lax.scan(body, state, jax.random.split(key_sample, num_samples))
        warmup_steps = warmup_info.info.num_integration_steps
        return draws, jnp.sum(warmup_steps) + jnp.sum(steps)

    @jax.jit
    def program(key, inits):
        draws, grads = jax.vmap(one_chain)(jax.random.split(key, NUM_CHAINS), inits)
        return draws, jnp.sum(grads)

    def run(seed, init):
        draws, grads = program(jax.random.key(seed), init)
        return jax.block_until_ready(draws), int(grads)

    return run


LIBS = {
    "probflow": lib_probflow,
    "probflow-ragged": functools.partial(lib_probflow, schedule="ragged"),
    "numpyro": lib_numpyro,
    "numpyro-jit": lib_numpyro_jit,
    "blackjax": lib_blackjax,
}


# -- measurement --------------------------------------------------------------------------


def gradient_limit(logdensity, inits, num_grads_per_chain):
    """Seconds for `num_grads_per_chain` vmapped gradient evaluations in a bare scan."""
    grad = jax.vmap(jax.grad(logdensity))

    @jax.jit
    def program(x):
        def body(x, _):
            return x + 1e-12 * grad(x), None

        return jax.lax.scan(body, x, None, length=num_grads_per_chain)[0]

    jax.block_until_ready(program(inits))
    start = time.perf_counter()
    jax.block_until_ready(program(inits))
    return time.perf_counter() - start


def min_bulk_ess(draws):
    draws = np.asarray(draws, np.float64)
    return float(np.min(az.ess(draws, method="bulk"))) if draws.ndim == 2 else float(
        np.min(az.ess({"x": draws}, method="bulk")["x"].values)
    )


def warm_up_process():
    """Compiles and runs one small, library-neutral program before any measurement.

    The first XLA compile in a process also pays one-off start-up costs (backend and
    LLVM initialisation, a few seconds on this machine); without this, whichever
    library is measured first has them added to its first call.
    """
    def program(key, x):
        def body(x, key):
            return x + 1e-3 * jax.grad(lambda y: -jnp.sum(y @ y.T))(x) + jax.random.normal(key, x.shape), None

        return jax.lax.scan(body, x, jax.random.split(key, 10))[0]

    jax.block_until_ready(jax.jit(program)(jax.random.key(0), jnp.ones((4, 8))))


def measure(lib_name, model_name, num_warmup, num_samples, repeats):
    logdensity, dim, dense = MODELS[model_name]()
    rng = np.random.default_rng(1)
    inits = [jnp.asarray(rng.uniform(-2, 2, (NUM_CHAINS, dim)), jnp.float32) for _ in range(repeats + 1)]
    run = LIBS[lib_name](logdensity, dim, dense, num_warmup, num_samples)
    start = time.perf_counter()
    draws, grads = run(0, inits[0])
    first = time.perf_counter() - start
    walls, esses, grad_counts = [], [], []
    for i in range(1, repeats + 1):
        start = time.perf_counter()
        draws, grads = run(i, inits[i])
        walls.append(time.perf_counter() - start)
        esses.append(min_bulk_ess(draws))
        grad_counts.append(grads)
    wall = statistics.median(walls)
    ess = statistics.median(esses)
    grads = int(statistics.median(grad_counts))
    limit = gradient_limit(logdensity, inits[0], max(1, grads // NUM_CHAINS))
    return {
        "model": model_name, "lib": lib_name, "dim": dim, "first_s": first, "warm_s": wall,
        "min_ess": ess, "ess_per_s": ess / wall, "grad_evals": grads, "overhead": wall / limit,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--libs", default=",".join(LIBS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-warmup", type=int, default=1000)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="100 + 100 draws, 1 repeat")
    parser.add_argument("--out", default=None, help="JSON file for the rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.num_warmup, args.num_samples, args.repeats = 100, 100, 1
    warm_up_process()
    rows = []
    for model in args.models.split(","):
        for lib in args.libs.split(","):
            row = measure(lib, model, args.num_warmup, args.num_samples, args.repeats)
            rows.append(row)
            print(f"{model:14s} {lib:12s} first {row['first_s']:6.2f}s  warm {row['warm_s']:6.2f}s  "
                  f"minESS {row['min_ess']:7.0f}  ESS/s {row['ess_per_s']:8.0f}  "
                  f"grads {row['grad_evals']:8d}  overhead {row['overhead']:6.1f}x", flush=True)
    print()
    print(markdown_table(rows))
    out = Path(args.out) if args.out else None
    if out:
        meta = {"date": date.today().isoformat(), "machine": platform.platform(),
                "jax": jax.__version__, "python": sys.version.split()[0],
                "num_warmup": args.num_warmup, "num_samples": args.num_samples}
        out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))


def markdown_table(rows):
    """Rows as a markdown table with probflow's ESS/s ratio against each peer."""
    lines = ["| model | library | first call s | warm s | min bulk ESS | ESS/s | grad evals | overhead | probflow ESS/s ÷ this |",
             "|---|---|---|---|---|---|---|---|---|"]
    ours = {r["model"]: r["ess_per_s"] for r in rows if r["lib"] == "probflow"}
    for r in rows:
        ratio = ours.get(r["model"], float("nan")) / r["ess_per_s"]
        lines.append(f"| {r['model']} | {r['lib']} | {r['first_s']:.2f} | {r['warm_s']:.2f} | "
                     f"{r['min_ess']:.0f} | {r['ess_per_s']:.0f} | {r['grad_evals']} | "
                     f"{r['overhead']:.1f}x | {ratio:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
