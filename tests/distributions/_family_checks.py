"""Checks shared by the issue-19 family tests (test_counts_more, test_structured_more)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

ALPHA = 1e-3
RTOL = 1e-9


def z_threshold(num_checks):
    """Phi^-1(1 - ALPHA / (2 m)): the two-sided z bound for m checks at level ALPHA."""
    return st.norm.isf(ALPHA / (2 * num_checks))


def assert_close(got, want, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol)


def check_gradients(make, params, value, *, one_sided=(), h=1e-6):
    """jax.grad of ``make(*params).log_prob(value)`` against central differences (float64).

    Args:
        make: function of the parameters returning a distribution.
        params: the parameter values (floats).
        value: where log_prob is differentiated.
        one_sided: indices of parameters on a boundary (forward differences there).
    """
    params = [jnp.float64(p) for p in params]

    def f(*ps):
        return make(*ps).log_prob(value)

    grads = jax.jit(jax.grad(f, argnums=tuple(range(len(params)))))(*params)
    for i, g in enumerate(grads):
        assert np.isfinite(float(g)), i
        up = [p + h * (j == i) for j, p in enumerate(params)]
        if i in one_sided:
            assert_close(g, float((f(*up) - f(*params)) / h), rtol=1e-5)
            continue
        down = [p - h * (j == i) for j, p in enumerate(params)]
        assert_close(g, float((f(*up) - f(*down)) / (2 * h)), rtol=1e-6, atol=1e-8)


def check_shapes(d, batch, event, key, *, expand=True):
    """TFP shapes: sample, log_prob and expand of `d` with the stated batch and event shape."""
    assert (d.batch_shape, d.event_shape) == (batch, event)
    x = jax.eval_shape(lambda k: d.sample(k, (5, 1)), key)
    assert x.shape == (5, 1) + batch + event
    assert jax.eval_shape(d.log_prob, x).shape == (5, 1) + batch
    if expand:
        expanded = d.expand((4,) + batch)
        assert expanded.batch_shape == (4,) + batch
        assert jax.eval_shape(lambda k: expanded.sample(k, (2,)), key).shape == (2, 4) + batch + event


def check_raises(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()
