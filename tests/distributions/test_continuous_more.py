"""The further continuous families (issue 19): accuracy, validation, shapes, supports, gradients."""

import functools
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from probflow import bijectors as bij
from probflow import distributions as dist
from probflow.distributions import constraints
from tests.distributions import _scipy_cases, _scipy_cases_more
from tests.distributions.test_continuous import FAMILIES as EXISTING

# Moderate parameters (batch of 3) and a value inside each support, per family.
EXAMPLES = {
    "HalfStudentT": (dict(df=[1.5, 4.0, 30.0], scale=[1.0, 0.5, 3.0]), 0.7),
    "SkewNormal": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0], skewness=[-3.0, 0.5, 4.0]), 0.3),
    "AsymmetricLaplace": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0], asymmetry=[0.5, 1.0, 3.0]), 0.3),
    "Gompertz": (dict(concentration=[0.5, 2.0, 9.0], rate=[1.0, 0.5, 3.0]), 0.7),
    "Frechet": (dict(concentration=[2.5, 4.0, 9.0], loc=[0.0, 0.1, -2.0], scale=[1.0, 0.5, 3.0]), 0.7),
    "GeneralizedExtremeValue": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0], concentration=[-0.3, 0.0, 0.4]),
                                0.3),
    "Rice": (dict(nu=[0.0, 1.0, 4.0], scale=[1.0, 0.5, 3.0]), 0.7),
    "Chi": (dict(df=[0.5, 2.0, 9.0]), 0.7),
    "LogLogistic": (dict(loc=[0.0, 1.0, -2.0], scale=[0.2, 0.4, 0.3]), 0.7),
    "InverseGaussian": (dict(loc=[0.5, 2.0, 9.0], concentration=[1.0, 0.5, 3.0]), 0.7),
    "ExponentiallyModifiedGaussian": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0], rate=[0.5, 2.0, 9.0]), 0.3),
    "Triangular": (dict(low=[0.0, -1.0, 0.5], high=[1.0, 2.0, 0.8], peak=[0.2, 0.0, 0.8]), 0.7),
    "Moyal": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.3),
    "Levy": (dict(loc=[0.0, -1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.7),
    "GeneralizedNormal": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0], power=[0.5, 2.0, 9.0]), 0.3),
    "Kumaraswamy": (dict(concentration1=[0.5, 2.0, 9.0], concentration0=[1.0, 0.5, 3.0]), 0.7),
    "BetaProportion": (dict(mean=[0.2, 0.5, 0.9], concentration=[1.0, 5.0, 30.0]), 0.7),
    "LogitNormal": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]), 0.7),
    "SinhArcsinh": (dict(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0], skewness=[0.0, 1.0, -0.5],
                         tailweight=[1.0, 0.5, 2.0]), 0.3),
}
FAMILIES = sorted(EXAMPLES)
RTOL = 1e-6
# Only where a value is ~0 (log densities and entropies crossing zero, tiny tails).
ATOL = 1e-10
# Moments each family offers (the rest raise NotImplementedError).
MOMENTS = ("mean", "variance", "stddev", "entropy")
NO_ENTROPY = {"Rice", "ExponentiallyModifiedGaussian"}


def make(name, dtype=None, **overrides):
    params, _ = EXAMPLES[name]
    params = {k: jnp.asarray(v, dtype) for k, v in {**params, **overrides}.items()}
    return getattr(dist, name)(**params)


def _moments(name):
    return tuple(m for m in MOMENTS if not (m == "entropy" and name in NO_ENTROPY))


@pytest.mark.parametrize("name", sorted(_scipy_cases_more.CASES))
def test_matches_scipy(x64, name):
    worst = {}
    for method, (ours, ref) in _scipy_cases_more.compare(name).items():
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL, err_msg=f"{name}.{method}")
        worst[method] = _scipy_cases.relative_error(ours, ref, atol=ATOL)
    print(name, {m: f"{e:.1e}" for m, e in worst.items()})


