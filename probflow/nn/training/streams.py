"""Batch streams: `fit` / `evaluate` data beyond in-memory arrays.

A stream yields host batches one at a time; `stream_loop.run_stream_epoch` reads,
checks and places them on the device on a background thread, ahead of the steps that
use them. Two kinds:

* `IterableStream`: anything iterable that yields ``(x, y)`` or ``(x, y, sample_weight)``
  batches (x / y an array, or a list of arrays for several inputs / outputs): a list of
  batches, a generator, a Grain ``MapDataset`` / ``IterDataset`` / ``DataLoader`` (duck
  typed: probflow never imports grain). An `Iterator` (a generator) is read once and
  continues across epochs; any other iterable is iterated afresh for each pass. A
  Grain ``MapDataset`` is read by index (its elements in order, as its iterator
  yields them); for Grain's own parallel reads (files on a slow disk) pass
  ``ds.to_iter_dataset(grain.ReadOptions(num_threads=...))``, iterated as given.
* `ArrayStream`: host arrays that should not be copied to the device whole (a numpy
  memmap, arrays over half the device's memory, or ``fit(..., stream=True)``). Each
  batch gathers its rows on the host, with the array path's permutation and padding,
  so it trains as the array path does.

Every batch is checked on the host as `prepare_xy` checks arrays. The data set's size
(the KL divisor of VI and the likelihood scale of MAP / SG-MCMC) is never a batch's:
it is ``num_train=`` when given, else the sum of the batches' rows of a list or tuple
of batches, else ``rows(ds[0]) * (len(ds) - 1) + rows(ds[-1])`` for a sized, indexable
data set of batches (Grain's batched ``MapDataset``), else unknown (an error).
"""

from __future__ import annotations

import collections.abc
import math

import jax.numpy as jnp
import numpy as np

from probflow.nn.training.data import example_weights, prepare_inputs, prepare_xy

__all__ = ["ArrayStream", "BatchStream", "IterableStream", "batch_rows", "is_batch_iterable",
           "split_batch"]


def _is_array(value) -> bool:
    # numpy / jax arrays, memmaps, and array-likes such as data frames.
    return hasattr(value, "shape") and (hasattr(value, "dtype") or hasattr(value, "__array__"))


def is_batch_iterable(x) -> bool:
    """Whether `x` is a source of batches rather than an array or a list of arrays.

    Example:
        >>> import numpy as np
        >>> is_batch_iterable(np.zeros(3)), is_batch_iterable([np.zeros(3), np.ones(3)])
        (False, False)
        >>> is_batch_iterable(iter([(np.zeros(3), np.zeros(3))]))
        True
    """
    if _is_array(x) or isinstance(x, (str, bytes, dict)):
        return False
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and not all(_is_array(item) for item in x)
    return isinstance(x, collections.abc.Iterable)


def split_batch(batch, where="a batch"):
    """``(x, y, sample_weight)`` of one batch (Keras's data tuple; sample_weight may be None).

    Example:
        >>> import numpy as np
        >>> x, y, w = split_batch((np.zeros((2, 1)), np.ones(2)))
        >>> x.shape, y.shape, w
        ((2, 1), (2,), None)
    """
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return batch[0], batch[1], batch[2] if len(batch) == 3 else None
    raise TypeError(f"{where} must be a tuple (x, y) or (x, y, sample_weight); got "
                    f"{type(batch).__name__}" + (f" of length {len(batch)}"
                                                 if isinstance(batch, (tuple, list)) else ""))


def batch_rows(x) -> int:
    """Rows in the inputs `x` of a batch (an array or a list of arrays)."""
    first = x[0] if isinstance(x, (list, tuple)) else x
    return int(np.shape(first)[0])


def _pad_rows(array, rows):
    """`array` with its first row repeated up to `rows` rows (padding stays finite)."""
    pad = rows - array.shape[0]
    if pad <= 0:
        return array
    return np.concatenate([array, np.repeat(array[:1], pad, axis=0)])


def _float_dtype():
    return jnp.result_type(float)


class BatchStream:
    """Base of the streams: host batches ``((xs, ys, mask, weights), rows)`` per epoch.

    Attributes:
        num_train: examples in the data set (None when unknown).
        steps_per_epoch: batches in an epoch (None: one pass, length unknown).
    """

    num_train = None
    steps_per_epoch = None

    def begin_epoch(self, programs, state, *, shuffle):
        """``(state, iterator of host batches)`` for one epoch."""
        raise NotImplementedError

    def eval_batches(self, *, steps=None):
        """One pass of padded host batches ``((xs, ys, mask, weights), rows)`` for
        evaluation (`weights` None when the data carry no sample weights)."""
        raise NotImplementedError


