"""Checkpoint archives: host (NumPy) arrays plus one JSON document in a ``.npz`` (zip) file.

Nothing here ever unpickles: arrays are written as ``.npy`` members (C order, little-endian,
plain numeric dtypes), and reading parses each ``.npy`` header itself and refuses object,
structured or big-endian dtypes.

Reading is defensive because checkpoints come from elsewhere:

- members are stored uncompressed, and a member is only read when it is stored (so no member
  can expand beyond the bytes actually in the file) and when the document refers to it;
- every array's dtype, shape and CRC-32 are recorded in the document at save time; the
  member's header and size must agree with them before any memory is allocated for it, and
  the bytes read must match the checksum, so a truncated or bit-flipped file never loads
  wrong values;
- every problem is raised as ``CorruptArchiveError`` (a ``ValueError``) for the caller to report.
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

META = "__meta__.npy"
_MAGIC = b"\x93NUMPY"
_MAX_HEADER = 4096
_CHUNK = 16 << 20  # bytes per read: zipfile copies each read once, so big reads would double the peak
# The dtypes a checkpoint may hold (NumPy's ``dtype.str`` of each, little-endian).
_DTYPES = {"|b1", "|i1", "|u1", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8",
           "<c8", "<c16"}


class CorruptArchiveError(ValueError):
    """The archive is not a well-formed checkpoint (the message says what is wrong)."""


def _host_array(a: Any) -> np.ndarray:
    # ``np.ascontiguousarray`` would turn a 0-d array into shape (1,); ``require`` keeps the shape.
    a = np.require(a, requirements="C")
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    if a.dtype.str not in _DTYPES:
        raise TypeError(f"cannot store an array of dtype {a.dtype}")
    return a


def _bytes(a: np.ndarray) -> memoryview:
    """The raw bytes of a C-contiguous array (any shape, 0-d and empty included)."""
    return memoryview(a.reshape(-1).view(np.uint8))


def host_array(obj: Any) -> np.ndarray | None:
    """``obj`` as an array when it is a NumPy array or NumPy scalar a checkpoint can hold."""
    if isinstance(obj, (np.ndarray, np.generic)) and np.dtype(obj.dtype).str.replace(">", "<") in _DTYPES:
        return np.asarray(obj)
    return None


def dtype_name(a: np.ndarray) -> str:
    """The dtype name of an array ``Reader.array`` returned ("float32", "bool", ...)."""
    return a.dtype.name


def is_host_scalar(obj: Any) -> bool:
    return isinstance(obj, np.generic)


def host_scalar(a: np.ndarray) -> Any:
    """The NumPy scalar a 0-d array holds (``np.float32(1.0)`` saved comes back as one)."""
    if a.ndim != 0:
        raise CorruptArchiveError("a NumPy scalar entry refers to an array that is not 0-d")
    return a[()]


def _npy_bytes_header(a: np.ndarray) -> bytes:
    header = repr({"descr": a.dtype.str, "fortran_order": False, "shape": tuple(a.shape)})
    # version 1.0 layout: magic, version, uint16 header length, header padded to 64 bytes
    pad = 64 - (len(_MAGIC) + 2 + 2 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return _MAGIC + b"\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1")


def _write_zip(f: Any, arrays: dict[str, np.ndarray], meta: bytes) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        for key, a in arrays.items():
            with z.open(key + ".npy", "w", force_zip64=a.nbytes > 2**31) as m:
                m.write(_npy_bytes_header(a))
                m.write(_bytes(a))
        meta_arr = np.frombuffer(meta, dtype=np.uint8)
        with z.open(META, "w") as m:
            m.write(_npy_bytes_header(meta_arr))
            m.write(meta)


def write(f: Any, arrays: dict[str, Any], doc: dict) -> None:
    """Store ``arrays`` and the JSON-able ``doc`` in one uncompressed ``.npz`` archive.

    ``doc`` gains an ``"arrays"`` entry: each array's dtype, shape and CRC-32. A path is
    written through a temporary file and renamed, so a failed save leaves the old file.
    """
    host = {k: _host_array(v) for k, v in arrays.items()}
    index = {k: {"dtype": a.dtype.str, "shape": list(a.shape),
                 "crc32": zlib.crc32(_bytes(a))}
             for k, a in host.items()}
    meta = json.dumps({**doc, "arrays": index}).encode("utf-8")
    if hasattr(f, "write"):
        _write_zip(f, host, meta)
        return
    write_atomically(f, lambda out: _write_zip(out, host, meta))


def write_atomically(f: Any, fill: Callable[[Any], None]) -> None:
    """Write the file at path ``f`` with ``fill(binary_file)`` through a temporary file in the
    same folder, renamed over ``f`` at the end: a failed write leaves the old file as it was."""
    path = os.fspath(f)
    suffix = os.path.splitext(path)[1] or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private; keep the old file's mode, or a plain 0644
        os.chmod(tmp, os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class Reader:
    """An open archive: ``doc`` is the JSON document, ``array(key)`` reads one array."""

    def __init__(self, f: Any) -> None:
        self._owned = not hasattr(f, "read")
        self._file = open(f, "rb") if self._owned else f  # noqa: SIM115 - closed by close()
        try:
            self._file.seek(0, os.SEEK_END)
            self._size = self._file.tell()
            self._file.seek(0)
            try:
                self._zip = zipfile.ZipFile(self._file)
            # (an unsupported zip version raises NotImplementedError, a RuntimeError)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, RuntimeError) as e:
                raise CorruptArchiveError(f"not a checkpoint archive ({e})") from None
            names = self._zip.namelist()
            if META not in names and any(n.endswith("data.pkl") for n in names):
                raise CorruptArchiveError("it is a PyTorch checkpoint (pickled data), which autodiff never loads; "
                                          "re-save its tensors with autodiff.save (e.g. after converting them "
                                          "with .numpy() in PyTorch)")
            raw = self._member_bytes(META, "|u1", None)
            try:
                doc = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as e:
                raise CorruptArchiveError(f"the metadata is not valid JSON ({type(e).__name__})") from None
            if not isinstance(doc, dict) or not isinstance(doc.get("arrays"), dict):
                raise CorruptArchiveError("the metadata has no array index")
            self.doc: dict = doc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if getattr(self, "_zip", None) is not None:
            self._zip.close()
        if self._owned:
            self._file.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def array(self, key: str) -> np.ndarray:
        """The array ``key`` of the index, checked against its recorded dtype, shape and CRC."""
        entry = self.doc["arrays"].get(key) if isinstance(key, str) else None
        if not isinstance(entry, dict):
            raise CorruptArchiveError(f"array {key!r} is not in the archive's index")
        dtype, shape, crc = entry.get("dtype"), entry.get("shape"), entry.get("crc32")
        if (not isinstance(dtype, str) or dtype not in _DTYPES or not isinstance(shape, list) or not isinstance(crc, int)
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)):
            raise CorruptArchiveError(f"array {key!r} has a malformed index entry")
        a = self._member_array(key + ".npy", dtype, tuple(shape))
        if zlib.crc32(_bytes(a)) != crc:
            raise CorruptArchiveError(f"array {key!r} fails its checksum (the file is damaged)")
        return a

    def _info(self, name: str) -> zipfile.ZipInfo:
        try:
            info = self._zip.getinfo(name)
        except KeyError:
            raise CorruptArchiveError(f"member {name!r} is missing") from None
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise CorruptArchiveError(f"member {name!r} is compressed (checkpoints store members uncompressed)")
        if info.header_offset + info.file_size > self._size:
            raise CorruptArchiveError(f"member {name!r} declares more bytes than the file holds")
        return info

    def _open_checked(self, name: str, dtype: str, shape: tuple | None) -> tuple[Any, tuple, int]:
        """Open member ``name``, parse its ``.npy`` header and check it and the member's size."""
        info = self._info(name)
        try:
            m = self._zip.open(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, OSError, EOFError) as e:
            raise CorruptArchiveError(f"member {name!r} cannot be opened ({e})") from None
        start = m.read(10)
        if len(start) != 10 or start[:6] != _MAGIC or start[6:8] != b"\x01\x00":
            raise CorruptArchiveError(f"member {name!r} is not a .npy array")
        hlen = int.from_bytes(start[8:10], "little")
        if hlen > _MAX_HEADER:
            raise CorruptArchiveError(f"member {name!r} has an oversized header")
        text = m.read(hlen)
        try:
            header = ast.literal_eval(text.decode("latin1"))  # literals only: cannot run code
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            header = None
        if (not isinstance(header, dict) or header.get("descr") != dtype
                or header.get("fortran_order") is not False or not isinstance(header.get("shape"), tuple)
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in header["shape"])):
            raise CorruptArchiveError(f"member {name!r} has a header that does not match the index")
        got = header["shape"]
        if shape is not None and got != shape:
            raise CorruptArchiveError(f"member {name!r} has shape {got}, the index says {shape}")
        nbytes = int(np.prod(got, dtype=object)) * np.dtype(dtype).itemsize
        if info.file_size != 10 + hlen + nbytes:
            raise CorruptArchiveError(f"member {name!r} holds {info.file_size} bytes, its header declares "
                                 f"{10 + hlen + nbytes}")
        return m, got, nbytes

    def _member_array(self, name: str, dtype: str, shape: tuple | None) -> np.ndarray:
        try:
            m, got, nbytes = self._open_checked(name, dtype, shape)
            with m:
                # The size was checked against the file length, so this allocation is bounded.
                a = np.empty(got, dtype=np.dtype(dtype))
                view = _bytes(a)
                done = 0
                while done < nbytes:
                    n = m.readinto(view[done:done + _CHUNK])
                    if not n:
                        raise CorruptArchiveError(f"member {name!r} is truncated")
                    done += n
                m.read(1)  # reach the end so zipfile verifies the member's CRC-32
        # zipfile reads ahead, so a bad CRC can surface at any read, the header's included
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
            raise CorruptArchiveError(f"member {name!r} is damaged ({e})") from None
        return a

    def _member_bytes(self, name: str, dtype: str, shape: tuple | None) -> bytes:
        return self._member_array(name, dtype, shape).tobytes()


def read(f: Any) -> tuple[dict[str, np.ndarray], dict]:
    """Every array of the index and the document (without its index): for tools and tests."""
    with Reader(f) as r:
        doc = {k: v for k, v in r.doc.items() if k != "arrays"}
        return {k: r.array(k) for k in r.doc["arrays"]}, doc
