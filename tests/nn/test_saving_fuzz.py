"""load_model on hostile files: random byte damage, truncation, tampered JSON configs,
pickled arrays and oversized entries only ever raise ValueError and never run code."""

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probflow import nn
from probflow.nn.saving import archive

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 2)).astype("float32")
    model = nn.Sequential([nn.Input((2,)), nn.DenseReparameterization(3, activation="relu"),
                           nn.BatchNormalization(), nn.Dense(1)])
    model.compile(likelihood="normal", metrics=["rmse"])
    model.fit(x, x.sum(1), epochs=0, verbose=0)
    path = tmp_path_factory.mktemp("fuzz") / "m.probflow"
    model.save(path)
    config, arrays = archive.read_archive(path)
    return path.read_bytes(), config, arrays


def _load_bytes(tmp_path, data, name="x.probflow"):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        nn.load_model(path)
    except ValueError as err:
        assert str(path) in str(err)


def _pack(config_bytes, arrays_bytes):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("config.json", config_bytes)
        z.writestr("arrays.npz", arrays_bytes)
    return buffer.getvalue()


def _npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.data())
def test_byte_damage_and_truncation(saved, tmp_path, data):
    raw = bytearray(saved[0])
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    if kind == "flip":
        raw[pos] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        raw = raw[:pos]
    else:
        raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=16))
    _load_bytes(tmp_path, bytes(raw))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@FUZZ
@given(data=st.data())
def test_tampered_config(saved, tmp_path, data):
    _, config, arrays = saved
    config = json.loads(json.dumps(config))
    paths = [p for p in _paths(config) if p]
    path = data.draw(st.sampled_from(paths))
    parent = config
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES)
    _load_bytes(tmp_path, _pack(json.dumps(config).encode(), _npz(arrays)))


@FUZZ
@given(data=st.data())
def test_tampered_arrays(saved, tmp_path, data):
    _, config, arrays = saved
    arrays = dict(arrays)
    name = data.draw(st.sampled_from(sorted(arrays)))
    change = data.draw(st.sampled_from(["drop", "reshape", "dtype", "extra"]))
    if change == "drop":
        del arrays[name]
    elif change == "reshape":
        arrays[name] = np.zeros(arrays[name].shape + (2,), arrays[name].dtype)
    elif change == "dtype":
        arrays[name] = arrays[name].astype(np.float64 if arrays[name].dtype != np.float64
                                           else np.int32)
    else:
        arrays["train_state/params/layers/ghost/kernel"] = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"m2\.probflow: .*(missing|shape|dtype|not have)"):
        path = tmp_path / "m2.probflow"
        path.write_bytes(_pack(json.dumps(config).encode(), _npz(arrays)))
        nn.load_model(path)


class _Payload:
    """Unpickling this object would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_array_is_refused_and_never_run(saved, tmp_path):
    _, config, arrays = saved
    marker = tmp_path / "pwned"
    evil = dict(arrays)
    evil["train_state/epoch"] = np.array([_Payload(marker)], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **evil)  # object arrays are pickled inside .npy
    path = tmp_path / "evil.probflow"
    path.write_bytes(_pack(json.dumps(config).encode(), buffer.getvalue()))
    with pytest.raises(ValueError, match="evil.probflow"):
        nn.load_model(path)
    assert not marker.exists()


def test_code_names_in_config_are_lookups_not_evaluation(saved, tmp_path):
    _, config, arrays = saved
    for bad_class in ("os.system", "__import__", "eval", "Model"):
        tampered = json.loads(json.dumps(config))
        tampered["model"]["layers"][0]["class"] = bad_class
        path = tmp_path / "code.probflow"
        path.write_bytes(_pack(json.dumps(tampered).encode(), _npz(arrays)))
        with pytest.raises(ValueError, match="registered layer class"):
            nn.load_model(path)


def test_oversized_and_unexpected_entries(saved, tmp_path, monkeypatch):
    raw, config, arrays = saved
    monkeypatch.setattr(archive, "MAX_ARRAYS_BYTES", 100)
    path = tmp_path / "big.probflow"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match="declares .* more than the limit"):
        nn.load_model(path)
    monkeypatch.undo()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.writestr("arrays.npz", _npz(arrays))
        z.writestr("../../etc/passwd", "x")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="unexpected entries"):
        nn.load_model(path)
