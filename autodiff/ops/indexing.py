"""Indexing: ``t[idx]`` (basic indices give views, advanced ones copies), the out-of-place
``index_put`` behind ``t[idx] = value``, and the index ops along one dimension:
``gather``, ``scatter_add``, ``index_select``, ``masked_fill``.

Gradients of advanced indexing scatter back with ``index_add``, so repeated indices
accumulate as they should; ``gather`` and ``scatter_add`` are each other's adjoints.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import GradientLink, link_gradient, record
from autodiff.ops._prep import as_tensor, cast, device_mismatch, wrap_dim
from autodiff.ops.broadcasting import expand, sum_to
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
        elif isinstance(item, (list, tuple, range)):
            advanced = True
            out.append(as_tensor(list(item) if isinstance(item, range) else item, t)._data)
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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return _index(tangents[0], self.index)

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

    __slots__ = ("index", "accumulate")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return scatter_into(tangents[0], out._data.shape, self.index, self.accumulate)

    def backward(self, g: Tensor) -> Tensor:
        return _index(g, self.index)


def _index(g: Tensor, index: tuple) -> Tensor:
    if _vmap.active and (r := _vmap.dispatch("index_grad", _index, (g, index), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    be = g._be
    data = be.getitem(g._data, index)
    return record(_make(data, be), IndexBackward0, (g,), in_shape=g._data.shape, index=index,
                  accumulate=True)


def scatter_into(g: Tensor, shape: tuple, index: tuple, accumulate: bool) -> Tensor:
    """A zero tensor of ``shape`` with ``g`` added at ``index`` (differentiable in ``g``)."""
    if _vmap.active and (r := _vmap.dispatch("scatter_into", scatter_into, (g, shape, index, accumulate), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    be = g._be
    data = be.zeros(shape, g.dtype.name)
    if accumulate:
        be.index_add(data, index, g._data)
    else:
        be.setitem(data, index, g._data)
    return record(_make(data, be), IndexPutBackward0, (g,), index=index, accumulate=accumulate)


class IndexPutBackward(Node):
    """``out = x.clone(); out[index] = value``: x's gradient is zero where it was overwritten.
    (PyTorch names it as the in-place op it stands for.)"""

    __slots__ = ("index", "value_shape")
    jvp = derived_jvp
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
    ndim = input.ndim
    d = wrap_dim(dim, ndim)
    if not index._data.size:  # an empty index selects nothing: PyTorch checks no further
        return d
    if index.dtype is not dtypes.int64 and index.dtype is not dtypes.int32:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
    if src is not None and not src._data.size:  # (PyTorch's words for an empty src)
        raise RuntimeError(f"Index tensor must have the same number of dimensions as src tensor ({op}: src is "
                           f"empty, {list(src.shape)}, the index is not)")
    if src is not None and src.ndim:
        wrap_dim(dim, src.ndim)  # (PyTorch's IndexError when dim is out of src's range)
    if index.ndim != ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor ({op})")
    if src is not None and max(src.ndim, 1) != max(index.ndim, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as src tensor ({op})")
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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return _gather(tangents[0], self.dim, self.index)

    def backward(self, g: Tensor) -> Tensor:
        return _scatter_add_into(g, self.in_shape, self.dim, self.index)


class ScatterAddBackward0(Node):
    __slots__ = ("dim", "index")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        es = edges_of(self)[1]
        return g, (_gather(g, self.dim, self.index) if es is not None else None)


def _gather(input: Tensor, d: int, index: Tensor) -> Tensor:
    if _vmap.active and (r := _vmap.dispatch("gather_grad", _gather, (input, d, index), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    be = input._be
    data = be.gather(input._data, d, index._data)
    return record(_make(data, be), GatherBackward0, (input,), in_shape=input._data.shape, dim=d, index=index)


def _scatter_add_into(src: Tensor, shape: tuple, d: int, index: Tensor) -> Tensor:
    """zeros(shape).scatter_add(d, index, src), differentiable in ``src``."""
    if _vmap.active and (r := _vmap.dispatch("scatter_add_into", _scatter_add_into, (src, shape, d, index), {})) \
            is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    be = src._be
    data = be.zeros(shape, src.dtype.name)
    be.scatter_add(data, d, index._data, src._data)
    return record(_make(data, be), ScatterAddBackward0, (None, src), dim=d, index=index)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and likewise for other dims)."""
    d = _check_index(input, dim, index, "gather")
    if not index._data.size:  # nothing gathered: an empty tensor of the index's shape
        return input.reshape(-1)[:0].reshape(index._data.shape)
    return _gather(input, d, index)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    if src._be is not input._be:
        raise device_mismatch(input, src, "scatter_add")
    d = _check_index(input, dim, index, "scatter_add", src)
    if src.dtype is not input.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype ({input.dtype} vs {src.dtype})")
    if not index._data.size:  # nothing to add
        return input.clone()
    be = input._be
    data = be.copy(input._data)
    be.scatter_add(data, d, index._data, src._data)
    return record(_make(data, be), ScatterAddBackward0, (input, src), dim=d, index=index)


