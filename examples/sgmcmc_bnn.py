"""SG-MCMC for a Bayesian neural network: minibatch sampling instead of VI.

Stochastic-gradient MCMC draws network weights from the posterior using one minibatch
per step, so it scales to data sets where full-batch NUTS cannot. Two ways in:

1. The low-level engine, `probflow.inference.sgmcmc.sample`: a small MLP written as a
   plain JAX function, its minibatch log posterior built with `minibatch_logdensity`,
   sampled by cyclical SGHMC (Zhang et al. 2020: each cosine cycle explores without
   noise, then samples) in one compiled program.
2. The Keras path: the same network as `nn.Sequential` of plain `Dense` layers
   (weights get the default Normal(0, 1) prior), fitted with ``method="sghmc"``;
   only `method=` differs from a VI fit. (Needs a probflow with the SG-MCMC
   fitters of `Model.fit`; the script says so and skips this part otherwise.)

Data: 1-D regression, y = sin(x) + noise, observed on [-3, 3]. The script prints the
RMSE and 90%-interval coverage of each posterior on test data and writes the
predictive bands.

Run:  python examples/sgmcmc_bnn.py [--quick]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from _common import parse_args, pyplot, save_figure

import probflow as pf
from probflow import nn
from probflow.inference import sgmcmc

HIDDEN = 32
NOISE_SD = 0.3


def make_data(num_examples, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, (num_examples, 1)).astype(np.float32)
    y = (np.sin(x) + NOISE_SD * rng.standard_normal(x.shape)).astype(np.float32)
    return x, y


def init_weights(key):
    k1, k2 = jax.random.split(key)
    return {"w1": jax.random.normal(k1, (1, HIDDEN)), "b1": jnp.zeros(HIDDEN),
            "w2": jax.random.normal(k2, (HIDDEN, 1)) / jnp.sqrt(HIDDEN), "b2": jnp.zeros(1)}


def mlp(weights, x):
    hidden = jnp.tanh(x @ weights["w1"] + weights["b1"])
    return hidden @ weights["w2"] + weights["b2"]


def log_prior(weights):
    return sum(-0.5 * jnp.sum(w**2) for w in jax.tree_util.tree_leaves(weights))


def log_likelihood(weights, batch):
    x, y = batch
    residual = (y - mlp(weights, x)) / NOISE_SD
    return jnp.sum(-0.5 * residual**2, axis=-1)  # one term per example


def low_level(x, y, x_test, epochs, seed=0):
    """Cyclical SGHMC with the engine; returns predictive draws at `x_test`."""
    batch_size = 32
    num_steps = epochs * (len(x) // batch_size)
    logdensity = sgmcmc.minibatch_logdensity(log_prior, log_likelihood, data_size=len(x))
    num_cycles = 4
    result = sgmcmc.sample(
        logdensity, init_weights(jax.random.key(seed)), (jnp.asarray(x), jnp.asarray(y)),
        kernel=sgmcmc.sghmc(friction=0.1),
        # Peak learning rate ~ 0.01 per example (the gradient sums N / b minibatch terms).
        step_size=sgmcmc.schedules.cyclical(0.01 / len(x), num_steps, num_cycles),
        is_sampling=sgmcmc.schedules.cyclical_is_sampling(num_steps, num_cycles),
        num_steps=num_steps, batch_size=batch_size, thin=10, seed=seed,
    )
    draws = jax.tree_util.tree_map(lambda w: w[0], result.samples)  # the one chain
    means = jax.vmap(mlp, in_axes=(0, None))(draws, jnp.asarray(x_test))
    noise = NOISE_SD * jax.random.normal(jax.random.key(seed + 1), means.shape)
    print(f"engine: {means.shape[0]} kept draws from {num_steps} SGHMC steps")
    return np.asarray(means + noise)


def keras_path(x, y, x_test, epochs):
    """``model.fit(method="sghmc")``; returns predictive draws, or None if unavailable."""
    model = nn.Sequential([nn.Input((1,)), nn.Dense(HIDDEN, activation="tanh"), nn.Dense(1)])
    model.compile(likelihood="normal")
    try:
        model.fit(x, y, epochs=epochs, batch_size=32, method="sghmc", num_cycles=4, seed=0,
                  verbose=0)
    except (NotImplementedError, TypeError) as err:
        print(f"Model.fit(method='sghmc') is not available in this probflow: {err}")
        return None
    return np.asarray(model.predictive(x_test, num_samples=200, seed=1))


def score(name, draws, y_test):
    lower, upper = np.quantile(draws, [0.05, 0.95], axis=0)
    rmse = float(np.sqrt(np.mean((draws.mean(0) - y_test) ** 2)))
    coverage = float(pf.nn.metrics.interval_coverage(y_test, lower, upper))
    print(f"{name:22s} test RMSE {rmse:.3f}   90% interval coverage {coverage:.3f}")


def main(argv=None):
    args = parse_args("SG-MCMC (cyclical SGHMC) for a Bayesian neural network", argv)
    epochs, num_train = (8, 256) if args.quick else (400, 1000)
    x, y = make_data(num_train, seed=0)
    x_test, y_test = make_data(1000, seed=1)
    grid = np.linspace(-5.0, 5.0, 201, dtype=np.float32)[:, None]

    bands = {"cyclical SGHMC (engine)": low_level(x, y, np.concatenate([x_test, grid]), epochs)}
    keras = keras_path(x, y, np.concatenate([x_test, grid]), epochs)
    if keras is not None:
        bands["Model.fit(method='sghmc')"] = keras
    for name, draws in bands.items():
        score(name, draws[:, : len(x_test)], y_test)

    plt = pyplot()
    fig, axes = plt.subplots(1, len(bands), figsize=(6 * len(bands), 4), squeeze=False)
    for ax, (name, draws) in zip(axes[0], bands.items()):
        on_grid = draws[:, len(x_test):, 0]
        lower, upper = np.quantile(on_grid, [0.05, 0.95], axis=0)
        ax.scatter(x[:, 0], y[:, 0], s=4, alpha=0.3, color="grey")
        ax.fill_between(grid[:, 0], lower, upper, alpha=0.3, label="90% predictive interval")
        ax.plot(grid[:, 0], on_grid.mean(0), label="predictive mean")
        ax.set(title=name, xlabel="x", ylim=(-4, 4))
        ax.legend(fontsize=8, loc="lower left")
    save_figure(fig, args.output / "sgmcmc_bnn.png")


if __name__ == "__main__":
    main()
