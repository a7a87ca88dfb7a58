"""Shared fixtures: a `key` fixture, float64 where a test compares against scipy."""

import os

# Tests run on the CPU; keep XLA from grabbing every core for one compile.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

# Compiles are most of the suite's time, and tests build the same program again: the
# same network in a fresh model object, a loaded model, an example's second model.
# JAX's persistent compilation cache keys an executable by its HLO, compile options,
# XLA flags and devices, so a hit is the program a fresh compile would give. One folder
# a run, set before jax is imported, so that the pytest-xdist workers (started after
# this file is read) and the subprocesses of the examples share it; the process that
# made it removes it. (A read that races the write of the same entry by another process
# only warns and compiles afresh.)
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _cache_dir = tempfile.mkdtemp(prefix="probflow-tests-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache_dir
    atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)

import jax
import pytest


@pytest.fixture
def key():
    """A fixed `jax.random` key."""
    return jax.random.key(0)


@pytest.fixture
def x64():
    """Enables float64 for the duration of one test (scipy comparisons)."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)
