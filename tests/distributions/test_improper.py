"""ImproperUniform: flat log density on the support, shapes, errors, and its use in a joint."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from probflow import distributions as dist
from probflow.distributions import constraints


def test_log_prob_is_zero_inside_and_minus_inf_outside():
    flat = dist.ImproperUniform(constraints.positive, batch_shape=(3,))
    np.testing.assert_array_equal(flat.log_prob(jnp.array([0.5, -1.0, 2.0])), [0.0, -np.inf, 0.0])
    interval = dist.ImproperUniform(constraints.interval(-1.0, 1.0))
    np.testing.assert_array_equal(interval.log_prob(jnp.array([0.0, 1.5])), [0.0, -np.inf])


def test_event_dims_are_reduced_and_the_support_is_checked_per_event():
    ordered = dist.ImproperUniform(constraints.ordered_vector, batch_shape=(2,), event_shape=(3,))
    assert ordered.batch_shape == (2,) and ordered.event_shape == (3,)
    values = jnp.array([[0.0, 1.0, 2.0], [0.0, 2.0, 1.0]])
    np.testing.assert_array_equal(ordered.log_prob(values), [0.0, -np.inf])
    # Event dims beyond the support's own become an `independent` constraint.
    matrix = dist.ImproperUniform(constraints.real, event_shape=(2, 3))
    assert matrix.support.event_dim == 2
    assert matrix.log_prob(jnp.zeros((5, 2, 3))).shape == (5,)
    assert float(matrix.log_prob(jnp.full((2, 3), jnp.inf))) == -np.inf


def test_log_prob_broadcasts_value_against_the_batch_and_follows_the_dtype(x64):
    flat = dist.ImproperUniform(constraints.real, batch_shape=(4,))
    lp = flat.log_prob(jnp.zeros((2, 1), jnp.float64))
    assert lp.shape == (2, 4) and lp.dtype == jnp.float64


def test_expand_and_pytree_round_trip():
    flat = dist.ImproperUniform(constraints.positive, event_shape=(2,)).expand((3,))
    assert flat.batch_shape == (3,) and flat.event_shape == (2,)
    leaves, treedef = jax.tree_util.tree_flatten(flat)
    again = jax.tree_util.tree_unflatten(treedef, leaves)
    assert again.batch_shape == (3,) and again.support.event_dim == 1
    assert jax.jit(lambda d, x: d.log_prob(x))(flat, jnp.ones((3, 2))).shape == (3,)
    with pytest.raises(ValueError, match="batch_shape"):
        flat.expand((4,))


def test_sampling_raises_but_shape_inference_works():
    flat = dist.ImproperUniform(constraints.real, batch_shape=(2,), event_shape=(3,))
    with pytest.raises(NotImplementedError, match="ImproperUniform cannot be sampled"):
        flat.sample(jax.random.key(0))
    shape = jax.eval_shape(lambda key: flat.sample(key, (5,)), jax.random.key(0))
    assert shape.shape == (5, 2, 3)
    # Under jit a draw is a visible NaN placeholder, never plausible-looking numbers.
    assert np.all(np.isnan(jax.jit(lambda key: flat.sample(key))(jax.random.key(0))))


def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match="`support` must be a constraint"):
        dist.ImproperUniform("positive")
    with pytest.raises(ValueError, match="`event_shape` must have at least 1"):
        dist.ImproperUniform(constraints.simplex, event_shape=())
    with pytest.raises(ValueError, match="batch_shape"):
        dist.ImproperUniform(constraints.real, batch_shape=(-1,))


def test_validate_args_rejects_values_outside_the_support():
    flat = dist.ImproperUniform(constraints.positive, validate_args=True)
    with pytest.raises(ValueError, match="positive"):
        flat.log_prob(-1.0)


def test_flat_priors_in_a_joint_give_likelihood_plus_log_jacobian(x64):
    """p(beta, sigma) = 1 on sigma > 0: the target is the likelihood plus Exp's log-det."""
    x = jnp.linspace(-1.0, 1.0, 7)
    y = 0.3 + 2.0 * x + jnp.sin(5 * x)
    jd = dist.JointDistributionNamed({
        "beta": dist.ImproperUniform(constraints.real, event_shape=(2,)),
        "sigma": dist.ImproperUniform(constraints.positive),
        "y": lambda beta, sigma: dist.Normal(beta[0] + beta[1] * x, sigma),
    })
    assert jd.event_shape == {"beta": (2,), "sigma": (), "y": (7,)}
    target = jd.condition(y=y)
    for seed in range(3):
        z = target.init(jax.random.key(seed))
        beta, sigma = np.asarray(z["beta"]), float(np.exp(z["sigma"]))
        expected = scipy.stats.norm.logpdf(y, beta[0] + beta[1] * x, sigma).sum() + float(z["sigma"])
        np.testing.assert_allclose(float(target.logdensity(z)), expected, rtol=1e-12)
