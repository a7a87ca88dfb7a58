"""Bad input to `sample` and `vi.fit`: a clear ValueError/TypeError, or it just works."""

import jax.numpy as jnp
import numpy as np
import pytest

from probflow import distributions as dist
from probflow.inference import Target, sample, vi

FAST = dict(num_warmup=20, num_samples=20, num_chains=1, progress_bar=False,
            check_convergence=False)


def _vector_density(x):
    return -0.5 * (x - 3.0) ** 2  # one term per coordinate: not a log density


def test_vi_fit_refuses_a_vector_log_density():
    with pytest.raises(ValueError, match=r"must return a scalar.*shape \(2,\)"):
        vi.fit(_vector_density, init=jnp.zeros(2), num_steps=10, progress_bar=False)


def test_sample_refuses_a_vector_log_density_with_the_same_message():
    with pytest.raises(ValueError, match=r"must return a scalar.*shape \(2,\)"):
        sample(_vector_density, jnp.zeros(2), **FAST)


def _nan_everywhere(x):
    return jnp.sum(x) * jnp.nan


def test_vi_fit_raises_when_the_log_density_is_nan_everywhere():
    with pytest.raises(ValueError, match="not finite at the given `init`; log density there = nan"):
        vi.fit(_nan_everywhere, init=jnp.zeros(2), num_steps=10, progress_bar=False)


def test_vi_fit_raises_after_trying_random_starts():
    target = Target.from_logdensity(_nan_everywhere, jnp.zeros(2))
    with pytest.raises(ValueError, match="no finite starting point found in 100"):
        vi.fit(target, num_steps=10, progress_bar=False)


def _finite_right_of(x):
    return jnp.where(x[0] > 1.0, -0.5 * jnp.sum((x - 2.0) ** 2), -jnp.inf)


def test_vi_fit_restarts_from_a_finite_random_start():
    # Seed 1's first uniform(-2, 2) start is where the density is -inf (x[0] <= 1); the
    # fit must not return that start, but find a finite one as `sample()` does.
    target = Target.from_logdensity(_finite_right_of, jnp.zeros(2))
    result = vi.fit(target, num_steps=10, progress_bar=False, seed=1)
    assert float(result.params["loc"][0]) > 1.0


def _poisson_model():
    return dist.JointDistributionNamed(
        {"rate": dist.Gamma(2.0, 1.0), "y": lambda rate: dist.Poisson(rate)}
    )


def test_sample_names_the_observed_value_outside_the_support():
    target = _poisson_model().condition(y=jnp.array([1.0, 2.5, 3.0]))
    with pytest.raises(ValueError) as info:
        sample(target, **FAST)
    message = str(info.value)
    assert "observed `y`" in message and "Poisson" in message
    assert "integer >= 0" in message and "2.5 at index (1,)" in message
    assert "Pass `init=`" not in message


def test_vi_fit_names_the_observed_value_outside_the_support():
    target = _poisson_model().condition(y=jnp.array([1.0, 2.5]))
    with pytest.raises(ValueError, match=r"observed `y` has 1 value\(s\) outside the support"):
        vi.fit(target, num_steps=10, progress_bar=False)


def _standard_normal(p):
    return -0.5 * jnp.sum(p["x"] ** 2)


def test_sample_takes_integer_starting_positions_as_floats():
    result = sample(_standard_normal, {"x": jnp.zeros(2, jnp.int32)}, **FAST)
    assert jnp.issubdtype(result.samples["x"].dtype, jnp.floating)
    assert np.all(np.isfinite(result.samples["x"]))


def test_vi_fit_takes_integer_starting_positions_as_floats():
    result = vi.fit(_standard_normal, init={"x": np.zeros(2, np.int64)}, num_steps=10,
                    progress_bar=False)
    assert jnp.issubdtype(result.params["loc"].dtype, jnp.floating)


def test_string_positions_are_refused():
    with pytest.raises(TypeError, match="positions must be numeric"):
        Target.from_logdensity(_standard_normal, {"x": np.array(["a", "b"])})
