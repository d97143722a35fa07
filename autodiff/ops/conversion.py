"""Dtype and device conversion (``to``, ``float()``, ``cuda()``), recorded as ``ToCopyBackward0``."""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.device import backend_for, device
from autodiff.tensor import Tensor, _make


class ToCopyBackward0(Node):
    """The gradient goes back to the input's dtype and device."""

    __slots__ = ("src_dtype", "src_be")

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
    if t._requires_grad and _grad.enabled:
        if dtype.kind != "f":
            return out
        node = ToCopyBackward0((edge_of(t),))
        node.src_dtype = src_dtype
        node.src_be = src_be
        out.grad_fn = node
        out._requires_grad = True
    return out


def to_dtype(t: Tensor, dtype: dtypes.dtype) -> Tensor:
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
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {arg!r}")
    be = t._be if dev is None else backend_for(dev)
    return _convert(t, dtype or t.dtype, be, copy)
