"""Indexing: ``t[idx]`` (basic indices give views, advanced ones copies), the out-of-place
``index_put`` behind ``t[idx] = value``, and the index ops along one dimension:
``gather``, ``scatter_add``, ``index_select``, ``masked_fill``.

Gradients of advanced indexing scatter back with ``index_add``, so repeated indices
accumulate as they should; ``gather`` and ``scatter_add`` are each other's adjoints.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import record
from autodiff.ops._prep import as_tensor, cast, device_mismatch, wrap_dim
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.comparison import where
from autodiff.ops.conversion import to_backend
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
                if item._be.type != "cpu":
                    raise device_mismatch(t, item, "index")
                item = to_backend(item, be)  # PyTorch takes CPU indices for any device
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
        elif isinstance(item, str):
            raise TypeError(f"new(): invalid data type '{type(item).__name__}'")  # (PyTorch's words)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                "Variables are valid indices (got " + type(item).__name__ + ")"
            )
    if advanced:
        _check_bounds(t, out)
    return tuple(out), advanced


def _check_bounds(t: Tensor, index: list) -> None:
    """Integer index arrays must be in range (PyTorch's IndexError): checked here, on every
    device alike, rather than left to the array library (CuPy wraps them around)."""
    be, shape = t._be, t._data.shape
    taken = [0 if i is None or i is Ellipsis else (i.ndim if _is_mask(be, i) else 1) for i in index]
    dim = 0
    for k, item in enumerate(index):
        if item is Ellipsis:
            dim = len(shape) - sum(taken[k + 1:])
            continue
        if isinstance(item, be._array_type) and not _is_mask(be, item) and dim < len(shape):
            n = shape[dim]
            if item.size and (be.any(be.ge(item, n)) or be.any(be.lt(item, -n))):
                bad = be.item(be.amax(item)) if be.any(be.ge(item, n)) else be.item(be.amin(item))
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
        dim += taken[k]


def _is_mask(be: Any, item: Any) -> bool:
    return isinstance(item, be._array_type) and be.dtype_name(item) == "bool"


def _view_node_class(index: tuple) -> type:
    """PyTorch applies index parts left to right; the last one that does something names it."""
    cls: type = AliasBackward0
    for item in index:
        if item is None:
            cls = IndexUnsqueezeBackward
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


class IndexUnsqueezeBackward(IndexBackward0):
    """``t[None]``: named as ``unsqueeze``'s node (shape.py), computed as an index."""

    __slots__ = ()
    torch_name = "UnsqueezeBackward0"


class AliasBackward0(IndexBackward0):
    __slots__ = ()


def getitem(t: Tensor, index: Any) -> Tensor:
    if not t._data.shape and not isinstance(index, (tuple, type(None), type(Ellipsis), Tensor)):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>(m)` in C++ to convert a 0-dim tensor to a number")
    idx, advanced = _convert_index(t, index)
    be = t._be
    try:
        data = be.getitem(t._data, idx)
    except IndexError as e:  # the array library's words ("axis") as PyTorch's
        raise IndexError(str(e).replace(" axis ", " dimension ")) from None
    out = _make(data, be)
    if not advanced:
        as_view(out, t, getitem, (idx,))
    cls = IndexBackward0 if advanced else _view_node_class(idx)
    return record(out, cls, (t,), in_shape=t._data.shape, index=idx, accumulate=advanced)


class IndexPutBackward0(Node):
    """Backward of ``scatter_into``: gather the gradient at the same index."""

    __slots__ = ("index",)

    def backward(self, g: Tensor) -> Tensor:
        return _index(g, self.index)


def _index(g: Tensor, index: tuple) -> Tensor:
    be = g._be
    data = be.getitem(g._data, index)
    return record(_make(data, be), IndexBackward0, (g,), in_shape=g._data.shape, index=index,
                  accumulate=True)


def scatter_into(g: Tensor, shape: tuple, index: tuple, accumulate: bool) -> Tensor:
    """A zero tensor of ``shape`` with ``g`` added at ``index`` (differentiable in ``g``)."""
    be = g._be
    data = be.zeros(shape, g.dtype.name)
    if accumulate:
        be.index_add(data, index, g._data)
    else:
        be.setitem(data, index, g._data)
    return record(_make(data, be), IndexPutBackward0, (g,), index=index)


class IndexPutBackward(Node):
    """``out = x.clone(); out[index] = value``: x's gradient is zero where it was overwritten.
    (PyTorch names it as the in-place op it stands for.)"""

    __slots__ = ("index", "value_shape")
    torch_name = "CopySlices"

    def backward(self, g: Tensor) -> tuple:
        ex, ev = edges_of(self)
        gx = index_put(g, self.index, 0.0, _converted=True) if ex is not None else None
        gv = sum_to(_index(g, self.index), self.value_shape) if ev is not None else None
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
    tv = value if isinstance(value, Tensor) else None  # a Python number gets no edge
    return record(_make(data, be), IndexPutBackward, (t, tv), index=idx,
                  value_shape=() if tv is None else tv._data.shape)


def _check_index(input: Tensor, dim: int, index: Tensor, op: str, src: Tensor | None = None) -> int:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._be is not input._be:
        raise device_mismatch(input, index, op)
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    ndim = input.ndim
    d = wrap_dim(dim, ndim)
    if index.ndim != ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor ({op})")
    ishape, xshape = index._data.shape, input._data.shape
    for k in range(ndim):
        if k != d and ishape[k] > xshape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(ishape)} to be smaller "
                f"than self {list(xshape)} apart from dimension {d}"
            )
        if src is not None and ishape[k] > src._data.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(ishape)} to be smaller "
                f"than src {list(src._data.shape)}"
            )
    be, data, n = index._be, index._data, xshape[d]
    if data.size and (be.any(be.ge(data, n)) or be.any(be.lt(data, 0))):  # (no negative indices here)
        bad = be.item(be.amin(data)) if be.any(be.lt(data, 0)) else be.item(be.amax(data))
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    return d


def _check_range(index: Tensor, size: int, dim: int, op: str) -> None:
    be = index._be
    data = index._data
    if data.size and (be.any(be.ge(data, size)) or be.any(be.lt(data, -size))):
        raise IndexError(f"{op}(): index out of range: an index is outside [-{size}, {size - 1}] "
                         f"for dimension {dim} with size {size}")


class GatherBackward0(Node):
    __slots__ = ("in_shape", "dim", "index")

    def backward(self, g: Tensor) -> Tensor:
        return _scatter_add_into(g, self.in_shape, self.dim, self.index)


class ScatterAddBackward0(Node):
    __slots__ = ("dim", "index")

    def backward(self, g: Tensor) -> tuple:
        es = edges_of(self)[1]
        return g, (_gather(g, self.dim, self.index) if es is not None else None)


def _gather(input: Tensor, d: int, index: Tensor) -> Tensor:
    be = input._be
    data = be.gather(input._data, d, index._data)
    return record(_make(data, be), GatherBackward0, (input,), in_shape=input._data.shape, dim=d, index=index)


def _scatter_add_into(src: Tensor, shape: tuple, d: int, index: Tensor) -> Tensor:
    """zeros(shape).scatter_add(d, index, src), differentiable in ``src``."""
    be = src._be
    data = be.zeros(shape, src.dtype.name)
    be.scatter_add(data, d, index._data, src._data)
    return record(_make(data, be), ScatterAddBackward0, (None, src), dim=d, index=index)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and likewise for other dims)."""
    d = _check_index(input, dim, index, "gather")
    return _gather(input, d, index)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    if src._be is not input._be:
        raise device_mismatch(input, src, "scatter_add")
    d = _check_index(input, dim, index, "scatter_add", src)
    if src.dtype is not input.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype ({input.dtype} vs {src.dtype})")
    be = input._be
    data = be.copy(input._data)
    be.scatter_add(data, d, index._data, src._data)
    return record(_make(data, be), ScatterAddBackward0, (input, src), dim=d, index=index)


class IndexSelectBackward0(Node):
    __slots__ = ("in_shape", "index")

    def backward(self, g: Tensor) -> Tensor:
        return scatter_into(g, self.in_shape, self.index, True)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries at positions ``index`` (a 1-D integer tensor) along ``dim``."""
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._be is not input._be:
        raise device_mismatch(input, index, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype.kind != "i":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    d = wrap_dim(dim, input.ndim)
    size = input._data.shape[d] if input.ndim else 1
    _check_range(index, size, d, "index_select")
    be = input._be
    idx = be.reshape(index._data, (-1,))
    data = be.take(input._data, idx, d)
    return record(_make(data, be), IndexSelectBackward0, (input,), in_shape=input._data.shape,
                  index=(slice(None),) * d + (idx,))


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``input`` with ``value`` where ``mask`` (bool, broadcastable) is True."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if mask._be is not input._be:
        raise device_mismatch(input, mask, "masked_fill")
    if value is None or isinstance(value, (list, tuple, str)):
        raise TypeError(f"masked_fill(): argument 'value' must be Number or Tensor, not {type(value).__name__}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        value = cast(value, input.dtype)
    else:
        value = as_tensor(value, input).to(input.dtype)
    out = where(mask, value, input)
    if out._data.shape != input._data.shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(mask.shape)} does not broadcast to "
                           f"the input's shape {list(input.shape)}")
    return out


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("gather", "scatter_add", "index_select", "masked_fill")
METHODS = {
    "__getitem__": getitem, "gather": gather, "scatter_add": scatter_add,
    "index_select": index_select, "masked_fill": masked_fill,
}
