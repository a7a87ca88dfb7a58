"""Structural bijectors: round trips and log-dets of the maps between free coordinates.

For shape-changing maps the log-det is that of the map onto the free output
coordinates: the first n simplex entries, the strictly lower entries of a correlation
Cholesky factor, the lower entries of a triangular or symmetric matrix.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bijector_checks import (
    Case,
    check_case,
    from_lower_entries,
    lower_entries,
    strictly_lower_entries,
)

from probflow import bijectors as bij


def _vector(n, seed=0, scale=1.0):
    return jnp.asarray(np.random.default_rng(seed).normal(size=n) * scale)


def _cholesky_3():
    return jnp.array([[1.5, 0.0, 0.0], [0.3, 0.8, 0.0], [-0.4, 0.2, 1.1]])


CASES = {
    "stick_breaking": lambda: Case(
        bij.StickBreaking(), _vector(4, scale=2.0), out_to_free=lambda y: y[:-1]
    ),
    "ordered": lambda: Case(bij.Ordered(), _vector(5)),
    "corr_cholesky_4": lambda: Case(
        bij.CorrCholesky(), _vector(6, scale=1.5), out_to_free=strictly_lower_entries(4)
    ),
    "fill_triangular": lambda: Case(bij.FillTriangular(), _vector(6), out_to_free=lower_entries(3)),
    "fill_scale_tril_softplus": lambda: Case(
        bij.FillScaleTriL(), _vector(6), out_to_free=lower_entries(3)
    ),
    "fill_scale_tril_exp": lambda: Case(
        bij.FillScaleTriL(bij.Exp()), _vector(10), out_to_free=lower_entries(4)
    ),
    "cholesky_outer_product": lambda: Case(
        bij.CholeskyOuterProduct(),
        _cholesky_3(),
        in_to_free=lower_entries(3),
        in_from_free=from_lower_entries(3),
        out_to_free=lower_entries(3),
    ),
    "positive_definite": lambda: Case(
        bij.PositiveDefinite(), _vector(6), out_to_free=lower_entries(3)
    ),
    "reshape": lambda: Case(bij.Reshape((2, 3), (6,)), _vector(6)),
    "permute": lambda: Case(bij.Permute([2, 0, 3, 1]), _vector(4)),
    "chain_exp_ordered": lambda: Case(bij.Chain([bij.Exp(), bij.Ordered()]), _vector(4)),
    "chain_pd_of_cholesky": lambda: Case(
        bij.Chain([bij.CholeskyOuterProduct(), bij.FillScaleTriL(bij.Exp())]),
        _vector(6),
        out_to_free=lower_entries(3),
    ),
    "chain_scale_after_reshape": lambda: Case(
        bij.Chain([bij.Scale(2.0), bij.Reshape((2, 2), (4,))]), _vector(4)
    ),
    "invert_stick_breaking": lambda: Case(
        bij.Invert(bij.StickBreaking()),
        jnp.array([0.1, 0.2, 0.3, 0.4]),
        in_to_free=lambda y: y[:-1],
        in_from_free=lambda v: jnp.concatenate([v, 1.0 - jnp.sum(v, keepdims=True)]),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_log_det_and_batch(name, x64):
    case = CASES[name]()
    from_free = case.in_from_free or (lambda v: jnp.reshape(v, case.x.shape))
    # Distinct valid events for the batch: shrink the free coordinates towards 0.
    events = [from_free(case.in_to_free(case.x) * s) for s in (1.0, 0.9, 0.7, 0.5)]
    check_case(case, jnp.stack(events).reshape((2, 2) + case.x.shape))


@jax.jit
def _at_zero():
    return (
        bij.StickBreaking().forward(jnp.zeros(4)),
        bij.Ordered().forward(jnp.zeros(3)),
        bij.CorrCholesky().forward(jnp.zeros(3)),
        bij.PositiveDefinite().forward(jnp.zeros(6)),
    )


def test_zero_maps_to_stan_reference_points():
    # Stan's log(n - k) offsets make 0 the uniform simplex; the others follow from exp(0).
    simplex, ordered, corr, pd = _at_zero()
    np.testing.assert_allclose(simplex, np.full(5, 0.2), rtol=1e-6)
    np.testing.assert_allclose(ordered, [0.0, 1.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(corr, np.eye(3), atol=1e-7)
    np.testing.assert_allclose(pd, np.eye(3), atol=1e-7)


def test_design_name_for_positive_definite():
    assert bij.CholeskyOfPositiveDefinite is bij.PositiveDefinite


def test_corr_cholesky_matches_stan_recursion(x64):
    # Row by row: L_ij = z_ij * sqrt(1 - sum_{k<j} L_ik^2), L_ii the remaining length.
    x = _vector(6, seed=3)
    z = np.tanh(np.asarray(x))
    m, L, pos = 4, np.zeros((4, 4)), 0
    L[0, 0] = 1.0
    for i in range(1, m):
        for j in range(i):
            L[i, j] = z[pos] * np.sqrt(1.0 - np.sum(L[i, :j] ** 2))
            pos += 1
        L[i, i] = np.sqrt(1.0 - np.sum(L[i, :i] ** 2))
    np.testing.assert_allclose(bij.CorrCholesky().forward(x), L, rtol=1e-12)


def test_stick_breaking_extreme_inputs_stay_on_simplex():
    y, log_det = bij.StickBreaking().forward_and_log_det(jnp.array([30.0, -30.0, 60.0, -60.0]))
    assert bool(jnp.all(y >= 0)) and abs(float(jnp.sum(y)) - 1.0) < 1e-5
    assert bool(jnp.isfinite(log_det))


@jax.jit
def _structural_grads(xs):
    pd_log_dets = jax.vmap(bij.PositiveDefinite().forward_log_det_jacobian)(xs)
    corr_grad = jax.grad(lambda x: jnp.sum(bij.CorrCholesky().forward(x) ** 3))(xs[0])
    simplex_grad = jax.grad(bij.StickBreaking().forward_log_det_jacobian)(xs[0, :3])
    return pd_log_dets, corr_grad, simplex_grad


def test_jit_vmap_grad_structural():
    pd_log_dets, corr_grad, simplex_grad = _structural_grads(
        jax.random.normal(jax.random.key(0), (3, 6))
    )
    assert pd_log_dets.shape == (3,)
    assert corr_grad.shape == (6,) and bool(jnp.all(jnp.isfinite(corr_grad)))
    assert bool(jnp.all(jnp.isfinite(simplex_grad)))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: bij.FillTriangular().forward(jnp.zeros(4)), "m \\(m \\+ 1\\) / 2"),
        (lambda: bij.CorrCholesky().forward(jnp.zeros(2)), "m \\(m - 1\\) / 2"),
        (lambda: bij.Reshape((2, 2), (5,)), "same number of elements"),
        (lambda: bij.Reshape((4,), (2, 2)).forward(jnp.zeros(4)), "end in shape"),
        (lambda: bij.Permute([0, 0, 1]), "permutation"),
        (lambda: bij.FillScaleTriL(bij.StickBreaking()), "diag_bijector"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
