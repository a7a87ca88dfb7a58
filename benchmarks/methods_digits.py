"""One network, several methods on scikit-learn's digits: VI, MAP, SG-MCMC, ensemble(5).

A 64-32-10 ReLU network (mean-field Bayesian layers for VI, plain Dense with their
default Normal(0, 1) prior otherwise) on standardised 8x8 digits, 80/20 split (fixed
seed), the same epochs, batch size and data for every method. Prints accuracy, NLL,
expected calibration error (15 bins) and wall seconds of the fit (compilation
included) on the test set, per seed and averaged.

SGHMC rows, all at temperature 1 (the posterior itself), scale-adapted SGHMC
(Springenberg et al. 2016) unless said otherwise:

* ``sghmc`` -- the defaults (4 chains, step 3e-3, friction 0.05, half the epochs burn-in);
* ``sghmc 20 chains`` -- the recommended configuration for a network this small, where
  vmapped chains cost little: chains from 20 initialisations cover more modes, as an
  ensemble's members do;
* ``sghmc plain, 1 chain`` -- the previous defaults (unit mass, step 0.01 / n, friction
  0.1, one chain), for the record.

Predictions average 500 draws for every method (MAP's point repeats): the test NLL is
``-log`` of a Monte-Carlo mean of probabilities, biased upward with few draws, and on
the 15 test images whose near-constant pixels standardise to 6-53 sd a few draws decide
it (20 chains of plain SGHMC read 0.095-0.151 from 50 of their draws, 0.091-0.092
from 400).

Run: ``python benchmarks/methods_digits.py [--epochs 150] [--seeds 0,1,2] [--sgld]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

# Posterior draws each prediction averages (see the module docstring).
NUM_PREDICTIVE_DRAWS = 500


def _data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0,
                                                        stratify=y)
    # Pixels constant in training (always 0) keep scale 1: dividing by ~0 would blow up
    # the test inputs where such a pixel is set.
    mean, std = x_train.mean(0), x_train.std(0)
    std = np.where(std > 0, std, 1.0)
    return ((x_train - mean) / std).astype("float32"), y_train.astype("int32"), \
        ((x_test - mean) / std).astype("float32"), y_test.astype("int32")


def _model(bayesian):
    from probflow import nn

    dense = nn.DenseReparameterization if bayesian else nn.Dense
    model = nn.Sequential([dense(32, activation="relu"), dense(10)])
    model.compile(optimizer="adam", learning_rate=3e-3, likelihood="categorical",
                  metrics=["accuracy", "ece"])
    return model


def run(epochs=150, seed=0, sgld=False):
    """Fits each method and returns rows ``(method, accuracy, nll, ece, seconds)``."""
    x, y, x_test, y_test = _data()
    configs = [
        ("vi", True, dict(method="vi")),
        ("map", False, dict(method="map")),
        ("sghmc", False, dict(method="sghmc")),
        ("sghmc 20 chains", False, dict(method="sghmc", num_chains=20)),
        ("sghmc plain, 1 chain", False, dict(method="sghmc", num_chains=1, adapt_mass=False,
                                             step_size=0.01 / len(x), friction=0.1)),
        ("ensemble(5)", False, dict(method="ensemble", num_members=5)),
    ]
    if sgld:
        configs += [("sgld", False, dict(method="sgld")), ("psgld", False, dict(method="psgld"))]
    rows = []
    for name, bayesian, options in configs:
        model = _model(bayesian)
        start = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=128, verbose=0, seed=seed, **options)
        seconds = time.perf_counter() - start
        logs = model.evaluate(x_test, y_test, num_samples=NUM_PREDICTIVE_DRAWS)
        rows.append((name, logs["accuracy"], logs["nll"], logs["ece"], seconds))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seeds", default="0", help="comma-separated fit seeds")
    parser.add_argument("--sgld", action="store_true", help="add SGLD and pSGLD rows")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    per_seed = {seed: run(args.epochs, seed, args.sgld) for seed in seeds}
    print(f"| method | accuracy | NLL | ECE | seconds |  (digits, {args.epochs} epochs, "
          f"mean over seeds {seeds}; NLL per seed in brackets)")
    print("| --- | --- | --- | --- | --- |")
    for i, (name, *_) in enumerate(per_seed[seeds[0]]):
        values = np.array([per_seed[seed][i][1:] for seed in seeds], float)
        acc, nll, ece, seconds = values.mean(0)
        nlls = ", ".join(f"{v:.3f}" for v in values[:, 1])
        print(f"| {name} | {acc:.4f} | {nll:.4f} ({nlls}) | {ece:.4f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
