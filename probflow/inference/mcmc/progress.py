"""A tqdm progress bar fed from inside a compiled loop, a bounded number of times.

The compiled loop calls `report` every iteration; it reaches the host only every
``total // num_updates`` iterations (an ordered `jax.debug.callback` inside a
`lax.cond` on the unbatched loop counter), so a run makes about `num_updates` host
calls whatever its length.
"""

from __future__ import annotations

import contextlib

import jax

__all__ = ["progress_bar", "report", "report_advance", "callback_count"]

_active = None
_calls = 0


def _update(amount):
    global _calls
    _calls += 1
    if _active is not None:
        _active.update(int(amount))


def callback_count() -> int:
    """How many host progress callbacks have run in this process (for tests)."""
    return _calls


def report(iteration, total: int, *, num_updates: int = 20):
    """Inside a jitted loop: advance the active bar every ``total // num_updates`` steps.

    Args:
        iteration: the loop counter (traced, unbatched).
        total: the static number of iterations of the loop.
        num_updates: about how many host calls the loop makes.
    """
    every = max(1, total // num_updates)
    jax.lax.cond(
        (iteration + 1) % every == 0,
        lambda: jax.debug.callback(_update, every, ordered=True),
        lambda: None,
    )


def report_advance(before, after, total: int, *, num_updates: int = 20):
    """Inside a jitted loop: advance the active bar from `before` to `after` done steps.

    For loops whose count of finished work moves by irregular amounts (ragged NUTS
    chains report the slowest chain's transition count); the host is called only when
    a multiple of ``total // num_updates`` is crossed, so at most ~`num_updates` times.

    Args:
        before, after: the count of finished steps before and after this iteration
            (traced, unbatched).
        total: the static total count.
        num_updates: about how many host calls the loop makes.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> jax.jit(lambda a, b: report_advance(a, b, 100))(jnp.int32(3), jnp.int32(4))
    """
    every = max(1, total // num_updates)
    crossed = after // every - before // every
    jax.lax.cond(
        crossed > 0,
        lambda: jax.debug.callback(_update, crossed * every, ordered=True),
        lambda: None,
    )


@contextlib.contextmanager
def progress_bar(total: int, description: str, enabled: bool):
    """Shows a tqdm bar of `total` steps while the block runs (a no-op if not enabled).

    Example:
        >>> with progress_bar(10, "sampling", enabled=False):
        ...     pass
    """
    global _active
    if not enabled:
        yield
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=description, leave=True)
    _active = bar
    try:
        yield
    finally:
        _active = None
        bar.n = total
        bar.refresh()
        bar.close()