def test_cases_cover_every_new_family():
    assert set(_scipy_cases_more.CASES) == set(FAMILIES)
    for name in FAMILIES:
        assert name in dist.__all__


def _constructor_params(name):
    return list(EXAMPLES[name][0])


def _constraint_of(name, param):
    family = getattr(dist, name)
    return family.arg_constraints.get("proportion" if param == "mean" else param)


@pytest.mark.parametrize("name", FAMILIES)
def test_validate_args_names_every_parameter(name):
    params, _ = EXAMPLES[name]
    family = getattr(dist, name)
    for param in _constructor_params(name):
        constraint = _constraint_of(name, param)
        bad_values = [math.nan]
        if constraint is constraints.positive:
            bad_values += [-1.0, 0.0]
        elif constraint is constraints.nonnegative:
            bad_values += [-1.0]
        elif param == "mean":
            bad_values += [0.0, 1.0, -0.5]
        for bad in bad_values:
            with pytest.raises(ValueError, match=f"`{param}`"):
                family(**{**params, param: bad}, validate_args=True)
        family(**{**params, param: bad_values[-1]})  # unchecked without the flag
    family(**params, validate_args=True)


def test_validate_args_orderings():
    with pytest.raises(ValueError, match="`high`"):
        dist.Triangular(1.0, 0.0, 0.5, validate_args=True)
    with pytest.raises(ValueError, match="`peak`"):
        dist.Triangular(0.0, 1.0, 1.5, validate_args=True)
    dist.Triangular(0.0, 1.0, jnp.array([0.0, 1.0]), validate_args=True)  # peaks on the edges are fine
    dist.Rice(0.0, 1.0, validate_args=True)  # nu = 0 is the Rayleigh distribution


def test_validate_args_checks_values():
    with pytest.raises(ValueError, match="positive"):
        dist.Chi(2.0, validate_args=True).log_prob(-1.0)
    with pytest.raises(ValueError, match="greater than"):
        dist.Levy(1.0, 1.0, validate_args=True).log_prob(0.5)


def _shape_summary(d, key, value, moments):
    draws = d.sample(key, (4, 2))
    return {
        "draws": draws,
        "log_prob_draws": d.log_prob(draws),
        "log_prob_scalar": d.log_prob(value),
        "log_prob_column": d.log_prob(jnp.full((5, 1), value)),
        "moments": [getattr(d, m)() for m in moments],
        "expanded": d.expand((2, 3)).sample(key),
    }


@pytest.mark.parametrize("name", FAMILIES)
def test_shapes_and_dtype(name, key):
    d = make(name)
    assert d.batch_shape == (3,) and d.event_shape == ()
    moments = _moments(name)
    out = jax.eval_shape(lambda d, k: _shape_summary(d, k, EXAMPLES[name][1], moments), d, key)
    assert out["draws"].shape == (4, 2, 3) and out["draws"].dtype == jnp.float32
    assert out["log_prob_draws"].shape == (4, 2, 3)
    assert out["log_prob_scalar"].shape == (3,)
    assert out["log_prob_column"].shape == (5, 3)
    assert [m.shape for m in out["moments"]] == [(3,)] * len(moments)
    assert out["expanded"].shape == (2, 3)


def test_parameters_broadcast_into_batch_shape():
    d = dist.SinhArcsinh(jnp.zeros((2, 1)), 1.0, jnp.zeros(3), 1.0)
    assert d.batch_shape == (2, 3)
    assert jax.eval_shape(lambda d: d.sample(jax.random.key(0), 5), d).shape == (5, 2, 3)
    assert d.mean().shape == d.variance().shape == d.entropy().shape == (2, 3)
    assert dist.BetaProportion(jnp.full((4, 1), 0.5), jnp.ones(3)).mean().shape == (4, 3)