class ArrayStream(BatchStream):
    """Batches gathered from host arrays (a memmap is read batch by batch, never whole).

    Args:
        model: the compiled model (checks each batch).
        x, y: arrays or lists of arrays (memmaps stay memmaps).
        batch_size: rows per batch.
        sample_weight, class_weight: as for `fit`.
    """

    def __init__(self, model, x, y, *, batch_size, sample_weight=None, class_weight=None):
        self.model = model
        self.xs = list(x) if isinstance(x, (list, tuple)) else [x]
        self.ys = list(y) if isinstance(y, (list, tuple)) else [y]
        self.num_train = int(self.xs[0].shape[0])
        for name, arrays in (("x", self.xs), ("y", self.ys)):
            for array in arrays:
                if not _is_array(array) or array.shape[0] != self.num_train:
                    raise ValueError(f"`{name}` must be arrays of {self.num_train} examples; "
                                     f"got shape {getattr(array, 'shape', None)}")
        if sample_weight is not None and np.shape(sample_weight) != (self.num_train,):
            raise ValueError(f"`sample_weight` must have shape ({self.num_train},); got "
                             f"{np.shape(sample_weight)}")
        self.sample_weight = sample_weight
        self.class_weight = class_weight
        self.batch_size = batch_size
        self.steps_per_epoch = math.ceil(self.num_train / batch_size)
        self._check(np.arange(min(batch_size, self.num_train)))  # builds graph and heads

    def _check(self, rows, where="x"):
        xs = [np.asarray(a[rows]) for a in self.xs]
        xs, ys = prepare_xy(self.model, xs, [np.asarray(a[rows]) for a in self.ys],
                            xname=where, yname=where.replace("x", "y", 1))
        sw = None if self.sample_weight is None else np.asarray(self.sample_weight[rows])
        return xs, ys, example_weights(self.model, ys, sw, self.class_weight)

    def _batches(self, idx, mask):
        for b in range(idx.shape[0]):
            # Sorted reads are sequential on a memmap; the batch keeps the shuffled order.
            order = np.argsort(idx[b], kind="stable")
            inverse = np.empty_like(order)
            inverse[order] = np.arange(order.size)
            xs, ys, weights = self._check(idx[b][order], where=f"x (batch {b})")
            batch = ([a[inverse] for a in xs], [a[inverse] for a in ys], mask[b],
                     None if weights is None else weights[inverse])
            yield batch, int(mask[b].sum())

    def begin_epoch(self, programs, state, *, shuffle):
        state, idx, mask = programs.epoch_batches(state, self.num_train,
                                                  batch_size=self.batch_size, shuffle=shuffle)
        return state, self._batches(np.asarray(idx), np.asarray(mask))

    def eval_batches(self, *, steps=None):
        size = min(self.batch_size, self.num_train)
        count = math.ceil(self.num_train / size)
        if steps is not None:
            count = min(count, steps)
        for b in range(count):
            rows = np.arange(b * size, min((b + 1) * size, self.num_train))
            xs, ys, weights = self._check(rows, where=f"x (batch {b})")
            mask = (np.arange(size) < rows.size).astype(_float_dtype())
            if weights is not None:
                weights = np.concatenate([weights, np.zeros(size - rows.size, weights.dtype)])
            yield ([_pad_rows(a, size) for a in xs], [_pad_rows(a, size) for a in ys], mask,
                   weights), rows.size


def _is_grain_map_dataset(source) -> bool:
    # Duck typed (probflow never imports grain): sized, indexable, convertible to Grain's
    # iterable form.
    return (hasattr(source, "to_iter_dataset") and hasattr(source, "__len__")
            and hasattr(source, "__getitem__"))


def _read_by_index(dataset):
    """The elements of a Grain ``MapDataset`` in order, skipping filtered ones (None).

    What ``iter(dataset)`` yields, read on the calling thread (probflow's prefetch
    thread): Grain's default iterator would start a pool of 16 reader threads and a
    500-element buffer for every pass, which on an in-memory source costs more than
    it reads (Grain's own advice there is ``num_threads=0``).
    """
    for index in range(len(dataset)):
        element = dataset[index]
        if element is not None:
            yield element


def _open(source):
    """A fresh iterator over `source` (a Grain ``MapDataset`` is read by index)."""
    return _read_by_index(source) if _is_grain_map_dataset(source) else iter(source)


def _known_num_train(source):
    """The data set's size when the source tells it without reading it all (else None)."""
    if isinstance(source, (list, tuple)):
        return sum(batch_rows(split_batch(b, "a batch of the list")[0]) for b in source)
    if hasattr(source, "__len__") and hasattr(source, "__getitem__"):
        count = len(source)
        if count == 0:
            return 0
        first = batch_rows(split_batch(source[0])[0])
        return first * (count - 1) + batch_rows(split_batch(source[count - 1])[0])
    return None


