"""Shape ops: ``view``/``reshape``/``flatten``, ``permute``/``transpose``/``t``,
``unsqueeze``/``squeeze``, ``cat``/``stack``, ``split``/``chunk``, ``flip``, ``repeat``,
constant ``pad``, ``clone``/``contiguous``.

Views share storage and the version counter with their base, as in PyTorch.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from autodiff import dtypes
from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import record
from autodiff.ops._defaults import OMITTED
from autodiff.ops._prep import (
    cast,
    check_same_device,
    not_none,
    promote,
    size_arg,
    wrap_dim,
    wrap_dims,
)
from autodiff.ops.comparison import where as _where
from autodiff.ops.creation import zeros
from autodiff.ops.indexing import getitem, index_select, scatter_into
from autodiff.tensor import Size, Tensor, _make, as_view


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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return reshape(tangents[0], out._data.shape)

    def backward(self, g: Tensor) -> Tensor:
        return reshape(g, self.in_shape)


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def view(input: Tensor, *shape: Any) -> Tensor:
    if _vmap.active and (r := _vmap.dispatch("view", view, (input, *shape), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
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
    if _vmap.active and (r := _vmap.dispatch("reshape", reshape, (input, *shape), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    be = input._be
    in_shape = input._data.shape
    shape = _infer_shape(_shape_arg(shape), math.prod(in_shape), input)
    if shape == in_shape and not (input._requires_grad and _grad.enabled) and not _fw.active:
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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return permute(tangents[0], self.dims)

    def backward(self, g: Tensor) -> Tensor:
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return permute(g, tuple(inverse))


class TBackward0(Node):
    __slots__ = ()

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return t(tangents[0])

    def backward(self, g: Tensor) -> Tensor:
        return t(g)


class TransposeBackward0(Node):
    __slots__ = ("dim0", "dim1")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return transpose(tangents[0], self.dim0, self.dim1)

    def backward(self, g: Tensor) -> Tensor:
        return transpose(g, self.dim0, self.dim1)


def _permuted(input: Tensor, axes: tuple) -> Tensor:
    be = input._be
    return _as_view(_make(be.transpose(input._data, axes), be), input, permute, axes)


def permute(input: Tensor, *dims: Any) -> Tensor:
    if _vmap.active and (r := _vmap.dispatch("permute", permute, (input, *dims), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
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
    if _vmap.active and (r := _vmap.dispatch("transpose", transpose, (input, dim0, dim1), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    ndim = input.ndim
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    axes = list(range(ndim))
    if ndim:  # a 0-d tensor accepts dims 0/-1 and stays as it is
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return record(_permuted(input, tuple(axes)), TransposeBackward0, (input,), dim0=d0, dim1=d1)


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dims."""
    if _vmap.active and (r := _vmap.dispatch("t", t, (input,), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    ndim = input.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return record(_permuted(input, (1, 0) if ndim == 2 else tuple(range(ndim))), TBackward0, (input,))


class UnsqueezeBackward0(Node):
    __slots__ = ("dim",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return reshape(tangents[0], out._data.shape)

    def backward(self, g: Tensor) -> Tensor:
        return squeeze(g, self.dim)


class SqueezeBackward0(Node):
    __slots__ = ("in_shape",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return reshape(tangents[0], out._data.shape)

    def backward(self, g: Tensor) -> Tensor:
        return reshape(g, self.in_shape)


class SqueezeBackward1(SqueezeBackward0):
    __slots__ = ()


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    if _vmap.active and (r := _vmap.dispatch("unsqueeze", unsqueeze, (input, dim), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1)
    be = input._be
    out = _as_view(_make(be.reshape(input._data, shape[:d] + (1,) + shape[d:]), be), input, unsqueeze, d)
    return record(out, UnsqueezeBackward0, (input,), dim=d)


def squeeze(input: Tensor, dim: Any = OMITTED) -> Tensor:
    if _vmap.active and (r := _vmap.dispatch("squeeze", squeeze, (input,) if dim is OMITTED else (input, dim), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    shape = input._data.shape
    if dim is None:
        raise not_none("squeeze", "dim")
    if dim is OMITTED:
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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        parts = [x.detach() * 0 if tx is None else tx for x, tx in zip(inputs, tangents)]
        return cat(parts, self.dim)

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
concatenate = cat


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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return flip(tangents[0], self.dims)

    def backward(self, g: Tensor) -> Tensor:
        return flip(g, self.dims)


def flip(input: Tensor, dims: Any) -> Tensor:
    if _vmap.active and (r := _vmap.dispatch("flip", flip, (input, dims), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    axes = wrap_dims(dims, input.ndim)
    be = input._be
    data = be.copy(be.flip(input._data, axes)) if axes else be.copy(input._data)
    return record(_make(data, be), FlipBackward0, (input,), dims=axes)


class RepeatBackward0(Node):
    """Sum the gradient over the copies: view it as ``(r0, s0, r1, s1, ...)`` and reduce."""

    __slots__ = ("in_shape", "reps")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0].repeat(self.reps)

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
    jvp = derived_jvp

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
    if any(p < 0 for p in pad):  # cropping: the negative sides are sliced off first
        index = [slice(None)] * ndim
        for i in range(len(pad) // 2):
            d, lo, hi = ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
            n = input._data.shape[d]
            start, stop = -min(lo, 0), n + min(hi, 0)
            if stop < start:
                raise RuntimeError(f"pad(): cropping by ({lo}, {hi}) leaves a negative size at dim {d} "
                                   f"(of size {n}): narrow(): length must be non-negative.")
            index[d] = slice(start, stop)
        input = getitem(input, tuple(index))
        pad = tuple(max(p, 0) for p in pad)
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    be = input._be
    data = be.pad(input._data, tuple(widths), 0 if value is None else value)
    index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, input._data.shape))
    return record(_make(data, be), ConstantPadNdBackward0, (input,), index=index)


class CloneBackward0(Node):
    __slots__ = ()

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0].clone()

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


# ---- moving, swapping and rolling dims ------------------------------------------------------
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims ``source`` to positions ``destination`` (ints or sequences); a view."""
    ndim = input.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)")
    src, dst = wrap_dims(src, ndim) if ndim else (), wrap_dims(dst, ndim) if ndim else ()
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """``transpose`` under NumPy's name."""
    return transpose(input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return transpose(input, dim0, dim1)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (real tensors: ``mT``); a view."""
    if input.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of matrices. "
                           f"Got {input.ndim}-D tensor.")
    return transpose(input, -2, -1)


class RollBackward0(Node):
    __slots__ = ("shifts", "dims")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return roll(tangents[0], self.shifts[0] if self.dims is None else self.shifts, self.dims)

    def backward(self, g: Tensor) -> Tensor:
        shifts = tuple(-s for s in self.shifts)
        return roll(g, shifts[0] if self.dims is None else shifts, self.dims)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements along ``dims`` cyclically (along the flattened tensor without dims)."""
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(sh)}, dims: 0")
        be = input._be
        return record(_make(be.roll(input._data, sh[0], None), be), RollBackward0, (input,), shifts=sh,
                      dims=None)
    dd = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(sh) != len(dd):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(sh)}, dims: {len(dd)}")
    dd = tuple(wrap_dim(d, input.ndim) for d in dd)
    be = input._be
    data = be.roll(input._data, sh, dd)
    return record(_make(data, be), RollBackward0, (input,), shifts=sh, dims=dd)


def rot90(input: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second)."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = wrap_dim(dims[0], input.ndim), wrap_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, (d0,)).transpose(d0, d1)
    return clone(input)


def fliplr(input: Tensor) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def tile(input: Tensor, dims: Any) -> Tensor:
    """``repeat``, where fewer ``dims`` than the input has are padded with leading 1s."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def ravel(input: Tensor) -> Tensor:
    return reshape(input, (-1,))


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    new = _infer_shape(sizes, shape[d], input)
    return view(input, shape[:d] + new + shape[d + 1:]) if input._be.is_contiguous(input._data) \
        else reshape(input, shape[:d] + new + shape[d + 1:])


# ---- pieces: narrow, unbind, tensor_split -------------------------------------------------
def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The view of ``length`` elements from ``start`` along ``dim``."""
    d = wrap_dim(dim, input.ndim)
    n = input._data.shape[d]
    start = int(start.item()) if isinstance(start, Tensor) else int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    start %= n if n else 1
    if start + length > n or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without it."""
    d = wrap_dim(dim, input.ndim)
    return tuple(getitem(input, (slice(None),) * d + (i,)) for i in range(input._data.shape[d]))


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    """``sections`` nearly equal pieces (the first ones one larger), or pieces cut at the
    given indices, along ``dim``; views."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor "
                           "with 0 dims")
    d = wrap_dim(dim, input.ndim)
    n = input._data.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.item() if ios.ndim == 0 else ios.tolist()
    if isinstance(ios, int):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        bounds = [0]
        for i in range(ios):
            bounds.append(bounds[-1] + q + (1 if i < r else 0))
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else n + int(i), 0), n) for i in ios] + [n]
    prefix = (slice(None),) * d
    return tuple(getitem(input, prefix + (slice(a, max(a, b)),)) for a, b in zip(bounds, bounds[1:]))


def _nsplit(input: Tensor, ios: Any, dim: int, name: str, min_dims: int) -> tuple:
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got "
                           f"a tensor with {input.ndim} dimensions!")
    if isinstance(ios, int) and input._data.shape[dim] % ios:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                           f"dimension {input._data.shape[dim]} is not divisible by the split_size {ios}!")
    return tensor_split(input, ios, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _nsplit(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _nsplit(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _nsplit(input, indices_or_sections, 2, "dsplit", 3)


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    return split(input, list(split_sizes), dim)


# ---- stacking --------------------------------------------------------------------------------
def _tensors(args: tuple) -> list:
    """``f(a, b)`` or ``f([a, b])``."""
    return list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)


def _atleast(args: tuple, n: int) -> Any:
    single = len(args) == 1 and isinstance(args[0], Tensor)
    out = []
    for x in _tensors(args):
        if x.ndim < n:
            shape = x._data.shape
            if n == 1 or x.ndim == 0:
                new = (1,) * n
            elif n == 2:  # (k,) -> (1, k)
                new = (1,) + shape
            else:  # (k,) -> (1, k, 1); (a, b) -> (a, b, 1)
                new = (1,) + shape + (1,) if x.ndim == 1 else shape + (1,)
            x = reshape(x, new)
        out.append(x)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Any) -> Any:
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    return _atleast(tensors, 3)


def hstack(tensors: Any) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    ts = atleast_1d(*tensors) if len(tensors) else list(tensors)
    ts = [ts] if isinstance(ts, Tensor) else list(ts)
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors: Any) -> Tensor:
    """Join as rows (1-D tensors become rows)."""
    ts = atleast_2d(*tensors)
    return cat([ts] if isinstance(ts, Tensor) else list(ts), 0)


