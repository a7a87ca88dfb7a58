"""Epoch time of `Model.fit` vs a hand-written jax + optax loop with the same maths.

Both train a DenseFlipout MLP 32-256-256-1 with a homoscedastic Normal likelihood on
50k synthetic rows, batch 256, Adam(1e-3), loss = mean NLL + KL / N (analytic KL to a
Normal(0, 1) prior), each epoch one jitted `lax.scan` over shuffled, masked batches.
Prints the median of the warm epochs (the first epoch of each run compiles) and the ratio.

The same `Model.fit` is also timed on the same data streamed from the host (issue 16):
a Python generator of shuffled ``(x, y)`` batches and, when `grain` is installed, a
Grain ``MapDataset`` of row indices shuffled and batched by Grain, gathered by a `.map`;
probflow reads, checks and puts each batch on the device on a background thread, two
ahead of the jitted steps. Rounds alternate the paths, so background load hits them
alike; the ratios are of the medians. The hand loop's parameters are strongly typed
float32: weak-typed leaves (from Python floats) turned strong after one epoch's update,
and each new input signature recompiled its epoch (three times in four epochs; that,
not the loop, made it look ~9-13x slower than probflow).

Run: python benchmarks/train.py [--rows 50000] [--epochs 6] [--repeats 2] [--paths arrays,...]
"""

from __future__ import annotations

import argparse
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from probflow import nn
from probflow.nn.callbacks import Callback

HIDDEN = (256, 256)
BATCH = 256
LR = 1e-3
INIT_SCALE = 1e-3


def make_data(rows, features=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    w = rng.normal(size=features) / math.sqrt(features)
    y = (np.sin(x @ w) + 0.1 * rng.normal(size=rows)).astype(np.float32)
    return x, y


class EpochTimer(Callback):
    """Wall time between epoch ends (logs are read on the host each epoch anyway)."""

    def on_train_begin(self, logs=None):
        self.times, self._last = [], time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.times.append(now - self._last)
        self._last = now


def probflow_epochs(x, y, epochs, source=None):
    """`Model.fit` on arrays (`source` None) or on a stream of batches of them."""
    model = nn.Sequential([nn.DenseFlipout(HIDDEN[0], activation="relu"),
                           nn.DenseFlipout(HIDDEN[1], activation="relu"),
                           nn.DenseFlipout(1)])
    model.compile(optimizer="adam", likelihood="normal", learning_rate=LR)
    timer = EpochTimer()
    if source is None:
        history = model.fit(x, y, epochs=epochs, batch_size=BATCH, callbacks=[timer], verbose=0)
    else:
        history = model.fit(source, epochs=epochs, num_train=len(x), callbacks=[timer],
                            verbose=0)
    return timer.times, history.history["loss"][-1]


class ShuffledBatches:
    """A re-iterable generator of shuffled ``(x, y)`` batches: a fresh order each pass."""

    def __init__(self, x, y, seed=0):
        self.x, self.y, self.rng = x, y, np.random.default_rng(seed)

    def __iter__(self):
        order = self.rng.permutation(len(self.x))
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            yield self.x[rows], self.y[rows]


def grain_source(x, y):
    """A Grain pipeline: shuffled row indices, batched, gathered into arrays (or None)."""
    try:
        import grain
    except ImportError:
        return None

    def gather(idx):
        idx = np.asarray(idx)
        return x[idx], y[idx]

    # A MapDataset is re-iterable: each epoch is one pass (Grain's shuffle is fixed by seed).
    return grain.MapDataset.range(len(x)).shuffle(seed=0).batch(BATCH).map(gather)


# -- the hand-written reference -----------------------------------------------------------
def _softplus_inv(v):
    return math.log(math.expm1(v))


def hand_init(key, sizes):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        params.append({
            "kernel_loc": jax.random.uniform(sub, (fan_in, fan_out), minval=-limit, maxval=limit),
            "kernel_raw": jnp.full((fan_in, fan_out), _softplus_inv(INIT_SCALE)),
            "bias_loc": jnp.zeros(fan_out),
            "bias_raw": jnp.full(fan_out, _softplus_inv(INIT_SCALE)),
        })
    params = {"layers": params, "raw_noise": jnp.asarray(_softplus_inv(1.0))}
    # Strong float32 leaves: weak-typed ones (from Python floats) become strong after one
    # epoch's update, a new input signature, and the epoch recompiled (it did, three times).
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), params)


