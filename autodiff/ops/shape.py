"""Shape ops: ``view``/``reshape``/``flatten``, ``permute``/``transpose``/``t``,
``unsqueeze``/``squeeze``, ``cat``/``stack``, ``split``/``chunk``, ``flip``, ``repeat``,
constant ``pad``, ``clone``/``contiguous``.

Views share storage and the version counter with their base, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import record
from autodiff.ops._prep import cast, check_same_device, promote, size_arg, wrap_dim, wrap_dims
from autodiff.ops.indexing import getitem
from autodiff.tensor import Tensor, _make, as_view


def _as_view(out: Tensor, base: Tensor, fn: Any, *args: Any) -> Tensor:
    """``out`` is the view ``fn(base, *args)`` (shares storage and version counter)."""
    return as_view(out, base, fn, args)


def _shape_arg(size: tuple) -> tuple:
    return size_arg(size)


def _infer_shape(shape: tuple, numel: int, t: Tensor) -> tuple:
    shape = tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod([n for n in shape if n != -1])
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
    shape = _infer_shape(_shape_arg(shape), math.prod(in_shape), input)
    if len(in_shape) > 1 and not be.is_contiguous(input._data) and shape != in_shape:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    out = _as_view(_make(be.reshape(input._data, shape), be), input, view, shape)
    return record(out, ViewBackward0, (input,), in_shape=in_shape)


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """Like ``view`` when possible, else a copy with the new shape."""
    be = input._be
    in_shape = input._data.shape
    shape = _infer_shape(_shape_arg(shape), math.prod(in_shape), input)
    if shape == in_shape and not (input._requires_grad and _grad.enabled):
        return _as_view(_make(input._data, be), input, reshape, shape)
    data = be.reshape(input._data, shape)
    out = _make(data, be)
    is_view = be.is_contiguous(input._data) or len(in_shape) <= 1
    if is_view:
        _as_view(out, input, reshape, shape)
    return record(out, (ViewBackward0 if is_view else UnsafeViewBackward0), (input,), in_shape=in_shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = input._data.shape
    if not shape:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)  # (only checked: -1 and 0 are valid)
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return reshape(input, shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])


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


def _permuted(input: Tensor, axes: tuple) -> Tensor:
    be = input._be
    return _as_view(_make(be.transpose(input._data, axes), be), input, permute, axes)


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
    return record(_permuted(input, axes), PermuteBackward0, (input,), dims=axes)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    ndim = input.ndim
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    axes = list(range(ndim))
    if ndim:  # a 0-d tensor accepts dims 0/-1 and stays as it is
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return record(_permuted(input, tuple(axes)), TransposeBackward0, (input,), dim0=d0, dim1=d1)


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dims."""
    ndim = input.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return record(_permuted(input, (1, 0) if ndim == 2 else tuple(range(ndim))), TBackward0, (input,))


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
    return record(out, UnsqueezeBackward0, (input,), dim=d)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    shape = input._data.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
        node_cls: type = SqueezeBackward0
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(d, len(shape)) for d in dims)
        new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
        node_cls = SqueezeBackward1
    be = input._be
    out = _as_view(_make(be.reshape(input._data, new), be), input, squeeze, dim)
    return record(out, node_cls, (input,), in_shape=shape)


class CatBackward0(Node):
    __slots__ = ("dim", "sizes")

    def backward(self, g: Tensor) -> tuple:
        grads = []
        start = 0
        prefix = (slice(None),) * self.dim
        for size, edge in zip(self.sizes, edges_of(self)):
            grads.append(g[prefix + (slice(start, start + size),)] if edge is not None else None)
            start += size
        return tuple(grads)


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along ``dim`` (all other sizes must match)."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")  # (PyTorch's class)
    check_same_device(tensors, "cat")
    first = tensors[0]
    for other in tensors[1:]:
        if other.dtype is not first.dtype:
            first, _ = promote(first, other, "cat")
    dt = first.dtype
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
    return record(_make(data, be), CatBackward0, tuple(tensors), dim=d, sizes=[x._data.shape[d] for x in tensors])


