"""The joint-distribution writing of the posteriordb models against the hand-written one.

Two independent writings of each model (`posteriordb` by hand, `posteriordb_joint`
as a `JointDistributionNamed`) must give the same log density up to an additive
constant (half-distribution and ordered-prior normalisations differ), the same
gradient and the same pointwise log likelihood, at points spread over the posterior
(reference mean +- 0.5 reference sd per coordinate, inside every support). A wrong prior, likelihood, data
transform or bijector in either makes the difference vary from point to point.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.datasets import posteriordb, posteriordb_joint

ROOT = posteriordb.find_root()
pytestmark = pytest.mark.skipif(
    ROOT is None, reason="posteriordb reference posteriors not found (../shared/posteriordb)"
)
NUM_POINTS = 6


@jax.jit
def _values_and_grads(target, z):
    """Log density and gradient at a batch of unconstrained points (target as argument)."""
    return jax.vmap(jax.value_and_grad(lambda z: target.logdensity(z)))(z)


@jax.jit
def _log_likelihood(target, values):
    """Pointwise log likelihood one point at a time, as the MCMC result asks for it."""
    return jax.vmap(target.log_likelihood)(values)


@jax.jit
def _constrain(target, z):
    return target.constrain(z)


@functools.cache
def _load(name):
    """(hand-written, joint) posteriors, built under float64 once per module."""
    with jax.enable_x64(True):
        return posteriordb.load(name, ROOT), posteriordb_joint.load_joint(name, ROOT)


def _posterior_points(post, key):
    """Constrained points around the reference: mean + sd * uniform(-0.5, 0.5) each."""
    example = post.target.constrain(post.target.example)
    points = {}
    for name, value in example.items():
        shape = (NUM_POINTS,) + jnp.shape(value)
        key, subkey = jax.random.split(key)
        noise = np.asarray(jax.random.uniform(subkey, shape, jnp.float64, -0.5, 0.5))
        names = [name] if not jnp.shape(value) else [f"{name}[{i + 1}]" for i in range(value.size)]
        if names[0] not in post.reference:
            # Not a reference quantity (eight schools' theta_trans ~ N(0, 1) a priori).
            points[name] = noise
            continue
        mean = np.array([post.reference[n]["mean"] for n in names]).reshape(jnp.shape(value))
        sd = np.array([post.reference[n]["sd"] for n in names]).reshape(jnp.shape(value))
        points[name] = mean + sd * noise
    if "mu" in points and post.name.startswith("low_dim_gauss_mix"):
        assert np.all(points["mu"][:, 0] < points["mu"][:, 1])
    return points


@pytest.mark.parametrize("name", posteriordb.POSTERIORS)
def test_joint_and_hand_written_log_densities_agree_up_to_a_constant(name, x64):
    hand, joint = _load(name)
    values = _posterior_points(hand, jax.random.key(0))
    z = hand.target.unconstrain(values)
    assert set(joint.target.example) == set(z)
    assert all(v.dtype == jnp.float64 for v in joint.target.example.values())

    lp_hand, grad_hand = _values_and_grads(hand.target, z)
    lp_joint, grad_joint = _values_and_grads(joint.target, z)
    assert np.all(np.isfinite(lp_hand)) and np.all(np.isfinite(lp_joint))
    difference = np.asarray(lp_joint - lp_hand)
    scale = 1.0 + np.max(np.abs(np.asarray(lp_hand)))
    np.testing.assert_allclose(difference, difference[0], atol=1e-10 * scale)
    for key in z:
        g_hand, g_joint = np.asarray(grad_hand[key]), np.asarray(grad_joint[key])
        np.testing.assert_allclose(g_joint, g_hand, rtol=1e-8, atol=1e-10 * scale, err_msg=key)

    # Both likelihoods are normalised densities: pointwise equal, no constant.
    loglik_hand = _log_likelihood(hand.target, values)["y"]
    loglik_joint = _log_likelihood(joint.target, values)["y"]
    np.testing.assert_allclose(loglik_joint, loglik_hand, rtol=1e-10, atol=1e-10)
    assert loglik_joint.shape == (NUM_POINTS,) + hand.target.observed["y"].shape


@pytest.mark.parametrize("name", posteriordb.POSTERIORS)
def test_quantities_name_every_reference_parameter(name, x64):
    _, post = _load(name)
    z = jax.tree_util.tree_map(lambda x: jnp.zeros((2, 3) + x.shape, x.dtype), post.target.example)
    quantities = post.quantities(_constrain(post.target, z))
    assert set(post.reference) <= set(quantities)
    assert all(quantities[k].shape == (2, 3) for k in post.reference)


def test_eight_schools_theta_is_the_transformed_parameter():
    _, post = _load("eight_schools-eight_schools_noncentered")
    values = {"mu": jnp.array(1.0), "tau": jnp.array(2.0), "theta_trans": jnp.arange(8.0)}
    quantities = post.quantities(values)
    np.testing.assert_allclose([quantities[f"theta[{j + 1}]"] for j in range(8)],
                               1.0 + 2.0 * np.arange(8.0))


@pytest.mark.parametrize("name", ["eight_schools-eight_schools_noncentered", "arK-arK",
                                  "arma-arma11", "low_dim_gauss_mix-low_dim_gauss_mix",
                                  "sblrc-blr"])
def test_proper_joints_draw_values_shaped_like_the_data(name):
    post = posteriordb.load(name, ROOT)
    joint, observed = posteriordb_joint.joint_model(name, post.data)
    draw = jax.jit(joint.sample)(jax.random.key(0))
    # (No finiteness check: ARMA's prior allows |theta| > 1, whose residuals explode.)
    assert draw["y"].shape == observed["y"].shape
    if "mu" in draw and jnp.ndim(draw["mu"]) == 1:
        assert draw["mu"][0] < draw["mu"][1]  # the ordered prior draws sorted pairs


@pytest.mark.parametrize("name", ["kidiq-kidscore_momiq", "earnings-logearn_height",
                                  "mesquite-logmesquite"])
def test_flat_priors_cannot_be_sampled(name):
    post = posteriordb.load(name, ROOT)
    joint, _ = posteriordb_joint.joint_model(name, post.data)
    with pytest.raises(NotImplementedError, match="ImproperUniform"):
        joint.sample(jax.random.key(0))


def test_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown posterior `name` 'nope'"):
        posteriordb_joint.joint_model("nope", {})
