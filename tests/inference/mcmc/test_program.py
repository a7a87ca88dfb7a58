"""The compiled program consumes randomness per transition, whatever its block length.

`run_chains` draws each block's random numbers ahead of its loop; these tests pin that
it uses exactly transition ``i``'s key ``fold_in(step_key, i)``, as a plain loop of
`NUTS.step` would, across block boundaries and a partial last block.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference import Target
from probflow.inference.mcmc import HMC, NUTS
from probflow.inference.mcmc._program import _block_length, run_chains

SCALES = jnp.asarray([0.5, 1.0, 2.0])


def gaussian(x):
    return -0.5 * jnp.sum((x / SCALES) ** 2)


def _run(kernel, num_warmup, num_samples, block_length):
    target = Target.from_logdensity(gaussian, jnp.zeros(3))
    positions = jnp.asarray([[0.5, -0.3, 1.0], [0.1, 0.2, -0.4]])
    chain_keys = jax.random.split(jax.random.key(7), 2)
    program = jax.jit(run_chains, static_argnames=(
        "kernel", "num_warmup", "num_samples", "dense_mass", "report_progress", "block_length"))
    out = program(target, chain_keys, positions, jnp.asarray(0.8), kernel=kernel,
                  num_warmup=num_warmup, num_samples=num_samples, dense_mass=False,
                  report_progress=False, block_length=block_length)
    return chain_keys, positions, out


@pytest.mark.parametrize("kernel", [NUTS(max_tree_depth=5), HMC(num_integration_steps=3)],
                         ids=["nuts", "hmc"])
def test_blocks_replay_a_plain_loop_of_steps(x64, kernel):
    # No warmup: the parameters stay at their initial values, which the program returns.
    num_samples = 17  # blocks of 5: three full ones and a partial one
    chain_keys, positions, (draws, lps, infos, params, _) = _run(kernel, 0, num_samples, 5)
    step_keys = jax.vmap(lambda k: jax.random.split(k, 3)[1])(chain_keys)
    step = jax.jit(lambda key, state, params: kernel.step(key, state, gaussian, params))
    for chain in range(2):
        chain_params = jax.tree_util.tree_map(lambda a, c=chain: a[c], params)
        state = kernel.init(positions[chain], gaussian)
        for i in range(num_samples):
            state, info = step(jax.random.fold_in(step_keys[chain], i), state, chain_params)
            np.testing.assert_allclose(draws[chain, i], state.position, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(lps[chain, i], state.logdensity, rtol=1e-12)
            assert int(infos.n_steps[chain, i]) == int(info.n_steps)


def test_block_length_does_not_change_the_draws(x64):
    # Warmup included (its one window ends at iteration 35, the start of a block of 7).
    _, _, (draws_a, _, infos_a, params_a, steps_a) = _run(NUTS(), 40, 20, 7)
    _, _, (draws_b, _, infos_b, params_b, steps_b) = _run(NUTS(), 40, 20, None)
    np.testing.assert_allclose(draws_a, draws_b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(params_a.step_size, params_b.step_size, rtol=1e-12)
    np.testing.assert_array_equal(infos_a.n_steps, infos_b.n_steps)
    np.testing.assert_array_equal(steps_a, steps_b)


def test_block_length_bounds():
    assert _block_length(2000, 4 * 13) == 100
    assert _block_length(30, 4 * 13) == 30
    assert _block_length(2000, 4 * 100_003) == 2  # large models: small blocks
    assert _block_length(2000, 1 << 24) == 1
