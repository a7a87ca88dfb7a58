"""NUTS side by side: probflow vs NumPyro vs BlackJAX on the same log densities.

Rules (../shared/BENCHMARKING.md): the same flat log-density function for every library,
the same chains, warmup, draws and initial points; time with `block_until_ready`; report
the first call (compile included) and the median of later calls with new seeds; ESS is
ArviZ's bulk ESS, minimum over parameters, on the unconstrained draws; the physical
limit is a bare jitted `lax.scan` of `vmap(grad(logdensity))` with the same number of
gradient evaluations (per chain, in lockstep) as the sampler used, warmup included.
"overhead" is warm wall time over that limit; "CPU overhead" the same with this
process's CPU time (`time.process_time`) on both sides, which a loaded shared machine
disturbs far less than wall time.

XLA:CPU runs a while loop one fused kernel at a time (~0.1 us of dispatch each) unless
it compiles the whole loop natively, which it does only for loops below a size
threshold (1 kB by default). Raise it for every library at once with::

    XLA_FLAGS=--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1000000000 \
        python benchmarks/nuts.py ...

(the bare-gradient scan is compiled natively either way; figures in benchmarks/README.md).

NumPyro's `MCMC.run` recompiles on every call, so it is reported twice: as is
("numpyro") and with the whole run wrapped in one `jax.jit` ("numpyro-jit"). nutpie
(Rust NUTS) calls the same log density's jitted JAX value-and-gradient from Rust, one
position at a time, as nutpie's JAX backend does; its chains run on threads, its
gradient count is the number of calls (its initial-point and step-size searches
included), and its chains start from its own Uniform(-2, 2) draws (it takes a seed,
not points).

Warmup: ``--num-warmup default`` (the default) gives every library its own default
(probflow and probflow-nutpie: `sample()`'s nutpie-style 300, probflow-lowrank the
same with ``dense_mass="low_rank"``; probflow-stan: Stan's
windows, 1000; nutpie 300; NumPyro and BlackJAX 1000, Stan's). The "ESS/grad"
column is min bulk ESS per gradient evaluation, warmup included (probflow's step-size
searches, ~10 gradients each, not counted); it depends only on the seeds, not on the
machine's load.

Models: five synthetic-or-small ones (MODELS) and the posteriordb panel (PANEL, every
posterior in ../shared/posteriordb, the metric diagonal or dense as in
tests/inference/test_posteriordb_mcmc.py). ``--metric diag`` gives every library its
diagonal metric everywhere; ``--metric defaults`` each library its default metric
(probflow's ``dense_mass="auto"``: low-rank up to 42 dimensions; the others' diagonal),
the "each at its defaults" comparison. The low-rank rows keep theirs.

Usage::

    python benchmarks/nuts.py                         # every model, every library
    python benchmarks/nuts.py --models eight_schools,kidiq --libs probflow,blackjax
    python benchmarks/nuts.py --quick                 # small settings, a smoke test
    python benchmarks/nuts.py --models panel --libs probflow,nutpie
"""

from __future__ import annotations

import argparse
import functools
import json
import os
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

# posteriordb panel: name -> dense metric? (as tests/inference/test_posteriordb_mcmc.py).
PANEL_DENSE = {
    "eight_schools-eight_schools_noncentered": False,
    "arK-arK": False,
    "arma-arma11": False,
    "kidiq-kidscore_momiq": True,
    "earnings-logearn_height": True,
    "mesquite-logmesquite": True,
    "low_dim_gauss_mix-low_dim_gauss_mix": False,
    "sblrc-blr": True,
}


def _panel_model(name):
    return lambda: (*_from_target(datasets.posteriordb.load(name).target), PANEL_DENSE[name])


PANEL = {"pdb:" + name.split("-")[0]: _panel_model(name) for name in PANEL_DENSE}
MODELS.update(PANEL)


# -- libraries: each returns run(seed, init) -> (draws [chain, draw, d], total gradient evals)


def lib_probflow(logdensity, dim, dense, num_warmup, num_samples, **options):
    from probflow.inference import Target, sample

    target = Target.from_logdensity(logdensity, jnp.zeros(dim, jnp.float32))
    warmup = {} if num_warmup is None else {"num_warmup": num_warmup}
    dense = options.pop("dense_mass", dense)  # a library row may fix the metric

    def run(seed, init):
        result = sample(target, init=init, num_samples=num_samples, num_chains=NUM_CHAINS,
                        dense_mass=dense, seed=seed, progress_bar=False,
                        check_convergence=False, **warmup, **options)
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


