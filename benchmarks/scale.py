"""Parallel chains: probflow ESS/s vs device count, and NumPyro's parallel chains.

Logistic regression (n=5000, d=25), 4 chains x (W warmup + N draws). The device count
is fixed when JAX starts, so each configuration runs in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=<k>``: probflow "vectorized" on one
device, probflow "parallel" on k devices (chains split evenly, batched within each),
NumPyro ``chain_method="parallel"`` (pmap) on k devices. Warm calls only (the first
call compiles); ESS is ArviZ's minimum bulk ESS.

Forced host devices share the process's cores: a one-device run already spreads some
ops over both cores of this machine (CPU time / wall ~1.45). ``--core-per-device`` pins
each run to as many cores as it has devices (one device = one core), the closer model
of real devices.

Usage::

    python benchmarks/scale.py                    # 1 and 2 forced host devices, 5 rounds
    python benchmarks/scale.py --devices 1,2,4 --num-warmup 500 --num-samples 500 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

_CHILD = textwrap.dedent("""
    import json, statistics, sys, time
    import arviz as az, jax, jax.numpy as jnp, numpy as np
    from probflow import datasets
    from probflow.inference import Target, sample

    lib, warmup, draws, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if sys.argv[5] != "all":
        import os
        os.sched_setaffinity(0, set(range(int(sys.argv[5]))))
    X, y, _ = datasets.logistic_regression_data(5000, 25, seed=0)
    logdensity, dim = datasets.logistic_regression_logdensity(X, y)
    chains = 4
    inits = [jnp.asarray(np.random.default_rng(i).uniform(-2, 2, (chains, dim)), jnp.float32)
             for i in range(repeats + 1)]

    if lib.startswith("probflow"):
        method = lib.split(":")[1]
        target = Target.from_logdensity(logdensity, jnp.zeros(dim, jnp.float32))

        def run(seed, init):
            r = sample(target, init=init, num_warmup=warmup, num_samples=draws,
                       num_chains=chains, chain_method=method, seed=seed, progress_bar=False,
                       check_convergence=False)
            return jax.block_until_ready(r.samples["x"])
    else:
        from numpyro.infer import MCMC, NUTS

        def run(seed, init):
            mcmc = MCMC(NUTS(potential_fn=lambda x: -logdensity(x)), num_warmup=warmup,
                        num_samples=draws, num_chains=chains, chain_method="parallel",
                        progress_bar=False)
            mcmc.run(jax.random.key(seed), init_params=init)
            return jax.block_until_ready(mcmc.get_samples(group_by_chain=True))

    start = time.perf_counter(); run(0, inits[0]); first = time.perf_counter() - start
    walls, esses = [], []
    for i in range(1, repeats + 1):
        start = time.perf_counter(); x = run(i, inits[i]); walls.append(time.perf_counter() - start)
        esses.append(float(np.min(az.ess({"x": np.asarray(x, np.float64)}, method="bulk")["x"].values)))
    wall, ess = statistics.median(walls), statistics.median(esses)
    print("ROW" + json.dumps({"devices": jax.device_count(), "first_s": first, "warm_s": wall,
                              "min_ess": ess, "ess_per_s": ess / wall}))
""")


def run_child(lib, devices, args):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, lib, str(args.num_warmup), str(args.num_samples),
         str(args.repeats), str(devices) if args.core_per_device else "all"], env=env, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} on {devices} device(s) failed:\n{proc.stderr[-2000:]}")
    row = json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("ROW"))[3:])
    return dict(row, lib=lib)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", default="1,2")
    parser.add_argument("--num-warmup", type=int, default=1000)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2, help="warm calls per subprocess")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of the probflow configurations, taken in turns")
    parser.add_argument("--core-per-device", action="store_true",
                        help="pin each run to as many cores as it has devices")
    args = parser.parse_args(argv)
    device_counts = [int(d) for d in args.devices.split(",")]
    probflow_configs = [("probflow:vectorized", 1)] + [
        ("probflow:parallel", d) for d in device_counts if d > 1]
    # The VM's speed drifts by up to 2x over minutes (shared host), so the probflow
    # configurations run in turns, round after round, and speed-ups are medians of
    # per-round ratios. NumPyro is several times slower, so one round of it suffices.
    per_round = []
    for r in range(args.rounds):
        rows = {}
        for lib, devices in probflow_configs:
            rows[(lib, devices)] = row = run_child(lib, devices, args)
            print(f"round {r}: {lib:20s} devices {devices}  warm {row['warm_s']:6.2f}s  "
                  f"minESS {row['min_ess']:6.0f}  ESS/s {row['ess_per_s']:6.0f}", flush=True)
        per_round.append(rows)
    numpyro = {}
    for devices in device_counts:
        numpyro[devices] = row = run_child("numpyro-parallel", devices, args)
        print(f"numpyro-parallel     devices {devices}  warm {row['warm_s']:6.2f}s  "
              f"minESS {row['min_ess']:6.0f}  ESS/s {row['ess_per_s']:6.0f}", flush=True)

    def median(values):
        return statistics.median(values)

    base = [rows[("probflow:vectorized", 1)]["ess_per_s"] for rows in per_round]
    print(f"\n{args.rounds} rounds; medians over rounds; speed-up = median of per-round "
          "ratios to probflow on 1 device (range in brackets)\n")
    print("| library | devices | first call s | warm s | min bulk ESS | ESS/s | "
          "vs probflow 1 device |")
    print("|---|---|---|---|---|---|---|")
    for lib, devices in probflow_configs:
        rows = [r[(lib, devices)] for r in per_round]
        ratios = [row["ess_per_s"] / b for row, b in zip(rows, base)]
        print(f"| {lib} | {devices} | {median([r['first_s'] for r in rows]):.2f} | "
              f"{median([r['warm_s'] for r in rows]):.2f} | "
              f"{median([r['min_ess'] for r in rows]):.0f} | "
              f"{median([r['ess_per_s'] for r in rows]):.0f} | {median(ratios):.2f} "
              f"[{min(ratios):.2f}, {max(ratios):.2f}] |")
    for devices, row in numpyro.items():
        print(f"| numpyro-parallel | {devices} | {row['first_s']:.2f} | {row['warm_s']:.2f} | "
              f"{row['min_ess']:.0f} | {row['ess_per_s']:.0f} | "
              f"{row['ess_per_s'] / median(base):.2f} |")


if __name__ == "__main__":
    main()
