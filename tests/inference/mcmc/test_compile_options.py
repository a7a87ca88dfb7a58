"""The sampling program's compile options: applied on the CPU, and the draws unchanged."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from probflow.inference import Target
from probflow.inference.mcmc import NUTS
from probflow.inference.mcmc._compile_options import (
    jit_sampling_program,
    sampling_compiler_options,
)
from probflow.inference.mcmc._program import run_chains
from probflow.inference.mcmc.sample import _STATIC

cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu",
                              reason="the options are XLA:CPU's; other backends get none")


def _arguments():
    target = Target.from_logdensity(lambda x: -0.5 * jnp.sum((x / jnp.array([0.5, 2.0])) ** 2),
                                    jnp.zeros(2))
    keys = jax.random.split(jax.random.key(3), 2)
    positions = jnp.asarray([[0.3, -1.0], [-0.2, 0.5]])
    settings = dict(kernel=NUTS(max_tree_depth=6), num_warmup=30, num_samples=20,
                    dense_mass=False, report_progress=False, schedule="lockstep",
                    adaptation="nutpie")
    return (target, keys, positions, jnp.asarray(0.8)), settings


@cpu_only
def test_the_cpu_gets_the_copy_insertion_region_analysis():
    assert sampling_compiler_options() == {"xla_cpu_copy_insertion_use_region_analysis": True}


@cpu_only
def test_the_options_remove_copies_and_keep_the_draws():
    args, settings = _arguments()
    plain = jax.jit(run_chains, static_argnames=_STATIC)
    tuned = jit_sampling_program(run_chains, static_argnames=_STATIC)

    def copies(jitted):
        return jitted.lower(*args, **settings).compile().as_text().count(" copy(")

    # What the option is for: XLA proves loop-carried copies unneeded.
    assert copies(tuned.jitted()) < copies(plain)
    out_plain, out_tuned = plain(*args, **settings), tuned(*args, **settings)
    for a, b in zip(jax.tree_util.tree_leaves(out_plain), jax.tree_util.tree_leaves(out_tuned)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_sampling_program_is_a_plain_function_of_its_arguments():
    f = jit_sampling_program(lambda x, n: x * n, static_argnames="n")
    assert float(f(jnp.float32(2.0), n=3)) == 6.0
    assert float(f(jnp.float32(2.0), n=4)) == 8.0
    assert f.jitted() is f.jitted()  # built once
