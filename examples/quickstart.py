"""probflow in one minute: a Bayesian network by VI, then eight schools by NUTS.

1. Fits a small Bayesian neural network (two Flipout dense layers with a
   heteroscedastic Normal head) to noisy 1-D data by variational inference and prints
   its 90% posterior predictive intervals at a few inputs.
2. Samples the eight-schools model (non-centred) with NUTS and prints the ArviZ
   summary table.
3. Writes two plots into ./probflow-output/: the predictive band over the data and a
   trace / rank plot of the NUTS run.

Run:  python examples/quickstart.py          (about 30 s on 2 CPU cores)
      python examples/quickstart.py --quick  (tiny settings, a smoke test)
"""

from __future__ import annotations

import arviz as az
import jax.numpy as jnp
import numpy as np
from _common import Timer, parse_args, pyplot, save_figure

import probflow as pf
from probflow import nn
from probflow.distributions import HalfCauchy, JointDistributionNamed, Normal

# Eight schools (Rubin 1981): estimated coaching effects and their standard errors.
SCHOOL_EFFECTS = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0], np.float32)
SCHOOL_SES = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0], np.float32)


def fit_bayesian_network(epochs: int):
    """VI fit of a Bayesian MLP to heteroscedastic 1-D data; returns model and data."""
    x, y, _ = pf.datasets.heteroscedastic_regression(512, seed=0)
    model = nn.Sequential([
        nn.DenseFlipout(32, activation="relu"),
        nn.DenseFlipout(32, activation="relu"),
        nn.DenseFlipout(2),  # loc and raw scale: the Normal head turns heteroscedastic
    ])
    model.compile(optimizer="adam", learning_rate=1e-2, likelihood="normal",
                  metrics=["rmse"])
    history = model.fit(x, y, epochs=epochs, batch_size=64, seed=0, verbose=0)
    print(f"VI: {epochs} epochs, final loss {history.history['loss'][-1]:.3f}")
    return model, x, y


def predictive_band(model, num_points: int = 141):
    """Predictive mean and 90% interval on a grid over [-3.5, 3.5] (one compiled call each)."""
    grid = np.linspace(-3.5, 3.5, num_points, dtype=np.float32)[:, None]
    lower, upper = model.predict_interval(grid, ci=0.9, num_samples=500, seed=1)
    mean = model.predict(grid, num_samples=500, seed=1)
    return grid[:, 0], np.asarray(mean)[:, 0], np.asarray(lower)[:, 0], np.asarray(upper)[:, 0]


def print_intervals(band):
    """Prints the band at a few inputs next to the truth (sin(x), noise sd 0.1 + 0.2|x|)."""
    grid, mean, lower, upper = band
    print("\n   x    mean   90% predictive interval   sin(x)  noise sd")
    for x in (-3.0, -1.5, 0.0, 1.5, 3.0):
        i = int(np.argmin(np.abs(grid - x)))
        print(f"{grid[i]:5.1f} {mean[i]:6.2f}   [{lower[i]:6.2f}, {upper[i]:6.2f}]"
              f"           {np.sin(grid[i]):6.2f}  {0.1 + 0.2 * abs(grid[i]):6.2f}")


def plot_band(band, x, y, path):
    """Draws the predictive band over the training data."""
    grid, mean, lower, upper = band
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(x[:, 0], y[:, 0], s=6, alpha=0.4, color="grey", label="data")
    ax.fill_between(grid, lower, upper, alpha=0.3, label="90% predictive interval")
    ax.plot(grid, mean, label="predictive mean")
    ax.plot(grid, np.sin(grid), "k--", lw=1, label="sin(x)")
    ax.set(xlabel="x", ylabel="y", title="Bayesian network fitted by VI")
    ax.legend(loc="upper left", fontsize=8)
    return save_figure(fig, path)


def eight_schools_model():
    """The non-centred eight-schools model as a joint distribution."""
    return JointDistributionNamed({
        "mu": Normal(0.0, 5.0),
        "tau": HalfCauchy(5.0),
        "theta_std": Normal(0.0, 1.0).expand((8,)),
        "y": lambda mu, tau, theta_std: Normal(mu + tau * theta_std, jnp.asarray(SCHOOL_SES)),
    })


def sample_eight_schools(num_warmup: int, num_samples: int):
    target = eight_schools_model().condition(y=jnp.asarray(SCHOOL_EFFECTS))
    return pf.inference.sample(target, num_warmup=num_warmup, num_samples=num_samples,
                               num_chains=4, seed=0, progress_bar=False,
                               check_convergence=False)


def main(argv=None):
    args = parse_args("probflow quickstart: VI for a Bayesian network, NUTS for eight schools",
                      argv)
    epochs, warmup, draws = (5, 100, 100) if args.quick else (150, 500, 500)

    with Timer("Bayesian network by VI"):
        model, x, y = fit_bayesian_network(epochs)
        band = predictive_band(model)
        print_intervals(band)

    with Timer("eight schools by NUTS"):
        result = sample_eight_schools(warmup, draws)
        idata = result.to_arviz()
        print(f"\nNUTS: 4 chains x {draws} draws, "
              f"{int(np.sum(result.stats['diverging']))} divergences")
        summary = az.summary(idata, var_names=["mu", "tau", "theta_std"], round_to=2)
        print(summary.to_string())

    print()
    plot_band(band, x, y, args.output / "quickstart_predictive.png")
    axes = az.plot_trace(idata, var_names=["mu", "tau"], kind="rank_bars")
    save_figure(axes.ravel()[0].figure, args.output / "quickstart_trace.png")
    print(f"plots are in {args.output.resolve()}/")


if __name__ == "__main__":
    main()
