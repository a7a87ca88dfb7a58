"""fit / evaluate / predict on data beyond in-memory arrays, and sample / class weights.

The streamed path (lists of batches, generators, Grain data sets, memmaps) must train
to the array path's weights when it is given the array path's batches, divide the KL
by the data set's size (never a batch's), and keep a memmap off the device.
"""

import jax
import numpy as np
import pytest

from probflow import nn
from probflow.nn.callbacks import Callback

RNG = np.random.default_rng(0)
N = 50
X = RNG.normal(size=(N, 3)).astype("float32")
Y = (X @ np.array([1.0, -1.0, 0.5]) + 0.1 * RNG.normal(size=N)).astype("float32")
LABELS = (X[:, 0] > 0).astype(np.int32)
BATCH = 16  # 50 rows: a ragged last batch of 2


def bayes_net(likelihood="normal", units=1):
    model = nn.Sequential([nn.DenseFlipout(6, activation="tanh"), nn.DenseFlipout(units)])
    model.compile(optimizer="adam", likelihood=likelihood, learning_rate=0.01)
    return model


def batches_of(x, y, size=BATCH, weights=None):
    out = []
    for start in range(0, len(x), size):
        part = slice(start, start + size)
        out.append((x[part], y[part]) if weights is None else (x[part], y[part], weights[part]))
    return out


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def array_fit():
    model = bayes_net()
    history = model.fit(X, Y, epochs=3, batch_size=BATCH, shuffle=False, verbose=0, seed=3)
    return model, history


def test_list_of_batches_trains_to_the_array_paths_weights(array_fit):
    reference, history = array_fit
    model = bayes_net()
    streamed = model.fit(batches_of(X, Y), epochs=3, shuffle=False, verbose=0, seed=3)
    assert_same_weights(model, reference)
    np.testing.assert_allclose(streamed.history["loss"], history.history["loss"], rtol=1e-5)
    assert int(model.train_state.step) == 3 * 4


def test_generator_with_num_train_trains_to_the_array_paths_weights(array_fit):
    reference, _ = array_fit

    def endless():
        while True:
            yield from batches_of(X, Y)

    model = bayes_net()
    model.fit(endless(), epochs=3, steps_per_epoch=4, num_train=N, verbose=0, seed=3)
    assert_same_weights(model, reference)


def test_grain_map_dataset_trains_to_the_array_paths_weights(array_fit):
    grain = pytest.importorskip("grain", reason="grain (the `data` extra) is not installed")
    reference, _ = array_fit
    source = grain.MapDataset.source([(X[i], Y[i]) for i in range(N)]).batch(BATCH)
    model = bayes_net()
    model.fit(source, epochs=3, verbose=0, seed=3)  # len() and [i] give num_train = 50
    assert_same_weights(model, reference)
    np.testing.assert_allclose(model.predict(source, num_samples=2),
                               model.predict(X, num_samples=2, batch_size=BATCH), rtol=1e-5)


def _kl_divisor(history):
    """N such that loss = nll + kl / N (one batch per epoch; metrics from the same pass)."""
    logs = history.history
    return logs["kl"][0] / (logs["loss"][0] - logs["nll"][0])


def test_kl_divisor_is_the_data_set_size_not_the_batch():
    # One batch of the 50 examples, declared part of a training set of 200.
    streamed = bayes_net().fit([(X, Y)], num_train=200, epochs=1, verbose=0)
    assert _kl_divisor(streamed) == pytest.approx(200, rel=1e-3)
    chunk = bayes_net().fit(X, Y, num_train=200, batch_size=N, epochs=1, verbose=0)
    assert _kl_divisor(chunk) == pytest.approx(200, rel=1e-3)
    # Unsaid, a list's size is the sum of its batches' rows (here 16 + 16 + 16 + 2).
    model = bayes_net()
    model.fit(batches_of(X, Y), epochs=1, verbose=0)
    assert model.fitted_posterior.num_train == N


