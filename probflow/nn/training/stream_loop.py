"""One epoch over a `streams.BatchStream`: a Python loop of one jitted step per batch.

The fused array path (`GradientPrograms.run_epoch`) needs the whole data set on the
device; a stream brings it a batch at a time. Each host batch is padded to a fixed
row count with a mask (a ragged last batch does not recompile) and put on the device
one batch ahead (`prefetch`): JAX dispatches the step asynchronously, so the next
batch's transfer and the host work that makes it (reading a memmap, a generator, a
Grain pipeline) overlap the running step. The step adds its logs to running totals on
the device; nothing is read back until the epoch ends, unless a callback asks for
per-batch logs.

The epoch starts with the key split of the array path's epoch and each step splits the
state's key as the array path's step does, so a stream that yields the array path's
batches (same order, ``shuffle=False``) trains to the same weights, up to the float
rounding of a separately compiled step.
"""

from __future__ import annotations

import collections

__all__ = ["prefetch", "run_stream_epoch"]


def prefetch(items, place, size=1):
    """Yields ``place(item)`` for each item, `size` items ahead of the consumer.

    Args:
        items: an iterator.
        place: e.g. `jax.device_put` (asynchronous: the transfer overlaps the step).
        size: how many placed items wait ahead.

    Example:
        >>> seen = []
        >>> gen = prefetch(iter(range(3)), lambda i: seen.append(i) or i)
        >>> next(gen), seen
        (0, [0, 1])
    """
    queue = collections.deque()
    for item in items:
        queue.append(place(item))
        if len(queue) > size:
            yield queue.popleft()
    while queue:
        yield queue.popleft()


def run_stream_epoch(model, programs, stream, *, shuffle, callbacks):
    """Trains one epoch over `stream`; returns its logs (device scalars), or None.

    None means the stream yielded no batch (a one-shot iterator that ran out).
    `model.train_state` is assigned at the end (and around each batch hook).
    """
    state, batches = stream.begin_epoch(programs, model.train_state, shuffle=shuffle)
    hooks = callbacks.has_batch_hooks
    totals = None

    def place(item):
        batch, rows = item
        return programs.place_batch(batch), rows

    for b, (batch, rows) in enumerate(prefetch(batches, place)):
        if hooks:
            model.train_state = state
            callbacks.on_batch_begin(b, {"batch": b, "size": rows})
            state = model.train_state
        state, totals, logs = programs.stream_step(state, totals, batch,
                                                   num_train=stream.num_train)
        if hooks:
            model.train_state = state
            batch_logs = {k: float(v) for k, v in logs.items() if k != "stats"}
            batch_logs["size"] = batch_logs.pop("count")
            callbacks.on_batch_end(b, batch_logs)
            state = model.train_state
            if model.stop_training:
                break
    if totals is None:
        return None
    model.train_state = state._replace(epoch=state.epoch + 1)
    return programs.summarize_totals(totals)
