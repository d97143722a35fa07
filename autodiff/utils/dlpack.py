"""``autodiff.utils.dlpack``: exchanging tensors with other array libraries through DLPack,
as ``torch.utils.dlpack``.

``from_dlpack(x)`` takes any object with ``__dlpack__`` and ``__dlpack_device__`` (a NumPy
or CuPy array, a PyTorch tensor, another autodiff tensor) or a DLPack capsule, and returns
a tensor sharing its memory: on the CPU for host memory, on ``cuda:i`` for CUDA memory.
``to_dlpack(t)`` is ``t.__dlpack__()``: a capsule for libraries that take capsules.
"""

from __future__ import annotations

from typing import Any

import backends
from autodiff import dtypes
from autodiff.tensor import Tensor, _make
from backends.dlpack import KDLCPU, KDLCUDA, CapsuleExporter, is_capsule


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of ``tensor``'s memory (imported once, by one consumer)."""
    return tensor.__dlpack__()


def _device_name(kind: int, index: int) -> str:
    if kind == KDLCPU:
        return "cpu"
    if kind == KDLCUDA:
        return f"cuda:{index}"
    raise RuntimeError(f"from_dlpack: unsupported DLPack device type {kind} (autodiff imports "
                       f"CPU ({KDLCPU}) and CUDA ({KDLCUDA}) memory)")


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing the memory of ``ext_tensor`` (an object with ``__dlpack__``, or a
    DLPack capsule), on the device that memory is on. No copy is made."""
    if is_capsule(ext_tensor):
        ext_tensor = CapsuleExporter(ext_tensor)
    elif not hasattr(ext_tensor, "__dlpack__") or not hasattr(ext_tensor, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ and __dlpack_device__ "
                        f"or a DLPack capsule, got {type(ext_tensor).__name__}")
    kind, index = ext_tensor.__dlpack_device__()
    be = backends.get(_device_name(int(kind), int(index)))
    data = be.from_dlpack(ext_tensor)
    if be.dtype_name(data) not in dtypes.BY_NAME:
        raise TypeError(f"from_dlpack: autodiff has no dtype for {be.dtype_name(data)} data")
    return _make(data, be)


__all__ = ["from_dlpack", "to_dlpack"]
