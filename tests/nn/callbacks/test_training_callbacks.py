"""EarlyStopping, ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, KLAnnealing,
LambdaCallback and CSVLogger, each on real fits of one shared compiled model.

A `Script` callback placed first writes a scripted value into the epoch logs (the logs
dict is shared by all callbacks), so the expected stopping / saving / reduction epochs
are worked out by hand, and it snapshots the weights at every epoch end.
"""

import csv
import os

import jax
import numpy as np
import optax
import pytest

from probflow import nn
from probflow.nn.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    KLAnnealing,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from probflow.nn.callbacks.early_stopping import monitor_better
from probflow.nn.training.state import get_learning_rate

RNG = np.random.default_rng(4)
N, BATCH = 24, 8
X = RNG.normal(size=(N, 2)).astype("float32")
Y = (X.sum(1) + 0.1 * RNG.normal(size=N)).astype("float32")
VAL = (X[:8], Y[:8])


@pytest.fixture(scope="module")
def model():
    """One compiled model; each fit continues its training (the tests compare within a fit)."""
    m = nn.Sequential([nn.Input((2,)), nn.DenseReparameterization(4, activation="tanh"),
                       nn.Dense(1)])
    m.compile(optimizer="sgd", likelihood="normal", learning_rate=0.05)
    return m


class Script(Callback):
    """Writes ``logs["score"] = scores[epoch]``; records LR, beta and weights per epoch."""

    def __init__(self, scores=None):
        super().__init__()
        self.scores = scores
        self.weights, self.lr_begin, self.beta_begin = [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        # Runs after the schedulers listed before it; reads the optimizer state itself.
        self.lr_begin.append(float(get_learning_rate(self.model.train_state.opt_state)))
        self.beta_begin.append(float(self.model.train_state.kl_weight))

    def on_epoch_end(self, epoch, logs=None):
        if self.scores is not None:
            logs["score"] = self.scores[epoch]
        state = self.model.train_state
        self.weights.append((state.params, state.layer_state))


class Logs(Callback):
    """Placed last: the epoch logs as every other callback left them."""

    def __init__(self):
        super().__init__()
        self.logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))

    def __getitem__(self, name):
        return [logs[name] for logs in self.logs]


def _fit(model, callbacks, epochs, **kwargs):
    return model.fit(X, Y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=callbacks,
                     seed=0, **kwargs)


def _assert_tree_equal(a, b):
    for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def test_monitor_modes():
    assert monitor_better("auto", "val_accuracy")(0.9, 0.8, 0.05)
    assert not monitor_better("auto", "val_accuracy")(0.84, 0.8, 0.05)
    assert monitor_better("auto", "val_loss")(0.7, 0.8, 0.05)
    assert not monitor_better("min", "x")(0.76, 0.8, 0.05)
    with pytest.raises(ValueError, match="`mode` must be"):
        monitor_better("up", "loss")


def test_early_stopping_stops_at_the_right_epoch_and_restores_best(model):
    # best 5 (e0) -> 4 (e1); 4.5 waits 1; 3.0 best (e3); 2.95 is within min_delta: waits 1;
    # 3.1 waits 2 = patience: stop after epoch 5; best epoch 3.
    script = Script([5.0, 4.0, 4.5, 3.0, 2.95, 3.1, 1.0, 1.0])
    stopper = EarlyStopping("score", min_delta=0.1, patience=2, restore_best_weights=True)
    history = _fit(model, [script, stopper], epochs=8)
    assert history.epoch == [0, 1, 2, 3, 4, 5]
    assert (stopper.stopped_epoch, stopper.best_epoch, stopper.best) == (5, 3, 3.0)
    params, layer_state = script.weights[3]
    _assert_tree_equal(model.params, params)
    _assert_tree_equal(model.layer_state, layer_state)
    with pytest.raises(AssertionError):  # the last epoch's weights differ from the best
        _assert_tree_equal(model.params, script.weights[5][0])


def test_early_stopping_baseline_and_missing_monitor(model):
    script = Script([2.0, 1.5, 1.2, 1.1])
    stopper = EarlyStopping("score", patience=1, baseline=1.0)  # never beaten
    history = _fit(model, [script, stopper], epochs=4)
    assert stopper.stopped_epoch == 1 and history.epoch == [0, 1]
    with pytest.warns(UserWarning, match="'nope' is not in the logs"):
        history = _fit(model, [EarlyStopping("nope")], epochs=2)
    assert history.epoch == [0, 1]


def test_model_checkpoint_names_and_best_only(model, tmp_path):
    template = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.probflow")
    checkpoint = ModelCheckpoint(template)
    script = Script()
    history = _fit(model, [script, checkpoint], epochs=3, validation_data=VAL)
    expected = [f"ckpt-{e + 1:02d}-{v:.3f}.probflow"
                for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path)) == expected
    loaded = nn.load_model(tmp_path / expected[1])
    _assert_tree_equal(loaded.params, script.weights[1][0])

    best_dir = tmp_path / "best"
    script = Script([3.0, 2.0, 2.5, 1.0])
    best = ModelCheckpoint(str(best_dir / "w-{epoch}.probflow"), monitor="score",
                           save_best_only=True, save_weights_only=True)
    _fit(model, [script, best], epochs=4)
    assert sorted(os.listdir(best_dir)) == ["w-1.probflow", "w-2.probflow", "w-4.probflow"]
    model.load_weights(best_dir / "w-2.probflow")
    _assert_tree_equal(model.params["layers"], script.weights[1][0]["layers"])
    with pytest.raises(ValueError, match="'probflow.model' archive"):
        nn.load_model(best_dir / "w-2.probflow")


