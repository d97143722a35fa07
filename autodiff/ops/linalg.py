"""Matrix products: ``mm`` and ``matmul`` (with NumPy/PyTorch broadcasting of batch dims)."""

from __future__ import annotations

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import device_mismatch, promote
from autodiff.ops.reduction import sum_to
from autodiff.tensor import Tensor, _make


class MmBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = self.next_edges
        if not _grad.enabled:
            # Nothing to record (no create_graph): the two products straight on the backend,
            # without the transposed views and mm's checks (inputs valid by construction).
            be = g._be
            gd, tr = g._data, be.transpose
            ga = _make(be.matmul(gd, tr(b._data)), be) if ea is not None else None
            gb = _make(be.matmul(tr(a._data), gd), be) if eb is not None else None
            return ga, gb
        ga = mm(g, b.t()) if ea is not None else None
        gb = mm(a.t(), g) if eb is not None else None
        return ga, gb


def _check(a: Tensor, b: Tensor, op: str) -> tuple:
    if a._be is not b._be:
        raise device_mismatch(a, b, op)
    if a._data.dtype is not b._data.dtype and a._data.dtype != b._data.dtype:  # `is`: fast path
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_c(a)} != {_c(b)}")
    return a, b


def _c(t: Tensor) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "bool": "bool"}.get(t.dtype.name, t.dtype.name)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    a, b = _check(input, mat2, "mm")
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != 2:
        raise RuntimeError("self must be a matrix")
    if len(sb) != 2:
        raise RuntimeError("mat2 must be a matrix")
    if sa[1] != sb[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})"
        )
    be = a._be
    data = be.matmul(a._data, b._data)
    if _grad.enabled and (a._requires_grad or b._requires_grad):
        node = MmBackward0((edge_of(a), edge_of(b)))
        ea, eb = node.next_edges
        # Save only what the needed gradients use: b for a's, a for b's.
        node.save(a if eb is not None else b, b if ea is not None else a)
        return _make(data, be, node)
    return _make(data, be)


class MatmulBackward(Node):
    """General matmul: 1-D operands are promoted to matrices, batch dims broadcast."""

    __slots__ = ("a_shape", "b_shape")

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        # Restore the dims the 1-D operands dropped, last one first (a 0-d g for dot).
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        ea, eb = self.next_edges
        ga = gb = None
        if ea is not None:
            ga = sum_to(matmul(g, b2.transpose(-1, -2)), a2._data.shape).reshape(self.a_shape)
        if eb is not None:
            gb = sum_to(matmul(a2.transpose(-1, -2), g), b2._data.shape).reshape(self.b_shape)
        return ga, gb


class MvBackward0(MatmulBackward):
    __slots__ = ()


class DotBackward0(MatmulBackward):
    __slots__ = ()


class BmmBackward0(MatmulBackward):
    __slots__ = ()


class UnsafeViewBackward0(MatmulBackward):
    __slots__ = ()


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``input @ other``: dot, matrix-vector, matrix-matrix or batched, as in PyTorch."""
    if not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(other).__name__}")
    a, b = promote(input, other, "matmul") if input._data.dtype != other._data.dtype else (input, other)
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 2 and len(sb) == 2:
        return mm(a, b)
    if not sa or not sb:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D"
        )
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        if len(sa) == 1 and len(sb) == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] to have the same "
                f"number of elements, but got {ka} and {kb} elements respectively"
            )
        ma = f"{sa[0] if len(sa) > 1 else 1}x{ka}" if len(sa) <= 2 else f"{_rows(sa)}x{ka}"
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({ma} and {kb}x{sb[-1] if len(sb) > 1 else 1})"
        )
    be = a._be
    data = be.matmul(a._data, b._data)
    if _grad.enabled and (a._requires_grad or b._requires_grad):
        if len(sa) == 1 and len(sb) == 1:
            cls: type = DotBackward0
        elif len(sb) == 1 and len(sa) == 2:
            cls = MvBackward0
        elif len(sa) == 3 and len(sb) == 3 and sa[0] == sb[0]:
            cls = BmmBackward0
        else:
            cls = UnsafeViewBackward0
        node = cls((edge_of(a), edge_of(b)))
        node.a_shape, node.b_shape = sa, sb
        node.save(a, b)
        return _make(data, be, node)
    return _make(data, be)


def _rows(shape: tuple) -> int:
    n = 1
    for d in shape[:-1]:
        n *= d
    return n


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors"
        )
    return matmul(input, other)
