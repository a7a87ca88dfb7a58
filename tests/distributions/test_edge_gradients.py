"""log_prob and its gradient at support boundaries and zero probabilities.

Where the maths is finite (the log density at the point and its derivative in the
argument), both must be finite and the gradient must match central (or, at a
parameter's boundary, one-sided) finite differences in float64. Each case names the
argument the gradient is taken in.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow import distributions as dist


def _a(*values):
    return np.array(values, dtype=np.float64)


# name -> (function of the argument, the point); the point sits on an edge.
CASES = {
    "Categorical probs, another class at 0": (
        lambda p: dist.Categorical(probs=p).log_prob(0), _a(0.5, 0.5, 0.0)),
    "Categorical probs, all mass on the observed class": (
        lambda p: dist.Categorical(probs=p).log_prob(0), _a(1.0, 0.0, 0.0)),
    "OneHotCategorical probs, another class at 0": (
        lambda p: dist.OneHotCategorical(probs=p).log_prob(_a(1.0, 0.0, 0.0)), _a(0.5, 0.5, 0.0)),
    "Multinomial probs, a zero-count class at 0": (
        lambda p: dist.Multinomial(3.0, probs=p).log_prob(_a(2.0, 1.0, 0.0)), _a(0.5, 0.5, 0.0)),
    "Multinomial probs, all counts on one class": (
        lambda p: dist.Multinomial(3.0, probs=p).log_prob(_a(3.0, 0.0, 0.0)), _a(1.0, 0.0, 0.0)),
    "Bernoulli probs=1, x=1": (lambda p: dist.Bernoulli(probs=p).log_prob(1.0), _a(1.0)),
    "Bernoulli probs=0, x=0": (lambda p: dist.Bernoulli(probs=p).log_prob(0.0), _a(0.0)),
    "Binomial probs=0, x=0": (lambda p: dist.Binomial(3.0, probs=p).log_prob(0.0), _a(0.0)),
    "Binomial probs=1, x=n": (lambda p: dist.Binomial(3.0, probs=p).log_prob(3.0), _a(1.0)),
    "Geometric probs=1, x=0": (lambda p: dist.Geometric(probs=p).log_prob(0.0), _a(1.0)),
    "NegativeBinomial probs=0, x=0": (
        lambda p: dist.NegativeBinomial(2.0, probs=p).log_prob(0.0), _a(0.0)),
    "MixtureSameFamily, a weight at 0": (
        lambda p: dist.MixtureSameFamily(
            dist.Categorical(probs=p), dist.Normal(_a(0.0, 1.0), 1.0)).log_prob(0.3),
        _a(1.0, 0.0)),
    "Mixture, a weight at 0": (
        lambda p: dist.Mixture(
            dist.Categorical(probs=p), [dist.Normal(0.0, 1.0), dist.Normal(2.0, 1.0)]
        ).log_prob(0.3),
        _a(1.0, 0.0)),
    "Beta(1, 1) at x=0, in x": (lambda x: dist.Beta(1.0, 1.0).log_prob(x), _a(0.0)),
    "Beta(1, b) at x=0, in b": (lambda b: dist.Beta(1.0, b).log_prob(0.0), _a(2.0)),
    "Beta(a, 1) at x=1, in a": (lambda a: dist.Beta(a, 1.0).log_prob(1.0), _a(2.0)),
    "Dirichlet at a face, in the other concentrations": (
        lambda c: dist.Dirichlet(jnp.concatenate([_a(1.0), c])).log_prob(_a(0.0, 0.5, 0.5)),
        _a(2.0, 3.0)),
    "Exponential at x=0, in rate": (lambda r: dist.Exponential(r).log_prob(0.0), _a(2.0)),
    "Exponential at x=0, in x": (lambda x: dist.Exponential(2.0).log_prob(x), _a(0.0)),
    "HalfNormal at x=0, in scale": (lambda s: dist.HalfNormal(s).log_prob(0.0), _a(2.0)),
    "HalfCauchy at x=0, in scale": (lambda s: dist.HalfCauchy(s).log_prob(0.0), _a(2.0)),
    "Uniform at x=low, in high": (lambda h: dist.Uniform(0.0, h).log_prob(0.0), _a(2.0)),
    "TruncatedNormal at x=low, in loc": (
        lambda m: dist.TruncatedNormal(m, 1.0, low=0.0, high=1.0).log_prob(0.0), _a(0.3)),
    "TruncatedNormal far in the tail, in loc": (
        lambda m: dist.TruncatedNormal(m, 1.0, low=10.0, high=11.0).log_prob(10.5), _a(0.0)),
    "Poisson at x=0, in rate": (lambda r: dist.Poisson(r).log_prob(0.0), _a(2.0)),
    "Categorical logits, tied maxima": (
        lambda t: dist.Categorical(logits=t).log_prob(0), _a(0.0, 0.0, -1.0)),
    "Categorical logits, another class at -inf": (
        lambda t: dist.Categorical(logits=jnp.concatenate([t, _a(-np.inf)])).log_prob(0),
        _a(0.0, 0.0)),
    "OneHotCategorical logits, tied maxima": (
        lambda t: dist.OneHotCategorical(logits=t).log_prob(_a(0.0, 1.0)), _a(1.0, 1.0)),
    "Binomial logits=-40, x=0": (lambda t: dist.Binomial(3.0, logits=t).log_prob(0.0), _a(-40.0)),
}


def _finite_difference(fn, x, eps=1e-6):
    """Central differences; one-sided where a step leaves the domain (NaN or inf there)."""
    x = np.asarray(x, np.float64)
    grad = np.empty(x.size)
    f0 = float(fn(jnp.asarray(x)))
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        up = float(fn(jnp.asarray(x + step.reshape(x.shape))))
        down = float(fn(jnp.asarray(x - step.reshape(x.shape))))
        if np.isfinite(up) and np.isfinite(down):
            grad[i] = (up - down) / (2 * eps)
        elif np.isfinite(up):
            grad[i] = (up - f0) / eps
        else:
            grad[i] = (f0 - down) / eps
    return grad.reshape(x.shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_and_gradient_finite_at_edges(name, x64):
    fn, point = CASES[name]
    point = np.asarray(point, np.float64)
    scalar_fn = (lambda v: fn(v[0])) if point.shape == (1,) else fn
    value = float(scalar_fn(jnp.asarray(point)))
    grad = np.asarray(jax.grad(scalar_fn)(jnp.asarray(point)))
    assert np.isfinite(value), f"{name}: log_prob = {value}"
    assert np.all(np.isfinite(grad)), f"{name}: gradient {grad}"
    np.testing.assert_allclose(grad, _finite_difference(scalar_fn, point), rtol=1e-4, atol=1e-5,
                               err_msg=name)


def test_log_prob_of_a_zero_probability_class_is_minus_inf(x64):
    d = dist.Categorical(probs=_a(0.5, 0.5, 0.0))
    assert float(d.log_prob(2)) == -np.inf
    assert float(dist.Bernoulli(probs=1.0).log_prob(0.0)) == -np.inf


@pytest.mark.parametrize("family", [dist.Gamma, dist.Weibull])
def test_open_support_at_zero_is_minus_inf(family, x64):
    # Gamma and Weibull keep (0, inf): at 0 the density is infinite for concentration < 1.
    assert float(family(1.0, 1.0).log_prob(0.0)) == -np.inf