class IndexSelectBackward0(Node):
    __slots__ = ("in_shape", "index")
    jvp = derived_jvp

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
    if not input.ndim and index._data.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index._data.size} value(s)")
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
    # (the result takes the broadcast shape, as in PyTorch; masked_fill_ refuses a larger one)
    return where(mask, value, input)


# ---- more index ops along one dim ------------------------------------------------------------
def _check_vector_index(input: Tensor, dim: int, index: Tensor, op: str) -> int:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._be is not input._be:
        raise device_mismatch(input, index, op)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}_(): Expected dtype int32/int64 for index")
    if index.ndim > 1:
        raise IndexError(f"{op}_(): Index is supposed to be a vector")
    d = wrap_dim(dim, input.ndim)
    _check_range(index, input._data.shape[d] if input.ndim else 1, d, op)
    return d


def _along(d: int, index: Tensor) -> tuple:
    """The ``getitem`` index that picks ``index`` (1-D) along dim ``d``."""
    be = index._be
    return (slice(None),) * d + (be.reshape(index._data, (-1,)),)


def _source_shape_check(input: Tensor, d: int, index: Tensor, source: Tensor, op: str) -> None:
    expect = list(input._data.shape)
    if expect:
        expect[d] = index.numel()
    if list(source._data.shape) != expect and not (source.ndim == 0 and index.numel() == 1):
        raise RuntimeError(f"{op}_(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {expect} and source slice shape: "
                           f"{list(source._data.shape)}")


