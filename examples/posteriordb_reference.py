"""Checking NUTS against a posteriordb reference posterior.

posteriordb (https://github.com/stan-dev/posteriordb) ships models, data and
gold-standard posterior summaries computed with long Stan runs. This script loads one
(default: eight_schools-eight_schools_noncentered; any name in
`probflow.datasets.posteriordb.POSTERIORS` works), samples it with NUTS, and compares
each reference quantity's posterior mean with the reference:

    z = (our mean - reference mean) / (reference sd / sqrt(our bulk ESS))

which is standard normal when the sampler is right. With m quantities, |z| beyond
Phi^-1(1 - 0.001 / (2 m)) fails the check (a 0.1% family-wise error rate). The script
prints the table, the verdict, and plots the z-scores.

posteriordb is read from disk, never downloaded: set PROBFLOW_POSTERIORDB to a folder
laid out as ``<posterior>/data.json`` and ``<posterior>/reference.json`` (or keep one
at ../shared/posteriordb beside the repository). Without one the script says so and
exits cleanly.

Run:  python examples/posteriordb_reference.py [--quick] [--posterior NAME]
"""

from __future__ import annotations

import sys

import arviz as az
import numpy as np
from _common import parse_args, pyplot, save_figure
from scipy.stats import norm

from probflow.datasets import posteriordb
from probflow.inference import sample

DEFAULT = "eight_schools-eight_schools_noncentered"


def compare(post, result, alpha=1e-3):
    """Rows (name, mean, ref mean, ref sd, ESS, z) and the |z| threshold."""
    draws = post.quantities(result.samples)  # name -> [chain, draw]
    rows = []
    for name, ref in post.reference.items():
        values = np.asarray(draws[name])
        ess = float(az.ess(values))
        z = (values.mean() - ref["mean"]) / (ref["sd"] / np.sqrt(ess))
        rows.append((name, values.mean(), ref["mean"], ref["sd"], ess, z))
    threshold = norm.ppf(1 - alpha / (2 * len(rows)))
    return rows, threshold


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    name = DEFAULT
    if "--posterior" in argv:
        i = argv.index("--posterior")
        name = argv[i + 1]
        del argv[i : i + 2]
    args = parse_args("Check NUTS against a posteriordb reference posterior", argv)
    if posteriordb.find_root() is None:
        print("no posteriordb folder found: set PROBFLOW_POSTERIORDB to one "
              "(see the module docstring); nothing to check.")
        return
    warmup, draws = (200, 200) if args.quick else (1000, 1000)

    post = posteriordb.load(name)
    result = sample(post.target, num_warmup=warmup, num_samples=draws, num_chains=4, seed=0,
                    progress_bar=not args.quick)
    rows, threshold = compare(post, result)

    print(f"\n{name}: 4 chains x {draws} draws, "
          f"{int(np.sum(result.stats['diverging']))} divergences")
    print(f"{'quantity':14s} {'mean':>9s} {'reference':>10s} {'ref sd':>8s} {'ESS':>7s} {'z':>6s}")
    for qname, mean, ref_mean, ref_sd, ess, z in rows:
        print(f"{qname:14s} {mean:9.3f} {ref_mean:10.3f} {ref_sd:8.3f} {ess:7.0f} {z:6.2f}")
    worst = max(abs(row[-1]) for row in rows)
    verdict = "agrees with" if worst < threshold else "DISAGREES with"
    print(f"max |z| = {worst:.2f} (threshold {threshold:.2f}): NUTS {verdict} the reference")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(rows)), 3.5))
    ax.bar(range(len(rows)), [row[-1] for row in rows])
    for level in (threshold, -threshold):
        ax.axhline(level, color="r", ls="--", lw=1)
    ax.set_xticks(range(len(rows)), [row[0] for row in rows], rotation=60, fontsize=8)
    ax.set(ylabel="z = error / MCSE", title=f"{name} vs posteriordb reference")
    save_figure(fig, args.output / "posteriordb_zscores.png")


if __name__ == "__main__":
    main()
