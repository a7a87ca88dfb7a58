"""Transfer learning with layers that own their weights: Keras's recipe, then Bayesian.

Source task: digits 0-4 of scikit-learn's 8x8 digits. Target task: digits 5-9 with
only a few labelled images. The script

1. trains a deterministic feature extractor (two Dense layers) on the source task;
2. reuses those very layer objects, frozen (``trainable = False``), under a new head
   and fits the head on the target task (Keras's recipe); then unfreezes them and
   fine-tunes the whole network at a lower learning rate;
3. turns the fine-tuned network Bayesian with ``nn.to_bayesian`` (posterior means =
   the trained weights, small posterior scales) and fits it by VI;

and prints accuracy, NLL and expected calibration error after each stage, with a plot
of accuracy and a reliability diagram before and after the Bayesian step.

Needs scikit-learn (the digits ship with it) and matplotlib.

Run:  python examples/transfer_learning_digits.py [--quick]
"""

from __future__ import annotations

import numpy as np
from _common import Timer, parse_args, pyplot, save_figure
from sklearn.datasets import load_digits

from probflow import nn
from probflow.nn import metrics


def load_tasks(num_target_train: int, seed: int = 0):
    """Standardised 64-pixel rows: (source train), (target train), (target test)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target
    rng = np.random.default_rng(seed)
    source = np.flatnonzero(y < 5)
    target = rng.permutation(np.flatnonzero(y >= 5))
    train, test = target[:num_target_train], target[num_target_train:]
    return ((x[source], y[source]), (x[train], y[train] - 5), (x[test], y[test] - 5))


def scores(model, x, y, num_samples):
    probs = model.predict(x, num_samples=num_samples, seed=0)
    return {"accuracy": float(metrics.accuracy(y, probs)),
            "nll": float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1)))),
            "ece": float(metrics.expected_calibration_error(y, probs)),
            "probs": probs}


def report(stage, result):
    print(f"{stage:<34} accuracy {result['accuracy']:.3f}   NLL {result['nll']:.3f}   "
          f"ECE {result['ece']:.3f}")


def plot(results, labels, path):
    plt = pyplot()
    fig, (ax_acc, ax_rel) = plt.subplots(1, 2, figsize=(10, 4))
    names = list(results)
    ax_acc.bar(range(len(names)), [results[n]["accuracy"] for n in names], color="tab:blue")
    ax_acc.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax_acc.set(ylabel="test accuracy (digits 5-9)", ylim=(0.5, 1.0),
               title="Accuracy after each stage")
    ax_rel.plot([0, 1], [0, 1], "k--", lw=1, label="perfectly calibrated")
    for name in (names[-2], names[-1]):
        table = metrics.reliability_table(labels, results[name]["probs"], num_bins=10)
        filled = table["count"] > 0
        centres = (table["bin_lower"] + table["bin_upper"]) / 2
        ax_rel.plot(centres[filled], table["accuracy"][filled], "o-",
                    label=f"{name} (ECE {results[name]['ece']:.3f})")
    ax_rel.set(xlabel="top-class confidence", ylabel="accuracy in bin", xlim=(0, 1),
               ylim=(0, 1), title="Reliability before / after the Bayesian step")
    ax_rel.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    epochs = 3 if args.quick else 60
    num_samples = 10 if args.quick else 200
    (x_src, y_src), (x_tr, y_tr), (x_te, y_te) = load_tasks(num_target_train=150)

    # 1. A deterministic feature extractor on the source task (MAP = weight decay by
    #    the Normal(0, 1) prior; no weight uncertainty).
    features = [nn.Dense(64, activation="relu", name="features_1"),
                nn.Dense(32, activation="relu", name="features_2")]
    source = nn.Sequential([nn.Input((64,))] + features + [nn.Dense(5, name="source_head")])
    source.compile(optimizer="adam", learning_rate=3e-3, likelihood="categorical")
    with Timer("source task"):
        source.fit(x_src, y_src, epochs=epochs, batch_size=64, method="map", verbose=0)

    # 2. Keras's recipe: the same layer objects, frozen, under a new head.
    for layer in features:
        layer.trainable = False
    target = nn.Sequential([nn.Input((64,))] + features + [nn.Dense(5, name="target_head")])
    target.compile(optimizer="adam", learning_rate=3e-3, likelihood="categorical")
    target.summary()
    results = {}
    with Timer("new head on frozen features"):
        target.fit(x_tr, y_tr, epochs=epochs, batch_size=32, method="map", verbose=0)
    results["frozen features + head"] = scores(target, x_te, y_te, 1)
    report("frozen features + new head", results["frozen features + head"])

    for layer in features:
        layer.trainable = True
    target.compile(optimizer="adam", learning_rate=3e-4, likelihood="categorical")
    with Timer("fine-tune all layers"):
        target.fit(x_tr, y_tr, epochs=epochs, batch_size=32, method="map", verbose=0,
                   callbacks=[nn.callbacks.ReduceLROnPlateau(monitor="loss", patience=5)])
    results["fine-tuned (deterministic)"] = scores(target, x_te, y_te, 1)
    report("fine-tuned, deterministic", results["fine-tuned (deterministic)"])

    # 3. Deterministic -> Bayesian: start VI at the trained weights.
    bayesian = nn.to_bayesian(target, init_scale=1e-3)
    bayesian.compile(optimizer="adam", learning_rate=1e-3, likelihood="categorical")
    with Timer("VI from the trained weights"):
        bayesian.fit(x_tr, y_tr, epochs=epochs, batch_size=32, method="vi", verbose=0)
    results["Bayesian (VI from trained)"] = scores(bayesian, x_te, y_te, num_samples)
    report("Bayesian, VI from trained weights", results["Bayesian (VI from trained)"])
    plot(results, y_te, args.output / "transfer_learning.png")
    return results


if __name__ == "__main__":
    main()