concat = cat


def stack(tensors: Any, dim: int = 0) -> Tensor:
    if isinstance(tensors, Tensor):
        raise TypeError("stack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
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


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    if not tensor.ndim:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, tensor.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [min(step, n - s) for s in range(0, n, step)] if step and n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    out = []
    start = 0
    prefix = (slice(None),) * d
    for size in sizes:
        out.append(getitem(tensor, prefix + (slice(start, start + size),)))
        start += size
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ``ceil(size / chunks)`` (fewer when it divides unevenly)."""
    if not input.ndim:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input._data.shape[wrap_dim(dim, input.ndim)]
    if not n:  # PyTorch gives ``chunks`` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, max(-(-n // chunks), 1), dim)


class FlipBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g: Tensor) -> Tensor:
        return flip(g, self.dims)


def flip(input: Tensor, dims: Any) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    axes = wrap_dims(dims, input.ndim)
    be = input._be
    data = be.copy(be.flip(input._data, axes)) if axes else be.copy(input._data)
    return record(_make(data, be), FlipBackward0, (input,), dims=axes)


class RepeatBackward0(Node):
    """Sum the gradient over the copies: view it as ``(r0, s0, r1, s1, ...)`` and reduce."""

    __slots__ = ("in_shape", "reps")

    def backward(self, g: Tensor) -> Tensor:
        lead = len(self.reps) - len(self.in_shape)
        shape = (1,) * lead + tuple(self.in_shape)
        split = []
        for r, s in zip(self.reps, shape):
            split += [r, s]
        summed = reshape(g, tuple(split)).sum(tuple(range(0, 2 * len(shape), 2)))
        return reshape(summed, self.in_shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along dim ``i`` (``sizes`` may add leading dims)."""
    reps = _shape_arg(sizes)
    shape = input._data.shape
    if len(reps) < len(shape):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    be = input._be
    lead = len(reps) - len(shape)
    data = be.tile(be.reshape(input._data, (1,) * lead + tuple(shape)), tuple(reps))
    return record(_make(data, be), RepeatBackward0, (input,), in_shape=shape, reps=tuple(reps))


class ConstantPadNdBackward0(Node):
    __slots__ = ("index",)

    def backward(self, g: Tensor) -> Tensor:
        return getitem(g, self.index)


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)``."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got '{mode}'")
    pad = size_arg((pad,), "pad", "pad")
    ndim = input.ndim
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise RuntimeError(
            f"Padding length must be divisible by 2 and at most twice the number of dimensions "
            f"of the input ({ndim}), but got {len(pad)}"
        )
    if any(p < 0 for p in pad):
        raise NotImplementedError("pad: negative padding is not supported")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    be = input._be
    data = be.pad(input._data, tuple(widths), 0 if value is None else value)
    index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, input._data.shape))
    return record(_make(data, be), ConstantPadNdBackward0, (input,), index=index)


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return g


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with its own storage, recorded (its gradient passes straight through)."""
    be = input._be
    data = be.copy(input._data)
    return record(_make(data, be), CloneBackward0, (input,))


def contiguous(input: Tensor) -> Tensor:
    be = input._be
    if be.is_contiguous(input._data):
        return input
    return clone(input)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "reshape", "flatten", "permute", "transpose", "t", "unsqueeze", "squeeze", "cat", "concat",
    "stack", "split", "chunk", "flip", "clone",
)
METHODS = {
    "view": view, "reshape": reshape,
    "view_as": lambda self, other: view(self, other.shape),
    "reshape_as": lambda self, other: reshape(self, other.shape),
    "flatten": flatten, "t": t, "transpose": transpose, "permute": permute,
    "unsqueeze": unsqueeze, "squeeze": squeeze, "split": split, "chunk": chunk, "flip": flip,
    "repeat": repeat, "clone": clone, "contiguous": contiguous,
}