class IndexAddBackward0(Node):
    __slots__ = ("index", "alpha", "source_shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        ei, es = edges_of(self)
        gs = None
        if es is not None:
            gs = _index(g, self.index).reshape(self.source_shape)
            if self.alpha != 1:
                gs = gs * self.alpha
        return (g if ei is not None else None), gs


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim``
    (repeated indices accumulate)."""
    d = _check_vector_index(input, dim, index, "index_add")
    if source._be is not input._be:
        raise device_mismatch(input, source, "index_add")
    _source_shape_check(input, d, index, source, "index_add")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype.word}) and source ({source.dtype.word}) must "
                           "have the same scalar type")
    if source.dtype is not input.dtype:
        source = cast(source, input.dtype)
    be = input._be
    idx = _along(d, index) if input.ndim else ()
    data = be.copy(input._data)
    src = source._data if alpha == 1 else be.mul(source._data, alpha)
    be.index_add(data, idx, be.reshape(src, be.getitem(data, idx).shape))
    return record(_make(data, be), IndexAddBackward0, (input, source), index=idx, alpha=alpha,
                  source_shape=source._data.shape)


class IndexCopyBackward0(Node):
    __slots__ = ("index", "source_shape")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        ei, es = edges_of(self)
        gi = index_put(g, self.index, 0.0, _converted=True) if ei is not None else None
        gs = _index(g, self.index).reshape(self.source_shape) if es is not None else None
        return gi, gs


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` written at ``index`` along ``dim``."""
    d = _check_vector_index(input, dim, index, "index_copy")
    if source._be is not input._be:
        raise device_mismatch(input, source, "index_copy")
    _source_shape_check(input, d, index, source, "index_copy")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got "
                           f"(self) {input.dtype.c_name} and (source) {source.dtype.c_name}")
    be = input._be
    idx = _along(d, index) if input.ndim else ()
    data = be.copy(input._data)
    be.setitem(data, idx, be.reshape(source._data, be.getitem(data, idx).shape))
    return record(_make(data, be), IndexCopyBackward0, (input, source), index=idx,
                  source_shape=source._data.shape)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at ``index`` along ``dim``."""
    d = _check_vector_index(input, dim, index, "index_fill")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor "
                           f"with {value.ndim} dimension(s).")
    if isinstance(value, Tensor):
        value = cast(value, input.dtype)
    idx = _along(d, index) if input.ndim else ()
    return index_put(input, idx, value, _converted=True)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of the flattened ``input`` at ``index`` (any shape, like ``index``)."""
    if index.dtype.kind not in "iu":
        raise RuntimeError("take(): Expected a long tensor for index, but got " + str(index.dtype))
    return getitem(input.reshape(-1), (index,))


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source`` written (``accumulate``: added) at the positions
    ``index`` of the flattened tensor."""
    if index.dtype.kind not in "iu":
        raise RuntimeError("put(): Expected a long tensor for index, but got " + str(index.dtype))
    if isinstance(source, Tensor) and source.dtype is not input.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{input.dtype.word} and source.dtype = {source.dtype.word}")
    if index.numel() != source.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of elements, but "
                           f"got source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    _check_range(index, input.numel(), 0, "put")
    flat = input.reshape(-1)
    idx = (input._be.reshape(index._data, (-1,)),)
    src = cast(source, input.dtype).reshape(-1)
    if accumulate:
        out = flat + scatter_into(src, flat._data.shape, idx, True)
    else:
        out = index_put(flat, idx, src, _converted=True)
    return out.reshape(input._data.shape)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` with ``indices`` broadcast against ``input`` (the flattened input without ``dim``)."""
    if dim is None:
        return take(input, indices.reshape(-1))
    d = wrap_dim(dim, input.ndim)
    xs, ids = list(input._data.shape), list(indices._data.shape)
    if len(xs) != len(ids):
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {len(xs)} dimensions for input, and {len(ids)} "
                           "dimensions for indices")
    shape = [max(a, b) for a, b in zip(xs, ids)]
    xshape, ishape = list(shape), list(shape)
    xshape[d], ishape[d] = xs[d], ids[d]
    x = expand(input, tuple(xshape)) if tuple(xshape) != tuple(xs) else input
    i = expand(indices, tuple(ishape)) if tuple(ishape) != tuple(ids) else indices
    if i.dtype is not dtypes.int64:
        i = cast(i, dtypes.int64)
    return gather(x, d, i)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where the (broadcast) bool ``mask`` is True, as a 1-D tensor."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {getattr(mask, 'dtype', mask)}")
    if mask._be is not input._be:
        raise device_mismatch(input, mask, "masked_select")
    shape = tuple(input._be.broadcast_shapes(input._data.shape, mask._data.shape))
    x = expand(input, shape) if input._data.shape != shape else input
    m = expand(mask, shape) if mask._data.shape != shape else mask
    return getitem(x, (m,))


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the first elements of ``source`` written, in order, where
    the (broadcastable) ``mask`` is True."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', mask)}")
    if isinstance(source, Tensor) and source.dtype is not input.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got"
                           f"{input.dtype.word} and {source.dtype.word}")
    be = input._be
    m = expand(mask, input._data.shape) if mask._data.shape != input._data.shape else mask
    count = int(be.item(be.sum(be.astype(m._data, "int64"))))
    if count > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as "
                           "the ones in mask")
    src = cast(source, input.dtype).reshape(-1)[:count]
    return index_put(input, (m._data,), src, _converted=True)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the non-zero elements: an ``(n, ndim)`` tensor, or one 1-D tensor per
    dim with ``as_tuple``."""
    be = input._be
    data = input._data if input.ndim else be.reshape(input._data, (1,))
    parts = be.nonzero(data)
    if as_tuple:
        return tuple(_make(p, be) for p in parts) if input.ndim else (_make(parts[0], be),)
    if not input.ndim:
        return _make(be.zeros((parts[0].shape[0], 0), "int64"), be)
    return _make(be.stack(list(parts), 1), be)


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (a view, without that dim)."""
    d = wrap_dim(dim, input.ndim)
    n = input._data.shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (index,))


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim``."""
    d = wrap_dim(dim, input.ndim)
    expect = input._data.shape[:d] + input._data.shape[d + 1:]
    if src._data.shape != expect:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expect)}")
    return index_put(input, (slice(None),) * d + (int(index),), src)


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written into the slice ``start:end:step`` of ``dim``."""
    d = wrap_dim(dim, input.ndim)
    idx = (slice(None),) * d + (slice(start, end, step),)
    expect = input._be.getitem(input._data, idx).shape
    if src._data.shape != expect:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expect)}")
    return index_put(input, idx, src)


