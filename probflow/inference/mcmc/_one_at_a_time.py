"""Batched linear algebra that runs one batch element at a time under `vmap`.

jaxlib 0.10's CPU LAPACK kernels (QR, eigh, Cholesky) split a batch over XLA's
intra-op thread pool and block until the pieces are done. Called from a thunk that
already runs on that pool (inside the sampling program's loops and conditionals),
every worker can end up waiting for pieces no free worker is left to run: the program
hangs in `block_until_ready` with all threads idle. On a 2-core machine the low-rank
warmup hung for 4 chains at d = 80, 100 and 200 (QR in `ParallelBatchMap`). A batch
of one is computed in place, so a function wrapped here sees the chains one by one
(`lax.map`); the work is the same, and these functions run once per warmup iteration
at most, not per leapfrog step.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = ["one_at_a_time"]


def one_at_a_time(fn):
    """`fn` whose batching rule maps over the batch sequentially instead of vectorising.

    Args:
        fn: a function of pytrees of arrays (positional arguments only).

    Returns:
        The same function; under `vmap` its batch elements are computed one after
        another in a `lax.map`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> chol = one_at_a_time(jnp.linalg.cholesky)
        >>> m = jnp.stack([jnp.eye(2), 4 * jnp.eye(2)])
        >>> jax.vmap(chol)(m)[:, 0, 0].tolist()
        [1.0, 2.0]
    """
    wrapped = jax.custom_batching.custom_vmap(fn)

    @wrapped.def_vmap
    def _rule(axis_size, in_batched, *args):
        args = jax.tree_util.tree_map(
            lambda a, batched: a if batched else jnp.broadcast_to(a, (axis_size,) + jnp.shape(a)),
            tuple(args), tuple(in_batched))
        out = jax.lax.map(lambda xs: fn(*xs), args)
        return out, jax.tree_util.tree_map(lambda _: True, out)

    return functools.wraps(fn)(wrapped)
