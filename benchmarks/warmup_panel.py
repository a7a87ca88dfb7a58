"""Choosing `sample()`'s warmup defaults on the posteriordb panel.

For each posteriordb reference posterior (the joint-distribution writing, float64, 4
chains, the metric diagonal or dense as in tests/inference/test_posteriordb_mcmc.py)
and each (adaptation, num_warmup), this runs `sample()` with several seeds and
reports what a default must not lose and what it should win:

* min bulk ESS per gradient evaluation (warmup included; deterministic given the seed,
  so it does not depend on the machine's load);
* max R-hat, divergences, and the worst |z| of a reference mean,
  ``(mean - mean_ref) / (sd_ref * sqrt(1/ESS + 1/10000))`` (the test's statistic;
  the test's family-wise bound is ~4.4).

Usage::

    PROBFLOW_POSTERIORDB=../shared/posteriordb python benchmarks/warmup_panel.py \\
        --configs stan:1000,nutpie:1000,nutpie:300 --seeds 0,1

A config ``adaptation:num_warmup[:metric]`` may name the metric, ``diag``, ``dense`` or
``low_rank`` (default: the panel's choice per posterior), e.g.
``--configs nutpie:300:diag,nutpie:300:dense,nutpie:300:low_rank``.
"""

from __future__ import annotations

import argparse
import math
import statistics

import arviz as az
import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from nuts import PANEL_DENSE as DENSE  # noqa: E402  (benchmarks/nuts.py, beside this file)

from probflow.datasets import posteriordb_joint  # noqa: E402
from probflow.inference import sample  # noqa: E402

METRICS = {"diag": False, "dense": True, "low_rank": "low_rank"}


def run(name, adaptation, num_warmup, num_samples, seed, metric=None):
    post = posteriordb_joint.load_joint(name)
    dense_mass = DENSE[name] if metric is None else METRICS[metric]
    result = sample(post.target, num_warmup=num_warmup, num_samples=num_samples, num_chains=4,
                    dense_mass=dense_mass, seed=seed, progress_bar=False,
                    check_convergence=False, adaptation=adaptation)
    quantities = post.quantities(result.samples)
    grads = int(np.sum(result.stats["n_steps"]) + np.sum(result.warmup_stats["n_steps"]))
    esses, rhats, zs = [], [], []
    for param, ref in post.reference.items():
        draws = np.asarray(quantities[param], np.float64)
        ess = float(az.ess(draws, method="bulk"))
        esses.append(ess)
        rhats.append(float(az.rhat(draws)))
        zs.append(abs(draws.mean() - ref["mean"]) / (ref["sd"] * math.sqrt(1 / ess + 1e-4)))
    return {"ess_per_grad": min(esses) / grads, "rhat": max(rhats), "z": max(zs),
            "divergences": int(np.sum(result.stats["diverging"])), "grads": grads}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default="stan:1000,nutpie:1000,nutpie:500,nutpie:300")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--posteriors", default=",".join(DENSE))
    args = parser.parse_args(argv)
    configs = [(c.split(":")[0], int(c.split(":")[1]), *c.split(":")[2:3])
               for c in args.configs.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    table = {}
    for name in args.posteriors.split(","):
        for adaptation, num_warmup, *metric in configs:
            rows = [run(name, adaptation, num_warmup, args.num_samples, seed, *metric)
                    for seed in seeds]
            row = {"ess_per_grad": statistics.mean(r["ess_per_grad"] for r in rows),
                   "rhat": max(r["rhat"] for r in rows), "z": max(r["z"] for r in rows),
                   "divergences": [r["divergences"] for r in rows]}
            table[(name, adaptation, num_warmup, *metric)] = row
            label = ":".join([adaptation, *metric])
            print(f"{name:40s} {label:16s} {num_warmup:5d}  ESS/grad "
                  f"{row['ess_per_grad']:.4f}  max R-hat {row['rhat']:.4f}  worst |z| "
                  f"{row['z']:.2f}  divergences {row['divergences']}", flush=True)
    base = configs[0]
    print(f"\ngeometric mean of ESS/grad ÷ {':'.join(map(str, base))} over the panel")
    names = args.posteriors.split(",")
    for config in configs:
        ratios = [table[(n, *config)]["ess_per_grad"] / table[(n, *base)]["ess_per_grad"]
                  for n in names]
        print(f"  {':'.join(map(str, config))}  {math.exp(np.mean(np.log(ratios))):.2f}  "
              f"(min {min(ratios):.2f})")


if __name__ == "__main__":
    main()
