"""Continuous univariate families: accuracy against scipy, validation, shapes, transforms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import distributions as dist
from probflow.distributions import constraints
from tests.distributions import _scipy_cases

# Moderate parameters (batch of 3) and a value inside each support, per family.
EXAMPLES = {
    "Normal": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.3),
    "LogNormal": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.7),
    "HalfNormal": (dict(scale=[1.0, 0.5, 3.0]), 0.7),
    "TruncatedNormal": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0], low=-1.0, high=[1.0, 2.0, 3.0]), 0.3),
    "Cauchy": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.3),
    "HalfCauchy": (dict(scale=[1.0, 0.5, 3.0]), 0.7),
    "StudentT": (dict(df=[1.5, 4.0, 30.0], loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.3),
    "Laplace": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.3),
    "Logistic": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.3),
    "Gumbel": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.3),
    "Uniform": (dict(low=[0.0, -1.0, 0.5], high=[1.0, 2.0, 0.8]), 0.7),
    "Exponential": (dict(rate=[1.0, 0.5, 3.0]), 0.7),
    "Gamma": (dict(concentration=[0.5, 2.0, 9.0], rate=[1.0, 0.5, 3.0]), 0.7),
    "InverseGamma": (dict(concentration=[0.5, 2.0, 9.0], scale=[1.0, 0.5, 3.0]), 0.7),
    "Chi2": (dict(df=[0.5, 2.0, 9.0]), 0.7),
    "Beta": (dict(concentration1=[0.5, 2.0, 9.0], concentration0=[1.0, 0.5, 3.0]), 0.7),
    "Weibull": (dict(scale=[1.0, 0.5, 3.0], concentration=[0.5, 2.0, 9.0]), 0.7),
    "Pareto": (dict(scale=[0.1, 0.5, 0.2], alpha=[0.5, 2.0, 9.0]), 0.7),
    "VonMises": (dict(loc=[0.0, 1.0, -2.0], concentration=[0.5, 2.0, 9.0]), 0.7),
}
FAMILIES = sorted(EXAMPLES)
RTOL = 1e-6
# Only where a value is ~0 (log densities and entropies crossing zero, tiny tails).
ATOL = 1e-10


def make(name, dtype=None, **overrides):
    params, _ = EXAMPLES[name]
    params = {k: jnp.asarray(v, dtype) for k, v in {**params, **overrides}.items()}
    return getattr(dist, name)(**params)


@pytest.mark.parametrize("name", sorted(_scipy_cases.CASES))
def test_matches_scipy(x64, name):
    worst = {}
    for method, (ours, ref) in _scipy_cases.compare(name).items():
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL, err_msg=f"{name}.{method}")
        worst[method] = _scipy_cases.relative_error(ours, ref, atol=ATOL)
    # Shown with `pytest -s`: the worst relative error per method against scipy.
    print(name, {m: f"{e:.1e}" for m, e in worst.items()})


def test_scipy_cases_cover_every_family():
    assert set(_scipy_cases.CASES) == set(FAMILIES)


def test_undefined_moments_follow_scipy(x64):
    assert np.isnan(dist.Cauchy(0.0, 1.0).mean()) and np.isnan(dist.Cauchy(0.0, 1.0).variance())
    assert np.isinf(dist.HalfCauchy(1.0).mean()) and np.isinf(dist.HalfCauchy(1.0).variance())
    t = dist.StudentT(jnp.array([0.5, 1.5, 3.0]))
    np.testing.assert_array_equal(np.isnan(t.mean()), [True, False, False])
    np.testing.assert_array_equal(t.variance(), [np.nan, np.inf, 3.0])
    np.testing.assert_array_equal(dist.Pareto(1.0, jnp.array([0.5, 1.5])).variance(), [np.inf, np.inf])
    np.testing.assert_array_equal(dist.InverseGamma(jnp.array([0.5, 1.5]), 1.0).mean(), [np.inf, 2.0])
    np.testing.assert_allclose(dist.Beta(jnp.array([2.0, 0.5, 3.0]), jnp.array([2.0, 2.0, 0.5])).mode(), [0.5, 0.0, 1.0])


def _positive_param(name):
    family = getattr(dist, name)
    return next(k for k, c in family.arg_constraints.items() if c is constraints.positive)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_validate_args_names_the_parameter(name, bad):
    params, _ = EXAMPLES[name]
    family = getattr(dist, name)
    param = named = _positive_param(name) if name != "Uniform" else "low"
    if name == "Uniform":
        bad, named = (5.0 if bad == -1.0 else bad), ("high" if bad == -1.0 else "low")  # low > high
    with pytest.raises(ValueError, match=f"`{named}`"):
        family(**{**params, param: bad}, validate_args=True)
    family(**{**params, param: bad})  # unchecked without the flag


def test_validate_args_bounds():
    with pytest.raises(ValueError, match="`high`"):
        dist.TruncatedNormal(0.0, 1.0, 2.0, 1.0, validate_args=True)
    with pytest.raises(ValueError, match="`high`"):
        dist.Uniform(0.0, jnp.nan, validate_args=True)
    dist.TruncatedNormal(0.0, 1.0, 0.0, jnp.inf, validate_args=True)  # infinite bounds are fine


def _shape_summary(d, key, value):
    """Everything the shape test looks at (traced only: values are checked elsewhere)."""
    draws = d.sample(key, (4, 2))
    return {
        "draws": draws,
        "log_prob_draws": d.log_prob(draws),
        "log_prob_scalar": d.log_prob(value),
        "log_prob_column": d.log_prob(jnp.full((5, 1), value)),
        "moments": [d.mean(), d.variance(), d.stddev(), d.entropy()],
        "expanded": d.expand((2, 3)).sample(key),
    }


@pytest.mark.parametrize("name", FAMILIES)
def test_shapes_and_dtype(name, key):
    d = make(name)
    assert d.batch_shape == (3,) and d.event_shape == ()
    out = jax.eval_shape(_shape_summary, d, key, EXAMPLES[name][1])
    assert out["draws"].shape == (4, 2, 3) and out["draws"].dtype == jnp.float32
    assert out["log_prob_draws"].shape == (4, 2, 3)
    # A value broadcasts against the batch, and a batch against the value.
    assert out["log_prob_scalar"].shape == (3,)
    assert out["log_prob_column"].shape == (5, 3)
    assert [m.shape for m in out["moments"]] == [(3,)] * 4
    assert out["expanded"].shape == (2, 3)


def test_parameters_broadcast_into_batch_shape():
    d = dist.StudentT(jnp.ones((2, 1)), jnp.zeros(3), 1.0)
    assert d.batch_shape == (2, 3)
    assert jax.eval_shape(lambda d: d.sample(jax.random.key(0), 5), d).shape == (5, 2, 3)
    assert d.mean().shape == d.variance().shape == d.entropy().shape == (2, 3)
    gamma = dist.Gamma(jnp.ones(3), jnp.ones((4, 1)))
    assert jax.eval_shape(lambda d: d.sample(jax.random.key(0)), gamma).shape == (4, 3)


OUTSIDE = {
    "LogNormal": -1.0, "HalfNormal": -1.0, "HalfCauchy": -1.0, "TruncatedNormal": 10.0,
    "Uniform": 5.0, "Exponential": -1.0, "Gamma": -1.0, "InverseGamma": -1.0, "Chi2": -1.0,
    "Beta": 1.5, "Weibull": -1.0, "Pareto": 0.05, "VonMises": 4.0,
}


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_log_prob_outside_support_is_minus_inf(name):
    d = make(name)
    np.testing.assert_array_equal(d.log_prob(OUTSIDE[name]), -np.inf)
    cdf = d.cdf(OUTSIDE[name]) if name != "VonMises" else jnp.zeros(3)
    assert not bool(jnp.any(jnp.isnan(cdf)))


def test_supports():
    assert repr(dist.Uniform(0.0, 2.0).support) == "interval(0.0, 2.0)"
    assert repr(dist.Pareto(3.0, 1.0).support) == "greater_than(3.0)"
    # Closed at 0 where every density of the family is finite there; open otherwise.
    for d in (dist.HalfNormal(1.0), dist.HalfCauchy(1.0), dist.Exponential(1.0)):
        assert d.support is constraints.nonnegative
    assert dist.Gamma(1.0, 1.0).support is constraints.positive
    assert dist.Beta(1.0, 1.0).support is constraints.unit_interval
    assert repr(dist.VonMises(0.0, 1.0).support) == f"interval({-math.pi!r}, {math.pi!r})"


@jax.jit
def _through_transforms(d, value):
    """log_prob under jit, under vmap over a batch of distributions, and its gradient."""
    per_member = jax.vmap(lambda member: member.log_prob(value))(d)
    # A distribution is a pytree of its parameters, so grad returns one of that shape.
    grads = jax.grad(lambda d: jnp.sum(d.log_prob(value)))(d)
    return d.log_prob(value), per_member, grads


@pytest.mark.parametrize("name", FAMILIES)
def test_jit_vmap_grad(name):
    # Sampling under jit and its gradients: test_continuous_sampling.py.
    d, value = make(name), EXAMPLES[name][1]
    d = d.expand(d.batch_shape)  # every parameter gets the batch axis, for vmap
    jitted, per_member, grads = _through_transforms(d, value)
    np.testing.assert_allclose(jitted, d.log_prob(value), rtol=1e-6)
    np.testing.assert_allclose(per_member, d.log_prob(value), rtol=1e-6)
    for param in d.arg_constraints:
        assert bool(jnp.all(jnp.isfinite(grads.__dict__[param]))), param