def test_model_checkpoint_bad_template(model, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "{epoch}-{missing}.probflow"))
    with pytest.raises(ValueError, match="cannot be filled.*missing"):
        _fit(model, [checkpoint], epochs=1)


def test_lr_schedule_is_applied_through_the_optimizer_state(model):
    rates = [0.05, 0.0, 0.02]
    script, logs = Script(), Logs()
    history = _fit(model, [LearningRateScheduler(lambda epoch, lr: rates[epoch]), script, logs],
                   epochs=3)
    np.testing.assert_array_equal(script.lr_begin, np.float32(rates))
    np.testing.assert_array_equal(logs["learning_rate"], np.float32(rates))
    np.testing.assert_array_equal(history.history["learning_rate"], np.float32(rates))
    # A zero learning rate leaves SGD's weights exactly unchanged for that epoch.
    _assert_tree_equal(script.weights[1][0], script.weights[0][0])
    with pytest.raises(AssertionError):
        _assert_tree_equal(script.weights[2][0], script.weights[1][0])

    script = Script()
    _fit(model, [LearningRateScheduler(optax.exponential_decay(0.1, 1, 0.5)), script],
         epochs=3)
    np.testing.assert_allclose(script.lr_begin, [0.1, 0.05, 0.025], rtol=1e-6)


def test_lr_schedule_needs_injected_rate():
    m = nn.Sequential([nn.Input((2,)), nn.Dense(1)])
    m.compile(optimizer=optax.sgd(0.1), likelihood="normal")
    with pytest.raises(ValueError, match="inject_hyperparams"):
        m.fit(X, Y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e: 0.1)])


def test_reduce_lr_on_plateau_with_cooldown_and_floor(model):
    model.learning_rate = 0.1
    # Never improves; patience 1, cooldown 2, factor 0.5, floor 0.02 (worked by hand):
    # reductions after epochs 1, 3 and 5 (0.1 -> 0.05 -> 0.025 -> 0.02), none after 7.
    script = Script([1.0] * 8)
    reducer = ReduceLROnPlateau("score", factor=0.5, patience=1, cooldown=2, min_lr=0.02)
    logs = Logs()
    _fit(model, [script, reducer, logs], epochs=8)
    expected_begin = np.float32([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02])
    np.testing.assert_allclose(script.lr_begin, expected_begin, rtol=1e-6)
    # The logged rate is the one the epoch ran with (before that epoch's reduction).
    np.testing.assert_allclose(logs["learning_rate"], expected_begin, rtol=1e-6)
    np.testing.assert_allclose(model.learning_rate, 0.02, rtol=1e-6)


def test_kl_annealing_sets_beta_in_the_train_state(model):
    script, logs = Script(), Logs()
    history = _fit(model, [KLAnnealing("linear", warmup_epochs=4), script, logs], epochs=5)
    assert script.beta_begin == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert logs["kl_weight"] == history.history["kl_weight"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    script = Script()
    _fit(model, [KLAnnealing("cyclical", cycle_epochs=2, ratio=1.0, start=0.2), script],
         epochs=4)
    np.testing.assert_allclose(script.beta_begin, [0.2, 0.6, 0.2, 0.6], rtol=1e-6)
    with pytest.raises(ValueError, match="`schedule` must be"):
        KLAnnealing("cosine")


def test_lambda_callback_hooks(model):
    epoch_only = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    assert not CallbackList([epoch_only]).has_batch_hooks
    batches, ends = [], []
    cb = LambdaCallback(on_batch_end=lambda batch, logs: batches.append(logs["size"]),
                        on_train_end=lambda logs: ends.append(logs["loss"]), on_epoch_begin=None)
    assert CallbackList([cb]).has_batch_hooks
    history = _fit(model, [cb], epochs=2)
    assert batches == [BATCH] * 6 and ends == [history.history["loss"][-1]]
    with pytest.raises(TypeError, match="unknown hook 'on_step'"):
        LambdaCallback(on_step=print)


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_rows_match_history_and_append(model, tmp_path):
    path = tmp_path / "log.csv"
    history = _fit(model, [CSVLogger(path)], epochs=3, validation_data=VAL)
    rows = _read_csv(path)
    keys = sorted(history.history)
    assert rows[0] == ["epoch"] + keys and len(rows) == 4
    for epoch, row in enumerate(rows[1:]):
        assert int(row[0]) == epoch
        assert [float(v) for v in row[1:]] == [history.history[k][epoch] for k in keys]
    more = _fit(model, [CSVLogger(path, append=True)], epochs=2, validation_data=VAL)
    rows = _read_csv(path)
    assert len(rows) == 6 and rows.count(rows[0]) == 1
    assert [float(v) for v in rows[-1][1:]] == [more.history[k][-1] for k in keys]
    _fit(model, [CSVLogger(path)], epochs=1)  # overwrite, without validation columns
    rows = _read_csv(path)
    assert len(rows) == 2 and "val_loss" not in rows[0]
