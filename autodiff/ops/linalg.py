"""Products: ``mm``, ``matmul`` (NumPy/PyTorch broadcasting of batch dims), ``dot``, ``bmm``,
``outer``, ``einsum``, and ``linear`` (``AddmmBackward0`` for the common 2-D case).

``einsum``'s backward for each operand is another ``einsum`` (of the gradient with the
other operands), so it is differentiable to any order.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import edge_of, record
from autodiff.ops._prep import check_same_device, device_mismatch
from autodiff.ops.broadcasting import sum_to
from autodiff.tensor import Tensor, _make


class MmBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
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
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.c_name} != {b.dtype.c_name}")
    return a, b


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
        # Recorded inline, not through ``record``: mm is one of the hot ops
        # (docs/architecture.md), and it saves only what the needed gradients use.
        node = MmBackward0((edge_of(a), edge_of(b)))
        ea, eb = edges_of(node)
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
        ea, eb = edges_of(self)
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


class BroadcastMatmulBackward(MatmulBackward):
    """matmul with broadcast batch dims (PyTorch's node is the reshape it ends with)."""

    __slots__ = ()
    torch_name = "UnsafeViewBackward0"


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``input @ other``: dot, matrix-vector, matrix-matrix or batched, as in PyTorch."""
    if not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(other).__name__}")
    a, b = _check(input, other, "matmul")  # (PyTorch does not promote here)
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
    if len(sa) == 1 and len(sb) == 1:
        cls: type = DotBackward0
    elif len(sb) == 1 and len(sa) == 2:
        cls = MvBackward0
    elif len(sa) == 3 and len(sb) == 3 and sa[0] == sb[0]:
        cls = BmmBackward0
    else:
        cls = BroadcastMatmulBackward
    return record(_make(data, be), cls, (a, b), saved=(a, b), a_shape=sa, b_shape=sb)


def _rows(shape: tuple) -> int:
    return math.prod(shape[:-1])


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors"
        )
    return matmul(input, other)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of ``(b, n, m)`` and ``(b, m, p)`` tensors."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, got {input.ndim}D and {mat2.ndim}D")
    sa, sb = input._data.shape, mat2._data.shape
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] "
            f"but got: [{sb[0]}, {sb[1]}]."
        )
    return matmul(input, mat2)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """``input[i] * vec2[j]`` for 1-D tensors (PyTorch records it as a ``mul``)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1D tensors, but got {input.ndim}D and {vec2.ndim}D")
    return input.reshape(-1, 1) * vec2


ger = outer


class EinsumBackward0(Node):
    __slots__ = ("ins", "out", "shapes")

    def backward(self, g: Tensor) -> tuple:
        ops = self.unpack()
        grads = []
        for i, edge in enumerate(edges_of(self)):
            if edge is None:
                grads.append(None)
                continue
            target = self.ins[i]
            others = [self.ins[k] for k in range(len(ops)) if k != i]
            have = set(self.out).union(*others) if others else set(self.out)
            # Letters only in this operand were summed away: they come back by broadcasting.
            kept = "".join(c for c in dict.fromkeys(target) if c in have)
            expr = ",".join([self.out] + others) + "->" + kept
            gi = einsum(expr, g, *[ops[k] for k in range(len(ops)) if k != i])
            grads.append(_restore(gi, kept, target, self.shapes[i]))
        return tuple(grads)


def _restore(g: Tensor, kept: str, target: str, shape: tuple) -> Tensor:
    """Bring ``g`` (subscripts ``kept``) to the operand's subscripts ``target`` and shape."""
    if len(set(target)) != len(target):
        raise NotImplementedError("einsum: gradients of repeated subscripts in one operand (diagonals)")
    order = [c for c in target if c in kept]
    g = g.permute(tuple(kept.index(c) for c in order)) if order else g
    view = []
    it = iter(g.shape)
    for c in target:
        view.append(next(it) if c in kept else 1)
    return g.reshape(tuple(view)).expand(shape)


def _parse(equation: str, operands: list) -> tuple[list[str], str]:
    """Explicit subscripts (``...`` replaced by spare letters), and the output's."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        more = "more" if len(operands) > len(ins) else "fewer"
        raise RuntimeError(f"einsum(): {more} operands were provided than specified in the equation")
    used = set(eq) - set(".,->")
    spare = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
    ell = 0
    for sub, op in zip(ins, operands):
        if "..." in sub:
            ell = max(ell, op.ndim - (len(sub) - 3))
    ell_letters = "".join(spare[:ell])
    new_ins = []
    for sub, op in zip(ins, operands):
        if "..." in sub:
            n = op.ndim - (len(sub) - 3)
            sub = sub.replace("...", ell_letters[ell - n:] if n else "")
        if len(sub) != op.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(sub)}) does not match "
                f"the number of dimensions ({op.ndim}) for operand {len(new_ins)}"
            )
        new_ins.append(sub)
    if arrow:
        out = rhs.replace("...", ell_letters)
    else:
        counts: dict[str, int] = {}
        for sub in new_ins:
            for c in sub:
                counts[c] = counts.get(c, 0) + 1
        out = ell_letters + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell_letters))
    return new_ins, out


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``."""
    ops = list(operands[0]) if len(operands) == 1 and isinstance(operands[0], (list, tuple)) else list(operands)
    if not ops:
        raise RuntimeError("einsum(): must provide at least one operand")
    check_same_device(ops, "einsum")
    for o in ops:
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): expected Tensor operands, but got {type(o).__name__}")
        if o.dtype is not ops[0].dtype:  # (PyTorch does not promote here)
            raise RuntimeError(f"expected scalar type {ops[0].dtype.word} but found {o.dtype.word}")
    ins, out = _parse(equation, ops)
    be = ops[0]._be
    data = be.einsum(",".join(ins) + "->" + out, *[o._data for o in ops])
    return record(_make(data, be), EinsumBackward0, tuple(ops), saved=tuple(ops),
                  ins=ins, out=out, shapes=[o._data.shape for o in ops])


