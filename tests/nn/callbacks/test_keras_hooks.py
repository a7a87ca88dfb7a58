"""Keras hook names: on_train_batch_* as aliases of on_batch_*, on_test_* around each
epoch's validation, predict / test batch dispatch, unknown-hook warnings, LambdaCallback."""

import warnings

import numpy as np
import pytest

from probflow import nn
from probflow.nn.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LambdaCallback,
    ProgressBar,
    TerminateOnNaN,
)
from probflow.nn.callbacks.base import _HOOKS

RNG = np.random.default_rng(5)
N, BATCH = 20, 8  # 3 batches per epoch
X = RNG.normal(size=(N, 2)).astype("float32")
Y = (X.sum(1) + 0.1 * RNG.normal(size=N)).astype("float32")


@pytest.fixture(scope="module")
def model():
    m = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
    m.compile(optimizer="sgd", likelihood="normal", learning_rate=0.01)
    return m


class Events(Callback):
    """Records the event sequence; subclasses pick which batch hook they override."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append("epoch_begin")

    def on_epoch_end(self, epoch, logs=None):
        self.events.append("epoch_end")

    def on_test_begin(self, logs=None):
        self.events.append("test_begin")

    def on_test_end(self, logs=None):
        self.events.append(("test_end", sorted(logs)))


class KerasBatchNames(Events):
    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("train_batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("train_batch_end", batch, sorted(logs)))


class OldBatchNames(Events):
    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch))


class BothNames(Events):
    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("train_batch_end", batch))


def test_keras_batch_names_are_called_and_take_the_batch_loop(model):
    cb = KerasBatchNames()
    assert CallbackList([cb]).has_batch_hooks
    model.fit(X, Y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[cb])
    ends = [e for e in cb.events if e[0] == "train_batch_end"]
    assert [e[1] for e in ends] == [0, 1, 2, 0, 1, 2]
    assert "loss" in ends[0][2]
    assert sum(e[0] == "train_batch_begin" for e in cb.events) == 6


def test_old_and_new_names_are_one_event(model):
    old, both = OldBatchNames(), BothNames()
    model.fit(X, Y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[old, both])
    assert [e for e in old.events if e[0] == "batch_end"] == [("batch_end", b) for b in range(3)]
    # Keras: overriding on_train_batch_end replaces the alias for that callback.
    assert [e[0] for e in both.events if isinstance(e, tuple)] == ["train_batch_end"] * 3


def test_direct_call_of_the_keras_name_forwards_to_the_alias():
    cb = OldBatchNames()
    cb.on_train_batch_end(7, {})
    assert cb.events == [("batch_end", 7)]


def test_epoch_only_callbacks_keep_the_fused_epoch():
    assert not CallbackList([Events(), History(), EarlyStopping()]).has_batch_hooks


def test_test_hooks_wrap_each_validation_pass(model):
    cb = Events()
    model.fit(X, Y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[cb],
              validation_data=(X[:6], Y[:6]))
    test_end = [e for e in cb.events if isinstance(e, tuple)][0]
    assert "loss" in test_end[1] and not any(k.startswith("val_") for k in test_end[1])
    assert [e if isinstance(e, str) else e[0] for e in cb.events] == [
        "epoch_begin", "test_begin", "test_end", "epoch_end"] * 2
    plain = Events()
    model.fit(X, Y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[plain])
    assert plain.events == ["epoch_begin", "epoch_end"]  # no validation, no test events


def test_test_and_predict_batch_dispatch():
    seen = []
    cb = LambdaCallback(**{hook: (lambda *args, h=hook: seen.append(h)) for hook in _HOOKS})
    cbs = CallbackList([cb])
    assert cbs.has_batch_hooks and cbs.has_test_batch_hooks and cbs.has_predict_batch_hooks
    for hook in ("on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
                 "on_predict_batch_end", "on_train_batch_end", "on_batch_end"):
        getattr(cbs, hook)(0, {})
    cbs.on_test_begin()
    cbs.on_test_end({})
    assert seen == ["on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
                    "on_predict_batch_end", "on_train_batch_end", "on_train_batch_end",
                    "on_test_begin", "on_test_end"]
    quiet = CallbackList([Events()])
    assert not quiet.has_test_batch_hooks and not quiet.has_predict_batch_hooks


def test_lambda_callback_batch_alias_and_unknown_name(model):
    batches = []
    cb = LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))
    assert CallbackList([cb]).has_batch_hooks
    model.fit(X, Y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[cb])
    assert batches == [0, 1, 2]
    with pytest.raises(TypeError, match="on_epoch_ends.*on_train_batch_end"):
        LambdaCallback(on_epoch_ends=print)


def test_unknown_on_method_warns_naming_it():
    class Typo(Callback):
        def on_epoch_ends(self, epoch, logs=None):
            pass

        def on_validation_end(self, logs=None):
            pass

    with pytest.warns(UserWarning, match=r"Typo defines \['on_epoch_ends', 'on_validation_end'\]"
                                         r".*on_train_batch_end"):
        CallbackList([Typo()])


def test_shipped_callbacks_raise_no_hook_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CallbackList([Events(), KerasBatchNames(), History(), EarlyStopping(), TerminateOnNaN(),
                      ProgressBar(), LambdaCallback(on_test_end=print),
                      nn.callbacks.CSVLogger(str(tmp_path / "log.csv")),
                      nn.callbacks.ReduceLROnPlateau(), nn.callbacks.KLAnnealing()])
