"""Training with callbacks, checkpoints, and resuming: the Keras workflow, Bayesian.

A Bayesian MLP classifies two interleaved moons (noisy, generated here with numpy) by
VI. The fit is steered by callbacks that run in Python between compiled epochs:

* `KLAnnealing` warms the KL weight up from 0 (avoids early posterior collapse);
* `ReduceLROnPlateau` and `EarlyStopping(restore_best_weights=True)` watch
  ``val_nll`` (not ``val_loss``: while the KL weight anneals, the loss of the first
  epochs is not comparable with the later ones);
* `ModelCheckpoint(save_best_only=True)` writes the best model to one archive;
* `CSVLogger` keeps every epoch's logs;
* `BackupAndRestore` makes the fit resumable: the script "crashes" the first fit on
  purpose half-way (a callback raising), then calls `fit` again with the same backup
  folder and the run picks up at the epoch it reached.

Finally the best checkpoint is loaded with `nn.load_model` (JSON config + arrays in a
zip; no pickle, no code from the file) and gives the same predictions as the model it
was saved from. Writes the learning curves as a PNG.

Run:  python examples/callbacks_and_checkpoints.py [--quick]
"""

from __future__ import annotations

import csv

import numpy as np
from _common import parse_args, pyplot, save_figure

from probflow import nn
from probflow.nn import callbacks


def moons(num_examples: int, *, noise: float = 0.2, seed: int = 0):
    """Two interleaved half circles with Gaussian noise; labels 0 / 1."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.0, np.pi, num_examples)
    label = rng.integers(0, 2, num_examples)
    x = np.where(label == 0, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], 1) + noise * rng.standard_normal((num_examples, 2))
    return points.astype(np.float32), label.astype(np.int32)


class Crash(RuntimeError):
    """What `SimulatedCrash` raises."""


class SimulatedCrash(callbacks.Callback):
    """Raises `Crash` at the end of epoch `epoch` (0-based), as a killed job would stop."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Crash(f"simulated crash after epoch {epoch}")


def build_model():
    # Fixed layer names: a backup is matched to the model by name, and automatic names
    # count up within one process (here we build the model twice).
    model = nn.Sequential([
        nn.Input((2,)),
        nn.DenseFlipout(32, activation="relu", name="hidden_1"),
        nn.DenseFlipout(32, activation="relu", name="hidden_2"),
        nn.DenseFlipout(2, name="logits"),
    ])
    model.compile(optimizer="adam", learning_rate=1e-2, likelihood="categorical",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    args = parse_args("Callbacks, checkpoints and resuming a Bayesian network's training", argv)
    epochs, num_train = (6, 256) if args.quick else (150, 1000)
    x, y = moons(num_train, seed=0)
    x_val, y_val = moons(500, seed=1)
    out = args.output
    best_path = out / "moons_best.probflow"
    log_path = out / "moons_training.csv"
    backup_dir = out / "moons_backup"

    def training_callbacks():
        return [
            callbacks.KLAnnealing("linear", warmup_epochs=max(1, epochs // 10)),
            callbacks.ReduceLROnPlateau(monitor="val_nll", factor=0.5, patience=10),
            callbacks.EarlyStopping(monitor="val_nll", patience=25, restore_best_weights=True),
            callbacks.ModelCheckpoint(best_path, monitor="val_nll", save_best_only=True),
            callbacks.CSVLogger(log_path, append=True),
            # Last, so that its backup includes what the callbacks before it changed.
            callbacks.BackupAndRestore(backup_dir),
        ]

    model = build_model()
    crash_at = epochs // 2
    try:
        model.fit(x, y, epochs=epochs, batch_size=64, validation_data=(x_val, y_val),
                  callbacks=[SimulatedCrash(crash_at)] + training_callbacks(), seed=0,
                  verbose=0)
    except Crash as crash:
        print(f"first fit stopped: {crash}")

    # A fresh process would rebuild the model the same way and call fit again.
    model = build_model()
    resumable = training_callbacks()
    history = model.fit(x, y, epochs=epochs, batch_size=64, validation_data=(x_val, y_val),
                        callbacks=resumable, seed=0, verbose=0)
    print(f"second fit resumed at epoch {resumable[-1].restored_epoch}; the history now "
          f"holds epochs {history.epoch[0]}..{history.epoch[-1]}")

    with open(log_path) as f:
        rows = list(csv.DictReader(f))
    best = min(rows, key=lambda row: float(row["val_nll"]))
    print(f"{len(rows)} epochs logged to {log_path}; best val_nll {float(best['val_nll']):.4f}"
          f" at epoch {best['epoch']} (val_accuracy {float(best['val_accuracy']):.3f})")

    restored = nn.load_model(best_path)
    same = np.allclose(restored.predict(x_val, num_samples=20, seed=3),
                       model.predict(x_val, num_samples=20, seed=3), atol=1e-5)
    scores = restored.evaluate(x_val, y_val, num_samples=50)
    print(f"loaded {best_path.name}: val accuracy {scores['accuracy']:.3f}; "
          f"predictions identical to the trained model's: {same}")

    plt = pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    epoch_index = [int(row["epoch"]) for row in rows]
    for key, ax in (("nll", ax_loss), ("accuracy", ax_acc)):
        for prefix in ("", "val_"):
            if prefix + key in rows[0]:
                ax.plot(epoch_index, [float(row[prefix + key]) for row in rows],
                        label=prefix + key)
        ax.axvline(crash_at, color="r", ls=":", lw=1, label="simulated crash")
        ax.set(xlabel="epoch", title=key)
        ax.legend(fontsize=8)
    save_figure(fig, out / "moons_training.png")


if __name__ == "__main__":
    main()
