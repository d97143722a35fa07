"""Indexing: ``t[idx]`` (basic indices give views, advanced ones copies) and the
out-of-place ``index_put`` behind ``t[idx] = value``.

Gradients of advanced indexing scatter back with ``index_add``, so repeated indices
accumulate as they should.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import as_tensor, cast, device_mismatch
from autodiff.ops.reduction import sum_to
from autodiff.tensor import Tensor, _make, as_view


def _convert_index(t: Tensor, index: Any) -> tuple[tuple, bool]:
    """The index as a tuple the backend understands, and whether it is advanced."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    advanced = False
    be = t._be
    for item in index:
        if isinstance(item, Tensor):
            if item._be is not be:
                raise device_mismatch(t, item, "index")
            kind = item._data.dtype.kind
            if kind == "f":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors"
                )
            if kind == "i" and item.ndim == 0:
                out.append(int(item.item()))
                continue
            advanced = True
            out.append(item._data)
        elif isinstance(item, (list, tuple)):
            advanced = True
            out.append(as_tensor(item, t)._data)
        elif isinstance(item, bool):
            advanced = True
            out.append(be.asarray(item))
        elif item is None or item is Ellipsis or isinstance(item, (int, slice)):
            if isinstance(item, slice) and item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(item)
        elif hasattr(item, "__index__"):
            out.append(item.__index__())
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                "Variables are valid indices (got " + type(item).__name__ + ")"
            )
    return tuple(out), advanced


def _view_node_class(index: tuple) -> type:
    """PyTorch applies index parts left to right; the last one that does something names it."""
    cls: type = AliasBackward0
    for item in index:
        if item is None:
            cls = UnsqueezeBackward0
        elif isinstance(item, int):
            cls = SelectBackward0
        elif isinstance(item, slice) and item != slice(None):
            cls = SliceBackward0
    if cls is AliasBackward0 and any(isinstance(i, slice) for i in index):
        cls = SliceBackward0
    return cls


class IndexBackward0(Node):
    """Scatter the gradient back into a zero tensor of the input's shape."""

    __slots__ = ("in_shape", "index", "accumulate", "dtype")

    def backward(self, g: Tensor) -> Tensor:
        return scatter_into(g, self.in_shape, self.index, self.accumulate)


class SelectBackward0(IndexBackward0):
    __slots__ = ()


class SliceBackward0(IndexBackward0):
    __slots__ = ()


class UnsqueezeBackward0(IndexBackward0):
    __slots__ = ()


class AliasBackward0(IndexBackward0):
    __slots__ = ()


def getitem(t: Tensor, index: Any) -> Tensor:
    if not t._data.shape and not isinstance(index, (tuple, type(None), type(Ellipsis), Tensor)):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>(m)` in C++ to convert a 0-dim tensor to a number")
    idx, advanced = _convert_index(t, index)
    be = t._be
    data = be.getitem(t._data, idx)
    out = _make(data, be)
    if not advanced:
        as_view(out, t, getitem, (idx,))
    if t._requires_grad and _grad.enabled:
        cls = IndexBackward0 if advanced else _view_node_class(idx)
        node = cls((edge_of(t),))
        node.in_shape = t._data.shape
        node.index = idx
        node.accumulate = advanced
        out.grad_fn = node
        out._requires_grad = True
    return out


class IndexPutBackward0(Node):
    """Backward of ``scatter_into``: gather the gradient at the same index."""

    __slots__ = ("index",)

    def backward(self, g: Tensor) -> Tensor:
        return _gather(g, self.index)


def _gather(g: Tensor, index: tuple) -> Tensor:
    be = g._be
    data = be.getitem(g._data, index)
    if g._requires_grad and _grad.enabled:
        node = IndexBackward0((edge_of(g),))
        node.in_shape = g._data.shape
        node.index = index
        node.accumulate = True
        return _make(data, be, node)
    return _make(data, be)


def scatter_into(g: Tensor, shape: tuple, index: tuple, accumulate: bool) -> Tensor:
    """A zero tensor of ``shape`` with ``g`` added at ``index`` (differentiable in ``g``)."""
    be = g._be
    data = be.zeros(shape, g.dtype.name)
    if accumulate:
        be.index_add(data, index, g._data)
    else:
        be.setitem(data, index, g._data)
    if g._requires_grad and _grad.enabled:
        node = IndexPutBackward0((edge_of(g),))
        node.index = index
        return _make(data, be, node)
    return _make(data, be)


class CopySlices(Node):
    """``out = x.clone(); out[index] = value``: x's gradient is zero where it was overwritten."""

    __slots__ = ("index", "value_shape")

    def backward(self, g: Tensor) -> tuple:
        ex, ev = self.next_edges
        gx = index_put(g, self.index, 0.0, _converted=True) if ex is not None else None
        gv = sum_to(_gather(g, self.index), self.value_shape) if ev is not None else None
        return gx, gv


def index_put(t: Tensor, index: Any, value: Any, _converted: bool = False) -> Tensor:
    """Out-of-place ``t[index] = value`` (``value`` broadcasts to the indexed shape)."""
    idx = index if _converted else _convert_index(t, index)[0]
    be = t._be
    data = be.copy(t._data)
    if isinstance(value, Tensor):
        if value._be is not be:
            raise device_mismatch(t, value, "index_put_")
        if value.dtype is not t.dtype:
            value = cast(value, t.dtype)
        vdata = value._data
    else:
        if isinstance(value, float) and t.dtype.kind != "f":
            vdata = int(value) if t.dtype is not dtypes.bool else bool(value)
        else:
            vdata = value
    be.setitem(data, idx, vdata)
    vreq = isinstance(value, Tensor) and value._requires_grad
    if _grad.enabled and (t._requires_grad or vreq):
        node = CopySlices((edge_of(t), edge_of(value) if vreq else None))
        node.index = idx
        node.value_shape = value._data.shape if isinstance(value, Tensor) else ()
        return _make(data, be, node)
    return _make(data, be)
