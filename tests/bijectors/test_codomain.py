"""Bijectors declare the set their forward map lands in; TransformedDistribution uses it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import bijectors as bij
from probflow import distributions as dist

CASES = [
    (bij.Identity(), (4,)),
    (bij.Exp(), (4,)),
    (bij.Softplus(), (4,)),
    (bij.Sigmoid(), (4,)),
    (bij.Sigmoid(low=-2.0, high=5.0), (4,)),
    (bij.Tanh(), (4,)),
    (bij.Affine(1.0, 2.0), (4,)),
    (bij.StickBreaking(), (3,)),
    (bij.Ordered(), (3,)),
    (bij.CorrCholesky(), (3,)),
    (bij.FillScaleTriL(), (6,)),
    (bij.PositiveDefinite(), (6,)),
    (bij.Chain([bij.Exp(), bij.Affine(0.5, 3.0)]), (4,)),
]


@pytest.mark.parametrize("bijector, shape", CASES, ids=lambda c: repr(c) if not isinstance(c, tuple) else "")
def test_forward_lands_in_the_codomain(bijector, shape):
    x = 3.0 * jax.random.normal(jax.random.key(0), (5,) + shape)
    y = jax.vmap(bijector.forward)(x)
    assert bijector.codomain is not None
    assert bool(jnp.all(bijector.codomain.check(y)))


def test_unknown_codomain_is_none():
    # exp(x) + 1 lands in (1, inf), which Chain cannot derive from its members.
    assert bij.Chain([bij.Shift(1.0), bij.Exp()]).codomain is None


def test_transformed_log_prob_is_minus_inf_outside_the_image_not_nan():
    lognormal = dist.TransformedDistribution(dist.Normal(0.0, 1.0), bij.Exp())
    values = lognormal.log_prob(jnp.array([-1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(np.asarray(values[:2]), [-np.inf, -np.inf])
    np.testing.assert_allclose(float(values[2]), -0.5 * np.log(2 * np.pi), rtol=1e-6)