class AddmmBackward0(Node):
    """``bias + x @ w.T`` for a 2-D ``x`` (``linear``): one node instead of three."""

    __slots__ = ("bias_shape",)

    def backward(self, g: Tensor) -> tuple:
        x, w = self.unpack()
        eb, ex, ew = edges_of(self)
        gb = sum_to(g, self.bias_shape) if eb is not None else None
        gx = g.mm(w) if ex is not None else None
        gw = g.t().mm(x) if ew is not None else None
        return gb, gx, gw


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; ``weight`` is ``(out_features, in_features)``."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("linear(): input and weight must be Tensors")
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear(): weight must be 1-D or 2-D, but got {weight.ndim}-D of shape {list(weight.shape)}")
    if input._be is not weight._be:
        raise device_mismatch(input, weight, "linear")
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {input.dtype.word} and {weight.dtype.word}"
        )
    if bias is not None and bias._be is not input._be:
        raise device_mismatch(input, bias, "linear")
    if input.ndim == 0 or input._data.shape[-1] != weight._data.shape[-1]:
        n = math.prod(input._data.shape[:-1])
        k = input._data.shape[-1] if input.ndim else 1
        wk = weight._data.shape[-1]
        wo = weight._data.shape[0] if weight.ndim == 2 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {wk}x{wo})")
    if (input.ndim == 2 and weight.ndim == 2 and bias is not None and bias.ndim <= 1
            and input.dtype is weight.dtype is bias.dtype):
        be = input._be
        data = be.add(be.matmul(input._data, be.transpose(weight._data, (1, 0))), bias._data)
        return record(_make(data, be), AddmmBackward0, (bias, input, weight), saved=(input, weight),
                      bias_shape=bias._data.shape)
    out = matmul(input, weight.t() if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("mm", "matmul", "dot", "bmm", "outer", "ger", "einsum")
METHODS = {
    "__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self),
    "matmul": matmul, "mm": mm, "dot": dot, "bmm": bmm, "outer": outer, "ger": outer,
}