def test_generator_without_size_or_steps_is_refused_or_stops():
    with pytest.raises(ValueError, match="num_train"):
        bayes_net().fit((b for b in batches_of(X, Y)), epochs=1, verbose=0)
    model = bayes_net()
    with pytest.warns(UserWarning, match="ran out"):
        history = model.fit((b for b in batches_of(X, Y)), num_train=N, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1 and int(model.train_state.step) == 4


def test_steps_per_epoch_continues_a_reiterable_across_passes():
    model = bayes_net()
    model.fit(batches_of(X, Y), steps_per_epoch=3, epochs=3, verbose=0)
    assert int(model.train_state.step) == 9 and int(model.train_state.epoch) == 3


class LiveBytes(Callback):
    """Peak bytes of live device arrays during the fit, above those alive before it."""

    def __init__(self):
        super().__init__()
        self.base = sum(a.nbytes for a in jax.live_arrays())
        self.peak = 0

    def on_batch_end(self, batch, logs=None):
        self.peak = max(self.peak, sum(a.nbytes for a in jax.live_arrays()) - self.base)

    on_epoch_end = on_batch_end


def test_memmap_streams_and_trains_as_the_array_path(tmp_path):
    rows, features, batch = 4096, 64, 64
    rng = np.random.default_rng(1)
    data = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="w+", shape=(rows, features))
    data[:] = rng.normal(size=(rows, features))
    data.flush()
    targets = rng.normal(size=rows).astype(np.float32)

    def net():
        model = nn.Sequential([nn.Dense(2, activation="tanh"), nn.Dense(1)])
        model.compile(optimizer="adam", likelihood="normal")
        return model

    streamed, in_memory = LiveBytes(), LiveBytes()
    model = net()
    model.fit(data, targets, epochs=2, batch_size=batch, callbacks=[streamed], verbose=0)
    reference = net()
    reference.fit(np.asarray(data), targets, epochs=2, batch_size=batch,
                  callbacks=[in_memory], verbose=0)
    assert_same_weights(model, reference)  # the same shuffled batches, read from disk
    batch_bytes = batch * features * 4
    assert in_memory.peak >= data.nbytes  # the measurement sees a whole copy
    assert streamed.peak <= 8 * batch_bytes, (streamed.peak, batch_bytes)
    # evaluate / predict read a memmap chunk by chunk, with the arrays' answers.
    np.testing.assert_allclose(model.predict(data[:300], num_samples=1, batch_size=128),
                               model.predict(np.asarray(data[:300]), num_samples=1,
                                             batch_size=128), rtol=1e-6)
    assert model.evaluate(data, targets, num_samples=1) == pytest.approx(
        model.evaluate(np.asarray(data), targets, num_samples=1), rel=1e-5)


def test_sample_weight_scales_each_examples_nll_and_leaves_metrics_unweighted():
    model = bayes_net()
    history = model.fit(X, Y, sample_weight=np.full(N, 2.0), batch_size=N, epochs=1, verbose=0)
    logs = history.history
    data_term = logs["loss"][0] - logs["kl"][0] / N
    assert data_term == pytest.approx(2 * logs["nll"][0], rel=1e-4)


def test_zero_sample_weight_drops_examples_and_streams_carry_weights():
    weights = (np.arange(N) % 3 != 0).astype(np.float32)
    garbage = np.where(weights == 0, 1e3, Y).astype(np.float32)
    clean = bayes_net()
    clean.fit(X, Y, sample_weight=weights, epochs=2, batch_size=BATCH, shuffle=False,
              verbose=0)
    noisy = bayes_net()
    noisy.fit(X, garbage, sample_weight=weights, epochs=2, batch_size=BATCH, shuffle=False,
              verbose=0)
    assert_same_weights(clean, noisy)
    streamed = bayes_net()
    streamed.fit(batches_of(X, garbage, weights=weights), epochs=2, verbose=0)
    assert_same_weights(streamed, clean)


def test_class_weight_is_sample_weight_by_label():
    by_class = bayes_net("categorical", units=2)
    by_class.fit(X, LABELS, class_weight={0: 1.0, 1: 3.0}, epochs=2, batch_size=BATCH,
                 verbose=0)
    by_sample = bayes_net("categorical", units=2)
    by_sample.fit(X, LABELS, sample_weight=np.where(LABELS == 1, 3.0, 1.0), epochs=2,
                  batch_size=BATCH, verbose=0)
    assert_same_weights(by_class, by_sample)
    with pytest.raises(ValueError, match="class_weight.*classifier"):
        bayes_net().fit(X, Y, class_weight={0: 2.0}, verbose=0)