OUTSIDE = {
    "HalfStudentT": -1.0, "Gompertz": -1.0, "Frechet": -3.0, "Rice": -1.0, "Chi": -1.0,
    "LogLogistic": -1.0, "InverseGaussian": -1.0, "Triangular": 5.0, "Levy": -3.0,
    "Kumaraswamy": 1.5, "BetaProportion": -0.5, "LogitNormal": 1.5,
}


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_log_prob_outside_support_is_minus_inf(name):
    d = make(name)
    np.testing.assert_array_equal(d.log_prob(OUTSIDE[name]), -np.inf)
    assert not bool(jnp.any(jnp.isnan(d.cdf(OUTSIDE[name]))))


def test_log_prob_on_support_edges(x64):
    # Densities finite, zero or infinite on the edges, as scipy has them.
    tri = dist.Triangular(jnp.zeros(3), 2.0, jnp.array([0.0, 1.0, 2.0]))
    edges = np.array([[0.0], [1.0], [2.0]])
    expected = st.triang(np.array([0.0, 0.5, 1.0]), 0.0, 2.0).logpdf(edges)
    np.testing.assert_allclose(tri.log_prob(jnp.asarray(edges)), expected, rtol=1e-12)
    kuma = dist.Kumaraswamy(jnp.array([1.0, 2.0, 0.5]), jnp.array([1.0, 2.0, 0.5]))
    np.testing.assert_allclose(kuma.log_prob(0.0), [0.0, -np.inf, np.inf])
    np.testing.assert_allclose(kuma.log_prob(1.0), [0.0, -np.inf, np.inf])
    beta = dist.BetaProportion(jnp.array([0.5, 0.25]), jnp.array([2.0, 4.0]))  # Beta(1, 1), Beta(1, 3)
    np.testing.assert_allclose(beta.log_prob(0.0), [0.0, np.log(3.0)])
    np.testing.assert_array_equal(dist.LogitNormal(0.0, 1.0).log_prob(jnp.array([0.0, 1.0])), -np.inf)
    np.testing.assert_array_equal(dist.Levy(1.0, 1.0).log_prob(1.0), -np.inf)
    np.testing.assert_array_equal(dist.Frechet(2.0, 1.0).log_prob(1.0), -np.inf)
    # Gradients stay finite where the density is, edges included: each member at its peak.
    tri = tri.expand((3,))
    grads = jax.grad(lambda d: jnp.sum(d.log_prob(d.peak)))(tri)
    for param in ("low", "high", "peak"):
        assert np.all(np.isfinite(np.asarray(grads.__dict__[param]))), param


def test_supports_map_to_bijectors(key):
    """`for_constraint(support)` lands inside the support, where log_prob is finite."""
    for name in FAMILIES:
        d = make(name)
        bijector = bij.for_constraint(d.support)
        x = bijector.forward(jax.random.normal(key, (5, 3)) * 2.0)
        assert bool(jnp.all(d.support.check(x))), name
        assert bool(jnp.all(jnp.isfinite(d.log_prob(x)))), name
    assert repr(dist.Levy(2.0, 1.0).support) == "greater_than(2.0)"
    assert repr(dist.Triangular(0.0, 2.0, 1.0).support) == "interval(0.0, 2.0)"
    assert dist.Kumaraswamy(1.0, 1.0).support is constraints.unit_interval


@jax.jit
def _log_prob_and_grads(d, value):
    def total(d, value):
        return jnp.sum(d.log_prob(value))

    return total(d, value), jax.grad(total, argnums=(0, 1))(d, value)


