"""for_constraint: every continuous constraint gets a bijector landing inside it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import bijectors as bij
from probflow.distributions import constraints as c

# (constraint, unconstrained event shape, expected bijector type)
CONTINUOUS = {
    "real": (lambda: c.real, (3,), bij.Identity),
    "real_vector": (lambda: c.real_vector, (3,), bij.Identity),
    "positive": (lambda: c.positive, (3,), bij.Exp),
    "nonnegative": (lambda: c.nonnegative, (3,), bij.Exp),
    "greater_than": (lambda: c.greater_than(jnp.array([-1.0, 0.0, 5.0])), (3,), bij.Chain),
    "less_than": (lambda: c.less_than(2.0), (3,), bij.Chain),
    "unit_interval": (lambda: c.unit_interval, (3,), bij.Sigmoid),
    "interval": (lambda: c.interval(jnp.array([0.0, -2.0, 1.0]), 3.0), (3,), bij.Sigmoid),
    "simplex": (lambda: c.simplex, (3,), bij.StickBreaking),
    "ordered_vector": (lambda: c.ordered_vector, (4,), bij.Ordered),
    "corr_cholesky": (lambda: c.corr_cholesky, (6,), bij.CorrCholesky),
    "lower_cholesky": (lambda: c.lower_cholesky, (6,), bij.FillScaleTriL),
    "positive_definite": (lambda: c.positive_definite, (6,), bij.PositiveDefinite),
    "independent_positive": (lambda: c.independent(c.positive, 1), (3,), bij.Exp),
    "independent_simplex": (lambda: c.independent(c.simplex, 1), (2, 3), bij.StickBreaking),
}


@jax.jit
def _constrain_and_check(constraint, z):
    # Bijector and constraint are both pytrees: one compiled program per case.
    b = bij.for_constraint(constraint)
    y, log_det = b.forward_and_log_det(z)
    return y, log_det, constraint.check(y), b.inverse(y)


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_forward_lands_in_constraint(name, x64):
    make, shape, expected_type = CONTINUOUS[name]
    constraint = make()
    assert isinstance(bij.for_constraint(constraint), expected_type)
    # A batch of 5 random points, spread well beyond Stan's init range.
    z = 3.0 * jax.random.normal(jax.random.key(0), (5,) + shape)
    y, log_det, inside, z_back = _constrain_and_check(constraint, z)
    assert bool(jnp.all(inside)), (name, y)
    assert bool(jnp.all(jnp.isfinite(log_det)))
    np.testing.assert_allclose(z_back, z, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["simplex", "corr_cholesky"])
def test_forward_lands_in_constraint_float32(name):
    make, shape, _ = CONTINUOUS[name]
    constraint = make()
    z = 2.0 * jax.random.normal(jax.random.key(1), (5,) + shape)
    assert bool(jnp.all(_constrain_and_check(constraint, z)[2]))


def test_stan_choices():
    x = jnp.array([0.0, 1.0])
    np.testing.assert_allclose(bij.for_constraint(c.greater_than(2.0)).forward(x), 2.0 + jnp.exp(x))
    np.testing.assert_allclose(bij.for_constraint(c.less_than(2.0)).forward(x), 2.0 - jnp.exp(x))
    np.testing.assert_allclose(
        bij.for_constraint(c.interval(1.0, 3.0)).forward(x),
        1.0 + 2.0 * jax.nn.sigmoid(x),
        rtol=1e-6,
    )
    # Stan's lower_cholesky transform puts exp on the diagonal.
    L = bij.for_constraint(c.lower_cholesky).forward(jnp.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(L, [[1.0, 0.0], [0.5, np.e]], rtol=1e-6)


def test_array_bounds_are_leaves_and_trace_under_jit():
    @jax.jit
    def constrain(low, high, z):
        return bij.for_constraint(c.interval(low, high)).forward(z)

    low, high = jnp.array([0.0, 10.0]), jnp.array([1.0, 20.0])
    y = constrain(low, high, jnp.zeros(2))
    np.testing.assert_allclose(y, [0.5, 15.0])
    leaves = jax.tree_util.tree_leaves(bij.for_constraint(c.interval(low, high)))
    assert len(leaves) == 2


@pytest.mark.parametrize(
    "constraint",
    [
        c.boolean,
        c.nonnegative_integer,
        c.positive_integer,
        c.integer_interval(0, 3),
        c.independent(c.boolean, 1),
    ],
)
def test_discrete_constraints_raise(constraint):
    with pytest.raises(ValueError, match="cannot be unconstrained: discrete"):
        bij.for_constraint(constraint)


def test_not_a_constraint_raises():
    with pytest.raises(TypeError, match="constraint"):
        bij.for_constraint("positive")
