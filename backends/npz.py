"""Reading and writing ``.npz`` archives of host (NumPy) arrays, never with pickle.

``np.load(..., allow_pickle=False)`` refuses object arrays, so loading an untrusted file
cannot run code.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def write(path: Any, arrays: dict[str, Any], meta: str) -> None:
    """Store ``arrays`` and a text ``meta`` (JSON) in one uncompressed ``.npz`` file."""
    payload = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    payload["__meta__"] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **payload)
        return
    with open(path, "wb") as f:  # np.savez(path) would append ".npz" to a bare name
        np.savez(f, **payload)


def read(path: Any) -> tuple[dict[str, Any], str]:
    """The arrays and the meta text written by ``write``."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
        if "__meta__" not in z.files:
            raise RuntimeError("not an autodiff checkpoint: the file has no '__meta__' entry")
        meta = bytes(z["__meta__"]).decode("utf-8")
    return arrays, meta