class ScatterBackward0(Node):
    """``scatter`` of ``src``: overwritten positions pass no gradient to ``input``; ``src``
    gets the gradient gathered at ``index`` (every duplicate, as in PyTorch)."""

    __slots__ = ("dim", "index")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        ei, es = edges_of(self)
        gi = scatter(g, self.dim, self.index, 0.0) if ei is not None else None
        gs = _gather(g, self.dim, self.index) if es is not None else None
        return gi, gs


class ScatterBackward1(Node):
    __slots__ = ("dim", "index")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        return scatter(g, self.dim, self.index, 0.0)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or a number) written at ``index`` along
    ``dim``; ``reduce="add"``/``"multiply"`` combines instead. A position written twice
    keeps the last write, on every device."""
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        if not isinstance(src, Tensor):
            src = as_tensor(src, input).to(input.dtype).expand(index.shape)
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    is_tensor = isinstance(src, Tensor)
    d = _check_index(input, dim, index, "scatter", src if is_tensor else None)
    if not index._data.size:  # nothing to write
        return input.clone()
    be = input._be
    data = be.copy(input._data)
    if is_tensor:
        if src._be is not be:
            raise device_mismatch(input, src, "scatter")
        if src.dtype is not input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        be.scatter(data, d, index._data, src._data)
        return record(_make(data, be), ScatterBackward0, (input, src), dim=d, index=index)
    be.scatter(data, d, index._data, be.full(index._data.shape, src, input.dtype.name))
    return record(_make(data, be), ScatterBackward1, (input,), dim=d, index=index)


class ScatterReduceBackwardBackward0(GradientLink):
    """The input's gradient of a ``prod`` scatter/index reduce without ``include_self``."""

    __slots__ = ()


