"""One network, four methods on scikit-learn's digits: VI, MAP, SGHMC, ensemble(5).

A 64-32-10 ReLU network (mean-field Bayesian layers for VI, plain Dense otherwise) on
standardised 8x8 digits, 80/20 split (fixed seed). Prints accuracy, NLL, expected
calibration error (15 bins) and wall seconds of the fit (compilation included) on the
test set. Run: ``python benchmarks/methods_digits.py [--epochs 150]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


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


def run(epochs=150, seed=0):
    """Fits each method and returns rows ``(method, accuracy, nll, ece, seconds)``."""
    x, y, x_test, y_test = _data()
    configs = [
        ("vi", True, dict(method="vi")),
        ("map", False, dict(method="map")),
        ("sghmc", False, dict(method="sghmc", burn_in=epochs // 2)),
        ("ensemble(5)", False, dict(method="ensemble", num_members=5)),
    ]
    rows = []
    for name, bayesian, options in configs:
        model = _model(bayesian)
        start = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=128, verbose=0, seed=seed, **options)
        seconds = time.perf_counter() - start
        logs = model.evaluate(x_test, y_test, num_samples=50)
        rows.append((name, logs["accuracy"], logs["nll"], logs["ece"], seconds))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=150)
    args = parser.parse_args()
    rows = run(args.epochs)
    print(f"| method | accuracy | NLL | ECE | seconds |  (digits, {args.epochs} epochs)")
    print("| --- | --- | --- | --- | --- |")
    for name, acc, nll, ece, seconds in rows:
        print(f"| {name} | {acc:.4f} | {nll:.4f} | {ece:.4f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
