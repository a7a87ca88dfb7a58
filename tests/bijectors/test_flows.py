"""Normalizing-flow bijectors: exact inverses, log-dets vs autodiff, autoregressive
structure, identity at initialisation, gradients w.r.t. the network weights."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bijector_checks import Case, check_case

from probflow import bijectors as bij

EVENT_SIZE = 4


def _perturbed(params, seed, scale=0.3):
    # Fresh layers are the identity; randomise every weight so the checks bite. NumPy
    # noise keeps this free of per-shape XLA compiles.
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(
        lambda leaf: leaf + scale * jnp.asarray(rng.normal(size=leaf.shape), leaf.dtype), params
    )


def _maf(hidden=(8, 8)):
    params = bij.MaskedAutoregressive.init_params(jax.random.key(0), EVENT_SIZE, hidden)
    return bij.MaskedAutoregressive(_perturbed(params, 1))


def _realnvp(parity=0, mask=None):
    params = bij.RealNVP.init_params(jax.random.key(2), EVENT_SIZE, (8,), mask=mask, parity=parity)
    return bij.RealNVP(_perturbed(params, 3), mask=mask, parity=parity)


FLOWS = {
    "maf": _maf,
    "realnvp_odd": lambda: _realnvp(1),
    "realnvp_mask": lambda: _realnvp(mask=[True, True, True, False]),
    "maf_stack": lambda: bij.Chain([_maf(), bij.Permute([3, 2, 1, 0]), _maf((5,))]),
}


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_round_trip_log_det_and_batch(name, x64):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=EVENT_SIZE))
    xs = jnp.asarray(rng.normal(size=(2, 2, EVENT_SIZE)))
    check_case(Case(FLOWS[name](), x), xs)


def test_maf_is_autoregressive(x64):
    # Output i depends on inputs <= i only: a lower-triangular Jacobian.
    maf = _maf()
    jac = jax.jacfwd(maf.forward)(jnp.linspace(-1.0, 1.0, EVENT_SIZE))
    np.testing.assert_array_equal(np.triu(np.asarray(jac), 1), 0.0)
    assert np.all(np.abs(np.diag(jac)) > 0)


def test_realnvp_passes_masked_dims_through():
    flow = _realnvp(mask=[True, False, False, True])
    x = jnp.array([0.3, -0.7, 1.1, 2.0])
    y = flow.forward(x)
    np.testing.assert_array_equal(y[jnp.array([0, 3])], x[jnp.array([0, 3])])
    assert not np.allclose(y[1:3], x[1:3])


@jax.jit
def _forward_many(flows, x):
    return [flow.forward_and_log_det(x) for flow in flows]


def test_fresh_layers_are_identity():
    x = jax.random.normal(jax.random.key(4), (3, 5))
    flows = [
        bij.MaskedAutoregressive(bij.MaskedAutoregressive.init_params(jax.random.key(0), 5, (8,))),
        bij.real_nvp_flow(jax.random.key(0), 5, num_layers=2, hidden_sizes=(8,)),
    ]
    for y, log_det in _forward_many(flows, x):
        np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(log_det, jnp.zeros(3))


def test_stack_helpers_structure_and_grad():
    flow = bij.masked_autoregressive_flow(jax.random.key(0), 3, num_layers=2, hidden_sizes=(8,))
    assert [type(b).__name__ for b in flow.bijectors] == [
        "MaskedAutoregressive",
        "Permute",
        "MaskedAutoregressive",
    ]
    z = jax.random.normal(jax.random.key(1), (6, 3))

    @jax.jit
    def loss(flow):
        x, log_det = flow.forward_and_log_det(z)
        return jnp.mean(jnp.sum(x**2, -1) - log_det)

    grads = jax.grad(loss)(flow)
    leaves = jax.tree_util.tree_leaves(grads)
    assert len(leaves) == 8 and all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    # The zero-initialised last layers receive gradient, so training can move off identity.
    assert float(jnp.max(jnp.abs(grads.bijectors[0].params[-1]["w"]))) > 0
    # One Adam-free gradient step changes the map.
    stepped = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, flow, grads)
    assert float(loss(stepped)) < float(loss(flow))


def test_flow_vmaps_over_parameter_batches():
    keys = jax.random.split(jax.random.key(0), 3)
    params = jax.vmap(lambda k: bij.MaskedAutoregressive.init_params(k, 2, (4,)))(keys)
    x = jnp.array([0.5, -0.5])
    ys = jax.vmap(lambda p: bij.MaskedAutoregressive(p).forward(x))(params)
    assert ys.shape == (3, 2)


def _with_raw_log_scale(layer, raw):
    # Sets the network's raw log-scale output to `raw` everywhere: zero last-layer weights
    # and a bias of `raw` on the log-scale half (the second half of the outputs).
    last = layer.params[-1]
    width = last["b"].shape[0] // 2
    bias = jnp.concatenate([jnp.zeros(width), jnp.full(width, raw)])
    return layer._replace(params=layer.params[:-1] + [{"w": jnp.zeros_like(last["w"]), "b": bias}])


@pytest.mark.parametrize("name", ["maf", "realnvp"])
def test_large_raw_log_scale_is_soft_clamped(name):
    # A raw log-scale of 1e4 would overflow exp() to inf; the clamp caps it near +-5 and
    # the map stays an exact bijection (round trip, log-det vs autodiff).
    layer = _maf() if name == "maf" else _realnvp(1)
    x = jnp.array([0.5, -1.0, 2.0, 0.25])
    num_scaled = EVENT_SIZE if name == "maf" else EVENT_SIZE // 2
    for raw in (1e4, -1e4):
        clamped = _with_raw_log_scale(layer, raw)
        y, log_det = clamped.forward_and_log_det(x)
        assert bool(jnp.all(jnp.isfinite(y))) and bool(jnp.isfinite(log_det))
        np.testing.assert_allclose(log_det, np.sign(raw) * 5.0 * num_scaled, rtol=1e-6)
        x_back, inv_log_det = clamped.inverse_and_log_det(y)
        np.testing.assert_allclose(x_back, x, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(inv_log_det, -log_det, rtol=1e-6)
        _, slogdet = jnp.linalg.slogdet(jax.jacfwd(clamped.forward)(x))
        np.testing.assert_allclose(slogdet, log_det, rtol=1e-5)
    # Without the bound the same layer overflows: the clamp is what keeps it finite.
    unbounded = type(layer)(_with_raw_log_scale(layer, 1e4).params, log_scale_bound=None,
                            **({"parity": 1} if name == "realnvp" else {}))
    assert not bool(jnp.all(jnp.isfinite(unbounded.forward(x))))


def test_soft_clamp_is_identity_near_zero():
    # Small log-scales pass almost unchanged: 5 tanh(r / 5) = r (1 - r^2 / 75 + ...).
    layer = _with_raw_log_scale(_realnvp(1), 0.1)
    _, log_det = layer.forward_and_log_det(jnp.ones(EVENT_SIZE))
    np.testing.assert_allclose(log_det, 2 * 5.0 * np.tanh(0.1 / 5.0), rtol=1e-6)
    assert abs(float(log_det) - 0.2) < 0.2 * 0.1**2 / 75 * 1.1


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: bij.MaskedAutoregressive.init_params(jax.random.key(0), 0), "event_size"),
        (
            lambda: bij.MaskedAutoregressive([{"w": jnp.zeros((3, 4)), "b": jnp.zeros(4)}]),
            "2 \\* event_size",
        ),
        (lambda: bij.MaskedAutoregressive("weights"), "params"),
        (
            lambda: bij.RealNVP(bij.RealNVP.init_params(jax.random.key(0), 5, parity=0), parity=1),
            "mask",
        ),
        (lambda: bij.RealNVP.init_params(jax.random.key(0), 3, mask=[True, False]), "mask"),
        (lambda: _maf().forward(jnp.zeros(3)), "dimension 4"),
        (lambda: bij.MaskedAutoregressive(_maf().params, log_scale_bound=0.0), "log_scale_bound"),
        (lambda: bij.RealNVP(_realnvp().params, log_scale_bound="5"), "log_scale_bound"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