row_stack = vstack


def dstack(tensors: Any) -> Tensor:
    """Join along dim 2 (after ``atleast_3d``)."""
    ts = atleast_3d(*tensors)
    return cat([ts] if isinstance(ts, Tensor) else list(ts), 2)


def column_stack(tensors: Any) -> Tensor:
    """Join as columns: 0-D and 1-D tensors become columns, others join along dim 1."""
    cols = [reshape(x, (x.numel(), 1)) if x.ndim <= 1 else x for x in tensors]
    return cat(cols, 1)


# ---- diagonals -------------------------------------------------------------------------------
def _diag_index(shape: tuple, offset: int, d1: int, d2: int) -> tuple:
    """Length of the diagonal, the axis order that moves ``d1, d2`` last, and the row and
    column offsets of its first element."""
    n1, n2 = shape[d1], shape[d2]
    length = max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    order = tuple(i for i in range(len(shape)) if i not in (d1, d2)) + (d1, d2)
    return length, order, max(-offset, 0), max(offset, 0)


def _diag_place(src: Tensor, shape: tuple, offset: int, d1: int, d2: int, cls: type) -> Tensor:
    """A zero tensor of ``shape`` with ``src`` (diagonal dim last) written on the diagonal
    ``offset`` of dims ``d1, d2``; differentiable in ``src`` (its backward is ``diagonal``)."""
    be = src._be
    length, order, r0, c0 = _diag_index(shape, offset, d1, d2)
    moved = tuple(shape[i] for i in order)
    data = be.zeros(moved, src.dtype.name)
    ar = be.arange(0, length, 1, "int64")
    be.setitem(data, (Ellipsis, be.add(ar, r0), be.add(ar, c0)), src._data)
    inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
    data = be.copy(be.transpose(data, inverse))
    return record(_make(data, be), cls, (src,), offset=offset, dim1=d1, dim2=d2)


