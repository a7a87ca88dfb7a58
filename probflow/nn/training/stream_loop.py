"""One epoch over a `streams.BatchStream`: a Python loop of one jitted step per batch.

The fused array path (`GradientPrograms.run_epoch`) needs the whole data set on the
device; a stream brings it a batch at a time. Each host batch is padded to a fixed
row count with a mask (a ragged last batch does not recompile). A background thread
(`prefetch`) reads the source (a generator, a Grain pipeline, a memmap), checks and pads
each batch and puts it on the device, up to two batches ahead, while the main thread
dispatches steps: JAX runs a step asynchronously, so reading, transfer and compute
overlap. The main thread waits for the step two behind the one it just dispatched,
never for the current one: the device always has queued work, and the batches alive
on it stay a handful whatever the data set's size. The step adds its logs to running
totals on the device; nothing is read back until the epoch ends, unless a callback
asks for per-batch logs.

The epoch starts with the key split of the array path's epoch and each step splits the
state's key as the array path's step does, so a stream that yields the array path's
batches (same order, ``shuffle=False``) trains to the same weights, up to the float
rounding of a separately compiled step.
"""

from __future__ import annotations

import collections
import queue
import threading

import jax

__all__ = ["prefetch", "run_stream_epoch"]

# Steps dispatched but possibly not finished: enough to keep the device busy while the
# host waits, few enough to bound the batches held on the device.
STEPS_IN_FLIGHT = 2

_END = object()


class _Failure:
    """An exception raised on the producer thread, re-raised to the consumer."""

    def __init__(self, error):
        self.error = error


def _produce(items, place, out, stop):
    def put(value):
        while not stop.is_set():
            try:
                out.put(value, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    try:
        for item in items:
            if stop.is_set() or not put(place(item)):
                return
    except BaseException as error:  # noqa: BLE001 - handed to the consumer as is
        put(_Failure(error))
        return
    put(_END)


def prefetch(items, place, size=2):
    """Yields ``place(item)`` for each item, made on a background thread ahead of use.

    The producer thread iterates `items` and calls `place` (e.g. `jax.device_put`,
    which releases the GIL while it copies), keeping up to `size` placed items ready.
    An exception on the producer is re-raised here; closing the generator (a `break`
    in the consumer, Ctrl-C) stops the producer and waits for it, so the source is
    never read by two threads at once.

    Args:
        items: an iterable (read only by the producer thread).
        place: ``fn(item) -> placed item``.
        size: placed items waiting ahead (>= 1).

    Example:
        >>> list(prefetch(iter(range(4)), lambda i: 10 * i))
        [0, 10, 20, 30]
    """
    out = queue.Queue(maxsize=max(1, int(size)))
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(items, place, out, stop),
                                name="probflow-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            value = out.get()
            if value is _END:
                return
            if isinstance(value, _Failure):
                raise value.error
            yield value
    finally:
        stop.set()
        producer.join()


def run_stream_epoch(model, programs, stream, *, shuffle, callbacks):
    """Trains one epoch over `stream`; returns its logs (device scalars), or None.

    None means the stream yielded no batch (a one-shot iterator that ran out).
    `model.train_state` is assigned at the end (and around each batch hook).
    """
    state, batches = stream.begin_epoch(programs, model.train_state, shuffle=shuffle)
    hooks = callbacks.has_batch_hooks
    totals = None
    in_flight = collections.deque()

    def place(item):
        batch, rows = item
        return programs.place_batch(batch), rows

    loader = prefetch(batches, place)
    try:
        for b, (batch, rows) in enumerate(loader):
            if hooks:
                model.train_state = state
                callbacks.on_batch_begin(b, {"batch": b, "size": rows})
                state = model.train_state
            state, totals, logs = programs.stream_step(state, totals, batch,
                                                       num_train=stream.num_train)
            in_flight.append(state.step)
            if len(in_flight) > STEPS_IN_FLIGHT:
                jax.block_until_ready(in_flight.popleft())
            if hooks:
                model.train_state = state
                batch_logs = {k: float(v) for k, v in logs.items() if k != "stats"}
                batch_logs["size"] = batch_logs.pop("count")
                callbacks.on_batch_end(b, batch_logs)
                state = model.train_state
                if model.stop_training:
                    break
    finally:
        loader.close()
    if totals is None:
        return None
    model.train_state = state._replace(epoch=state.epoch + 1)
    return programs.summarize_totals(totals)
