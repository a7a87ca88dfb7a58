"""The `.probflow` archive: one zip holding ``config.json`` and ``arrays.npz``.

Writing is atomic: the archive goes to a temporary file in the destination folder,
is flushed and fsync'ed, then renamed over the destination (`os.replace`), and the
folder is fsync'ed where the platform allows. A crash at any point leaves either the
previous file or the new one, never a half-written archive.

Reading treats the file as untrusted: entry names and declared sizes are checked
before anything is decompressed, JSON is parsed with the standard library and arrays
are loaded with ``numpy.load(allow_pickle=False)`` (no object arrays, no code). Any
problem becomes a `ValueError` naming the file and what is wrong.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["read_archive", "write_archive", "atomic_write"]

CONFIG_NAME = "config.json"
ARRAYS_NAME = "arrays.npz"
MAX_CONFIG_BYTES = 16 * 2**20
MAX_ARRAYS_BYTES = 16 * 2**30
MAX_ARRAY_ENTRIES = 100_000
# Array dtypes a model can hold; anything else in a file is rejected (objects, strings).
ALLOWED_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64", "bfloat16", "complex64", "complex128"]
)


def _fsync_directory(folder: str) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path, write_fn) -> None:
    """Calls ``write_fn(file)`` on a temporary file, then renames it onto `path`.

    Args:
        path: destination file.
        write_fn: writes the content to the binary file object it receives.

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "note.bin")
        >>> atomic_write(target, lambda f: f.write(b"hi"))
        >>> open(target, "rb").read()
        b'hi'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(
        mode="wb", dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp",
        delete=False,
    )
    try:
        with tmp:
            write_fn(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    _fsync_directory(folder)


def write_archive(path, config: dict, arrays: dict) -> None:
    """Writes `config` (JSON-serialisable) and `arrays` (name -> array) atomically.

    Example:
        >>> import os, tempfile, numpy as np
        >>> target = os.path.join(tempfile.mkdtemp(), "m.probflow")
        >>> write_archive(target, {"a": 1}, {"w": np.ones(2, np.float32)})
        >>> read_archive(target)[0]
        {'a': 1}
    """
    config_bytes = json.dumps(config, indent=1, sort_keys=True, allow_nan=False).encode()
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(value) for name, value in arrays.items()})

    def write(file):
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr(CONFIG_NAME, config_bytes, compress_type=zipfile.ZIP_DEFLATED)
            archive.writestr(ARRAYS_NAME, buffer.getvalue(), compress_type=zipfile.ZIP_STORED)

    atomic_write(path, write)


def _bounded_read(archive, info, limit, path, what):
    if info.file_size > limit:
        raise ValueError(f"{path}: {what} declares {info.file_size} bytes, more than the "
                         f"limit of {limit}; the file is corrupted or not a probflow archive")
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) != info.file_size:
        raise ValueError(f"{path}: {what} holds {len(data)} bytes but declares "
                         f"{info.file_size}; the file is truncated or corrupted")
    return data


def _entries(archive, path, allowed, what):
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(names) != len(set(names)):
        raise ValueError(f"{path}: {what} holds duplicated entries")
    unknown = sorted(set(names) - set(allowed)) if allowed is not None else []
    if unknown:
        raise ValueError(f"{path}: {what} holds unexpected entries {unknown[:5]}")
    return {info.filename: info for info in infos}


def _load_arrays(data: bytes, path) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        infos = inner.infolist()
        if len(infos) > MAX_ARRAY_ENTRIES:
            raise ValueError(f"{path}: {ARRAYS_NAME} holds {len(infos)} arrays, more than "
                             f"{MAX_ARRAY_ENTRIES}")
        _entries(inner, path, None, ARRAYS_NAME)
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise ValueError(f"{path}: {ARRAYS_NAME} entry {info.filename!r} is not .npy")
    arrays = {}
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        for name in npz.files:
            array = npz[name]
            if array.dtype.name not in ALLOWED_DTYPES:
                raise ValueError(f"{path}: array {name!r} has dtype {array.dtype}, which a "
                                 "model never holds")
            arrays[name] = array
    return arrays


def read_archive(path) -> tuple[dict, dict]:
    """Reads and checks an archive: returns ``(config, arrays)``.

    Args:
        path: a file written by `write_archive`.

    Returns:
        ``(config dict, dict name -> numpy array)``.

    Raises:
        ValueError: naming the file for anything unreadable, truncated, oversized,
            pickled or otherwise not a probflow archive.

    Example:
        >>> import os, tempfile, numpy as np
        >>> target = os.path.join(tempfile.mkdtemp(), "m.probflow")
        >>> write_archive(target, {"a": 1}, {"w": np.zeros(2, np.float32)})
        >>> config, arrays = read_archive(target)
        >>> config, arrays["w"].shape
        ({'a': 1}, (2,))
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = _entries(archive, path, (CONFIG_NAME, ARRAYS_NAME), "the archive")
            if CONFIG_NAME not in infos or ARRAYS_NAME not in infos:
                raise ValueError(f"{path}: the archive must hold {CONFIG_NAME} and "
                                 f"{ARRAYS_NAME}; found {sorted(infos)}")
            config_bytes = _bounded_read(archive, infos[CONFIG_NAME], MAX_CONFIG_BYTES, path,
                                         CONFIG_NAME)
            array_bytes = _bounded_read(archive, infos[ARRAYS_NAME], MAX_ARRAYS_BYTES, path,
                                        ARRAYS_NAME)
        config = json.loads(config_bytes.decode("utf-8"))
        if not isinstance(config, dict):
            raise ValueError(f"{path}: {CONFIG_NAME} must hold a JSON object; got "
                             f"{type(config).__name__}")
        arrays = _load_arrays(array_bytes, path)
    except ValueError as err:
        if str(err).startswith(path):
            raise
        raise ValueError(f"{path}: not a valid probflow archive ({err})") from None
    except Exception as err:  # zipfile, zlib, numpy header and decoding errors alike
        raise ValueError(
            f"{path}: not a valid probflow archive ({type(err).__name__}: {err})"
        ) from None
    return config, arrays
