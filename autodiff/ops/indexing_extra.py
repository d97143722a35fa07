"""Index ops along one dimension: ``gather``, ``scatter_add``, ``index_select``, ``masked_fill``.

``gather`` and ``scatter_add`` are each other's adjoints, so each one's backward is the
other and gradients of any order follow; repeated indices accumulate (``index_add``).
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import as_tensor, cast, device_mismatch, wrap_dim
from autodiff.ops.elementwise import where
from autodiff.ops.indexing import scatter_into
from autodiff.tensor import Tensor, _make


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
    _check_range(index, xshape[d], d, op)
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
        es = self.next_edges[1]
        return g, (_gather(g, self.dim, self.index) if es is not None else None)


def _gather(input: Tensor, d: int, index: Tensor) -> Tensor:
    be = input._be
    data = be.gather(input._data, d, index._data)
    if input._requires_grad and _grad.enabled:
        node = GatherBackward0((edge_of(input),))
        node.in_shape, node.dim, node.index = input._data.shape, d, index
        return _make(data, be, node)
    return _make(data, be)


def _scatter_add_into(src: Tensor, shape: tuple, d: int, index: Tensor) -> Tensor:
    """zeros(shape).scatter_add(d, index, src), differentiable in ``src``."""
    be = src._be
    data = be.zeros(shape, src.dtype.name)
    be.scatter_add(data, d, index._data, src._data)
    if src._requires_grad and _grad.enabled:
        node = ScatterAddBackward0((None, edge_of(src)))
        node.dim, node.index = d, index
        return _make(data, be, node)
    return _make(data, be)


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
    if _grad.enabled and (input._requires_grad or src._requires_grad):
        node = ScatterAddBackward0((edge_of(input), edge_of(src)))
        node.dim, node.index = d, index
        return _make(data, be, node)
    return _make(data, be)


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
    if index.dtype.kind != "i" or index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector of integers")
    d = wrap_dim(dim, input.ndim)
    size = input._data.shape[d] if input.ndim else 1
    _check_range(index, size, d, "index_select")
    be = input._be
    idx = be.reshape(index._data, (-1,))
    data = be.take(input._data, idx, d)
    if input._requires_grad and _grad.enabled:
        node = IndexSelectBackward0((edge_of(input),))
        node.in_shape = input._data.shape
        node.index = (slice(None),) * d + (idx,)
        return _make(data, be, node)
    return _make(data, be)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``input`` with ``value`` where ``mask`` (bool, broadcastable) is True."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if mask._be is not input._be:
        raise device_mismatch(input, mask, "masked_fill")
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
