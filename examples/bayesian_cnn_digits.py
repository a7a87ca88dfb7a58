"""A Bayesian CNN with Keras habits: Conv2DFlipout on scikit-learn's 8x8 digits.

`nn.Sequential` of Flipout convolutions and a Flipout dense head, `compile` /
`fit` / `evaluate` / `predict` as in Keras, trained by Bayes by backprop (VI). The
script prints the layer summary, the test accuracy, NLL and expected calibration error
of the posterior predictive (averaged over weight draws), the most uncertain test
images, and writes a reliability diagram (confidence vs accuracy per bin).

Needs scikit-learn (the digits data ship with it) and matplotlib.

Run:  python examples/bayesian_cnn_digits.py [--quick]
"""

from __future__ import annotations

import numpy as np
from _common import parse_args, pyplot, save_figure
from sklearn.datasets import load_digits

from probflow import nn
from probflow.nn import metrics


def load_split(seed: int = 0, num_test: int = 360):
    """Images scaled to [0, 1] with a channel axis, split into train and test."""
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., None]  # (1797, 8, 8, 1)
    order = np.random.default_rng(seed).permutation(len(digits.target))
    test, train = order[:num_test], order[num_test:]
    return (images[train], digits.target[train]), (images[test], digits.target[test])


def build_model():
    return nn.Sequential([
        nn.Input((8, 8, 1)),
        nn.Conv2DFlipout(16, 3, padding="same", activation="relu"),
        nn.MaxPooling2D(2),
        nn.Conv2DFlipout(32, 3, padding="same", activation="relu"),
        nn.MaxPooling2D(2),
        nn.Flatten(),
        nn.DenseFlipout(10),
    ])


def plot_reliability(labels, probs, path):
    table = metrics.reliability_table(labels, probs, num_bins=10)
    plt = pyplot()
    fig, (ax, ax_count) = plt.subplots(2, 1, figsize=(5, 6), sharex=True,
                                       gridspec_kw={"height_ratios": [3, 1]})
    centres = (table["bin_lower"] + table["bin_upper"]) / 2
    filled = table["count"] > 0
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfectly calibrated")
    ax.bar(centres[filled], table["accuracy"][filled], width=0.1, edgecolor="k", alpha=0.7,
           label="accuracy in bin")
    ax.plot(centres[filled], table["confidence"][filled], "ro", ms=4, label="mean confidence")
    ax.set(ylabel="accuracy", title="Reliability diagram (test digits)", ylim=(0, 1))
    ax.legend(fontsize=8, loc="upper left")
    ax_count.bar(centres, table["count"], width=0.1, edgecolor="k")
    ax_count.set(xlabel="top-class confidence", ylabel="images", xlim=(0, 1))
    return save_figure(fig, path)


def main(argv=None):
    args = parse_args("Bayesian CNN (Conv2DFlipout) on scikit-learn digits", argv)
    epochs, num_samples = (2, 8) if args.quick else (30, 50)
    (x_train, y_train), (x_test, y_test) = load_split()

    model = build_model()
    model.compile(optimizer="adam", learning_rate=5e-3, likelihood="categorical",
                  metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, validation_data=(x_test, y_test),
              seed=0, verbose=0 if args.quick else 2)

    probs = np.asarray(model.predict(x_test, num_samples=num_samples, seed=1))
    accuracy = float(metrics.accuracy(y_test, probs))
    ece = float(metrics.expected_calibration_error(y_test, probs))
    nll = -np.mean(np.log(probs[np.arange(len(y_test)), y_test] + 1e-12))
    print(f"\ntest accuracy {accuracy:.3f}   NLL {nll:.3f}   ECE {ece:.3f} "
          f"({num_samples} weight draws, {len(y_test)} test images)")

    # Predictive entropy: the images the posterior is least sure about.
    entropy = -np.sum(probs * np.log(probs + 1e-12), axis=1)
    worst = np.argsort(entropy)[-5:][::-1]
    print("most uncertain test images (label: top-2 classes with probability):")
    for i in worst:
        top = np.argsort(probs[i])[-2:][::-1]
        print(f"  label {y_test[i]}: " + ", ".join(f"{c} ({probs[i, c]:.2f})" for c in top))

    plot_reliability(y_test, probs, args.output / "digits_reliability.png")


if __name__ == "__main__":
    main()
