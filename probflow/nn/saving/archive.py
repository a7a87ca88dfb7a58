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
import math
import os
import stat
import tempfile
import time
import zipfile

import numpy as np

__all__ = ["read_archive", "write_archive", "atomic_write"]

CONFIG_NAME = "config.json"
ARRAYS_NAME = "arrays.npz"
MAX_CONFIG_BYTES = 16 * 2**20
MAX_ARRAYS_BYTES = 16 * 2**30
MAX_ARRAY_ENTRIES = 100_000
# Temp files of a target untouched this long belong to a save that died.
STALE_TEMP_SECONDS = 3600
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


def _umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_pattern(path):
    folder, base = os.path.split(os.path.abspath(path))
    return folder, "." + base + ".", ".tmp"


def _remove_stale_temps(path) -> None:
    """Deletes temp files of `path` left by saves killed mid-write (older than an hour).

    A temp file of a save still in progress is younger: its writes keep its mtime fresh.
    """
    folder, prefix, suffix = _temp_pattern(path)
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(prefix) and entry.name.endswith(suffix):
                with contextlib.suppress(OSError):
                    if now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS:
                        os.unlink(entry.path)


def atomic_write(path, write_fn) -> None:
    """Calls ``write_fn(file)`` on a temporary file, then renames it onto `path`.

    The temporary file is ``.<name>.<random>.tmp`` in the destination's folder (a
    rename is atomic only within one file system). A save killed mid-write leaves it
    behind; the next save of the same `path` deletes such files once they are more
    than an hour old. The result gets the mode `open()` would give: the existing
    file's mode, or ``0o666`` less the umask for a new file.

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
    folder, prefix, suffix = _temp_pattern(path)
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temps(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    tmp = tempfile.NamedTemporaryFile(mode="wb", dir=folder, prefix=prefix, suffix=suffix,
                                      delete=False)
    try:
        with tmp:
            # mkstemp creates 0600 whatever the umask: a server running as another
            # user could not read the model.
            os.fchmod(tmp.fileno(), mode)
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


def _npy_header(member, name, path):
    """``(shape, dtype, header bytes)`` of one .npy member, read before its data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
    elif version in ((2, 0), (3, 0)):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"{path}: array {name!r} has an unknown .npy version {version}")
    if dtype.hasobject or dtype.name not in ALLOWED_DTYPES:
        raise ValueError(f"{path}: array {name!r} has dtype {dtype}, which a model never holds")
    return tuple(shape), dtype, member.tell()


def _load_arrays(data: bytes, path, config, check_header=None) -> dict:
    """Reads the arrays of `arrays.npz`, each bounded by its header before its data.

    Every member must be stored uncompressed (as `write_archive` writes them), and its
    .npy header must account for exactly its stored size: so no array can make the
    loader allocate more than the bytes the file really holds (a 1.5 KB deflated
    member cannot inflate to gigabytes).
    """
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        infos = inner.infolist()
        if len(infos) > MAX_ARRAY_ENTRIES:
            raise ValueError(f"{path}: {ARRAYS_NAME} holds {len(infos)} arrays, more than "
                             f"{MAX_ARRAY_ENTRIES}")
        _entries(inner, path, None, ARRAYS_NAME)
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise ValueError(f"{path}: {ARRAYS_NAME} entry {info.filename!r} is not .npy")
            name = info.filename[: -len(".npy")]
            _check_stored(info, path, f"array {name!r}")
            with inner.open(info) as member:
                shape, dtype, header_size = _npy_header(member, name, path)
                if check_header is not None:
                    check_header(config, name, shape, dtype)
                nbytes = math.prod(shape) * dtype.itemsize
                if header_size + nbytes != info.file_size:
                    raise ValueError(
                        f"{path}: array {name!r} declares shape {shape} and dtype {dtype} "
                        f"({nbytes} bytes) but its entry holds {info.file_size - header_size}; "
                        "the file is corrupted"
                    )
                member.seek(0)
                arrays[name] = np.load(io.BytesIO(member.read(info.file_size)),
                                       allow_pickle=False)
    return arrays


def _check_stored(info, path, what):
    # `write_archive` never compresses arrays; a compressed one can only be crafted, and
    # its inflated size is what the attacker chooses.
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise ValueError(
            f"{path}: {what} is stored compressed ({info.compress_size} bytes inflating to "
            f"{info.file_size}); probflow archives store arrays uncompressed, so this file "
            "was not written by probflow"
        )


def read_archive(path, *, check_header=None) -> tuple[dict, dict]:
    """Reads and checks an archive: returns ``(config, arrays)``.

    Args:
        path: a file written by `write_archive`.
        check_header: optional ``fn(config, name, shape, dtype)`` called for each array
            after the config is parsed and the array's header read, before its data:
            raise ValueError to refuse an array the config does not account for (so
            each array is bounded by what the config says the model holds).

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
            _check_stored(infos[ARRAYS_NAME], path, ARRAYS_NAME)
            array_bytes = _bounded_read(archive, infos[ARRAYS_NAME], MAX_ARRAYS_BYTES, path,
                                        ARRAYS_NAME)
        config = json.loads(config_bytes.decode("utf-8"))
        if not isinstance(config, dict):
            raise ValueError(f"{path}: {CONFIG_NAME} must hold a JSON object; got "
                             f"{type(config).__name__}")
        arrays = _load_arrays(array_bytes, path, config, check_header)
    except ValueError as err:
        if str(err).startswith(path):
            raise
        raise ValueError(f"{path}: not a valid probflow archive ({err})") from None
    except Exception as err:  # zipfile, zlib, numpy header and decoding errors alike
        raise ValueError(
            f"{path}: not a valid probflow archive ({type(err).__name__}: {err})"
        ) from None
    return config, arrays
