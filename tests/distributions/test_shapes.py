"""TFP shape semantics across broadcasting: sample, log_prob and expand shapes.

Every case states its batch and event shape; the checks derive the rest:
``sample(key, s).shape == s + batch + event``, `log_prob` reduces the event dims only
and broadcasts extra leading dims of the value, and `expand` prepends batch dims.
Families that another part has not landed yet are skipped, by name.
"""

import jax
import jax.numpy as jnp
import pytest

from probflow import bijectors as bij
from probflow import distributions as dist
from probflow.distributions import constraints


def _family(name):
    family = getattr(dist, name, None)
    if family is None:
        pytest.skip(f"probflow.distributions.{name} is not available yet")
    return family


def _cat(logits_shape):
    return _family("Categorical")(logits=jnp.zeros(logits_shape))


CASES = {
    "normal-broadcast": (lambda: dist.Normal(jnp.zeros((2, 1)), jnp.ones(3)), (2, 3), ()),
    "independent": (lambda: dist.Independent(dist.Normal(jnp.zeros((2, 3)), 1.0), 1), (2,), (3,)),
    "independent-all": (
        lambda: dist.Independent(dist.Normal(jnp.zeros((2, 3)), 1.0), 2),
        (),
        (2, 3),
    ),
    "transformed-exp": (
        lambda: dist.TransformedDistribution(
            dist.Normal(jnp.zeros(3), 1.0), bij.Exp(), support=constraints.positive
        ),
        (3,),
        (),
    ),
    "transformed-stickbreaking": (
        lambda: dist.TransformedDistribution(
            dist.Normal(jnp.zeros((2, 2)), 1.0), bij.StickBreaking()
        ),
        (2,),
        (3,),
    ),
    "mixture-same-family": (
        lambda: dist.MixtureSameFamily(_cat((2, 3)), dist.Normal(jnp.zeros((2, 3)), 1.0)),
        (2,),
        (),
    ),
    "mixture-same-family-vector": (
        lambda: dist.MixtureSameFamily(
            _cat((3,)), dist.Independent(dist.Normal(jnp.zeros((3, 2)), 1.0), 1)
        ),
        (),
        (2,),
    ),
    "mixture": (
        lambda: dist.Mixture(
            _cat((2,)), [dist.Normal(jnp.zeros(3), 1.0), _family("Laplace")(jnp.zeros(3), 1.0)]
        ),
        (3,),
        (),
    ),
    "deterministic": (lambda: dist.Deterministic(jnp.zeros((2, 3))), (2, 3), ()),
    "gamma-broadcast": (lambda: _family("Gamma")(jnp.ones((2, 1)), jnp.ones(3)), (2, 3), ()),
    "uniform-broadcast": (lambda: _family("Uniform")(jnp.zeros(2), jnp.ones((3, 1))), (3, 2), ()),
    "categorical": (lambda: _cat((2, 4)), (2,), ()),
    "dirichlet": (lambda: _family("Dirichlet")(jnp.ones((2, 3))), (2,), (3,)),
    "mvn": (
        lambda: _family("MultivariateNormal")(jnp.zeros((2, 3)), scale_tril=jnp.eye(3)),
        (2,),
        (3,),
    ),
}


def draw(d, key, shape):
    # Shapes only: tracing is enough, and it skips compiling a program per case.
    return jax.eval_shape(lambda d, key: d.sample(key, shape), d, key)


def log_prob(d, value):
    return jax.eval_shape(lambda d, value: d.log_prob(value), d, value)


@pytest.mark.parametrize("case", list(CASES))
def test_shapes(case, key):
    make, batch, event = CASES[case]
    d = make()
    assert (d.batch_shape, d.event_shape) == (batch, event)
    x = draw(d, key, (2,))
    assert x.shape == (2,) + batch + event
    assert log_prob(d, x).shape == (2,) + batch
    # Extra leading dims of the value broadcast against the batch.
    wider = jax.ShapeDtypeStruct((4, 2) + batch + event, x.dtype)
    assert log_prob(d, wider).shape == (4, 2) + batch
    # A value with no batch dims broadcasts to the whole batch.
    one = jax.ShapeDtypeStruct(event, x.dtype)
    assert log_prob(d, one).shape == batch
    expanded = d.expand((5,) + batch)
    assert (expanded.batch_shape, expanded.event_shape) == ((5,) + batch, event)
    assert draw(expanded, key, ()).shape == (5,) + batch + event


def test_shapes_inside_vmap():
    # vmap over a batch of distributions: each member sees its own batch shape.
    d = dist.Independent(dist.Normal(jnp.zeros((4, 3)), 1.0).expand((4, 3)), 1)
    inside = []

    def member_log_prob(member, x):
        inside.append((member.batch_shape, member.event_shape))
        return member.log_prob(x)

    lp = jax.eval_shape(jax.vmap(member_log_prob), d, jax.ShapeDtypeStruct((4, 3), jnp.float32))
    assert inside == [((), (3,))]
    assert lp.shape == (4,)