def test_bad_weights_and_batches_name_the_argument():
    with pytest.raises(ValueError, match="sample_weight.*shape"):
        bayes_net().fit(X, Y, sample_weight=np.ones(N - 1), verbose=0)
    with pytest.raises(ValueError, match="sample_weight.*>= 0"):
        bayes_net().fit(X, Y, sample_weight=-np.ones(N), verbose=0)
    with pytest.raises(TypeError, match="batch 0 must be a tuple"):
        bayes_net().fit([X, {"x": X}], epochs=1, verbose=0)
    bad = batches_of(X, Y)
    bad[1] = (np.full_like(bad[1][0], np.nan), bad[1][1])
    with pytest.raises(ValueError, match=r"batch 1.*finite"):
        bayes_net().fit(bad, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        bayes_net().fit(X, Y, steps_per_epoch=2, verbose=0)


@pytest.mark.parametrize("method,options", [
    ("map", {}), ("ensemble", {"num_members": 2}), ("sgld", {"num_chains": 1}),
])
def test_other_gradient_methods_stream_to_the_array_paths_result(method, options):
    common = dict(epochs=2, method=method, verbose=0, seed=1, **options)
    reference = bayes_net()
    reference.fit(X, Y, batch_size=BATCH, shuffle=False, **common)
    streamed = bayes_net()
    streamed.fit(batches_of(X, Y), **common)
    a, b = _by_position(reference), _by_position(streamed)
    for la, lb in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_allclose(la, lb, rtol=1e-5, atol=1e-6)


def _by_position(model):
    # Layer names come from a process-wide counter, and dict leaves are ordered by name
    # ("dense_10" sorts before "dense_9"): pair the two models' layers by position.
    draws = model.posterior_samples(2)
    return [draws["layers"][layer.name] for layer in model.layers], draws["likelihood"]


def test_full_batch_samplers_refuse_a_stream():
    with pytest.raises(ValueError, match="full data set"):
        bayes_net().fit(batches_of(X, Y), method="nuts", verbose=0)
    with pytest.raises(ValueError, match="does not take"):
        bayes_net().fit(X, Y, method="hmc", sample_weight=np.ones(N), verbose=0)


def test_validation_evaluate_and_predict_take_iterables(array_fit):
    model, _ = array_fit
    batches = batches_of(X, Y, size=BATCH)
    streamed = model.evaluate(batches, num_samples=3, seed=2)
    arrays = model.evaluate(X, Y, num_samples=3, seed=2, batch_size=BATCH)
    assert streamed == pytest.approx(arrays, rel=1e-5)
    np.testing.assert_allclose(model.predict(iter([b[0] for b in batches]), num_samples=3),
                               model.predict(X, num_samples=3, batch_size=BATCH), rtol=1e-5)
    other = bayes_net()
    history = other.fit(X, Y, epochs=2, batch_size=BATCH, verbose=0,
                        validation_data=batches_of(X[:20], Y[:20]))
    assert len(history.history["val_loss"]) == 2


def test_prefetch_reraises_the_sources_error_and_stops_its_thread_on_close():
    import threading

    from probflow.nn.training.stream_loop import prefetch

    def failing():
        yield 1
        raise RuntimeError("disk on fire")

    gen = prefetch(failing(), lambda item: item)
    assert next(gen) == 1
    with pytest.raises(RuntimeError, match="disk on fire"):
        next(gen)
    read = []

    def endless():
        i = 0
        while True:
            read.append(i)
            yield i
            i += 1

    gen = prefetch(endless(), lambda item: item, size=2)
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    gen.close()  # a `break` in the training loop
    assert not any(t.name == "probflow-prefetch" for t in threading.enumerate())
    # Read ahead at most `size` placed items plus the one being placed.
    assert len(read) <= 3 + 2 + 1
