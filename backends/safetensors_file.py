"""Checkpoints in the safetensors format (Hugging Face's; what ``safetensors.torch.save_file``
writes): an 8-byte header length, a JSON header naming each array's dtype, shape and byte
range, then the raw little-endian bytes. Read and written with the ``safetensors`` package's
NumPy API; nothing is ever unpickled.

The header is read and checked here before the package loads anything, so a dtype NumPy
and autodiff have no array for (``BF16``, the ``F8`` types, unsigned 16-64 bit) is reported
by name instead of failing inside NumPy, and a header longer than the file is refused.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from backends.npz import write_atomically

INSTALL_HINT = ('reading and writing .safetensors files needs the safetensors package: '
                'pip install "autodiff-tape[safetensors]" (or pip install safetensors)')

# safetensors' dtype codes for the dtypes a tensor can hold, and the names of the others.
DTYPES = {"F16": "float16", "F32": "float32", "F64": "float64", "I8": "int8", "U8": "uint8", "I16": "int16",
          "I32": "int32", "I64": "int64", "BOOL": "bool"}
OTHER_DTYPES = {"BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "U16": "uint16",
                "U32": "uint32", "U64": "uint64", "C64": "complex64"}
_MAX_HEADER = 100_000_000  # the safetensors package's own limit


class SafetensorsFileError(ValueError):
    """The file is not a well-formed safetensors file (the message says what is wrong)."""


class UnsupportedDtypeError(TypeError):
    """The file holds an array of a dtype autodiff has no tensors of."""

    def __init__(self, key: str, code: str) -> None:
        self.key, self.code = key, code
        name = OTHER_DTYPES.get(code, code)
        super().__init__(f"tensor {key!r} is {name} ({code}), a dtype autodiff does not have (it has "
                         f"{', '.join(DTYPES.values())}); convert it where it was saved, e.g. with "
                         "{k: v.float() for k, v in state_dict.items()} in PyTorch")


def _package() -> Any:
    try:
        import safetensors.numpy
    except ImportError:
        raise ModuleNotFoundError(INSTALL_HINT) from None
    return safetensors.numpy


def write(f: Any, arrays: dict[str, Any], metadata: dict[str, str] | None = None) -> None:
    """Store host ``arrays`` under their keys at path ``f`` (or in the binary file ``f``),
    through a temporary file for a path, so a failed save leaves the old file."""
    st = _package()
    # The package writes an array's memory as it lies: strided views must be made C order
    # (``require`` keeps a 0-d array 0-d, where ``ascontiguousarray`` would make it 1-d).
    host = {}
    for k, a in arrays.items():
        a = np.require(a, requirements="C")
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        host[k] = a
    blob = st.save(host, metadata=metadata)
    if hasattr(f, "write"):
        f.write(blob)
        return
    write_atomically(f, lambda out: out.write(blob))


def _header_length(start: bytes, size: int) -> int:
    """The header's length, from the file's first 8 bytes, checked against the file's size."""
    if len(start) < 8:
        raise SafetensorsFileError("the file is shorter than a safetensors header")
    n = int.from_bytes(start[:8], "little")
    if n > _MAX_HEADER or 8 + n > size:
        raise SafetensorsFileError(f"its header declares {n} bytes, more than the file holds")
    return n


def _check(header_bytes: bytes) -> dict:
    """The parsed header, with every array's dtype one autodiff has."""
    try:
        head = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise SafetensorsFileError(f"its header is not valid JSON ({type(e).__name__})") from None
    if not isinstance(head, dict):
        raise SafetensorsFileError("its header is not a JSON object")
    for key, entry in head.items():
        if key == "__metadata__":
            continue
        code = entry.get("dtype") if isinstance(entry, dict) else None
        if not isinstance(code, str):
            raise SafetensorsFileError(f"the header entry of {key!r} is malformed")
        if code not in DTYPES:
            raise UnsupportedDtypeError(key, code)
    return head


def read(f: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays (in the file's order) and the ``__metadata__`` strings of a safetensors file."""
    st = _package()
    if hasattr(f, "read"):
        data = f.read()
        n = _header_length(data, len(data))
        head = _check(data[8:8 + n])
        load = lambda: st.load(data)  # noqa: E731
    else:
        path = os.fspath(f)
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = _check(fh.read(_header_length(fh.read(8), size)))
        load = lambda: st.load_file(path)  # noqa: E731
    try:
        arrays = load()
    except Exception as e:  # the package raises its own SafetensorError (an Exception) for bad files
        raise SafetensorsFileError(str(e)) from None
    meta = head.get("__metadata__") or {}
    return arrays, meta if isinstance(meta, dict) else {}
