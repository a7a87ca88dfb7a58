"""A Bayesian MLP (DenseFlipout) on 1-D heteroscedastic regression: calibrated 95%
predictive intervals on held-out data, wider away from the data."""

import numpy as np
import pytest

from probflow import nn


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(n, 1)).astype("float32")
    noise_sd = 0.1 + 0.25 * np.abs(x[:, 0])
    y = (np.sin(2.0 * x[:, 0]) + noise_sd * rng.normal(size=n)).astype("float32")
    return x, y


@pytest.mark.slow
def test_heteroscedastic_flipout_mlp_intervals():
    x, y = make_data(512, seed=0)
    x_test, y_test = make_data(1000, seed=1)
    model = nn.Sequential([
        nn.DenseFlipout(32, activation="relu"),
        nn.DenseFlipout(32, activation="relu"),
        nn.DenseFlipout(2),  # loc and raw scale: the "normal" head is heteroscedastic
    ])
    model.compile(optimizer="adam", likelihood="normal", learning_rate=5e-3)
    history = model.fit(x, y, epochs=250, batch_size=64, verbose=0, seed=0)
    assert model.heads[0].heteroscedastic
    assert history.history["loss"][-1] < history.history["loss"][0]

    lower, upper = model.predict_interval(x_test, ci=0.95, num_samples=400, seed=1)
    inside = (y_test >= lower[:, 0]) & (y_test <= upper[:, 0])
    coverage = inside.mean()
    # Binomial sd of the coverage of 1000 points at 0.95 is 0.007: [0.90, 0.99] allows
    # model error, not just Monte-Carlo error.
    assert 0.90 <= coverage <= 0.99, coverage
    # Intervals follow the noise inside the data and widen outside it.
    grid = np.array([[-3.5], [-0.1], [0.1], [3.5]], "float32")
    lo, hi = model.predict_interval(grid, num_samples=400, seed=2)
    width = (hi - lo)[:, 0]
    edge_lo, edge_hi = model.predict_interval(np.array([[-1.9], [1.9]], "float32"),
                                              num_samples=400, seed=3)
    edge_width = (edge_hi - edge_lo)[:, 0].max()
    assert width[1:3].max() < edge_width < min(width[0], width[3]), (width, edge_width)
