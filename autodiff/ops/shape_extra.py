"""More shape ops: ``flip``, ``repeat``, ``split``/``chunk`` and constant ``pad``."""

from __future__ import annotations

from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import wrap_dim, wrap_dims
from autodiff.ops.indexing import getitem
from autodiff.ops.shape import reshape
from autodiff.tensor import Tensor, _make


def _sizes(size: tuple) -> tuple:
    if len(size) == 1 and not isinstance(size[0], int):
        return tuple(size[0])
    return tuple(size)


class FlipBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g: Tensor) -> Tensor:
        return flip(g, self.dims)


def flip(input: Tensor, dims: Any) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    axes = wrap_dims(dims, input.ndim) if input.ndim else ()
    be = input._be
    data = be.copy(be.flip(input._data, axes)) if axes else be.copy(input._data)
    if input._requires_grad and _grad.enabled:
        node = FlipBackward0((edge_of(input),))
        node.dims = axes
        return _make(data, be, node)
    return _make(data, be)


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
    reps = _sizes(sizes)
    shape = input._data.shape
    if len(reps) < len(shape):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    be = input._be
    lead = len(reps) - len(shape)
    data = be.tile(be.reshape(input._data, (1,) * lead + tuple(shape)), tuple(reps))
    if input._requires_grad and _grad.enabled:
        node = RepeatBackward0((edge_of(input),))
        node.in_shape = shape
        node.reps = tuple(reps)
        return _make(data, be, node)
    return _make(data, be)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    d = wrap_dim(dim, tensor.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [min(step, n - s) for s in range(0, n, step)] if step else [0]
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
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input._data.shape[wrap_dim(dim, input.ndim)]
    return split(input, max(-(-n // chunks), 1), dim)


class ConstantPadNdBackward0(Node):
    __slots__ = ("index",)

    def backward(self, g: Tensor) -> Tensor:
        return getitem(g, self.index)


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)``."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got '{mode}'")
    pad = tuple(pad)
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
    if input._requires_grad and _grad.enabled:
        node = ConstantPadNdBackward0((edge_of(input),))
        node.index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, input._data.shape))
        return _make(data, be, node)
    return _make(data, be)
