"""What a gradient fit trains on: in-memory arrays, or a stream of batches.

`training_data` turns `fit`'s data arguments into one `TrainingData` value, checked
on the host before anything compiles:

* arrays (the default): ``ArrayData(xs, ys, weights)``, copied to the device whole and
  trained by the fused epoch program (one `lax.scan` per epoch);
* an iterable of ``(x, y[, sample_weight])`` batches passed as `x` with ``y=None``
  (a generator, a list, a Grain data set or loader): a `streams.IterableStream`;
* arrays that should stay on the host (a numpy memmap, arrays larger than half the
  device's memory, or ``stream=True``): a `streams.ArrayStream`.

Streams train through `stream_loop.run_stream_epoch`. The data set's size, which
divides the KL term (and scales MAP's prior and SG-MCMC's likelihood), is ``num_train``
when given, else the arrays' length, else what the stream can tell (`streams`).
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import jax
import numpy as np

from probflow.nn.training.data import example_weights, prepare_xy, split_validation
from probflow.nn.training.streams import (
    ArrayStream,
    IterableStream,
    evaluation_data,
    is_batch_iterable,
)

__all__ = ["ArrayData", "TrainingData", "training_data"]


class ArrayData(NamedTuple):
    """Prepared host arrays: inputs, targets and per-example weights (or None)."""

    xs: Any
    ys: Any
    weights: Any

    @property
    def num_examples(self) -> int:
        return int(self.xs[0].shape[0])


class TrainingData(NamedTuple):
    """`fit`'s prepared data.

    Attributes:
        train: an `ArrayData` or a `streams.BatchStream`.
        validation: ``(xs, ys)`` host arrays, a `BatchStream`, or None.
        num_train: examples in the training set (the KL divisor).
        steps_per_epoch: batches per epoch (None when a stream cannot tell).
    """

    train: Any
    validation: Any
    num_train: int
    steps_per_epoch: Any


def _device_bytes_limit():
    try:
        stats = jax.local_devices()[0].memory_stats()
    except Exception:  # backends without memory statistics (the CPU)
        return None
    return None if not stats else stats.get("bytes_limit")


def _should_stream(x, y, stream):
    if stream is not None:
        return bool(stream)
    arrays = [a for part in (x, y) for a in (part if isinstance(part, (list, tuple)) else [part])]
    if any(isinstance(a, np.memmap) for a in arrays):
        return True
    limit = _device_bytes_limit()
    total = sum(getattr(a, "nbytes", 0) for a in arrays)
    return limit is not None and total > limit // 2


def _optional_count(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be None or an int >= 1; got {value!r}")
    return int(value)


def _validation(model, validation_data, batch_size):
    if validation_data is None:
        return None
    # A tuple is (x_val, y_val[, val_sample_weight]), as in Keras; any other iterable is
    # a stream of batches.
    if isinstance(validation_data, tuple):
        if len(validation_data) not in (2, 3):
            raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, "
                             "y_val, val_sample_weight), or an iterable of batches; got a "
                             f"tuple of length {len(validation_data)}")
        x_val, y_val = validation_data[:2]
        weights = validation_data[2] if len(validation_data) == 3 else None
        return evaluation_data(model, x_val, y_val, batch_size=batch_size,
                               sample_weight=weights, xname="validation_data[0]",
                               yname="validation_data[1]", wname="validation_data[2]")
    if is_batch_iterable(validation_data):
        return IterableStream(model, validation_data, argname="validation_data")
    raise ValueError("`validation_data` must be a tuple (x_val, y_val) or an iterable of "
                     f"batches; got {type(validation_data).__name__}")


def training_data(model, x, y, *, batch_size, validation_data=None, validation_split=0.0,
                  sample_weight=None, class_weight=None, steps_per_epoch=None,
                  num_train=None, stream=None, method="vi"):
    """Checks and prepares `fit`'s data; a `TrainingData` passes through unchanged.

    Args:
        model: the compiled model.
        x, y: arrays, or an iterable of batches as `x` with `y` None.
        batch_size: rows per step (arrays; a stream's batches are its own).
        validation_data, validation_split, sample_weight, class_weight: as in Keras.
        steps_per_epoch: batches per epoch of a stream (needed for an endless one).
        num_train: the training set's size, when the data cannot tell it.
        stream: True streams arrays batch by batch from the host; False never does;
            None streams memmaps and arrays over half the device's memory.
        method: the fit method (named in messages).

    Returns:
        A `TrainingData`.

    Example:
        >>> import numpy as np
        >>> from probflow import nn
        >>> model = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
        >>> model.compile(likelihood="normal")
        >>> batches = [(np.zeros((4, 2)), np.zeros(4)), (np.zeros((3, 2)), np.zeros(3))]
        >>> data = training_data(model, batches, None, batch_size=32)
        >>> type(data.train).__name__, data.num_train, data.steps_per_epoch
        ('IterableStream', 7, 2)
    """
    if isinstance(x, TrainingData):
        return x
    if not model.compiled:
        raise ValueError("the model must be compiled before fitting: call "
                         "model.compile(optimizer=..., likelihood=...)")
    steps_per_epoch = _optional_count("steps_per_epoch", steps_per_epoch)
    num_train = _optional_count("num_train", num_train)
    if y is None and is_batch_iterable(x):
        if sample_weight is not None:
            raise ValueError("`sample_weight` cannot go with an iterable of batches: yield "
                             "(x, y, sample_weight) batches instead")
        if validation_split:
            raise ValueError("`validation_split` needs arrays; with an iterable of batches "
                             "pass `validation_data`")
        train = IterableStream(model, x, num_train=num_train, steps_per_epoch=steps_per_epoch,
                               class_weight=class_weight)
        if train.num_train is None:
            raise ValueError(
                f"cannot tell how many examples `x` holds (a {type(x).__name__} without len()); "
                f"method={method!r} divides the KL / prior term by it: pass "
                "fit(..., num_train=<training set size>)")
        steps = steps_per_epoch
        if steps is None and hasattr(x, "__len__"):
            steps = len(x)
        validation = _validation(model, validation_data, batch_size)
        return TrainingData(train, validation, train.num_train, steps)
    if y is None:
        raise ValueError("`y` is needed with arrays; to leave it out pass `x` as an iterable "
                         "of (x, y) batches (a generator, a list of tuples, a Grain data set)")
    if is_batch_iterable(x):
        raise ValueError("`y` must be None when `x` is an iterable of (x, y) batches; got "
                         f"y of type {type(y).__name__}")
    if steps_per_epoch is not None:
        raise ValueError("`steps_per_epoch` applies to an iterable of batches; with arrays "
                         "an epoch is one pass over them")
    if _should_stream(x, y, stream):
        train, split = _array_stream(model, x, y, batch_size, sample_weight, class_weight,
                                     validation_split)
    else:
        xs, ys = prepare_xy(model, x, y)
        weights = example_weights(model, ys, sample_weight, class_weight)
        parts = xs + ys + ([] if weights is None else [weights])
        (head, _), split = split_validation(parts, [], validation_split)
        if split is not None:
            split = (split[0][:len(xs)], split[0][len(xs):len(xs) + len(ys)])
        train = ArrayData(head[:len(xs)], head[len(xs):len(xs) + len(ys)],
                          None if weights is None else head[-1])
    validation = _validation(model, validation_data, batch_size) if validation_data is not None \
        else split
    size = train.num_examples if isinstance(train, ArrayData) else train.num_train
    steps = -(-size // batch_size) if isinstance(train, ArrayData) else train.steps_per_epoch
    return TrainingData(train, validation, num_train or size, steps)


def _array_stream(model, x, y, batch_size, sample_weight, class_weight, validation_split):
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    n = xs[0].shape[0]
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"`validation_split` must be in [0, 1); got {validation_split}")
    cut = n - int(round(n * validation_split))
    if cut <= 0:
        raise ValueError(f"`validation_split`={validation_split} leaves no training examples "
                         f"out of {n}")

    def rows(arrays, part):
        return [a[part] for a in arrays]

    # Slices of a memmap are memmaps: nothing is read here.
    head = slice(0, cut)
    weights = None if sample_weight is None else np.asarray(sample_weight)[head]
    train = ArrayStream(model, rows(xs, head), rows(ys, head), batch_size=batch_size,
                        sample_weight=weights, class_weight=class_weight)
    split = None
    if cut < n:
        split = ArrayStream(model, rows(xs, slice(cut, n)), rows(ys, slice(cut, n)),
                            batch_size=batch_size)
    return train, split