def lib_nutpie(logdensity, dim, dense, num_warmup, num_samples, low_rank=False):
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    value_and_grad = jax.jit(jax.value_and_grad(logdensity))
    calls = [0]

    def make_logp_fn():
        def logp(x):
            calls[0] += 1
            value, grad = value_and_grad(jnp.asarray(x, jnp.float32))
            return float(value), np.asarray(grad, np.float64)

        return logp

    def make_expand_fn(seed1, seed2, chain):
        return lambda x: {"x": np.asarray(x, np.float64)}

    model = from_pyfunc(
        dim, make_logp_fn, make_expand_fn, [np.dtype("float64")], [(dim,)], ["x"],
        make_initial_point_fn=lambda seed: np.random.default_rng(seed).uniform(-2, 2, dim),
    )
    warmup = {} if num_warmup is None else {"tune": num_warmup}

    def run(seed, init):
        calls[0] = 0
        trace = nutpie.sample(model, draws=num_samples, chains=NUM_CHAINS, seed=seed,
                              cores=NUM_CHAINS, progress_bar=False, save_warmup=False,
                              low_rank_modified_mass_matrix=low_rank, **warmup)
        return np.asarray(trace.posterior["x"].values), calls[0]

    return run


LIBS = {
    "probflow": lib_probflow,
    "probflow-ragged": functools.partial(lib_probflow, schedule="ragged"),
    "probflow-stan": functools.partial(lib_probflow, adaptation="stan"),
    "probflow-nutpie": functools.partial(lib_probflow, adaptation="nutpie"),
    "probflow-lowrank": functools.partial(lib_probflow, adaptation="nutpie",
                                          dense_mass="low_rank"),
    "nutpie": lib_nutpie,
    "nutpie-lowrank": functools.partial(lib_nutpie, low_rank=True),
    "numpyro": lib_numpyro,
    "numpyro-jit": lib_numpyro_jit,
    "blackjax": lib_blackjax,
}


# -- measurement --------------------------------------------------------------------------


def gradient_limit(logdensity, inits, num_grads_per_chain, clock=time.perf_counter):
    """Seconds for `num_grads_per_chain` vmapped gradient evaluations in a bare scan
    (`clock`: wall by default; `time.process_time` for this process's CPU time)."""
    grad = jax.vmap(jax.grad(logdensity))

    @jax.jit
    def program(x):
        def body(x, _):
            return x + 1e-12 * grad(x), None

        return jax.lax.scan(body, x, None, length=num_grads_per_chain)[0]

    jax.block_until_ready(program(inits))
    start = clock()
    jax.block_until_ready(program(inits))
    return clock() - start


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


# What each library's own default warmup is (``--num-warmup default``); None: the
# library decides (probflow: sample()'s default, nutpie: its own).
DEFAULT_WARMUP = {"numpyro": 1000, "numpyro-jit": 1000, "blackjax": 1000,
                  "probflow-nutpie": 300, "probflow-lowrank": 300}


def initial_points(logdensity, dim, rng, candidates=10):
    """Per chain, the most probable of `candidates` Uniform(-2, 2) draws with a finite
    log density and gradient (what `sample()` does when not given `init`).

    The same points go to every library. posteriordb's ARMA(1,1) has gradients beyond
    float32's range at about half of its uniform draws, and chains started at finite
    but astronomically steep points stay stuck through a short warmup.
    """
    value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(logdensity)))
    points = []
    for _ in range(NUM_CHAINS):
        found = np.empty((0, dim), np.float32)
        values = np.empty(0)
        while len(found) < candidates:
            trial = rng.uniform(-2, 2, (candidates, dim)).astype(np.float32)
            value, grad = (np.asarray(a) for a in value_and_grad(jnp.asarray(trial)))
            ok = np.isfinite(value) & np.all(np.isfinite(grad), axis=1)
            found, values = np.concatenate([found, trial[ok]]), np.concatenate([values, value[ok]])
        points.append(found[np.argmax(values[:candidates])])
    return jnp.asarray(np.stack(points))