class IterableStream(BatchStream):
    """Batches from an iterable of ``(x, y[, sample_weight])`` tuples.

    Args:
        model: the compiled model (checks each batch).
        source: the iterable (a list, a generator, a Grain data set or loader, ...).
        num_train: examples in the data set; None: worked out from `source` when it can
            be (see the module docstring), else left None.
        steps_per_epoch: batches per epoch (Keras: needed for an endless generator); None
            for one pass per epoch.
        class_weight: as for `fit`.
        argname: how to call the source in messages.
    """

    def __init__(self, model, source, *, num_train=None, steps_per_epoch=None,
                 class_weight=None, argname="x"):
        self.model = model
        self.source = source
        self.argname = argname
        self.class_weight = class_weight
        self.one_shot = isinstance(source, collections.abc.Iterator)
        self.steps_per_epoch = steps_per_epoch
        self._iterator = _open(source)
        self._pending = []
        self._batch_index = 0
        self._yielded_in_pass = 0
        first = self._next()
        if first is None:
            raise ValueError(f"`{argname}` yielded no batches")
        self._pending.append(first)
        self.capacity = first[1]  # padded rows of every step (a larger batch: its own)
        self._strategy = None  # a data-parallel strategy whose devices split each step
        self.num_train = num_train if num_train is not None else _known_num_train(source)

    def _next(self):
        """The next prepared host batch of the current pass, or None at its end."""
        if self._pending:
            return self._pending.pop()
        if self._iterator is None:
            return None
        try:
            raw = next(self._iterator)
        except StopIteration:
            self._iterator = None
            return None
        index = self._batch_index
        self._batch_index += 1
        where = f"`{self.argname}` batch {index}"
        x, y, sw = split_batch(raw, where)
        xs, ys = prepare_xy(self.model, x, y, xname=f"{self.argname} (batch {index})",
                            yname=f"y (batch {index})")
        weights = example_weights(self.model, ys, sw, self.class_weight,
                                  name=f"sample_weight of {where}")
        return (xs, ys, weights), xs[0].shape[0]

    def check_rows_split(self, strategy):
        """Raises ValueError unless a step's rows split evenly over `strategy`'s devices.

        Checks the first batch's rows now (every step is padded to them) and any larger
        batch when it comes.
        """
        strategy.check_batch_size(self.capacity,
                                  f"of the batches `{self.argname}` yields (batch 0)")
        self._strategy = strategy

    def _new_pass(self) -> bool:
        if self.one_shot:
            return False
        self._iterator = _open(self.source)
        self._batch_index = 0
        self._yielded_in_pass = 0
        return True

    def _padded(self, prepared, rows, *, with_weights):
        xs, ys, weights = prepared
        size = max(rows, self.capacity)
        if size > self.capacity and self._strategy is not None:
            self._strategy.check_batch_size(
                size, f"of the batches `{self.argname}` yields (batch {self._batch_index - 1})")
        dtype = _float_dtype()
        mask = (np.arange(size) < rows).astype(dtype)
        if weights is not None and with_weights:
            weights = np.concatenate([weights, np.zeros(size - rows, weights.dtype)])
        else:
            weights = None
        return ([_pad_rows(a, size) for a in xs], [_pad_rows(a, size) for a in ys], mask,
                weights), rows

    def _batches(self, *, steps, fresh, with_weights):
        """Up to `steps` batches (None: to the end of the pass).

        `fresh` starts a new pass unless the current one is unread; otherwise the current
        pass continues and, with `steps`, a re-iterable source starts another pass when
        it ends (Keras's ``steps_per_epoch``). A one-shot iterator that ends stays ended.
        """
        if (fresh and self._yielded_in_pass > 0 or self._iterator is None
                and not self._pending) and not self._new_pass():
            return
        count = 0
        while steps is None or count < steps:
            item = self._next()
            if item is None:
                if steps is None or self._yielded_in_pass == 0 or not self._new_pass():
                    return
                continue
            self._yielded_in_pass += 1
            count += 1
            yield self._padded(*item, with_weights=with_weights)

    def begin_epoch(self, programs, state, *, shuffle):
        del shuffle  # a stream's order is its own (Keras ignores shuffle for generators)
        return programs.begin_stream_epoch(state), self._batches(
            steps=self.steps_per_epoch, fresh=self.steps_per_epoch is None, with_weights=True)

    def eval_batches(self, *, steps=None):
        return self._batches(steps=steps, fresh=True, with_weights=True)


