"""The posteriordb models: finite densities, reference names, and a Laplace sanity check.

The full check of these models is MCMC against the reference draws (tests/inference/mcmc).
Here a Laplace approximation (mode and inverse Hessian in unconstrained space) must land
near the reference for the posteriors that are close to Gaussian: it catches a wrong
likelihood, prior or data transform without running a sampler.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

from probflow.datasets import posteriordb

ROOT = posteriordb.find_root()
pytestmark = pytest.mark.skipif(
    ROOT is None, reason="posteriordb reference posteriors not found (../shared/posteriordb)"
)


@pytest.mark.parametrize("name", posteriordb.POSTERIORS)
def test_density_is_finite_and_quantities_cover_the_reference(name):
    post = posteriordb.load(name, ROOT)
    z = post.target.init(jax.random.key(0))
    value, grad = jax.value_and_grad(post.target.logdensity)(z)
    assert np.isfinite(float(value))
    assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grad))
    draws = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (2, 3) + x.shape), z)
    quantities = post.quantities(post.target.constrain(draws))
    assert set(post.reference) <= set(quantities)
    assert all(quantities[k].shape == (2, 3) for k in post.reference)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    ["kidiq-kidscore_momiq", "earnings-logearn_height", "arK-arK", "arma-arma11",
     "low_dim_gauss_mix-low_dim_gauss_mix"],
)
def test_laplace_approximation_matches_the_reference(name, x64):
    post = posteriordb.load(name, ROOT)
    target = post.target
    flat, unravel = target.ravel(target.init(jax.random.key(0)))
    loss = jax.jit(lambda x: -target.logdensity(unravel(x)))
    grad = jax.jit(jax.grad(loss))
    res = scipy.optimize.minimize(lambda x: float(loss(x)), np.asarray(flat),
                                  jac=lambda x: np.asarray(grad(x)), method="BFGS",
                                  options={"maxiter": 10_000, "gtol": 1e-6})
    cov = np.linalg.inv(np.asarray(jax.hessian(loss)(jnp.asarray(res.x))))
    draws = np.random.default_rng(0).multivariate_normal(res.x, cov, 20_000)
    values = jax.vmap(lambda x: target.constrain(unravel(x)))(jnp.asarray(draws))
    quantities = post.quantities(values)
    for key, ref in post.reference.items():
        # A Laplace approximation is not the posterior: allow 0.5 sd of mean shift and
        # 15% on the sd (these posteriors are nearly Gaussian in unconstrained space).
        assert abs(quantities[key].mean() - ref["mean"]) < 0.5 * ref["sd"], key
        assert abs(quantities[key].std() / ref["sd"] - 1) < 0.15, key
