"""Fuzzing distribution parameters and shapes (hypothesis).

For any parameters and shapes a user might pass, a distribution either gives a finite
log_prob equal to scipy's and a finite gradient equal to scipy's finite differences, or raises a ValueError/TypeError that
names the distribution and the argument: never an error from inside JAX.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from probflow import distributions as dist

# family -> (scipy logpdf(x, *params), per-parameter (name, low, high) valid range,
#            value strategy bounds, discrete)
FAMILIES = {
    "Normal": (lambda x, m, s: st.norm.logpdf(x, m, s),
               [("loc", -5.0, 5.0), ("scale", 0.1, 5.0)], (-5.0, 5.0), False),
    "Gamma": (lambda x, a, b: st.gamma.logpdf(x, a, scale=1 / b),
              [("concentration", 0.5, 5.0), ("rate", 0.2, 5.0)], (0.05, 10.0), False),
    "Beta": (lambda x, a, b: st.beta.logpdf(x, a, b),
             [("concentration1", 0.5, 5.0), ("concentration0", 0.5, 5.0)], (0.01, 0.99), False),
    "StudentT": (lambda x, df, m, s: st.t.logpdf(x, df, m, s),
                 [("df", 0.5, 30.0), ("loc", -5.0, 5.0), ("scale", 0.1, 5.0)], (-10.0, 10.0),
                 False),
    "Laplace": (lambda x, m, s: st.laplace.logpdf(x, m, s),
                [("loc", -5.0, 5.0), ("scale", 0.1, 5.0)], (-5.0, 5.0), False),
    "Exponential": (lambda x, r: st.expon.logpdf(x, scale=1 / r),
                    [("rate", 0.1, 5.0)], (0.0, 10.0), False),
    "HalfNormal": (lambda x, s: st.halfnorm.logpdf(x, scale=s),
                   [("scale", 0.1, 5.0)], (0.0, 5.0), False),
    "Poisson": (lambda x, r: st.poisson.logpmf(x, r),
                [("rate", 0.1, 20.0)], (0, 30), True),
    "Weibull": (lambda x, s, k: st.weibull_min.logpdf(x, k, scale=s),
                [("scale", 0.2, 5.0), ("concentration", 0.5, 5.0)], (0.05, 5.0), False),
}
NAMES = sorted(FAMILIES)
SHAPES = hs.sampled_from([(), (1,), (2,), (3,), (2, 1), (1, 3), (2, 3)])
# Few examples: each new shape compiles JAX's primitives anew (the suite must stay fast).
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def _broadcastable(*shapes):
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False


def _array(draw, shape, low, high, integer=False):
    size = int(np.prod(shape)) if shape else 1
    if integer:
        values = draw(hs.lists(hs.integers(low, high), min_size=size, max_size=size))
    else:
        values = draw(hs.lists(hs.floats(low, high), min_size=size, max_size=size))
    return np.asarray(values, np.float64).reshape(shape)


def _assert_ours(error, family, *names):
    message = str(error)
    assert family in message, message
    assert any(f"`{n}`" in message for n in names), message
    for internal in ("lax", "Incompatible shapes", "jaxpr", "XLA", "cannot reshape"):
        assert internal not in message, message


@SETTINGS
@given(data=hs.data())
def test_any_shapes_give_a_correct_answer_or_our_error(data, x64):
    """In float64 (the x64 fixture), to compare with scipy."""
    name = data.draw(hs.sampled_from(NAMES))
    logpdf, params, (low, high), discrete = FAMILIES[name]
    shapes = [data.draw(SHAPES) for _ in params]
    values = [_array(data.draw, s, lo, hi) for s, (_, lo, hi) in zip(shapes, params)]
    value_shape = data.draw(SHAPES)
    x = _array(data.draw, value_shape, low, high, integer=discrete)
    family = getattr(dist, name)
    if not _broadcastable(*shapes):
        with pytest.raises(ValueError) as info:
            family(*values)
        _assert_ours(info.value, name, *[p for p, _, _ in params])
        return
    d = family(*values)
    if not _broadcastable(value_shape, d.batch_shape):
        with pytest.raises(ValueError) as info:
            d.log_prob(x)
        _assert_ours(info.value, name, "value")
        return
    lp = np.asarray(d.log_prob(x))
    np.testing.assert_allclose(lp, logpdf(x, *values), rtol=1e-6, atol=1e-8)
    assert np.all(np.isfinite(lp))

    def total(params):
        return jnp.sum(family(*params).log_prob(x))

    grads = jax.grad(total)([jnp.asarray(v) for v in values])
    for grad in grads:
        assert np.all(np.isfinite(grad)), (name, grads)
    np.testing.assert_allclose(np.concatenate([np.ravel(g) for g in grads]),
                               _scipy_gradient(logpdf, x, values), rtol=1e-4, atol=1e-6)


def _scipy_gradient(logpdf, x, values):
    """Central differences of ``sum(scipy logpdf)`` in each parameter element (float64)."""
    grad = []
    for i, value in enumerate(values):
        for j in range(np.size(value)):
            step = 1e-6 * max(1.0, abs(float(np.ravel(value)[j])))
            moved = []
            for sign in (1.0, -1.0):
                shifted = np.array(value, np.float64)
                shifted.reshape(-1)[j] += sign * step
                args = values[:i] + [shifted] + values[i + 1:]
                moved.append(np.sum(logpdf(x, *args)))
            grad.append((moved[0] - moved[1]) / (2 * step))
    return np.asarray(grad)


@SETTINGS
@given(data=hs.data())
def test_invalid_parameters_are_named_under_validate_args(data):
    name = data.draw(hs.sampled_from(NAMES))
    _, params, _, _ = FAMILIES[name]
    values = [_array(data.draw, (), lo, hi) for _, lo, hi in params]
    bad = data.draw(hs.sampled_from([i for i, (p, lo, _) in enumerate(params) if lo > 0]))
    values[bad] = data.draw(hs.sampled_from([0.0, -1.0, -np.inf, np.nan, np.inf]))
    if values[bad] == np.inf and params[bad][0] in ("df",):
        return  # df = inf is a legitimate limit (the Normal)
    with pytest.raises(ValueError) as info:
        getattr(dist, name)(*values, validate_args=True)
    _assert_ours(info.value, name, params[bad][0])


@SETTINGS
@given(key=hs.one_of(hs.integers(0, 2**31 - 1), hs.floats(allow_nan=False), hs.text(max_size=3),
                     hs.none()))
def test_sample_takes_an_int_seed_and_names_any_other_key(key):
    d = dist.Normal(0.0, 1.0)
    if isinstance(key, int):
        assert d.sample(key, (2,)).shape == (2,)
        np.testing.assert_array_equal(d.sample(key, (2,)), d.sample(jax.random.key(key), (2,)))
        return
    with pytest.raises(TypeError) as info:
        d.sample(key)
    _assert_ours(info.value, "Normal", "key")
