"""XLA compile options for the sampling programs, where the backend supports them.

XLA:CPU's copy insertion keeps a copy of a loop-carried buffer whenever it cannot
prove that the loop body's old and new values never need to live at once; with its
region analysis it proves that for every buffer of the NUTS trajectory loop (eight
schools: 10 copies per leapfrog step before, none after), so each step runs ~10%
faster and the draws are the same bit for bit (benchmarks/README.md, 2026-12-07,
night). XLA:CPU leaves the analysis off by default; it is set per program here, so no
other JAX program of the process is affected.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = ["sampling_compiler_options", "jit_sampling_program"]

_CPU_OPTIONS = {"xla_cpu_copy_insertion_use_region_analysis": True}


@functools.cache
def sampling_compiler_options() -> dict:
    """The compile options the sampling programs use on this process's default backend.

    Returns:
        The CPU options above when the default backend is the CPU and its XLA accepts
        them (an XLA without an option rejects the whole compile), else ``{}``.

    Example:
        >>> isinstance(sampling_compiler_options(), dict)
        True
    """
    if jax.default_backend() != "cpu":
        return {}
    try:
        jax.jit(lambda x: x + 1, compiler_options=_CPU_OPTIONS).lower(
            jnp.zeros((), jnp.float32)).compile()
    except Exception:  # noqa: BLE001 - any rejection means: compile without them
        return {}
    return dict(_CPU_OPTIONS)


def jit_sampling_program(fn, **jit_kwargs):
    """`jax.jit` of `fn` with `sampling_compiler_options`, chosen at the first call.

    The backend is not touched at import time (a user may still pick the platform);
    the jitted function is built once, then every call goes straight to it.

    Args:
        fn: the program.
        **jit_kwargs: passed to `jax.jit` (e.g. ``static_argnames``).

    Returns:
        A callable with `fn`'s signature; its ``jitted()`` is the `jax.jit` object.

    Example:
        >>> f = jit_sampling_program(lambda x, n: x * n, static_argnames="n")
        >>> float(f(jnp.float32(2.0), n=3))
        6.0
    """

    @functools.cache
    def jitted():
        return jax.jit(fn, compiler_options=sampling_compiler_options() or None, **jit_kwargs)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return jitted()(*args, **kwargs)

    call.jitted = jitted  # the `jax.jit` object, e.g. for `.lower(...)`
    return call
