"""The NUTS trajectory loop stays compilable into one native XLA:CPU kernel.

XLA:CPU runs a while loop op by op (one runtime "thunk" per fused kernel, ~0.1 us
each) unless it hoists the loop into a single compiled function, which it does for
loops under ``xla_cpu_small_while_loop_byte_threshold`` bytes that hold no scatter.
With the threshold raised (``XLA_FLAGS``, see benchmarks/README.md) the sampling program
runs ~3x faster on a cheap model; these tests pin the conditions for it.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference.mcmc import NUTS, kernel_params
from probflow.inference.mcmc.nuts import _MAX_UNROLLED_CHAINS, _write_row


@pytest.mark.parametrize("num_chains", [3, _MAX_UNROLLED_CHAINS + 2])
def test_batched_row_write_equals_a_scatter(num_chains):
    rng = np.random.default_rng(0)
    stack = jnp.asarray(rng.normal(size=(num_chains, 4, 2, 3)), jnp.float32)
    rows = jnp.asarray(rng.normal(size=(num_chains, 2, 3)), jnp.float32)
    index = jnp.asarray(rng.integers(0, 4, num_chains), jnp.int32)
    expected = jax.vmap(lambda s, r, i: s.at[i].set(r))(stack, rows, index)
    np.testing.assert_array_equal(jax.jit(jax.vmap(_write_row))(stack, rows, index), expected)
    # An unbatched stack is broadcast to every chain first.
    shared = jax.vmap(_write_row, in_axes=(None, 0, 0))(stack[0], rows, index)
    np.testing.assert_array_equal(shared, jax.vmap(lambda r, i: stack[0].at[i].set(r))(rows, index))
    np.testing.assert_array_equal(_write_row(stack[0], rows[0], index[0]),
                                  stack[0].at[index[0]].set(rows[0]))


def test_batched_trajectory_has_no_scatter():
    # A scatter anywhere in the loop keeps XLA:CPU from compiling it natively.
    logdensity = lambda x: -0.5 * jnp.sum(x**2)
    kernel, chains = NUTS(max_tree_depth=4), 3
    states = jax.vmap(lambda x: kernel.init(x, logdensity))(jnp.ones((chains, 2)))
    params = jax.vmap(lambda _: kernel_params(0.3, jnp.ones(2)))(jnp.arange(chains))
    noise = jax.vmap(kernel.noise)(jax.random.split(jax.random.key(0), chains), states.position)
    step = jax.jit(lambda n, s, p: kernel.step_chains_from_noise(n, s, logdensity, p))
    hlo = step.lower(noise, states, params).compile().as_text()
    assert " while(" in hlo and " scatter(" not in hlo


_NATIVE_RUN = textwrap.dedent("""
    import json
    import arviz as az, jax.numpy as jnp, numpy as np
    from probflow.inference import sample
    f = lambda p: -0.5 * jnp.sum((p["x"] / jnp.array([1.0, 3.0])) ** 2)
    run = lambda: np.asarray(sample(
        f, {"x": jnp.zeros(2)}, num_warmup=300, num_samples=1000, num_chains=4, seed=3,
        progress_bar=False, check_convergence=False).samples["x"])
    x, y = run(), run()
    print(json.dumps({"same": bool((x == y).all()), "mean": x.mean((0, 1)).tolist(),
                      "sd": x.std((0, 1)).tolist(),
                      "ess": az.ess({"x": x}, method="bulk")["x"].values.tolist()}))
""")


@pytest.mark.slow
def test_native_loops_sample_the_target():
    # The flag changes XLA's code generation (floating point may round differently),
    # not the sampler: the same seed still gives the same draws, and the moments hold.
    env = dict(os.environ, XLA_FLAGS="--xla_backend_extra_options="
               "xla_cpu_small_while_loop_byte_threshold=1000000000")
    out = subprocess.run([sys.executable, "-c", _NATIVE_RUN], env=env, capture_output=True,
                         text=True, timeout=600, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["same"]
    ess = np.asarray(result["ess"], float)
    scales = np.array([1.0, 3.0])
    # Mean within 5 Monte Carlo standard errors; sd within 5 of its (normal-theory) MCSE.
    assert np.all(np.abs(result["mean"]) < 5 * scales / np.sqrt(ess))
    assert np.all(np.abs(np.asarray(result["sd"]) - scales) < 5 * scales / np.sqrt(2 * ess))
