"""More products: ``bmm``, ``outer`` and ``einsum``.

``einsum``'s backward for each operand is another ``einsum`` (of the gradient with the
other operands), so it is differentiable to any order.
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of
from autodiff.ops._prep import cast, check_same_device
from autodiff.ops.linalg import matmul
from autodiff.tensor import Tensor, _make


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
        for i, edge in enumerate(self.next_edges):
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
        raise ValueError(f"einsum(): {len(ins)} operands in the equation but {len(operands)} given")
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
    dt = ops[0].dtype
    for o in ops[1:]:
        dt = dtypes.promote_types(dt, o.dtype)
    ops = [cast(o, dt) for o in ops]
    ins, out = _parse(equation, ops)
    be = ops[0]._be
    data = be.einsum(",".join(ins) + "->" + out, *[o._data for o in ops])
    if _grad.enabled and any(o._requires_grad for o in ops):
        node = EinsumBackward0(tuple(edge_of(o) for o in ops))
        node.ins, node.out = ins, out
        node.shapes = [o._data.shape for o in ops]
        node.save(*ops)
        return _make(data, be, node)
    return _make(data, be)
