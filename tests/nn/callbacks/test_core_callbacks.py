"""Core callbacks: hook order and counts, fused-scan vs batch-loop paths, stopping,
History, TerminateOnNaN, Ctrl-C."""

import io

import jax
import numpy as np
import pytest

from probflow import distributions as dist
from probflow import nn
from probflow.nn.callbacks import (
    Callback,
    CallbackList,
    History,
    ProgressBar,
    TerminateOnNaN,
    overrides_hook,
)
from probflow.nn.training.fitters import get_fitter

RNG = np.random.default_rng(2)
N, BATCH = 30, 8  # 4 batches per epoch, the last one partial (6 examples)
X = RNG.normal(size=(N, 2)).astype("float32")
Y = (X.sum(1) + 0.1 * RNG.normal(size=N)).astype("float32")


@pytest.fixture(scope="module")
def model():
    """One compiled model shared by the tests (each fit continues its training)."""
    m = nn.Sequential([nn.DenseReparameterization(4, activation="tanh"), nn.Dense(1)])
    m.compile(optimizer="adam", likelihood="normal", learning_rate=0.01)
    return m


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.events = []
        self.batch_logs = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.events.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch))
        self.batch_logs.append(logs)


class EpochRecorder(Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((epoch, dict(logs)))


def test_overrides_detection():
    class Lambda(Callback):
        pass

    cb = Lambda()
    assert not overrides_hook(cb, "on_batch_end")
    cb.on_batch_end = lambda batch, logs=None: None
    assert overrides_hook(cb, "on_batch_end")
    assert CallbackList([cb]).has_batch_hooks
    assert not CallbackList([History(), EpochRecorder(), TerminateOnNaN()]).has_batch_hooks
    with pytest.raises(TypeError, match="Callback instances"):
        CallbackList([object()])


def test_hook_order_and_counts(model):
    rec = Recorder()
    model.fit(X, Y, epochs=2, batch_size=BATCH, callbacks=[rec], verbose=0)
    expected = [("train_begin",)]
    for epoch in range(2):
        expected.append(("epoch_begin", epoch))
        for b in range(4):
            expected += [("batch_begin", b), ("batch_end", b)]
        expected.append(("epoch_end", epoch))
    expected.append(("train_end",))
    assert rec.events == expected
    assert [logs["size"] for logs in rec.batch_logs[:4]] == [8, 8, 8, 6]


def test_scan_path_without_batch_hooks(model):
    programs = get_fitter("vi").programs(model)
    epochs_before, steps_before = programs.epoch_calls, programs.step_calls
    model.fit(X, Y, epochs=3, batch_size=BATCH, callbacks=[EpochRecorder()], verbose=0)
    assert programs.epoch_calls - epochs_before == 3
    assert programs.step_calls == steps_before
    model.fit(X, Y, epochs=2, batch_size=BATCH, callbacks=[Recorder()], verbose=0)
    assert programs.epoch_calls - epochs_before == 3
    assert programs.step_calls - steps_before == 2 * 4


def test_history_matches_losses_on_both_paths(model):
    state = model.train_state
    rec = Recorder()
    looped = model.fit(X, Y, epochs=2, batch_size=BATCH, callbacks=[rec], verbose=0, seed=5)
    # Every example counts once: the epoch loss is the size-weighted mean of batch losses.
    sizes = np.array([logs["size"] for logs in rec.batch_logs[:4]])
    losses = np.array([logs["loss"] for logs in rec.batch_logs[:4]])
    assert looped.history["loss"][0] == pytest.approx(np.sum(sizes * losses) / N, rel=1e-6)
    looped_params = model.params
    model.train_state = state  # same start, same seed: the fused scan does the same maths
    fused = model.fit(X, Y, epochs=2, batch_size=BATCH, verbose=0, seed=5)
    np.testing.assert_allclose(fused.history["loss"], looped.history["loss"], rtol=1e-5)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
                           looped_params, model.params)
    assert fused.epoch == [0, 1] and model.history is fused


class StopAt(Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.stop_training = True


class StopAtBatch(Callback):
    def on_batch_end(self, batch, logs=None):
        if batch == 1:
            self.model.stop_training = True


def test_stop_training_is_respected(model):
    history = model.fit(X, Y, epochs=10, batch_size=BATCH, callbacks=[StopAt(epoch=2)],
                        verbose=0)
    assert history.epoch == [0, 1, 2]
    step = int(model.train_state.step)
    history = model.fit(X, Y, epochs=10, batch_size=BATCH, callbacks=[StopAtBatch()], verbose=0)
    assert history.epoch == [0] and int(model.train_state.step) == step + 2


def test_terminate_on_nan_stops():
    m = nn.Sequential([nn.Dense(1)])
    # A negative scale makes every log-likelihood NaN.
    m.compile(likelihood=lambda out: dist.Normal(out, -1.0))
    cb = TerminateOnNaN()
    history = m.fit(X, Y, epochs=5, batch_size=BATCH, callbacks=[cb], verbose=0)
    assert cb.stopped_epoch == 0 and len(history.history["loss"]) == 1
    assert np.isnan(history.history["loss"][0])


class Interrupt(Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_keyboard_interrupt_keeps_weights_and_history(model, capsys):
    ended = EpochRecorder()
    history = model.fit(X, Y, epochs=5, batch_size=BATCH, callbacks=[Interrupt(), ended],
                        verbose=0)
    assert history.epoch == [0, 1] and model.stop_training
    assert int(model.train_state.epoch) >= 2
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(model.params))
    assert "interrupted" in capsys.readouterr().out


def test_progress_bar_modes(model):
    out = io.StringIO()
    bar = ProgressBar(mode="line", file=out)
    model.fit(X, Y, epochs=2, batch_size=BATCH, callbacks=[bar], verbose=0)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("Epoch 1/2 - loss: ") and len(lines) == 2
    err = io.StringIO()
    bar = ProgressBar(mode="bar", file=err)
    model.fit(X, Y, epochs=2, batch_size=BATCH, callbacks=[bar], verbose=0)
    assert "2/2" in err.getvalue() and "loss" in err.getvalue()
    with pytest.raises(ValueError, match="mode"):
        ProgressBar(mode="dots")


def test_predict_hooks(model):
    class PredictRecorder(Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_predict_begin(self, logs=None):
            self.events.append("begin")

        def on_predict_end(self, logs=None):
            self.events.append("end")

    rec = PredictRecorder()
    model.fit(X, Y, epochs=1, batch_size=BATCH, verbose=0)
    model.predict(X[:3], num_samples=2, callbacks=[rec])
    assert rec.events == ["begin", "end"]
