"""Elementwise bijectors, Chain and Invert: exact round trips and log-dets (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bijector_checks import Case, check_case

from probflow import bijectors as bij

# (name, factory, input sampler): factories run inside the x64 fixture.
REAL = lambda rng, shape: rng.normal(size=shape) * 2.0
POSITIVE = lambda rng, shape: rng.uniform(0.2, 3.0, size=shape)
CASES = {
    "identity": (lambda: bij.Identity(), REAL),
    "exp": (lambda: bij.Exp(), REAL),
    "softplus": (lambda: bij.Softplus(), REAL),
    "sigmoid": (lambda: bij.Sigmoid(), REAL),
    "sigmoid_interval": (lambda: bij.Sigmoid(low=-1.0, high=jnp.array([2.0, 3.0, 5.0])), REAL),
    "tanh": (lambda: bij.Tanh(), REAL),
    "shift": (lambda: bij.Shift(jnp.array([1.0, -2.0, 0.5])), REAL),
    "scale": (lambda: bij.Scale(-2.5), REAL),
    "affine": (lambda: bij.Affine(1.0, jnp.array([0.5, -3.0, 2.0])), REAL),
    "power": (lambda: bij.Power(2.5), POSITIVE),
    "power_negative": (lambda: bij.Power(-0.5), POSITIVE),
    "chain": (lambda: bij.Chain([bij.Shift(1.0), bij.Scale(2.0), bij.Exp()]), REAL),
    "chain_empty": (lambda: bij.Chain([]), REAL),
    "invert": (lambda: bij.Invert(bij.Exp()), POSITIVE),
    "invert_sigmoid": (lambda: bij.Invert(bij.Sigmoid()), lambda r, s: r.uniform(0.05, 0.95, s)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_log_det_and_batch(name, x64):
    factory, sampler = CASES[name]
    rng = np.random.default_rng(0)
    x = jnp.asarray(sampler(rng, (3,)))
    xs = jnp.asarray(sampler(rng, (2, 2, 3)))
    check_case(Case(factory(), x), xs)


def test_chain_applies_last_first():
    chain = bij.Chain([bij.Exp(), bij.Shift(1.0)])
    x = jnp.array([0.0, 0.5])
    np.testing.assert_allclose(chain.forward(x), jnp.exp(x + 1.0), rtol=1e-6)
    np.testing.assert_allclose(chain.forward_log_det_jacobian(x), x + 1.0, rtol=1e-6)
    assert chain.event_ndims == 0 and chain.event_ndims_out == 0


def test_chain_sums_elementwise_log_det_over_event_dims():
    # Exp after StickBreaking must sum its per-element log-det over the simplex axis.
    chain = bij.Chain([bij.Exp(), bij.StickBreaking()])
    assert (chain.event_ndims, chain.event_ndims_out) == (1, 1)
    x = jnp.array([[0.3, -0.2], [1.0, 0.5]])
    y, log_det = chain.forward_and_log_det(x)
    simplex, ld_simplex = bij.StickBreaking().forward_and_log_det(x)
    assert log_det.shape == (2,)
    np.testing.assert_allclose(log_det, ld_simplex + simplex.sum(-1), rtol=1e-5)
    x_back, inv_ld = chain.inverse_and_log_det(y)
    np.testing.assert_allclose(x_back, x, atol=1e-5)
    np.testing.assert_allclose(inv_ld, -log_det, rtol=1e-5)


def test_sigmoid_edges_stay_finite_and_inside():
    b = bij.Sigmoid(low=2.0, high=4.0)
    x = jnp.array([-200.0, -30.0, 0.0, 30.0, 200.0])
    y, log_det = b.forward_and_log_det(x)
    assert bool(jnp.all((y > 2.0) & (y < 4.0)))
    assert bool(jnp.all(jnp.isfinite(log_det)))
    grad = jax.grad(lambda x: jnp.sum(b.forward_log_det_jacobian(x)))(x)
    assert bool(jnp.all(jnp.isfinite(grad)))


def test_softplus_and_tanh_log_det_stable_in_tails():
    x = jnp.array([-100.0, 100.0])
    np.testing.assert_allclose(bij.Softplus().forward_log_det_jacobian(x), [-100.0, 0.0], atol=1e-6)
    tanh_ld = bij.Tanh().forward_log_det_jacobian(x)
    np.testing.assert_allclose(tanh_ld, 2 * (np.log(2.0) - 100.0) * np.ones(2), rtol=1e-6)
    np.testing.assert_allclose(bij.Softplus().inverse(jnp.array(100.0)), 100.0, rtol=1e-6)


_forward = jax.jit(lambda b, x: b.forward_and_log_det(x))


def test_jit_vmap_grad_through_parameters():
    b = bij.Affine(jnp.array(1.0), jnp.array(2.0))
    x = jnp.array([0.5, -1.0])
    y, ld = _forward(b, x)
    np.testing.assert_allclose(y, [2.0, -1.0])
    # vmap over a batch of bijectors (parameters are pytree leaves).
    batch = bij.Affine(jnp.array([0.0, 1.0]), jnp.array([1.0, 3.0]))
    ys = jax.vmap(lambda b: b.forward(x))(batch)
    np.testing.assert_allclose(ys, [[0.5, -1.0], [2.5, -2.0]])
    # Gradient w.r.t. the bijector's own parameters.
    grads = jax.grad(lambda b: jnp.sum(b.forward(x)))(b)
    np.testing.assert_allclose(grads.shift, 2.0)
    np.testing.assert_allclose(grads.scale, -0.5)
    chain = bij.Chain([bij.Exp(), bij.Shift(jnp.array(0.5))])
    g = jax.grad(lambda c: jnp.sum(c.forward(x)))(chain)
    np.testing.assert_allclose(g.bijectors[1].shift, np.sum(np.exp(np.array(x) + 0.5)), rtol=1e-6)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: bij.Scale(0.0), "scale"),
        (lambda: bij.Power(0.0), "power"),
        (lambda: bij.Sigmoid(low=1.0), "low"),
        (lambda: bij.Sigmoid(low=2.0, high=1.0), "high"),
        (lambda: bij.Chain([bij.Exp(), "exp"]), "bijectors\\[1\\]"),
        (lambda: bij.Invert(3.0), "bijector"),
        (lambda: bij.Shift("a"), "shift"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
