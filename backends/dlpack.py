"""DLPack capsules on their own: where a capsule's memory lives, and a wrapper that lets
``from_dlpack`` functions (which take only objects with ``__dlpack__``) import one.

A capsule is what the legacy API hands out (``torch.utils.dlpack.to_dlpack(t)``,
``autodiff.utils.dlpack.to_dlpack(t)``). Its device is read from the ``DLTensor`` the
capsule points to (DLPack's C layout, ``dlpack.h``), through ``ctypes``: nothing else of it
is touched, and the capsule is consumed once, by the library that imports it.
"""

from __future__ import annotations

import ctypes
from typing import Any

KDLCPU, KDLCUDA = 1, 2  # DLPack's device types this project has backends for

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype = ctypes.c_char_p
_get_name.argtypes = [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


# Where the DLTensor's ``device`` field sits in what each kind of capsule points to:
# ``DLManagedTensor`` starts with the DLTensor (``void* data`` first); ``DLManagedTensorVersioned``
# (DLPack >= 1.0) puts a version (two uint32), ``manager_ctx``, ``deleter`` and ``flags`` before it.
_PTR = ctypes.sizeof(ctypes.c_void_p)
_DEVICE_OFFSET = {b"dltensor": _PTR, b"dltensor_versioned": 8 + _PTR + _PTR + 8 + _PTR}


def is_capsule(obj: Any) -> bool:
    return type(obj).__name__ == "PyCapsule"


def capsule_device(capsule: Any) -> tuple[int, int]:
    """DLPack's ``(device_type, device_id)`` of the memory a DLPack capsule holds."""
    name = _get_name(capsule)
    if name not in _DEVICE_OFFSET:
        raise BufferError(f"not an unconsumed DLPack capsule (its name is {name!r}; a capsule "
                          "can be imported only once)")
    dev = _DLDevice.from_address(_get_pointer(capsule, name) + _DEVICE_OFFSET[name])
    return dev.device_type, dev.device_id


def set_capsule_device(capsule: Any, device_type: int, device_id: int) -> None:
    """Rewrite where an unconsumed capsule says its memory is (the simulated CUDA devices
    export their host memory as CUDA memory, and read it back as host memory)."""
    name = _get_name(capsule)
    if name not in _DEVICE_OFFSET:
        raise BufferError(f"not an unconsumed DLPack capsule (its name is {name!r})")
    dev = _DLDevice.from_address(_get_pointer(capsule, name) + _DEVICE_OFFSET[name])
    dev.device_type, dev.device_id = device_type, device_id


class CapsuleExporter:
    """An object with ``__dlpack__`` handing out one capsule, once."""

    def __init__(self, capsule: Any) -> None:
        self._device = capsule_device(capsule)
        self._capsule = capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._device

    def __dlpack__(self, **kwargs: Any) -> Any:
        capsule, self._capsule = self._capsule, None
        if capsule is None:
            raise BufferError("this DLPack capsule was already imported")
        return capsule