def hand_forward(params, x, key):
    n_layers = len(params["layers"])
    for i, p in enumerate(params["layers"]):
        key, k_eps, k_bias, k_in, k_out = jax.random.split(key, 5)
        delta = jax.nn.softplus(p["kernel_raw"]) * jax.random.normal(k_eps, p["kernel_loc"].shape)
        s_in = jax.random.rademacher(k_in, x.shape, x.dtype)
        s_out = jax.random.rademacher(k_out, (x.shape[0], delta.shape[1]), x.dtype)
        bias = p["bias_loc"] + jax.nn.softplus(p["bias_raw"]) * jax.random.normal(k_bias, p["bias_loc"].shape)
        x = x @ p["kernel_loc"] + ((x * s_in) @ delta) * s_out + bias
        if i < n_layers - 1:
            x = jax.nn.relu(x)
    return x


def hand_kl(params):
    total = 0.0
    for p in params["layers"]:
        for loc, raw in ((p["kernel_loc"], p["kernel_raw"]), (p["bias_loc"], p["bias_raw"])):
            scale = jax.nn.softplus(raw)
            total = total + jnp.sum(0.5 * (scale**2 + loc**2 - 1.0) - jnp.log(scale))
    return total


def hand_loss(params, x, y, mask, key, num_train):
    mu = hand_forward(params, x, key)[:, 0]
    sd = jax.nn.softplus(params["raw_noise"]) + 1e-6
    log_lik = -0.5 * ((y - mu) / sd) ** 2 - jnp.log(sd) - 0.5 * math.log(2 * math.pi)
    nll = -jnp.sum(mask * log_lik) / jnp.maximum(jnp.sum(mask), 1.0)
    return nll + hand_kl(params) / num_train


def make_hand_epoch(optimizer):
    @jax.jit
    def epoch(params, opt_state, key, x, y):
        n = x.shape[0]
        key, k_perm = jax.random.split(key)
        num_batches = -(-n // BATCH)
        perm = jax.random.permutation(k_perm, n)
        idx = jnp.concatenate([perm, jnp.zeros(num_batches * BATCH - n, perm.dtype)])
        mask = (jnp.arange(num_batches * BATCH) < n).astype(x.dtype)
        idx, mask = idx.reshape(num_batches, BATCH), mask.reshape(num_batches, BATCH)

        def step(carry, inputs):
            params, opt_state, key = carry
            b_idx, b_mask = inputs
            key, k_step = jax.random.split(key)
            loss, grads = jax.value_and_grad(hand_loss)(params, x[b_idx], y[b_idx], b_mask,
                                                        k_step, n)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, key), loss * jnp.sum(b_mask)

        (params, opt_state, key), losses = jax.lax.scan(step, (params, opt_state, key), (idx, mask))
        return params, opt_state, key, jnp.sum(losses) / n

    return epoch


def hand_epochs(x, y, epochs):
    optimizer = optax.adam(LR)
    params = hand_init(jax.random.key(0), (x.shape[1],) + HIDDEN + (1,))
    opt_state, key = optimizer.init(params), jax.random.key(1)
    epoch = make_hand_epoch(optimizer)
    xd, yd = jnp.asarray(x), jnp.asarray(y)
    times, loss = [], None
    for _ in range(epochs):
        start = time.perf_counter()
        params, opt_state, key, loss = epoch(params, opt_state, key, xd, yd)
        loss = float(loss)  # one host sync per epoch, like the trainer's logs
        times.append(time.perf_counter() - start)
    return times, loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--paths", default="arrays,generator,grain",
                        help="probflow paths to time (the hand loop always runs)")
    args = parser.parse_args()
    x, y = make_data(args.rows)
    sources = {"arrays": lambda: None, "generator": lambda: ShuffledBatches(x, y)}
    if grain_source(x, y) is not None:
        sources["grain"] = lambda: grain_source(x, y)
    wanted = args.paths.split(",")
    sources = {name: make for name, make in sources.items() if name in wanted}
    times = {name: [] for name in list(sources) + ["hand"]}
    losses = {}
    for _ in range(args.repeats):  # alternate so background load hits every path alike
        for name, make in sources.items():
            epoch_times, losses[name] = probflow_epochs(x, y, args.epochs, make())
            times[name] += epoch_times[1:]
        epoch_times, losses["hand"] = hand_epochs(x, y, args.epochs)
        times["hand"] += epoch_times[1:]
    med = {name: float(np.median(t)) for name, t in times.items()}
    print(f"device: {jax.devices()[0].platform}, rows={args.rows}, batch={BATCH}, "
          f"warm epochs per path={len(times['hand'])}, probflow from {nn.__file__}")
    for name in sources:
        print(f"probflow Model.fit ({name:9s}): {med[name]:.3f} s/epoch "
              f"(final loss {losses[name]:.4f})")
    print(f"hand jax+optax loop           : {med['hand']:.3f} s/epoch "
          f"(final loss {losses['hand']:.4f})")
    for name in sources:
        print(f"ratio {name} / hand = {med[name] / med['hand']:.3f}")
        if name != "arrays" and "arrays" in med:
            print(f"ratio {name} / arrays = {med[name] / med['arrays']:.3f}")

if __name__ == "__main__":
    main()