@pytest.mark.parametrize("name", FAMILIES)
def test_log_prob_gradients_match_finite_differences(x64, name):
    d, value = make(name, jnp.float64), jnp.asarray(EXAMPLES[name][1], jnp.float64)
    d = d.expand(d.batch_shape)
    _, (grad_d, grad_value) = _log_prob_and_grads(d, value)
    step = 1e-6
    for param in d._batch_param_names():
        base = d.__dict__[param]
        for i in range(3):
            bump = jnp.zeros_like(base).at[i].set(step * max(1.0, abs(float(base[i]))))
            plus = _log_prob_and_grads(d._replace(**{param: base + bump}), value)[0]
            minus = _log_prob_and_grads(d._replace(**{param: base - bump}), value)[0]
            numeric = float(plus - minus) / (2 * float(bump[i]))
            np.testing.assert_allclose(grad_d.__dict__[param][i], numeric, rtol=1e-5, atol=1e-7,
                                       err_msg=f"{name}.{param}[{i}]")
    plus = _log_prob_and_grads(d, value + step)[0]
    minus = _log_prob_and_grads(d, value - step)[0]
    np.testing.assert_allclose(grad_value, float(plus - minus) / (2 * step), rtol=1e-5, atol=1e-7)


@jax.jit
def _through_transforms(d, value):
    per_member = jax.vmap(lambda member: member.log_prob(value))(d)
    return d.log_prob(value), per_member


@pytest.mark.parametrize("name", FAMILIES)
def test_jit_and_vmap(name):
    d, value = make(name), EXAMPLES[name][1]
    d = d.expand(d.batch_shape)
    jitted, per_member = _through_transforms(d, value)
    np.testing.assert_allclose(jitted, d.log_prob(value), rtol=1e-6)
    np.testing.assert_allclose(per_member, d.log_prob(value), rtol=1e-6)


@pytest.mark.parametrize("name", FAMILIES)
def test_cdf_icdf_round_trip(x64, name):
    d = make(name, jnp.float64)
    probs = jnp.array([[1e-3], [0.2], [0.5], [0.8], [0.999]])
    if not hasattr(type(d), "icdf") or type(d).icdf is dist.Distribution.icdf:
        # No icdf: the cdf is increasing across the draws and in [0, 1].
        x = jnp.sort(d.sample(jax.random.key(0), (50,)), axis=0)
        cdf = np.asarray(d.cdf(x))
        assert np.all(np.diff(cdf, axis=0) >= 0) and np.all((cdf >= 0) & (cdf <= 1))
        np.testing.assert_allclose(d.cdf(x) + d.survival_function(x), 1.0, rtol=1e-12)
        return
    x = d.icdf(probs)
    np.testing.assert_allclose(d.cdf(x), jnp.broadcast_to(probs, x.shape), rtol=1e-9)
    np.testing.assert_allclose(d.cdf(x) + d.survival_function(x), 1.0, rtol=1e-12)


def test_undefined_moments_are_infinite():
    np.testing.assert_array_equal(dist.HalfStudentT(jnp.array([0.5, 1.5, 3.0])).variance()[:2], [np.inf, np.inf])
    assert np.isinf(dist.HalfStudentT(0.9).mean())
    np.testing.assert_array_equal(dist.Frechet(jnp.array([0.5, 1.5])).variance(), [np.inf, np.inf])
    assert np.isinf(dist.LogLogistic(0.0, 1.5).mean()) and np.isinf(dist.Levy(0.0, 1.0).variance())


