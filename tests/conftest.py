"""Shared fixtures: a `key` fixture, float64 where a test compares against scipy."""

import os

# Tests run on the CPU; keep XLA from grabbing every core for one compile.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import gc

import jax
import pytest

# Every XLA:CPU executable holds about three memory mappings for its JIT-compiled code,
# and a test worker compiles thousands of programs. Past `vm.max_map_count` (65530 by
# default) the next compile fails ("Failed to materialize symbols") or the worker dies
# with SIGSEGV. Dropping JAX's caches unmaps every executable no one holds any more;
# doing it only when the count nears the limit keeps shared compiled functions warm.
_MAPS_PATH = "/proc/self/maps"
_CHECK_EVERY = 8


def _map_limit():
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


_MAP_LIMIT = _map_limit()
_tests_since_check = 0


def _map_count():
    with open(_MAPS_PATH, "rb") as f:
        return sum(1 for _ in f)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Frees compiled programs when this process nears the kernel's mapping limit."""
    global _tests_since_check
    if _MAP_LIMIT is None:
        return
    _tests_since_check += 1
    if _tests_since_check < _CHECK_EVERY:
        return
    _tests_since_check = 0
    if _map_count() > _MAP_LIMIT // 2:
        jax.clear_caches()
        gc.collect()


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
