"""TensorBoard: per-epoch scalars equal the History, posterior histograms per weight,
and a clear ImportError naming the extra when tensorboardX is missing."""

import glob
import struct
import sys

import numpy as np
import pytest

from probflow import nn
from probflow.nn.callbacks import TensorBoard

pytest.importorskip("tensorboardX")
from tensorboardX.proto import event_pb2  # noqa: E402


def read_events(log_dir):
    """All events of the event files under `log_dir` (TFRecord framing, CRCs skipped)."""
    events = []
    for path in sorted(glob.glob(f"{log_dir}/**/events.out.tfevents.*", recursive=True)):
        data = open(path, "rb").read()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            payload = data[offset + 12:offset + 12 + length]
            events.append(event_pb2.Event.FromString(payload))
            offset += 12 + length + 4
    return events


def test_scalars_and_histograms(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2)).astype("float32")
    model = nn.Sequential([nn.Input((2,)), nn.DenseReparameterization(3, name="bayes"),
                           nn.Dense(1, name="plain")])
    model.compile(likelihood="normal")
    history = model.fit(x, x.sum(1), epochs=2, batch_size=8, verbose=0,
                        callbacks=[TensorBoard(tmp_path, histogram_freq=2)])
    scalars, histograms = {}, {}
    for event in read_events(tmp_path):
        for value in event.summary.value:
            if value.HasField("histo"):
                histograms.setdefault(value.tag, []).append(event.step)
            else:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    for name, values in history.history.items():
        assert scalars[f"epoch/{name}"] == [(e, np.float32(v)) for e, v in enumerate(values)]
    assert [v for _, v in scalars["epoch/learning_rate"]] == [np.float32(1e-3)] * 2
    weights = sorted(model.posterior["bayes"])
    expected = {f"bayes/{w}/{s}" for w in weights for s in ("mean", "stddev")}
    expected |= {"plain/kernel", "plain/bias"}
    assert set(histograms) == expected
    assert all(steps == [1] for steps in histograms.values())  # every 2nd epoch only


def test_missing_tensorboardx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"probflow-jax\[tensorboard\]"):
        TensorBoard("logs")
