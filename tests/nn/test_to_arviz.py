"""`Model.to_arviz`: groups, shapes and values; az.loo / waic / summary / plot_ppc run."""

import warnings

import arviz as az
import numpy as np
import pytest
from scipy import stats

from probflow import nn


def _data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 1)).astype(np.float32)
    y = (np.tanh(x[:, 0]) + 0.3 * rng.normal(size=30)).astype(np.float32)
    return x, y


@pytest.fixture(scope="module")
def fitted():
    x, y = _data()
    model = nn.Sequential([nn.Dense(3, activation="tanh"), nn.Dense(1)])
    model.compile(likelihood="normal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short run; divergences are not the point here
        model.fit(x, y, method="nuts", num_warmup=150, num_samples=100, num_chains=2,
                  verbose=0, seed=0)
    return model, model.to_arviz(x, y)


def test_groups_and_shapes(fitted):
    model, idata = fitted
    assert {"posterior", "sample_stats", "log_likelihood", "posterior_predictive",
            "observed_data"} <= set(idata.groups())
    first, second = (layer.name for layer in model.layers)
    kernel = idata.posterior[f"{first}.kernel"]
    assert kernel.shape == (2, 100, 1, 3)
    assert kernel.dims == ("chain", "draw", f"{first}.kernel_dim_0", f"{first}.kernel_dim_1")
    assert idata.posterior[f"{second}.bias"].shape == (2, 100, 1)
    assert idata.posterior["likelihood.raw_scale"].shape == (2, 100)
    assert idata.log_likelihood["y"].shape == (2, 100, 30)
    assert idata.posterior_predictive["y"].shape == (2, 100, 30, 1)
    assert idata.observed_data["y"].shape == (30, 1)
    assert idata.sample_stats["diverging"].shape == (2, 100)


def test_log_likelihood_matches_scipy(fitted):
    model, idata = fitted
    x, y = _data()
    first, second = (layer.name for layer in model.layers)
    post = idata.posterior
    c, d = 1, 37
    hidden = np.tanh(x @ post[f"{first}.kernel"].values[c, d] + post[f"{first}.bias"].values[c, d])
    loc = hidden @ post[f"{second}.kernel"].values[c, d] + post[f"{second}.bias"].values[c, d]
    scale = np.logaddexp(0.0, float(post["likelihood.raw_scale"].values[c, d])) + 1e-6
    expected = stats.norm.logpdf(y, loc[:, 0], scale)
    np.testing.assert_allclose(idata.log_likelihood["y"].values[c, d], expected, rtol=1e-4,
                               atol=1e-4)


def test_loo_waic_summary_ppc_run(fitted):
    import matplotlib

    matplotlib.use("Agg")
    _, idata = fitted
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loo = az.loo(idata, pointwise=True)
    # Pareto-k warnings (the "shape parameter" of the tail fit) are about the model,
    # not about array shapes.
    shape_warnings = [w for w in caught if "pareto" not in str(w.message).lower() and (
        "shape" in str(w.message).lower() or "dim" in str(w.message).lower())]
    assert not shape_warnings, [str(w.message) for w in shape_warnings]
    assert loo.n_data_points == 30 and np.isfinite(loo.elpd_loo)
    assert np.isfinite(az.waic(idata).elpd_waic)
    summary = az.summary(idata)
    assert len(summary) == 3 + 3 + 3 + 1 + 1  # kernel, bias, kernel, bias, raw_scale
    az.plot_ppc(idata, num_pp_samples=20)


def test_map_and_thinning():
    x, y = _data()
    model = nn.Sequential([nn.Dense(2, activation="tanh"), nn.Dense(1)])
    model.compile(likelihood="normal")
    model.fit(x, y, epochs=2, method="map", verbose=0)
    idata = model.to_arviz(x, y, num_samples=50)
    assert idata.posterior["likelihood.raw_scale"].shape == (1, 50)
    assert "sample_stats" not in idata.groups()
    # A point estimate: every draw is the same, the predictive still varies.
    kernel = idata.posterior[f"{model.layers[0].name}.kernel"].values
    assert np.all(kernel == kernel[:, :1])
    assert np.std(idata.posterior_predictive["y"].values) > 0
    with pytest.raises(ValueError, match="`y`"):
        model.to_arviz(x, y[:5])
