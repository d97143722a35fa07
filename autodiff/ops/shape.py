"""Shape ops: ``view``/``reshape``, ``t``/``transpose``, ``unsqueeze``/``squeeze``,
``flatten``, ``cat``, ``clone``, ``contiguous``.

Views share storage and the version counter with their base, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import check_same_device, promote, wrap_dim
from autodiff.tensor import Size, Tensor, _make, as_view


def _as_view(out: Tensor, base: Tensor, fn: Any, *args: Any) -> Tensor:
    """``out`` is the view ``fn(base, *args)`` (shares storage and version counter)."""
    return as_view(out, base, fn, args)


def _shape_arg(size: tuple) -> tuple:
    if len(size) == 1 and not isinstance(size[0], int):
        return tuple(size[0])
    return size


def _infer_shape(shape: tuple, numel: int, t: Tensor) -> tuple:
    shape = tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if n == -1 else n for n in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    __slots__ = ("in_shape",)

    def backward(self, g: Tensor) -> Tensor:
        return reshape(g, self.in_shape)


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def view(input: Tensor, *shape: Any) -> Tensor:
    """The same storage seen with another shape; the tensor must be contiguous."""
    be = input._be
    in_shape = input._data.shape
    shape = _infer_shape(_shape_arg(shape), Size(in_shape).numel(), input)
    if len(in_shape) > 1 and not be.is_contiguous(input._data) and shape != in_shape:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    out = _as_view(_make(be.reshape(input._data, shape), be), input, view, shape)
    if input._requires_grad and _grad.enabled:
        node = ViewBackward0((edge_of(input),))
        node.in_shape = in_shape
        out.grad_fn = node
        out._requires_grad = True
    return out


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """Like ``view`` when possible, else a copy with the new shape."""
    be = input._be
    in_shape = input._data.shape
    shape = _infer_shape(_shape_arg(shape), Size(in_shape).numel(), input)
    if shape == in_shape and not (input._requires_grad and _grad.enabled):
        return _as_view(_make(input._data, be), input, reshape, shape)
    data = be.reshape(input._data, shape)
    out = _make(data, be)
    is_view = be.is_contiguous(input._data) or len(in_shape) <= 1
    if is_view:
        _as_view(out, input, reshape, shape)
    if input._requires_grad and _grad.enabled:
        node = (ViewBackward0 if is_view else UnsafeViewBackward0)((edge_of(input),))
        node.in_shape = in_shape
        out.grad_fn = node
        out._requires_grad = True
    return out


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for d in shape[s : e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1 :])


class PermuteBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g: Tensor) -> Tensor:
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return permute(g, tuple(inverse))


class TBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return t(g)


class TransposeBackward0(Node):
    __slots__ = ("dim0", "dim1")

    def backward(self, g: Tensor) -> Tensor:
        return transpose(g, self.dim0, self.dim1)


def _permuted(input: Tensor, axes: tuple, node: Node | None) -> Tensor:
    be = input._be
    out = _as_view(_make(be.transpose(input._data, axes), be), input, permute, axes)
    if node is not None:
        out.grad_fn = node
        out._requires_grad = True
    return out


def permute(input: Tensor, *dims: Any) -> Tensor:
    dims = _shape_arg(dims)
    ndim = input.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    axes = tuple(wrap_dim(d, ndim) for d in dims)
    node = None
    if input._requires_grad and _grad.enabled:
        node = PermuteBackward0((edge_of(input),))
        node.dims = axes
    return _permuted(input, axes, node)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    ndim = input.ndim
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    axes = list(range(ndim))
    if ndim:  # a 0-d tensor accepts dims 0/-1 and stays as it is
        axes[d0], axes[d1] = axes[d1], axes[d0]
    node = None
    if input._requires_grad and _grad.enabled:
        node = TransposeBackward0((edge_of(input),))
        node.dim0, node.dim1 = d0, d1
    return _permuted(input, tuple(axes), node)


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dims."""
    ndim = input.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    node = None
    if input._requires_grad and _grad.enabled:
        node = TBackward0((edge_of(input),))
    return _permuted(input, (1, 0) if ndim == 2 else tuple(range(ndim)), node)


class UnsqueezeBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> Tensor:
        return squeeze(g, self.dim)


class SqueezeBackward0(Node):
    __slots__ = ("in_shape",)

    def backward(self, g: Tensor) -> Tensor:
        return reshape(g, self.in_shape)


class SqueezeBackward1(SqueezeBackward0):
    __slots__ = ()


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1)
    be = input._be
    out = _as_view(_make(be.reshape(input._data, shape[:d] + (1,) + shape[d:]), be), input, unsqueeze, d)
    if input._requires_grad and _grad.enabled:
        node = UnsqueezeBackward0((edge_of(input),))
        node.dim = d
        out.grad_fn = node
        out._requires_grad = True
    return out


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    shape = input._data.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
        node_cls: type = SqueezeBackward0
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(d, len(shape)) for d in dims) if shape else ()
        new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
        node_cls = SqueezeBackward1
    be = input._be
    out = _as_view(_make(be.reshape(input._data, new), be), input, squeeze, dim)
    if input._requires_grad and _grad.enabled:
        node = node_cls((edge_of(input),))
        node.in_shape = shape
        out.grad_fn = node
        out._requires_grad = True
    return out


class CatBackward0(Node):
    __slots__ = ("dim", "sizes")

    def backward(self, g: Tensor) -> tuple:
        grads = []
        start = 0
        prefix = (slice(None),) * self.dim
        for size, edge in zip(self.sizes, self.next_edges):
            grads.append(g[prefix + (slice(start, start + size),)] if edge is not None else None)
            start += size
        return tuple(grads)


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along ``dim`` (all other sizes must match)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    check_same_device(tensors, "cat")
    first = tensors[0]
    for other in tensors[1:]:
        if other.dtype is not first.dtype:
            first, _ = promote(first, other, "cat")
    dt = first.dtype
    from autodiff.ops._prep import cast

    tensors = [cast(x, dt) for x in tensors]
    ref = tensors[0]
    ndim = ref.ndim
    if ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ndim)
    for i, x in enumerate(tensors):
        xs, rs = x._data.shape, ref._data.shape
        if len(xs) != ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ndim} and {len(xs)}"
            )
        for k in range(ndim):
            if k != d and xs[k] != rs[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{rs[k]} but got size {xs[k]} for tensor number {i} in the list."
                )
    be = ref._be
    data = be.concatenate([x._data for x in tensors], d)
    if _grad.enabled and any(x._requires_grad for x in tensors):
        node = CatBackward0(tuple(edge_of(x) for x in tensors))
        node.dim = d
        node.sizes = [x._data.shape[d] for x in tensors]
        return _make(data, be, node)
    return _make(data, be)


concat = cat


def stack(tensors: Any, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(x._data.shape)} at entry {i}"
            )
    d = wrap_dim(dim, len(shape) + 1)
    return cat([unsqueeze(x, d) for x in tensors], d)


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return g


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with its own storage, recorded (its gradient passes straight through)."""
    be = input._be
    data = be.copy(input._data)
    if input._requires_grad and _grad.enabled:
        return _make(data, be, CloneBackward0((edge_of(input),)))
    return _make(data, be)


def contiguous(input: Tensor) -> Tensor:
    be = input._be
    if be.is_contiguous(input._data):
        return input
    return clone(input)