def eval_chunks(data, batch_size, *, steps=None):
    """Padded device chunks ``(xs, ys, mask, weights)`` of evaluation data, in order.

    Args:
        data: ``(xs, ys)`` or ``(xs, ys, weights)`` host arrays (cut into chunks of
            `batch_size` rows, the last padded), or a `BatchStream` (its batches, padded
            to its step shape).
        batch_size: rows per chunk of arrays.
        steps: at most this many chunks of a stream (None: one pass).

    Yields:
        ``(xs, ys, mask, weights)`` device arrays; `mask` is 1 on real rows, `weights`
        the per-example sample weights (0 on padding), or None when there are none.
    """
    if isinstance(data, BatchStream):
        for (xs, ys, mask, weights), _ in data.eval_batches(steps=steps):
            yield ([jnp.asarray(a) for a in xs], [jnp.asarray(a) for a in ys],
                   jnp.asarray(mask), None if weights is None else jnp.asarray(weights))
        return
    xs, ys = data[0], data[1]
    weights = data[2] if len(data) > 2 else None
    n = xs[0].shape[0]
    size = max(1, min(batch_size, n))

    def chunk(a, start, stop):
        pad = [(0, size - (stop - start))] + [(0, 0)] * (a.ndim - 1)
        return jnp.asarray(np.pad(a[start:stop], pad))

    for start in range(0, n, size):
        stop = min(start + size, n)
        yield ([chunk(a, start, stop) for a in xs], [chunk(a, start, stop) for a in ys],
               (jnp.arange(size) < stop - start).astype(_float_dtype()),
               None if weights is None else chunk(weights, start, stop))


def _is_memmap(x) -> bool:
    items = x if isinstance(x, (list, tuple)) else [x]
    return any(isinstance(a, np.memmap) for a in items)


def evaluation_data(model, x, y, *, batch_size, sample_weight=None, xname="x", yname="y",
                    wname="sample_weight"):
    """`evaluate`'s data: prepared ``(xs, ys)`` / ``(xs, ys, weights)`` arrays, or a stream.

    A batch iterable (with `y` None) becomes an `IterableStream` (its batches may carry
    sample weights); a memmap an `ArrayStream` (read chunk by chunk); anything else is
    checked whole by `prepare_xy`. `sample_weight` (arrays only) weighs each example's
    loss term and the weighted metrics, as in Keras.
    """
    if y is None and is_batch_iterable(x):
        if sample_weight is not None:
            raise ValueError(f"`{wname}` cannot go with an iterable of batches: yield "
                             "(x, y, sample_weight) batches instead")
        return IterableStream(model, x, argname=xname)
    if y is None:
        raise ValueError(f"`{yname}` is needed with arrays; pass an iterable of (x, y) "
                         f"batches as `{xname}` to leave it out")
    if _is_memmap(x) or _is_memmap(y):
        return ArrayStream(model, x, y, batch_size=batch_size, sample_weight=sample_weight)
    xs, ys = prepare_xy(model, x, y, xname=xname, yname=yname)
    if sample_weight is None:
        return xs, ys
    return xs, ys, example_weights(model, ys, sample_weight, name=wname)


def _batch_inputs(model, batch):
    """The inputs of one prediction batch: the batch itself, or the first of a tuple."""
    if _is_array(batch):
        return batch
    if isinstance(batch, (tuple, list)) and batch:
        if len(model.inputs) == 1 or isinstance(batch[0], (tuple, list)):
            return batch[0]
        return batch
    raise TypeError(f"a prediction batch must be an array or a tuple (x, ...); got "
                    f"{type(batch).__name__}")


def input_chunks(model, x, batch_size):
    """Host input chunks ``(xs padded to a fixed row count, rows)`` for prediction.

    Args:
        model: the fitted model.
        x: arrays (cut into chunks of `batch_size`; a memmap is read chunk by chunk), or
            an iterable of batches (arrays, or tuples whose first item is the inputs).
        batch_size: rows per chunk of arrays.
    """
    if is_batch_iterable(x):
        capacity = None
        for i, batch in enumerate(x):
            xs = prepare_inputs(model, _batch_inputs(model, batch), f"x (batch {i})")
            rows = xs[0].shape[0]
            capacity = capacity or rows
            yield [_pad_rows(a, max(rows, capacity)) for a in xs], rows
        return
    if _is_memmap(x):
        arrays = list(x) if isinstance(x, (list, tuple)) else [x]
        n = arrays[0].shape[0]
        size = max(1, min(batch_size, n))
        for start in range(0, n, size):
            xs = prepare_inputs(model, [a[start:start + size] for a in arrays])
            yield [_pad_rows(a, size) for a in xs], xs[0].shape[0]
        return
    xs = prepare_inputs(model, x)
    n = xs[0].shape[0]
    size = max(1, min(batch_size, n))
    # An empty `x` runs one all-padding chunk, so the result is empty but well shaped.
    for start in range(0, max(n, 1), size):
        chunk = [a[start:start + size] for a in xs]
        yield [_pad_rows(a, size) for a in chunk], chunk[0].shape[0]
