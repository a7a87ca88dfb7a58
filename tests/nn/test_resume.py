"""BackupAndRestore: a run killed with SIGKILL mid-epoch (a real subprocess) and run
again ends with exactly the weights and History of an uninterrupted run; Ctrl-C keeps
the backup and resuming in-process is exact too."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from probflow import nn
from probflow.nn.callbacks import BackupAndRestore, Callback, KLAnnealing
from probflow.nn.saving.train_state_io import pack_train_state

SCRIPT = textwrap.dedent('''
    import json, os, signal, sys
    import numpy as np
    from probflow import nn
    from probflow.nn.callbacks import (BackupAndRestore, Callback, KLAnnealing,
                                       LearningRateScheduler)
    from probflow.nn.saving.train_state_io import pack_train_state

    out, backup_dir, marker, kill_epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.normal(size=40)).astype("float32")

    class KillOnce(Callback):
        """SIGKILLs the process after batch 1 of `kill_epoch`, on the first run only."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_batch_end(self, batch, logs=None):
            if self.epoch == kill_epoch and batch == 1 and not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)

    model = nn.Sequential([nn.DenseReparameterization(8, activation="tanh"),
                           nn.BatchNormalization(), nn.Dropout(0.1), nn.Dense(1)])
    model.compile(optimizer="adam", likelihood="normal", learning_rate=0.02)
    backup = BackupAndRestore(backup_dir)
    history = model.fit(
        x, y, epochs=5, batch_size=16, validation_split=0.2, seed=3, verbose=0,
        callbacks=[KillOnce(), KLAnnealing("linear", warmup_epochs=3),
                   LearningRateScheduler(lambda epoch: 0.02 / (1 + epoch)), backup])
    arrays, _ = pack_train_state(model.train_state)
    np.savez(out + ".npz", **arrays)
    with open(out + ".json", "w") as f:
        json.dump({"history": history.history, "epochs": history.epoch,
                   "restored_epoch": backup.restored_epoch,
                   "backup_left": backup.has_backup()}, f)
''')


def _run(script, *args):
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


def _load(prefix):
    with np.load(str(prefix) + ".npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    with open(str(prefix) + ".json") as f:
        return arrays, json.load(f)


def test_sigkill_mid_epoch_then_rerun_matches_uninterrupted(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    backup_dir, marker = tmp_path / "backup", tmp_path / "killed"

    first = _run(script, tmp_path / "resumed", backup_dir, marker, 2)
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    assert marker.exists() and (backup_dir / "backup.probflow").exists()
    assert not (tmp_path / "resumed.npz").exists()

    second = _run(script, tmp_path / "resumed", backup_dir, marker, 2)
    assert second.returncode == 0, second.stderr[-2000:]
    plain = _run(script, tmp_path / "plain", tmp_path / "backup_plain", marker, -1)
    assert plain.returncode == 0, plain.stderr[-2000:]

    resumed_arrays, resumed = _load(tmp_path / "resumed")
    plain_arrays, uninterrupted = _load(tmp_path / "plain")
    assert resumed["restored_epoch"] == 2  # epochs 0 and 1 were backed up, 2 was lost
    assert uninterrupted["restored_epoch"] is None
    assert not resumed["backup_left"] and not backup_dir.exists()
    assert resumed["epochs"] == uninterrupted["epochs"] == [0, 1, 2, 3, 4]
    assert resumed["history"] == uninterrupted["history"]
    # History runs last, so it keeps what the schedulers log, across the restart too.
    np.testing.assert_allclose(resumed["history"]["learning_rate"],
                               [0.02 / (1 + e) for e in range(5)], rtol=1e-6)
    np.testing.assert_allclose(resumed["history"]["kl_weight"], [0, 1 / 3, 2 / 3, 1, 1],
                               rtol=1e-6)
    assert sorted(resumed_arrays) == sorted(plain_arrays)
    for name in plain_arrays:  # params, optimizer moments, RNG key, counters, KL weight
        np.testing.assert_array_equal(resumed_arrays[name], plain_arrays[name], err_msg=name)
    assert int(resumed_arrays["train_state/epoch"]) == 5


RNG = np.random.default_rng(1)
X = RNG.normal(size=(24, 2)).astype("float32")
Y = (X.sum(1) + 0.1 * RNG.normal(size=24)).astype("float32")


def _model():
    model = nn.Sequential([nn.Input((2,)), nn.DenseFlipout(4, activation="tanh", name="hidden"),
                           nn.Dense(1, name="out")])
    model.compile(optimizer="adam", likelihood="normal", learning_rate=0.05)
    return model


class CtrlC(Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.epoch = None
            raise KeyboardInterrupt


def _fit(model, backup_dir, *extra):
    return model.fit(X, Y, epochs=4, batch_size=8, seed=2, verbose=0,
                     callbacks=[*extra, KLAnnealing("linear", warmup_epochs=2),
                                BackupAndRestore(backup_dir)])


def test_ctrl_c_keeps_backup_and_resume_is_exact(tmp_path, capsys):
    model = _model()
    history = _fit(model, tmp_path / "b", CtrlC(2))
    assert "interrupted" in capsys.readouterr().out
    assert history.epoch == [0, 1] and int(model.train_state.epoch) == 2
    assert (tmp_path / "b" / "backup.probflow").exists()
    history = _fit(model, tmp_path / "b")
    assert history.epoch == [0, 1, 2, 3]
    assert not (tmp_path / "b").exists()

    reference = _model()
    ref_history = _fit(reference, tmp_path / "ref")
    assert history.history == ref_history.history
    got, _ = pack_train_state(model.train_state)
    want, _ = pack_train_state(reference.train_state)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_backup_of_another_model_is_refused(tmp_path):
    model = _model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[CtrlC(1), BackupAndRestore(tmp_path)])
    other = nn.Sequential([nn.Input((2,)), nn.Dense(3, name="hidden"), nn.Dense(1, name="out")])
    other.compile(likelihood="normal")
    with pytest.raises(ValueError, match="layer 'hidden' weight .*different model.*delete"):
        other.fit(X, Y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
    assert jax.tree_util.tree_leaves(other.params)  # the model itself is untouched
