"""Bayesian neural network regression: what the uncertainty means, and is it calibrated?

Data: y = sin(x) + noise whose sd grows with |x|, observed only for x in [-3, 3].
Two networks of the same shape are fitted:

* a Bayesian MLP (Flipout dense layers, heteroscedastic Normal head) by VI
  (``method="vi"``): aleatoric uncertainty from the head's scale, epistemic
  uncertainty from the weight posterior, which widens outside the data;
* the same network by MAP (``method="map"``): a point estimate of the weights, so
  its band is the noise model only.

The script prints test RMSE, NLL and 90%-interval coverage of both, the calibration of
the VI model's central intervals at several levels, and the predictive sd inside and
outside the training range; it writes the two bands side by side and a calibration
curve.

Run:  python examples/bnn_regression_uncertainty.py [--quick]
"""

from __future__ import annotations

import numpy as np
from _common import parse_args, pyplot, save_figure

import probflow as pf
from probflow import nn


def build_model():
    return nn.Sequential([
        nn.DenseFlipout(48, activation="relu"),
        nn.DenseFlipout(48, activation="relu"),
        nn.DenseFlipout(2),  # loc and raw scale per example
    ])


def fit(method, x, y, epochs):
    model = build_model()
    model.compile(optimizer="adam", learning_rate=1e-2, likelihood="normal",
                  metrics=["rmse", "coverage"])
    model.fit(x, y, epochs=epochs, batch_size=64, method=method, seed=0, verbose=0)
    return model


def main(argv=None):
    args = parse_args("BNN regression: epistemic vs aleatoric uncertainty, calibration", argv)
    # --quick: as many test points as grid points, so that each model's predictive
    # program, compiled for the test set, serves the grid too (compiles are its cost).
    epochs, num_train, num_test = (5, 256, 241) if args.quick else (200, 1000, 1000)
    x, y, _ = pf.datasets.heteroscedastic_regression(num_train, seed=0)
    x_test, y_test, _ = pf.datasets.heteroscedastic_regression(num_test, seed=1)
    grid = np.linspace(-6.0, 6.0, 241, dtype=np.float32)[:, None]

    models = {method: fit(method, x, y, epochs) for method in ("vi", "map")}

    print("method   test RMSE   test NLL   90% interval coverage")
    bands = {}
    for method, model in models.items():
        scores = model.evaluate(x_test, y_test, num_samples=50)
        lower, upper = model.predict_interval(x_test, ci=0.9, num_samples=500, seed=1)
        coverage = float(nn.metrics.interval_coverage(y_test, lower, upper))
        print(f"{method:6s}   {scores['rmse']:9.3f}   {scores['nll']:8.3f}   {coverage:10.3f}")
        draws = np.asarray(model.predictive(grid, num_samples=500, seed=2))[..., 0]
        bands[method] = draws

    inside, outside = np.abs(grid[:, 0]) <= 3.0, np.abs(grid[:, 0]) >= 5.0
    for method, draws in bands.items():
        sd = draws.std(0)
        print(f"{method}: predictive sd {sd[inside].mean():.2f} inside the data, "
              f"{sd[outside].mean():.2f} at |x| >= 5")

    test_draws = np.asarray(models["vi"].predictive(x_test, num_samples=500, seed=3))
    table = nn.metrics.interval_calibration(y_test, test_draws, num_levels=10)
    print("\nVI central intervals: nominal -> observed coverage")
    print("  ".join(f"{lv:.1f}->{cv:.2f}" for lv, cv in zip(table["level"], table["coverage"])))

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, (method, draws) in zip(axes[:2], bands.items()):
        lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
        ax.scatter(x[:, 0], y[:, 0], s=4, alpha=0.3, color="grey")
        ax.fill_between(grid[:, 0], lo, hi, alpha=0.3, label="90% predictive interval")
        ax.plot(grid[:, 0], draws.mean(0), label="predictive mean")
        ax.axvspan(-6, -3, color="k", alpha=0.05)
        ax.axvspan(3, 6, color="k", alpha=0.05, label="no training data")
        ax.set(title=f"{method.upper()}", xlabel="x", ylim=(-5, 5))
        ax.legend(fontsize=7, loc="lower left")
    axes[2].plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
    axes[2].plot(table["level"], table["coverage"], "o-", label="VI")
    axes[2].set(title="calibration of central intervals (test data)",
                xlabel="nominal level", ylabel="observed coverage")
    axes[2].legend(fontsize=8)
    save_figure(fig, args.output / "bnn_uncertainty.png")


if __name__ == "__main__":
    main()
