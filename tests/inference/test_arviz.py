"""The ArviZ bridge and MCMCResult.to_arviz on a hand-built Target with a likelihood."""

import arviz as az
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference import Target, sample
from probflow.inference.arviz import to_inference_data

Y = np.array([0.3, -1.2, 0.8, 2.1, 0.4, -0.3], np.float32)
X = np.array([0.0, -1.0, 1.0, 2.0, 0.5, 0.0], np.float32)


def _pointwise(values, data):
    x, y = data
    mean = values["beta"][0] + values["beta"][1] * x
    sigma = jnp.exp(values["log_sigma"])
    return -0.5 * ((y - mean) / sigma) ** 2 - jnp.log(sigma) - 0.5 * jnp.log(2 * jnp.pi)


def log_prob(values, data):
    prior = -0.5 * jnp.sum(values["beta"] ** 2) - 0.5 * values["log_sigma"] ** 2
    return prior + jnp.sum(_pointwise(values, data))


def log_likelihood(values, data):
    return {"y": _pointwise(values, data)}


@pytest.fixture(scope="module")
def result():
    target = Target(log_prob, {"beta": jnp.zeros(2), "log_sigma": jnp.zeros(())},
                    data=(jnp.asarray(X), jnp.asarray(Y)), log_likelihood_fn=log_likelihood,
                    observed={"y": Y})
    return sample(target, num_warmup=200, num_samples=200, num_chains=2, progress_bar=False,
                  check_convergence=False, seed=0)


def test_to_arviz_groups_and_shapes(result):
    idata = result.to_arviz()
    assert {"posterior", "sample_stats", "observed_data", "log_likelihood"} <= set(idata.groups())
    assert idata.posterior["beta"].shape == (2, 200, 2)
    assert idata.posterior["log_sigma"].shape == (2, 200)
    assert idata.log_likelihood["y"].shape == (2, 200, 6)
    for name in ("diverging", "energy", "tree_depth", "n_steps", "acceptance_rate",
                 "step_size", "lp"):
        assert idata.sample_stats[name].shape == (2, 200)
    np.testing.assert_array_equal(idata.observed_data["y"].values, Y)
    # The pointwise log likelihood is the model's, evaluated at each draw.
    draw = {k: jnp.asarray(v[1, 7]) for k, v in result.samples.items()}
    np.testing.assert_allclose(idata.log_likelihood["y"].values[1, 7],
                               _pointwise(draw, (X, Y)), rtol=1e-5)


def test_loo_and_summary_work(result):
    loo = az.loo(result.to_arviz())
    assert np.isfinite(loo.elpd_loo)
    table = result.summary()
    assert {"mean", "sd", "r_hat"} <= set(table.columns)
    assert "beta[0]" in table.index


def test_bridge_coords_dims_and_errors():
    idata = to_inference_data({"w": np.zeros((2, 5, 3))}, coords={"feature": ["a", "b", "c"]},
                              dims={"w": ["feature"]})
    assert list(idata.posterior["w"].coords["feature"].values) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="posterior"):
        to_inference_data({})
    with pytest.raises(TypeError, match="dict"):
        to_inference_data([1, 2])