class DiagonalBackward0(Node):
    __slots__ = ("in_shape", "offset", "dim1", "dim2")

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return diagonal(tangents[0], self.offset, self.dim1, self.dim2)

    def backward(self, g: Tensor) -> Tensor:
        return _diag_place(g, self.in_shape, self.offset, self.dim1, self.dim2, DiagEmbedBackward0)


class DiagEmbedBackward0(Node):
    __slots__ = ("offset", "dim1", "dim2")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        return diagonal(g, self.offset, self.dim1, self.dim2)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` of the planes of dims ``dim1, dim2``, as the last dim.
    (A copy here; PyTorch's is a view, so writing into it does not reach ``input``.)"""
    ndim = input.ndim
    if ndim < 2:
        raise RuntimeError(f"diagonal dimensions requires ndim larger than 1, got {ndim}")
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    be = input._be
    length, order, r0, c0 = _diag_index(input._data.shape, offset, d1, d2)
    moved = be.transpose(input._data, order)
    ar = be.arange(0, length, 1, "int64")
    data = be.getitem(moved, (Ellipsis, be.add(ar, r0), be.add(ar, c0)))
    return record(_make(data, be), DiagonalBackward0, (input,), in_shape=input._data.shape,
                  offset=offset, dim1=d1, dim2=d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims ``dim1, dim2`` of the result) with the last dim of ``input`` on
    their diagonal ``offset``."""
    ndim = input.ndim + 1
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = list(input._data.shape[:-1])
    n = (input._data.shape[-1] if input.ndim else 1) + abs(offset)
    shape = []
    for i in range(ndim):
        shape.append(n if i in (d1, d2) else rest.pop(0))
    src = input if input.ndim else reshape(input, (1,))
    return _diag_place(src, tuple(shape), offset, d1, d2, DiagEmbedBackward0)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: F811 - PyTorch's parameter name
    """A 1-D tensor: the square matrix with it on diagonal ``diagonal``; a matrix: that
    diagonal, as a 1-D tensor."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _diagonal(input, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


_diagonal = diagonal


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written on its diagonal ``offset`` of ``dim1, dim2``."""
    expect = diagonal(input.detach(), offset, dim1, dim2)._data.shape
    if src._data.shape != expect:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expect)}")
    d1, d2 = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    be = input._be
    ones = _make(be.ones(expect, "bool"), be)
    mask = _diag_place(ones, input._data.shape, offset, d1, d2, DiagEmbedBackward0)
    placed = _diag_place(cast(src, input.dtype), input._data.shape, offset, d1, d2, DiagEmbedBackward0)
    return _where(mask, placed, input)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with the flattened ``input`` on diagonal ``offset``."""
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


def block_diag(*tensors: Tensor) -> Tensor:
    """The block-diagonal matrix of the given matrices (0-D and 1-D count as one row)."""
    mats = [reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors]
    if any(m.ndim != 2 for m in mats):
        raise RuntimeError("torch.block_diag: Input tensors must have 2 or fewer dimensions.")
    if not mats:
        return zeros((1, 0))
    check_same_device(mats, "block_diag")
    dt = mats[0].dtype
    for m in mats[1:]:
        dt = dtypes.promote_types(dt, m.dtype)
    width = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        w = m._data.shape[1]
        rows.append(pad(cast(m, dt), (left, width - left - w)))
        left += w
    return cat(rows, 0)


# ---- broadcasting many tensors, grids --------------------------------------------------------
def broadcast_shapes(*shapes: Any) -> Any:
    """The shape all ``shapes`` broadcast to (PyTorch's error when they do not)."""
    dims: list = []
    for s in shapes:
        s = (s,) if isinstance(s, int) else tuple(s)
        for i, n in enumerate(reversed(s)):
            if i == len(dims):
                dims.append(n)
            elif dims[i] == 1:
                dims[i] = n
            elif n != 1 and n != dims[i]:
                raise RuntimeError(
                    f"Shape mismatch: objects cannot be broadcast to a single shape.  Mismatch is "
                    f"between arg 0 and arg {shapes.index(s) if s in shapes else 1}.")
    return Size(tuple(reversed(dims)))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """Every tensor expanded to their common broadcast shape (views)."""
    ts = _tensors(tensors)
    shape = tuple(broadcast_shapes(*[t._data.shape for t in ts]))
    return tuple(t.expand(shape) for t in ts)


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple:
    """Coordinate grids of 1-D tensors; ``indexing="ij"`` (the default) or ``"xy"``
    (the first two dims swapped, as NumPy's default)."""
    ts = _tensors(tensors)
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    check_same_device(ts, "meshgrid")
    swap = indexing == "xy" and len(ts) >= 2
    order = ts[:]
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t.numel() for t in order)
    n = len(order)
    grids = []
    for i, t in enumerate(order):
        view_shape = tuple(shape[i] if k == i else 1 for k in range(n))
        grids.append(reshape(t, view_shape).expand(shape))
    if swap:  # the grids of the swapped pair, handed back in the order of the inputs
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All combinations of the elements of 1-D tensors, one per row."""
    ts = _tensors(tensors)
    if len(ts) == 1:
        return ts[0]
    return stack([g.reshape(-1) for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of a 1-D tensor, one per row."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    n = input._data.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(n), r))
    if not rows:
        return reshape(getitem(input, ([],)), (0,) if r == 0 else (0, r))
    return stack([getitem(input, ([row[k] for row in rows],)) for k in range(r)], 1)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or a tensor of one count per element)
    along ``dim`` (the flattened input without). ``repeat_interleave(counts)`` alone gives
    the repeated indices ``0, 0, 1, ...``."""
    if repeats is None:  # repeat_interleave(repeats): the indices, repeated
        counts = input
        be = counts._be
        ar = _make(be.arange(0, counts.numel(), 1, "int64"), be)
        return repeat_interleave(ar, counts, 0)
    x = reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else wrap_dim(dim, x.ndim)
    n = x._data.shape[d] if x.ndim else 1
    be = x._be
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1 or (repeats.ndim == 1 and repeats.numel() not in (1, n)):
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor with as many elements as "
                               "the input has along dim")
        counts = be.reshape(be.astype(repeats._data, "int64"), (-1,))
        if counts.shape[0] == 1:
            counts = be.full((n,), be.item(be.reshape(counts, ())), "int64")
    else:
        if repeats < 0:
            raise RuntimeError("repeats can not be negative")
        counts = be.full((n,), int(repeats), "int64")
    if n and be.any(be.lt(counts, 0)):
        raise RuntimeError("repeats can not be negative")
    ends = be.cumsum(counts, 0)
    total = int(be.item(be.reshape(be.getitem(ends, (slice(-1, None),)), ()))) if n else 0
    index = be.searchsorted(ends, be.arange(0, total, 1, "int64"), True)
    if x.ndim == 0:
        x = reshape(x, (1,))
    return index_select(x, d, _make(be.astype(index, "int64"), be))


class UnfoldBackward0(Node):
    __slots__ = ("in_shape", "dim", "index")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        moved = movedim(g, (self.dim, -1), (-2, -1)) if g.ndim > 1 else g
        shape = list(self.in_shape)
        n = shape.pop(self.dim)
        full = scatter_into(moved, tuple(shape) + (n,), (Ellipsis, self.index), True)
        return movedim(full, -1, self.dim)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Windows of ``size`` elements every ``step`` along ``dimension``: that dim becomes the
    window count and a last dim of ``size`` is added."""
    x = reshape(input, (1,)) if input.ndim == 0 else input
    d = wrap_dim(dimension, x.ndim)
    n = x._data.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    be = x._be
    index = be.add(be.reshape(be.mul(be.arange(0, count, 1, "int64"), step), (count, 1)),
                   be.reshape(be.arange(0, size, 1, "int64"), (1, size)))
    moved = be.transpose(x._data, tuple(i for i in range(x.ndim) if i != d) + (d,))
    data = be.getitem(moved, (Ellipsis, index))  # (..., count, size)
    order = list(range(data.ndim - 2))
    order.insert(d, data.ndim - 2)
    data = be.copy(be.transpose(data, tuple(order) + (data.ndim - 1,)))
    return record(_make(data, be), UnfoldBackward0, (x,), in_shape=x._data.shape, dim=d, index=index)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (after joining ``prepend``/``append``)."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim(dim, input.ndim)
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    prefix = (slice(None),) * d
    for _ in range(n):
        if x.dtype.kind == "b":
            x = getitem(x, prefix + (slice(1, None),)) != getitem(x, prefix + (slice(0, -1),))
        else:
            x = getitem(x, prefix + (slice(1, None),)) - getitem(x, prefix + (slice(0, -1),))
    return x


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "reshape", "flatten", "permute", "transpose", "t", "unsqueeze", "squeeze", "cat", "concat",
    "concatenate", "stack", "split", "chunk", "flip", "clone",
    "movedim", "moveaxis", "swapaxes", "swapdims", "adjoint", "roll", "rot90", "fliplr", "flipud",
    "tile", "ravel", "unflatten", "narrow", "unbind", "tensor_split", "hsplit", "vsplit", "dsplit",
    "split_with_sizes", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack",
    "dstack", "column_stack", "diagonal", "diag_embed", "diag", "diagflat", "block_diag",
    "broadcast_shapes", "broadcast_tensors", "meshgrid", "cartesian_prod", "combinations",
    "repeat_interleave", "diff", "diagonal_scatter",
)
METHODS = {
    "view": view, "reshape": reshape,
    "view_as": lambda self, other: view(self, other.shape),
    "reshape_as": lambda self, other: reshape(self, other.shape),
    "flatten": flatten, "t": t, "transpose": transpose, "permute": permute,
    "unsqueeze": unsqueeze, "squeeze": squeeze, "split": split, "chunk": chunk, "flip": flip,
    "repeat": repeat, "clone": clone, "contiguous": contiguous,
    "movedim": movedim, "moveaxis": movedim, "swapaxes": swapaxes, "swapdims": swapdims,
    "adjoint": adjoint, "roll": roll, "rot90": rot90, "fliplr": fliplr, "flipud": flipud,
    "tile": tile, "ravel": ravel, "unflatten": unflatten, "narrow": narrow, "unbind": unbind,
    "tensor_split": tensor_split, "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit,
    "split_with_sizes": split_with_sizes, "diagonal": diagonal, "diag_embed": diag_embed,
    "diag": diag, "diagflat": diagflat, "repeat_interleave": repeat_interleave, "unfold": unfold,
    "diff": diff, "diagonal_scatter": diagonal_scatter,
}
