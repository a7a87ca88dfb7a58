"""The fast iterative NUTS against the recursive reference, draw for draw."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference.mcmc import NUTS, kernel_params
from tests.inference.mcmc.reference_nuts import reference_transition

SCALES = np.array([0.3, 1.0, 3.0])


def gaussian(x):
    return -0.5 * jnp.sum((x / SCALES) ** 2)


def funnel(x):
    # Neal's funnel in 3-d: log-scale v, two coordinates with scale exp(v / 2).
    v, rest = x[0], x[1:]
    return -0.5 * v**2 / 9.0 - 0.5 * jnp.sum(rest**2) * jnp.exp(-v) - v


@pytest.mark.parametrize(
    "logdensity, step_size, max_tree_depth",
    [(gaussian, 0.25, 10), (gaussian, 0.05, 4), (gaussian, 2.5, 10), (funnel, 0.6, 6)],
)
def test_matches_recursive_reference(x64, logdensity, step_size, max_tree_depth):
    kernel = NUTS(max_tree_depth=max_tree_depth)
    params = kernel_params(jnp.float64(step_size), jnp.asarray([1.0, 0.5, 2.0]))
    step = jax.jit(lambda key, state: kernel.step(key, state, logdensity, params))
    state = kernel.init(jnp.asarray([0.5, -0.3, 1.0]), logdensity)
    keys = jax.random.split(jax.random.key(42), 25)
    seen_depths, seen_divergence = set(), False
    for key in keys:
        expected_q, expected = reference_transition(
            key, state.position, logdensity, step_size, params.metric.inverse_mass_matrix,
            max_tree_depth=max_tree_depth,
        )
        state, info = step(key, state)
        np.testing.assert_allclose(np.asarray(state.position), expected_q, rtol=1e-9, atol=1e-12)
        assert int(info.n_steps) == expected["n_steps"]
        assert int(info.tree_depth) == expected["tree_depth"]
        assert bool(info.diverging) == expected["diverging"]
        np.testing.assert_allclose(float(info.energy), expected["energy"], rtol=1e-9)
        np.testing.assert_allclose(float(info.acceptance_rate), expected["acceptance_rate"],
                                   rtol=1e-9)
        seen_depths.add(expected["tree_depth"])
        seen_divergence |= expected["diverging"]
    # The cases must actually exercise several depths (and the depth limit).
    print(sorted(seen_depths), seen_divergence)
    assert len(seen_depths) >= 2 or seen_divergence


def test_batched_step_equals_vmapped_step(x64):
    # Chains with different step sizes finish at different iterations (one at the depth
    # limit, one diverging): the masked batch loop must freeze each chain's outputs
    # exactly where `vmap(step)` would.
    kernel = NUTS(max_tree_depth=6)
    step_sizes = jnp.asarray([0.02, 0.25, 0.9, 25.0])
    params = jax.vmap(lambda e: kernel_params(e, jnp.asarray([1.0, 0.5, 2.0])))(step_sizes)
    starts = jnp.asarray([[0.5, -0.3, 1.0], [0.1, 0.2, -0.4], [1.5, 0.0, 0.3], [0.0, 1.0, 0.0]])
    states = jax.vmap(lambda x: kernel.init(x, funnel))(starts)
    vmapped = jax.jit(jax.vmap(lambda k, s, p: kernel.step(k, s, funnel, p)))
    batched = jax.jit(lambda k, s, p: kernel.step_chains(k, s, funnel, p))
    seen_steps = set()
    for key in jax.random.split(jax.random.key(3), 8):
        keys = jax.random.split(key, 4)
        (state_v, info_v), (state_b, info_b) = vmapped(keys, states, params), batched(keys, states, params)
        for a, b in zip(jax.tree_util.tree_leaves((state_v, info_v)),
                        jax.tree_util.tree_leaves((state_b, info_b))):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
        seen_steps.update(np.asarray(info_b.n_steps).tolist())
        states = state_b
    assert len(seen_steps) >= 3 and max(seen_steps) == 2**6 - 1
    assert bool(info_b.diverging[3])
