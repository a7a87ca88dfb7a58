"""Multi-chain SG-MCMC fits: ``model.fit(method="sghmc" | "sgld" | "psgld", num_chains=k)``.

The k chains run vmapped in one compiled program, each from its own initialisation
(``fold_in(init key, c)``) with its own noise (``fold_in(step key, c)``), on the same
minibatches. So chain 0 of a k-chain fit is the 1-chain fit (up to float rounding of
the vmapped arithmetic), chains differ from each other, draws are pooled for
predictions and kept apart for ArviZ.
"""

import numpy as np
import pytest

from probflow import nn
from probflow.nn.callbacks import Callback


def _data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (48, 1)).astype(np.float32)
    y = (np.sin(2 * x[:, 0]) + 0.2 * rng.normal(size=48)).astype(np.float32)
    return x, y


def _model():
    # Fixed names: pytree leaves (and so the per-leaf noise keys) follow the layers'
    # names, and auto-names come from a process-wide counter ("dense_10" < "dense_9").
    model = nn.Sequential([nn.Dense(6, activation="tanh", name="hidden"),
                           nn.Dense(1, name="out")])
    model.compile(likelihood="normal")
    return model


def _fit(num_chains, method="sghmc", seed=3, **options):
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=6, batch_size=16, method=method, num_chains=num_chains,
                        verbose=0, seed=seed, **options)
    return model, history


def _kernel_draws(model):
    """First layer's kernel draws, ``[chain, draw, 1, 6]``."""
    return np.asarray(model.fitted_posterior.draws.weights["layers"][model.layers[0].name]["kernel"])


@pytest.mark.parametrize("method,options", [("sghmc", {}), ("sghmc", {"adapt_mass": False}),
                                            ("sgld", {}), ("psgld", {})])
def test_chain_zero_is_the_single_chain_fit(method, options):
    single, _ = _fit(1, method, **options)
    several, _ = _fit(3, method, **options)
    one, three = _kernel_draws(single), _kernel_draws(several)
    assert one.shape == (1, 3, 1, 6) and three.shape == (3, 3, 1, 6)
    # Not bit for bit: XLA may order a vmapped product differently from a lone one.
    np.testing.assert_allclose(three[0], one[0], rtol=1e-4, atol=1e-5)
    # The other chains start elsewhere and move with other noise.
    for c in (1, 2):
        assert np.max(np.abs(three[c] - three[0])) > 0.1


def test_same_seed_same_chains_other_seed_other_chains():
    a, _ = _fit(3)
    b, _ = _fit(3)
    c, _ = _fit(3, seed=4)
    np.testing.assert_array_equal(_kernel_draws(a), _kernel_draws(b))
    assert np.max(np.abs(_kernel_draws(a) - _kernel_draws(c))) > 0.1


def test_draws_are_pooled_for_predictions_and_kept_apart_for_arviz():
    model, _ = _fit(3)
    x, y = _data()
    draws = _kernel_draws(model)
    # posterior_samples spreads over every chain: 6 of 9 pooled draws, 2 per chain.
    pooled = model.posterior_samples(6)["layers"][model.layers[0].name]["kernel"]
    flat = draws.reshape((9, 1, 6))
    np.testing.assert_array_equal(pooled, flat[[0, 1, 3, 4, 6, 7]])
    assert model.predictive(x[:5], num_samples=9).shape == (9, 5, 1)
    idata = model.to_arviz(x, y)
    kernel = idata.posterior[f"{model.layers[0].name}.kernel"]
    assert kernel.sizes["chain"] == 3 and kernel.sizes["draw"] == 3
    np.testing.assert_array_equal(kernel.values, draws)
    assert idata.sample_stats["lp"].shape == (3, 3)
    assert idata.log_likelihood["y"].shape == (3, 3, 48)
    stats = model.fitted_posterior.stats
    assert not np.allclose(stats["lp"][0], stats["lp"][1])  # each chain's own density


def test_history_logs_the_mean_over_chains():
    import jax

    from probflow._seed import as_key
    from probflow.nn.training.data import prepare_xy
    from probflow.nn.training.sgmcmc_fitter import _initial_chains
    from probflow.nn.training.weights_target import log_likelihood, log_prior

    class FirstBatch(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 0 and not hasattr(self, "loss"):
                self.loss = logs["loss"]

    x, y = _data()
    recorder = FirstBatch()
    model = _model()
    # One batch of all 48 rows: the first step logs the chains' starting points.
    model.fit(x, y, epochs=1, batch_size=48, method="sghmc", num_chains=3, verbose=0, seed=3,
              callbacks=[recorder])
    xs, ys = prepare_xy(model, x, y)
    key_init = jax.random.split(as_key(3), 3)[0]
    starts, layer_state = _initial_chains(model, key_init, 3)
    losses = []
    for c in range(3):
        weights = jax.tree_util.tree_map(lambda a, c=c: a[c], starts)
        nll = -float(np.mean(log_likelihood(model, weights, layer_state, xs, ys)[0]))
        losses.append(nll - float(log_prior(model, weights)) / 48)
    assert len(set(np.round(losses, 4))) == 3  # the chains start apart
    np.testing.assert_allclose(recorder.loss, np.mean(losses), rtol=1e-5)


def test_validation_with_chains_uses_one_draw_per_chain():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=3, batch_size=16, method="sghmc", num_chains=3,
                        verbose=0, validation_data=(x[:12], y[:12]))
    assert len(history.history["val_loss"]) == 3
    assert np.all(np.isfinite(history.history["val_loss"]))
