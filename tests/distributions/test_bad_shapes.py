"""Shapes, dtypes and keys a distribution cannot use get our error, naming the argument.

Never a message from inside JAX ("Incompatible shapes for broadcasting", "cannot
reshape", "invalid PRNG key data"): the family, the argument, what it got and what it
expected. Or it just works: an int seed, an empty batch.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import bijectors as bij
from probflow import distributions as dist


def re_shape(shape):
    """A shape as a regex (parentheses escaped)."""
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


PARAMETER_MISMATCH = {
    "Normal": lambda: dist.Normal(jnp.zeros(3), jnp.ones(2)),
    "Gamma": lambda: dist.Gamma(jnp.ones(3), jnp.ones(2)),
    "StudentT": lambda: dist.StudentT(jnp.ones(3), 0.0, jnp.ones(2)),
    "Binomial": lambda: dist.Binomial(jnp.ones(3), probs=jnp.full(2, 0.5)),
    "TruncatedNormal": lambda: dist.TruncatedNormal(jnp.zeros(3), 1.0, low=-jnp.ones(2),
                                                    high=jnp.ones(2)),
    "MultivariateNormal": lambda: dist.MultivariateNormal(
        jnp.zeros((3, 2)), scale_tril=jnp.broadcast_to(jnp.eye(2), (2, 2, 2))),
    "Multinomial": lambda: dist.Multinomial(jnp.ones(3), probs=jnp.full((2, 2), 0.5)),
    "Wishart": lambda: dist.Wishart(jnp.full(3, 4.0),
                                    scale_tril=jnp.broadcast_to(jnp.eye(2), (2, 2, 2))),
}


@pytest.mark.parametrize("name", sorted(PARAMETER_MISMATCH))
def test_parameters_that_do_not_broadcast_are_named(name):
    with pytest.raises(ValueError, match=rf"{name}: the parameters' batch shapes must "
                                         r"broadcast together; got `\w+` \(3,\)"):
        PARAMETER_MISMATCH[name]()


VALUE_MISMATCH = {
    "Normal": (lambda: dist.Normal(jnp.zeros(3), 1.0), jnp.zeros(2)),
    "Categorical": (lambda: dist.Categorical(probs=jnp.full((3, 2), 0.5)), jnp.zeros(2)),
    "MultivariateNormal": (
        lambda: dist.MultivariateNormal(jnp.zeros(3), scale_tril=jnp.eye(3)), jnp.zeros(2)),
    "Dirichlet": (lambda: dist.Dirichlet(jnp.ones(3)), jnp.full(2, 0.5)),
    "Independent": (lambda: dist.Independent(dist.Normal(jnp.zeros((2, 3)), 1.0), 1),
                    jnp.zeros(2)),
    "TransformedDistribution": (
        lambda: dist.TransformedDistribution(dist.Normal(jnp.zeros(3), 1.0), bij.Exp()),
        jnp.ones(2)),
    "MixtureSameFamily": (
        lambda: dist.MixtureSameFamily(dist.Categorical(probs=jnp.full(2, 0.5)),
                                       dist.Normal(jnp.zeros((3, 2)), 1.0)),
        jnp.zeros(2)),
    "Wishart": (lambda: dist.Wishart(4.0, scale_tril=jnp.eye(2)), jnp.eye(3)),
}


@pytest.mark.parametrize("name", sorted(VALUE_MISMATCH))
def test_a_value_that_does_not_fit_the_batch_and_event_shape_is_named(name):
    make, value = VALUE_MISMATCH[name]
    with pytest.raises(ValueError, match=rf"{name}.log_prob: `value` of shape "
                                         rf"{re_shape(value.shape)} does not broadcast"):
        make().log_prob(value)


def test_a_value_that_broadcasts_is_accepted():
    d = dist.MultivariateNormal(jnp.zeros(3), scale_tril=jnp.eye(3))
    assert d.log_prob(jnp.zeros((4, 3))).shape == (4,)
    assert dist.Normal(jnp.zeros(3), 1.0).log_prob(jnp.zeros((2, 1))).shape == (2, 3)


def test_a_string_value_is_not_numeric():
    with pytest.raises(TypeError, match=r"Normal.log_prob: `value` must be numeric; got dtype <U"):
        dist.Normal(0.0, 1.0).log_prob(np.array(["a"]))


EMPTY_EVENT = {
    "Categorical": (lambda: dist.Categorical(probs=jnp.zeros(0)), "probs", (0,)),
    "OneHotCategorical": (lambda: dist.OneHotCategorical(logits=jnp.zeros((2, 0))), "logits",
                          (2, 0)),
    "Dirichlet": (lambda: dist.Dirichlet(jnp.ones((2, 0))), "concentration", (2, 0)),
    "MultivariateNormal": (
        lambda: dist.MultivariateNormal(jnp.zeros(0), scale_tril=jnp.zeros((0, 0))), "loc", (0,)),
}


@pytest.mark.parametrize("name", sorted(EMPTY_EVENT))
def test_a_parameter_with_an_empty_event_dim_is_named(name):
    make, argument, shape = EMPTY_EVENT[name]
    with pytest.raises(ValueError, match=rf"{name}: parameter `{argument}` must have non-empty "
                                         rf"event dims.*got shape {re_shape(shape)}"):
        make()


def test_an_empty_batch_just_works():
    d = dist.Normal(jnp.zeros(0), 1.0)
    x = d.sample(jax.random.key(0), (2,))
    assert x.shape == (2, 0) and d.log_prob(x).shape == (2, 0)


def test_an_int_seed_is_a_key():
    d = dist.Normal(jnp.zeros(2), 1.0)
    np.testing.assert_array_equal(d.sample(3, (4,)), d.sample(jax.random.key(3), (4,)))
    np.testing.assert_array_equal(d.sample(np.int64(3)), d.sample(jax.random.key(3)))


@pytest.mark.parametrize("key", [1.5, "0", None, True, jnp.zeros(2)])
def test_anything_else_is_not_a_key(key):
    with pytest.raises(TypeError, match=r"Normal.sample: `key` must be a jax.random key"):
        dist.Normal(0.0, 1.0).sample(key)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match=r"Normal.sample: an int `key` \(seed\) must be >= 0"):
        dist.Normal(0.0, 1.0).sample(-1)


def test_sample_under_jit_still_takes_traced_keys():
    d = dist.Normal(0.0, 1.0)
    draws = jax.jit(lambda k: d.sample(k, (2,)))(jax.random.key(0))
    np.testing.assert_array_equal(draws, d.sample(jax.random.key(0), (2,)))
    raw = jax.random.PRNGKey(0)  # legacy uint32[2] keys keep working
    assert d.sample(raw, (2,)).shape == (2,)


def test_a_joint_distribution_takes_an_int_seed_too():
    model = dist.JointDistributionNamed(
        {"a": dist.Normal(0.0, 1.0), "b": lambda a: dist.Normal(a, 1.0)})
    by_seed, by_key = model.sample(2), model.sample(jax.random.key(2))
    for name in ("a", "b"):
        np.testing.assert_array_equal(by_seed[name], by_key[name])
    with pytest.raises(TypeError, match=r"JointDistributionNamed.sample: `key` must be"):
        model.sample("2")