class ScatterReduceBackward0(Node):
    __slots__ = ("dim", "index", "reduce", "include_self")
    jvp = derived_jvp
    saved_outputs = (2,)

    def backward(self, g: Tensor) -> tuple:
        x, src, out = self.unpack()
        ei, es = edges_of(self)
        d, index, how = self.dim, self.index, self.reduce
        be = g._be
        hit = _make(be.zeros(x._data.shape, "bool"), be)
        hit = scatter(hit, d, index, True)  # the positions some src element went to
        if how == "sum":
            gi = g if self.include_self else where(hit, 0.0, g)
            gs = _gather(g, d, index)
        elif how == "mean":
            ones = _make(be.ones(src._data.shape, g.dtype.name), be)
            n = _scatter_add_into(ones, x._data.shape, d, index).detach()
            n = n + 1 if self.include_self else where(n == 0, 1.0, n)
            gi = g / n if self.include_self else where(hit, 0.0, g)
            gs = _gather(g / n, d, index)
        elif how in ("amax", "amin"):
            own = x == out
            if not self.include_self:
                own = own & ~hit
            chosen = src == _gather(out, d, index).detach()
            picked = _make(be.astype(chosen._data, g.dtype.name), be)
            n = own.to(g.dtype) + _scatter_add_into(picked, x._data.shape, d, index).detach()
            share = g / where(n == 0, 1.0, n)
            gi = where(own, share, 0.0)
            gs = where(chosen, _gather(share, d, index), 0.0)
        else:  # prod: d out / d y = the product of the others (exact where some are 0)
            x_safe, s_safe = where(x == 0, 1.0, x), where(src == 0, 1.0, src)
            nonzero_prod = scatter_reduce(x_safe, d, index, s_safe, "prod", include_self=self.include_self)
            zeros = _scatter_add_into((src == 0).to(g.dtype), x._data.shape, d, index).detach()
            if self.include_self:
                zeros = zeros + (x == 0).to(g.dtype)
            gi = None
            if self.include_self:
                gi = g * where(zeros == 0, out / x_safe, where((zeros == 1) & (x == 0), nonzero_prod, 0.0))
            else:  # recorded as a function of x too, as PyTorch's formula for prod is
                gi = link_gradient(where(hit, 0.0, g), ScatterReduceBackwardBackward0, (x,))
            zg = _gather(zeros, d, index)
            others = where(zg == 0, _gather(out, d, index) / s_safe,
                           where((zg == 1) & (src == 0), _gather(nonzero_prod, d, index), 0.0))
            gs = _gather(g, d, index) * others
        return (gi if ei is not None else None), (gs if es is not None else None)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce the elements of ``src`` into a copy of ``input`` at ``index`` along ``dim``
    with ``reduce`` (sum, prod, mean, amax, amin), including ``input``'s own value unless
    ``include_self=False``. Ties of amax/amin share the gradient evenly, as in PyTorch."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    d = _check_index(input, dim, index, "scatter_reduce", src)
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    if not index._data.size:  # nothing to reduce into input
        return input.clone()
    be = input._be
    data = be.scatter_reduce(be.copy(input._data), d, index._data, src._data, reduce, include_self)
    return record(_make(data, be), ScatterReduceBackward0, (input, src), saved=(input, src), save_output=True,
                  dim=d, index=index, reduce=reduce, include_self=include_self)


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """Reduce the slices of ``source`` into a copy of ``input`` at positions ``index`` (1-D)
    along ``dim``: ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"`` (``scatter_reduce`` with
    the index repeated across the other dims)."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    d = _check_vector_index(input, dim, index, "index_reduce")
    _source_shape_check(input, d, index, source, "index_reduce")
    shape = [1] * source.ndim
    shape[d] = index.numel()
    idx = expand(cast(index, dtypes.int64).reshape(tuple(shape)), source._data.shape)
    return scatter_reduce(input, d, idx, source, reduce, include_self=include_self)




# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "gather", "scatter_add", "index_select", "masked_fill", "index_add", "index_copy", "index_fill",
    "put", "take", "take_along_dim", "masked_select", "masked_scatter", "nonzero", "argwhere", "select",
    "select_scatter", "slice_scatter", "scatter", "scatter_reduce", "index_reduce",
)
METHODS = {"__getitem__": getitem} | {name: globals()[name] for name in FUNCTIONS}
