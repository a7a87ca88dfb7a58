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


def _evaluate(case, xs):
    """Everything `check_case` compares, computed in one compiled program."""
    from_free = case.in_from_free or (lambda v: jnp.reshape(v, jnp.shape(case.x)))

    @jax.jit
    def run(b, x, xs):
        y, log_det = b.forward_and_log_det(x)
        x_back, inv_log_det = b.inverse_and_log_det(y)
        jac = jax.jacfwd(lambda v: case.out_to_free(b.forward(from_free(v))))(case.in_to_free(x))
        sign, autodiff = jnp.linalg.slogdet(jac)
        # A [2, 2] batch of events: the bijector's own batching against vmap.
        ys, log_dets = b.forward_and_log_det(xs)
        ys_map, log_dets_map = jax.vmap(jax.vmap(b.forward_and_log_det))(xs)
        xs_back, inv_log_dets = b.inverse_and_log_det(ys)
        return {
            "y": y,
            "log_det": log_det,
            "x_back": x_back,
            "inv_log_det": inv_log_det,
            "y_again": b.forward(x_back),
            "jac_shape": jnp.zeros(jac.shape),
            "sign": sign,
            "autodiff": autodiff,
            "fldj": b.forward_log_det_jacobian(x),
            "ildj": b.inverse_log_det_jacobian(y),
            "ys": ys,
            "log_dets": log_dets,
            "ys_map": ys_map,
            "log_dets_map": log_dets_map,
            "xs_back": xs_back,
            "inv_log_dets": inv_log_dets,
        }

    return run(case.bijector, case.x, xs)


def check_case(case, xs, *, rtol=1e-9, atol=1e-9):
    """Checks one bijector on one event `case.x` and a [2, 2] batch of events `xs`.

    Round trips both ways, log-det vs autodiff slogdet, inverse log-det = -forward, and
    batched inputs against vmap (log-dets with the batch shape).
    """
    b, x = case.bijector, case.x
    assert xs.shape[:2] == (2, 2) and xs.shape[2:] == x.shape
    out = _evaluate(case, xs)
    y = out["y"]
    assert y.shape == b.forward_shape(jnp.shape(x))
    assert b.inverse_shape(y.shape) == jnp.shape(x)
    n_in, n_out = out["jac_shape"].shape
    assert n_in == n_out, f"free coordinates do not match: {(n_in, n_out)}"
    assert out["sign"] != 0
    np.testing.assert_allclose(out["x_back"], x, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(out["y_again"], y, rtol=1e-9, atol=1e-9)
    total_forward = np.sum(out["log_det"])  # elementwise maps: a log-det per element
    np.testing.assert_allclose(total_forward, out["autodiff"], rtol=rtol, atol=atol)
    np.testing.assert_allclose(np.sum(out["inv_log_det"]), -total_forward, rtol=rtol, atol=atol)
    np.testing.assert_allclose(out["fldj"], out["log_det"], rtol=1e-12)
    np.testing.assert_allclose(out["ildj"], out["inv_log_det"], rtol=1e-12)

    expected_ld_shape = xs.shape[: xs.ndim - b.event_ndims]
    assert out["log_dets"].shape == expected_ld_shape, (out["log_dets"].shape, expected_ld_shape)
    assert out["inv_log_dets"].shape == expected_ld_shape
    np.testing.assert_allclose(out["ys"], out["ys_map"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out["log_dets"], out["log_dets_map"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out["xs_back"], xs, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(out["inv_log_dets"], -out["log_dets"], rtol=1e-9, atol=1e-9)
