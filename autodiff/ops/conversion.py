"""Dtype and device conversion (``to``, ``float()``, ``cuda()``), recorded as ``ToCopyBackward0``."""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.node import Node
from autodiff.autograd.record import record
from autodiff.device import backend_for, device
from autodiff.tensor import Tensor, _make


class ToCopyBackward0(Node):
    """The gradient goes back to the input's dtype and device."""

    __slots__ = ("src_dtype", "src_be")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return _convert(tangents[0], out.dtype, out._be)

    def backward(self, g: Tensor) -> Tensor:
        return _convert(g, self.src_dtype, self.src_be)


def _convert(t: Tensor, dtype: dtypes.dtype, be: Any, copy: bool = False) -> Tensor:
    src_be = t._be
    src_dtype = t.dtype
    if be is src_be and dtype is src_dtype and not copy:
        return t
    data = t._data
    if be is not src_be:
        data = be.from_host(src_be.to_host(data))
    if dtype is not src_dtype:
        data = be.astype(data, dtype.name)
    elif copy and be is src_be:
        data = be.copy(data)
    out = _make(data, be)
    if dtype.kind != "f":  # an integer or bool result has no gradient
        return out
    return record(out, ToCopyBackward0, (t,), src_dtype=src_dtype, src_be=src_be)


def to_backend(t: Tensor, be: Any) -> Tensor:
    """``t`` on the device of backend ``be`` (a recorded copy, or ``t`` itself)."""
    return _convert(t, t.dtype, be)


def to_dtype(t: Tensor, dtype: dtypes.dtype) -> Tensor:
    if _vmap.active and t.__class__ is not Tensor:  # (a gradient batched by vmap: func.vjp)
        return t.to(dtype)
    return _convert(t, dtype, t._be)


def to(t: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; ``copy=True`` copies."""
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            dtype, dev = arg.dtype, arg.device
        elif isinstance(arg, (str, device)):
            dev = arg
        elif isinstance(arg, int) and not isinstance(arg, bool):  # an accelerator's index
            dev = f"cuda:{arg}"
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {arg!r}")
    be = t._be if dev is None else backend_for(dev)
    return _convert(t, dtype or t.dtype, be, copy)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("to",)


def _cast_method(dt: dtypes.dtype) -> Any:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return to_dtype(self, dt)

    method.__name__ = dt.name
    return method


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    name = "cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else str(device))
    return to(self, name)


def _get_device(self: Tensor) -> int:
    """The CUDA device index of a CUDA tensor; -1 for a CPU tensor (PyTorch's convention)."""
    return -1 if self._be.index is None else self._be.index


def _pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """A CPU tensor for fast copies to a GPU: NumPy memory is already what CuPy copies
    from, so this is the tensor itself (PyTorch would copy it into page-locked memory)."""
    if self._be.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    return self


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor in ``other``'s dtype (PyTorch's ``type_as``; the device stays)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    return to(self, other.dtype)


METHODS = {
    "type_as": _type_as,
    "to": to, "cpu": lambda self: to(self, "cpu"), "cuda": _cuda, "get_device": _get_device,
    "pin_memory": _pin_memory,
    "float": _cast_method(dtypes.float32), "double": _cast_method(dtypes.float64),
    "half": _cast_method(dtypes.float16), "int": _cast_method(dtypes.int32),
    "long": _cast_method(dtypes.int64), "bool": _cast_method(dtypes.bool),
    "byte": _cast_method(dtypes.uint8), "short": _cast_method(dtypes.int16), "char": _cast_method(dtypes.int8),
}
