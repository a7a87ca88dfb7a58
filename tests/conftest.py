"""Shared fixtures: a `key` fixture, float64 where a test compares against scipy."""

import os

# Tests run on the CPU; keep XLA from grabbing every core for one compile.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

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
