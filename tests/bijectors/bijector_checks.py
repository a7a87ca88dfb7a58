"""Shared exact checks for bijector tests: round trips and log-dets against autodiff.

A "case" gives a bijector, a valid input `x`, and how to read the free coordinates of
an input and of an output (for shape-changing maps the log-det is that of the map
between free coordinates, e.g. the first n simplex entries).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


def _flat(v):
    return jnp.reshape(v, (-1,))


class Case(NamedTuple):
    bijector: object
    x: object  # a single event (no batch dims), valid input
    in_to_free: object = _flat  # input -> free vector
    in_from_free: object = None  # free vector -> input; None: reshape to x.shape
    out_to_free: object = _flat  # output -> free vector


def lower_entries(m):
    """Free coordinates of a lower-triangular m x m matrix (row by row)."""
    rows, cols = np.tril_indices(m)
    return lambda y: y[..., rows, cols]


def strictly_lower_entries(m):
    rows, cols = np.tril_indices(m, -1)
    return lambda y: y[..., rows, cols]


def from_lower_entries(m):
    rows, cols = np.tril_indices(m)
    return lambda v: jnp.zeros((m, m), v.dtype).at[rows, cols].set(v)


def autodiff_log_det(case):
    """log|det J| of free(x) -> free(forward(x)), from jax.jacfwd and slogdet."""
    from_free = case.in_from_free or (lambda v: jnp.reshape(v, jnp.shape(case.x)))

    def f(v):
        return case.out_to_free(case.bijector.forward(from_free(v)))

    jac = jax.jacfwd(f)(case.in_to_free(case.x))
    assert jac.shape[0] == jac.shape[1], f"free coordinates do not match: {jac.shape}"
    sign, log_abs = jnp.linalg.slogdet(jac)
    assert sign != 0
    return log_abs


def check_case(case, *, rtol=1e-9, atol=1e-9):
    """Round trips both ways, log-det vs autodiff, inverse log-det = -forward."""
    b, x = case.bijector, case.x
    y, log_det = b.forward_and_log_det(x)
    assert y.shape == b.forward_shape(jnp.shape(x))
    assert b.inverse_shape(y.shape) == jnp.shape(x)
    x_back, inv_log_det = b.inverse_and_log_det(y)
    np.testing.assert_allclose(x_back, x, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(b.forward(x_back), y, rtol=1e-9, atol=1e-9)
    total_forward = np.sum(log_det)  # elementwise maps: a log-det per element
    np.testing.assert_allclose(total_forward, autodiff_log_det(case), rtol=rtol, atol=atol)
    np.testing.assert_allclose(np.sum(inv_log_det), -total_forward, rtol=rtol, atol=atol)
    np.testing.assert_allclose(b.forward_log_det_jacobian(x), log_det, rtol=1e-12)
    np.testing.assert_allclose(b.inverse_log_det_jacobian(y), inv_log_det, rtol=1e-12)


def check_batch(bijector, xs):
    """A leading batch of events maps like the events one at a time."""
    ys, log_dets = bijector.forward_and_log_det(xs)
    expected_ld_shape = xs.shape[: xs.ndim - bijector.event_ndims]
    assert log_dets.shape == expected_ld_shape, (log_dets.shape, expected_ld_shape)
    for i in range(xs.shape[0]):
        y, ld = bijector.forward_and_log_det(xs[i])
        np.testing.assert_allclose(ys[i], y, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(log_dets[i], ld, rtol=1e-6, atol=1e-6)
    xs_back, inv_log_dets = bijector.inverse_and_log_det(ys)
    assert inv_log_dets.shape == expected_ld_shape
    np.testing.assert_allclose(xs_back, xs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(inv_log_dets, -log_dets, rtol=1e-5, atol=1e-5)
