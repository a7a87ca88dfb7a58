"""Hostile and damaged `.probflow` files, file modes and temp files left by killed saves."""

import io
import os
import stat
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from probflow.nn.saving import archive


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _write(path, members, *, outer=zipfile.ZIP_STORED, inner=zipfile.ZIP_STORED):
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w") as z:
        for name, data in members.items():
            z.writestr(name, data, compress_type=inner)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("arrays.npz", npz.getvalue(), compress_type=outer)


ZEROS = np.zeros(5_000_000, np.float64)  # 40 MB of zeros deflate to ~40 KB


@pytest.mark.parametrize("where", ["inner", "outer"])
def test_a_deflated_array_is_refused_before_it_inflates(tmp_path, where):
    path = str(tmp_path / "bomb.probflow")
    compress = {where: zipfile.ZIP_DEFLATED}
    _write(path, {"w.npy": _npy(ZEROS)}, **compress)
    assert os.path.getsize(path) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="stored compressed"):
            archive.read_archive(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"the loader allocated {peak} bytes for a small file"


def test_a_header_larger_than_its_data_is_refused(tmp_path):
    # A stored member whose header claims more values than it holds.
    original = _npy(np.zeros(4, np.float64))
    forged = original.replace(b"'shape': (4,)", b"'shape': (9999,)")
    assert forged != original
    path = str(tmp_path / "forged.probflow")
    _write(path, {"w.npy": forged})
    with pytest.raises(ValueError, match=r"declares shape \(9999,\).*the file is corrupted"):
        archive.read_archive(path)


def test_an_object_array_is_refused_from_its_header(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": (2,)})
    path = str(tmp_path / "objects.probflow")
    _write(path, {"w.npy": header.getvalue() + b"\0" * 16})
    with pytest.raises(ValueError, match="dtype object, which a model never holds"):
        archive.read_archive(path)


def test_a_good_archive_still_round_trips(tmp_path):
    path = str(tmp_path / "m.probflow")
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "k": np.array([1, 2], np.uint32)}
    archive.write_archive(path, {"a": 1}, arrays)
    config, loaded = archive.read_archive(path)
    assert config == {"a": 1}
    for name, value in arrays.items():
        np.testing.assert_array_equal(loaded[name], value)
        assert loaded[name].dtype == value.dtype


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = str(tmp_path / "m.probflow")
        archive.write_archive(path, {}, {"w": np.zeros(2)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = str(tmp_path / "m.probflow")
    archive.write_archive(path, {}, {"w": np.zeros(2)})
    os.chmod(path, 0o640)
    archive.write_archive(path, {"b": 2}, {"w": np.ones(2)})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert archive.read_archive(path)[0] == {"b": 2}


def test_stale_temp_files_of_the_target_are_cleaned_on_the_next_save(tmp_path):
    path = str(tmp_path / "m.probflow")
    stale = tmp_path / ".m.probflow.killed.tmp"
    fresh = tmp_path / ".m.probflow.inflight.tmp"  # a save still running elsewhere
    other = tmp_path / ".other.probflow.killed.tmp"  # another target's
    for temp in (stale, fresh, other):
        temp.write_bytes(b"half a file")
    hours_ago = time.time() - 2 * archive.STALE_TEMP_SECONDS
    os.utime(stale, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    archive.write_archive(path, {}, {"w": np.zeros(2)})
    assert not stale.exists()
    assert fresh.exists() and other.exists()


def test_a_failed_write_leaves_no_temp_file(tmp_path):
    path = str(tmp_path / "m.probflow")

    def explode(file):
        file.write(b"partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        archive.atomic_write(path, explode)
    assert os.listdir(tmp_path) == []


def test_check_header_refuses_an_array_before_its_data_is_read(tmp_path):
    path = str(tmp_path / "m.probflow")
    archive.write_archive(path, {"units": 2}, {"w": np.zeros((2, 3), np.float32)})
    seen = []

    def check(config, name, shape, dtype):
        seen.append((name, shape, dtype.name))
        if shape != (config["units"], 3):
            raise ValueError(f"array {name!r} has shape {shape}; the config says "
                             f"({config['units']}, 3)")

    assert archive.read_archive(path, check_header=check)[1]["w"].shape == (2, 3)
    assert seen == [("w", (2, 3), "float32")]
    archive.write_archive(path, {"units": 1}, {"w": np.zeros((2, 3), np.float32)})
    with pytest.raises(ValueError, match=r"array 'w' has shape \(2, 3\); the config says"):
        archive.read_archive(path, check_header=check)