def test_docs_table_lists_every_continuous_family():
    page = (Path(__file__).resolve().parents[2] / "docs" / "api" / "distribution_families.md").read_text()
    section = page.split("## Continuous univariate")[1].split("\n## ")[0]
    listed = {line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")} - {"family"}
    assert listed == set(FAMILIES) | set(EXISTING)


def test_generalized_extreme_value_support_bijector(x64):
    """Round trip and log-det against autodiff, for bounded-below, unbounded and bounded-above members."""
    d = dist.GeneralizedExtremeValue(jnp.array([0.5, 0.5, 0.5]), 2.0, jnp.array([0.7, 0.0, -0.7]))
    bijector = bij.for_constraint(d.support)
    u = jnp.linspace(-4.0, 4.0, 9)[:, None] * jnp.ones(3)
    x, log_det = bijector.forward_and_log_det(u)
    assert bool(jnp.all(d.support.check(x)))
    np.testing.assert_allclose(bijector.inverse(x), u, rtol=1e-10, atol=1e-12)
    derivative = jax.vmap(jax.vmap(jax.grad(lambda v, i: bijector.forward(jnp.full(3, v))[i]), (0, 0)), (0, None))(
        u, jnp.arange(3)
    )
    np.testing.assert_allclose(log_det, jnp.log(derivative), rtol=1e-10)
    np.testing.assert_allclose(bijector.inverse_and_log_det(x)[1], -log_det, rtol=1e-10, atol=1e-12)
    # Past the upper end of a bounded member the density is 0 and the cdf 1.
    np.testing.assert_array_equal(d.log_prob(10.0)[2], -np.inf)
    np.testing.assert_array_equal(d.cdf(10.0)[2], 1.0)
    np.testing.assert_array_equal(d.cdf(-10.0)[0], 0.0)


@jax.jit
def _icdf_and_grads(d, p):
    def total(d, p):
        return jnp.sum(d.icdf(p))

    return d.icdf(p), jax.grad(total, argnums=(0, 1))(d, p), d.log_prob(d.icdf(p))


@pytest.mark.parametrize(
    "name", ["Chi", "GeneralizedNormal", "SkewNormal", "ExponentiallyModifiedGaussian", "InverseGaussian", "Rice"]
)
def test_bisection_icdf_gradients_are_implicit(x64, name):
    """d x / d p = 1 / density and d x / d theta match finite differences of the icdf itself."""
    d = make(name, jnp.float64)
    d = d.expand(d.batch_shape)
    p = jnp.array([0.1, 0.5, 0.97])
    x, (grad_d, grad_p), log_density = _icdf_and_grads(d, p)
    np.testing.assert_allclose(grad_p, np.exp(-np.asarray(log_density)), rtol=1e-8)
    for param in d._batch_param_names():
        base = d.__dict__[param]
        bump = 1e-6 * jnp.maximum(1.0, jnp.abs(base))
        plus = _icdf_and_grads(d._replace(**{param: base + bump}), p)[0]
        minus = _icdf_and_grads(d._replace(**{param: base - bump}), p)[0]
        np.testing.assert_allclose(grad_d.__dict__[param], (plus - minus) / (2 * bump), rtol=1e-5, atol=1e-8,
                                   err_msg=param)


# Moments that are infinite for the EXAMPLES parameters (HalfStudentT df = 1.5, Levy).
INFINITE = {("HalfStudentT", "variance"), ("HalfStudentT", "stddev"), ("Levy", "mean"), ("Levy", "variance"),
            ("Levy", "stddev")}


@functools.partial(jax.jit, static_argnums=(2, 3))
def _float32_summary(d, key, moments, with_cdf):
    x = d.sample(key, (200,))
    return {
        "x": x,
        "log_prob": d.log_prob(x),
        "cdf": d.cdf(x) if with_cdf else jnp.zeros(()),
        "moments": {m: getattr(d, m)() for m in moments},
    }


@pytest.mark.parametrize("name", FAMILIES)
def test_float32_values_are_finite(name):
    """Draws, their log densities and cdfs, and the moments in the default float32."""
    out = _float32_summary(make(name), jax.random.key(1), _moments(name), True)
    assert out["x"].dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(out["x"])))
    assert bool(jnp.all(jnp.isfinite(out["log_prob"])))
    assert bool(jnp.all((out["cdf"] >= 0) & (out["cdf"] <= 1)))
    for moment, value in out["moments"].items():
        if (name, moment) in INFINITE:
            assert bool(jnp.all(jnp.isinf(value[:1]))), moment
        else:
            assert bool(jnp.all(jnp.isfinite(value))), moment