def measure(lib_name, model_name, num_warmup, num_samples, repeats, metric="model"):
    """One library on one model; with ``repeats == 0`` only the first call runs (its
    ESS per gradient is meaningful, its wall time includes compilation).

    ``metric="diag"`` gives every library a diagonal metric; ``"defaults"`` each
    library its own default (probflow's ``dense_mass="auto"``, the others' diagonal);
    ``"model"`` the model's own choice (dense for corr50 and the panel's dense ones)."""
    if num_warmup is None:
        num_warmup = DEFAULT_WARMUP.get(lib_name)
    logdensity, dim, dense = MODELS[model_name]()
    dense = dense and metric == "model"
    if metric == "defaults" and lib_name == "probflow":
        dense = "auto"
    rng = np.random.default_rng(1)
    inits = [initial_points(logdensity, dim, rng) for _ in range(repeats + 1)]
    run = LIBS[lib_name](logdensity, dim, dense, num_warmup, num_samples)
    start = time.perf_counter()
    draws, grads = run(0, inits[0])
    first = time.perf_counter() - start
    if repeats == 0:
        ess = min_bulk_ess(draws)
        return {"model": model_name, "lib": lib_name, "dim": dim, "first_s": first,
                "warm_s": float("nan"), "min_ess": ess, "ess_per_s": float("nan"),
                "grad_evals": grads, "overhead": float("nan"), "ess_per_grad": ess / grads,
                "num_warmup": num_warmup}
    walls, cpus, esses, grad_counts = [], [], [], []
    for i in range(1, repeats + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        draws, grads = run(i, inits[i])
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu_start)
        esses.append(min_bulk_ess(draws))
        grad_counts.append(grads)
    wall = statistics.median(walls)
    ess = statistics.median(esses)
    grads = int(statistics.median(grad_counts))
    limit = gradient_limit(logdensity, inits[0], max(1, grads // NUM_CHAINS))
    # CPU time of this process: on a loaded shared machine far steadier than wall time
    # (the best of three bare scans; nutpie's Rust threads are counted too).
    cpu_limit = min(gradient_limit(logdensity, inits[0], max(1, grads // NUM_CHAINS),
                                   time.process_time) for _ in range(3))
    return {
        "model": model_name, "lib": lib_name, "dim": dim, "first_s": first, "warm_s": wall,
        "min_ess": ess, "ess_per_s": ess / wall, "grad_evals": grads, "overhead": wall / limit,
        "ess_per_grad": ess / grads, "num_warmup": num_warmup,
        "cpu_s": statistics.median(cpus), "cpu_overhead": statistics.median(cpus) / cpu_limit,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--libs", default=",".join(LIBS))
    parser.add_argument("--repeats", type=int, default=3,
                        help="warm calls per library; 0: the first call only (ESS/grad)")
    parser.add_argument("--num-warmup", default="default",
                        help="an int, or 'default': each library's own default")
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--metric", choices=("model", "diag", "defaults"), default="model",
                        help="'diag': a diagonal metric for every library on every model; "
                             "'defaults': each library's default metric")
    parser.add_argument("--quick", action="store_true", help="100 + 100 draws, 1 repeat")
    parser.add_argument("--out", default=None, help="JSON file for the rows")
    args = parser.parse_args(argv)
    args.num_warmup = None if args.num_warmup == "default" else int(args.num_warmup)
    args.models = args.models.replace("panel", ",".join(PANEL)).replace("synthetic", ",".join(
        name for name in MODELS if name not in PANEL))
    if args.quick:
        args.num_warmup, args.num_samples, args.repeats = 100, 100, 1
    warm_up_process()
    rows = []
    for model in args.models.split(","):
        for lib in args.libs.split(","):
            row = measure(lib, model, args.num_warmup, args.num_samples, args.repeats,
                          args.metric)
            rows.append(row)
            print(f"{model:14s} {lib:12s} first {row['first_s']:6.2f}s  warm {row['warm_s']:6.2f}s  "
                  f"minESS {row['min_ess']:7.0f}  ESS/s {row['ess_per_s']:8.0f}  "
                  f"grads {row['grad_evals']:8d}  ESS/grad {row['ess_per_grad']:.4f}  "
                  f"overhead {row['overhead']:6.1f}x  "
                  f"cpu overhead {row.get('cpu_overhead', float('nan')):6.1f}x", flush=True)
    print()
    print(markdown_table(rows))
    out = Path(args.out) if args.out else None
    if out:
        meta = {"date": date.today().isoformat(), "machine": platform.platform(),
                "jax": jax.__version__, "python": sys.version.split()[0],
                "xla_flags": os.environ.get("XLA_FLAGS", ""),
                "num_warmup": args.num_warmup, "num_samples": args.num_samples}
        out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))


def markdown_table(rows):
    """Rows as a markdown table with probflow's ESS/s ratio against each peer."""
    lines = ["| model | library | warmup | first call s | warm s | min bulk ESS | ESS/s | grad evals "
             "| ESS/grad | overhead | CPU overhead | probflow ESS/s ÷ this | probflow ESS/grad ÷ this |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ours = {r["model"]: r for r in rows if r["lib"] == "probflow"}
    nan = {"ess_per_s": float("nan"), "ess_per_grad": float("nan")}
    for r in rows:
        mine = ours.get(r["model"], nan)
        lines.append(f"| {r['model']} | {r['lib']} | {r['num_warmup'] or 'default'} | "
                     f"{r['first_s']:.2f} | {r['warm_s']:.2f} | "
                     f"{r['min_ess']:.0f} | {r['ess_per_s']:.0f} | {r['grad_evals']} | "
                     f"{r['ess_per_grad']:.4f} | {r['overhead']:.1f}x | "
                     f"{r.get('cpu_overhead', float('nan')):.1f}x | "
                     f"{mine['ess_per_s'] / r['ess_per_s']:.2f} | "
                     f"{mine['ess_per_grad'] / r['ess_per_grad']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
