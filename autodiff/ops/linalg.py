"""Products: ``mm``, ``matmul`` (NumPy/PyTorch broadcasting of batch dims), ``dot``, ``bmm``,
``outer``, ``einsum``, and ``linear`` (``AddmmBackward0`` for the common 2-D case).

``einsum``'s backward for each operand is another ``einsum`` (of the gradient with the
other operands), so it is differentiable to any order.
"""

from __future__ import annotations

import math
from typing import Any

from autodiff._vmap_state import NOT_BATCHED
from autodiff._vmap_state import state as _vmap
from autodiff.autograd.forward_rules import derived_jvp, linear_sum
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import edge_of, record
from autodiff.ops._prep import check_same_device, device_mismatch, promote
from autodiff.ops.broadcasting import sum_to
from autodiff.ops.reduction import _return_type, norm
from autodiff.ops.shape import broadcast_tensors
from autodiff.tensor import Tensor, _make


class MmBackward0(Node):
    __slots__ = ()

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        (a, b), (ta, tb) = inputs, tangents
        return linear_sum((None if ta is None else mm(ta, b), None if tb is None else mm(a, tb)))

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        ea, eb = edges_of(self)
        if not _grad.enabled and not _fw.active and g.__class__ is Tensor:  # (forward AD: tangents need the ops)
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
    if _vmap.active and (r := _vmap.dispatch("mm", mm, (input, mat2), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
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
    if _fw.active:  # forward AD: through record, which computes the tangent
        return record(_make(data, be), MmBackward0, (a, b), saved=(a, b))
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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        (a, b), (ta, tb) = inputs, tangents  # (matmul, mv, dot, bmm: all bilinear)
        return linear_sum((None if ta is None else matmul(ta, b), None if tb is None else matmul(a, tb)))

    def backward(self, g: Tensor) -> tuple:
        a, b = self.unpack()
        if not _grad.enabled and not _fw.active and a.ndim > 2 and a.ndim == b.ndim:
            fast = _batched_matmul_grads(self, a, b, g)
            if fast is not None:
                return fast
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
            if a2._data.shape[-2] == 1 and a2.ndim > 2:
                # Batched outer products (a row times g, as vmap's per-sample weight
                # gradients make): NumPy's matmul is slow over a contraction of size 1.
                gb = einsum("...ki,...kj->...ij", a2, g)
            else:
                gb = matmul(a2.transpose(-1, -2), g)
            gb = sum_to(gb, b2._data.shape).reshape(self.b_shape)
        return ga, gb


def _batched_matmul_grads(node: Node, a: Tensor, b: Tensor, g: Tensor) -> tuple | None:
    """Both gradients of a batched matmul of same-shaped batches straight on the backend
    (nothing to record: no create_graph), or None when broadcasting must be undone.
    This is the path of ``vmap(grad(f))``: per-sample weight gradients are outer products
    (a contraction of size 1), which ``batched_outer`` writes without a matrix product."""
    ad, bd, gd = a._data, b._data, g._data
    if ad.shape[:-2] != bd.shape[:-2] or gd.shape[:-2] != ad.shape[:-2]:
        return None
    be = g._be
    n = len(ad.shape)
    swap = tuple(range(n - 2)) + (n - 1, n - 2)
    ea, eb = edges_of(node)
    ga = gb = None
    if ea is not None:
        ga = _make(be.batched_matmul(gd, be.transpose(bd, swap)), be)
    if eb is not None:
        if ad.shape[-2] == 1:
            flat = be.batched_outer(be.reshape(ad, (-1, ad.shape[-1])), be.reshape(gd, (-1, gd.shape[-1])))
            gb = _make(be.reshape(flat, bd.shape), be)
        else:
            gb = _make(be.batched_matmul(be.transpose(ad, swap), gd), be)
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
    if _vmap.active and (r := _vmap.dispatch("matmul", matmul, (input, other), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
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
    data = be.batched_matmul(a._data, b._data) if len(sa) > 2 else be.matmul(a._data, b._data)
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

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        expr = ",".join(self.ins) + "->" + self.out
        ops = self.unpack()
        return linear_sum(
            einsum(expr, *(ops[:i] + (tx,) + ops[i + 1:])) for i, tx in enumerate(tangents) if tx is not None)

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
    if _vmap.active and (r := _vmap.dispatch("einsum", einsum, (equation, *operands), {})) is not NOT_BATCHED:
        return r  # (from a backward formula, with a gradient batched by vmap: func.vjp)
    ops = list(operands[0]) if len(operands) == 1 and isinstance(operands[0], (list, tuple)) else list(operands)
    if not ops:
        raise RuntimeError("einsum(): must provide at least one operand")
    check_same_device(ops, "einsum")
    for o in ops:
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): expected Tensor operands, but got {type(o).__name__}")
    first = ops[0].dtype
    mismatch = next((o.dtype for o in ops if o.dtype is not first), None)
    if mismatch is not None and first.kind != "b":  # (PyTorch does not promote here)
        raise RuntimeError(f"expected scalar type {first.word} but found {mismatch.word}")
    ins, out = _parse(equation, ops)
    if first.kind == "b" and len(ops) > 1 and set("".join(ins)) - set(out):
        raise NotImplementedError("\"bmm\" not implemented for 'Bool' (einsum contracts a subscript)")
    if mismatch is not None:
        raise RuntimeError(f"expected scalar type {first.word} but found {mismatch.word}")
    be = ops[0]._be
    data = be.einsum(",".join(ins) + "->" + out, *[o._data for o in ops])
    return record(_make(data, be), EinsumBackward0, tuple(ops), saved=tuple(ops),
                  ins=ins, out=out, shapes=[o._data.shape for o in ops])


class AddmmBackward0(Node):
    """``bias + x @ w.T`` for a 2-D ``x`` (``linear``): one node instead of three."""

    __slots__ = ("bias_shape",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        (_, x, w), (tb, tx, tw) = inputs, tangents  # bias + x @ w.T
        return linear_sum((tb, None if tx is None else tx.mm(w.t()), None if tw is None else x.mm(tw.t())))

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


# ---- products with an added term: addmm, addmv, addr, baddbmm, addbmm -------------------
class _AddProductBackward(Node):
    """``beta * input + alpha * product(m1, m2)``; subclasses name the product."""

    __slots__ = ("beta", "alpha", "in_shape")
    jvp = derived_jvp

    def grads(self, g: Tensor, m1: Tensor, m2: Tensor) -> tuple:
        raise NotImplementedError

    def backward(self, g: Tensor) -> tuple:
        m1, m2 = self.unpack()
        ei, e1, e2 = edges_of(self)
        gi = None
        if ei is not None:
            gi = sum_to(g if self.beta == 1 else g * self.beta, self.in_shape)
        ga = g if self.alpha == 1 else g * self.alpha
        g1, g2 = self.grads(ga, m1, m2, e1 is not None, e2 is not None)
        return gi, g1, g2


class AddmmProductBackward(_AddProductBackward):
    __slots__ = ()
    torch_name = "AddmmBackward0"  # (AddmmBackward0 above is linear's, with its own fields)

    def grads(self, g: Tensor, m1: Tensor, m2: Tensor, n1: bool, n2: bool) -> tuple:
        return (mm(g, m2.t()) if n1 else None), (mm(m1.t(), g) if n2 else None)


class AddmvBackward0(_AddProductBackward):
    __slots__ = ()

    def grads(self, g: Tensor, m: Tensor, v: Tensor, n1: bool, n2: bool) -> tuple:
        return (outer(g, v) if n1 else None), (matmul(m.t(), g) if n2 else None)


class AddrBackward0(_AddProductBackward):
    __slots__ = ()

    def grads(self, g: Tensor, a: Tensor, b: Tensor, n1: bool, n2: bool) -> tuple:
        return (matmul(g, b) if n1 else None), (matmul(g.t(), a) if n2 else None)


class BaddbmmBackward0(_AddProductBackward):
    __slots__ = ()

    def grads(self, g: Tensor, a: Tensor, b: Tensor, n1: bool, n2: bool) -> tuple:
        return (matmul(g, b.transpose(1, 2)) if n1 else None), (matmul(a.transpose(1, 2), g) if n2 else None)


class AddbmmBackward0(_AddProductBackward):
    __slots__ = ()

    def grads(self, g: Tensor, a: Tensor, b: Tensor, n1: bool, n2: bool) -> tuple:
        g3 = g.unsqueeze(0)
        return (matmul(g3, b.transpose(1, 2)) if n1 else None), (matmul(a.transpose(1, 2), g3) if n2 else None)


def _add_product(input: Tensor, m1: Tensor, m2: Tensor, beta: Any, alpha: Any, op: str,
                 cls: type, product: Any) -> Tensor:
    """``beta * input + alpha * product`` on the backend; ``beta=0`` ignores ``input``
    (NaN in it does not spread), as in PyTorch."""
    check_same_device((input, m1, m2), op)
    if not (input.dtype is m1.dtype is m2.dtype):
        raise RuntimeError(f"{op}: expected self, mat1 and mat2 to have the same dtype, but got: "
                           f"{input.dtype.c_name}, {m1.dtype.c_name} and {m2.dtype.c_name}")
    be = input._be
    p = product(be, m1._data, m2._data)
    if alpha != 1:
        p = be.mul(p, alpha)
    out_shape = p.shape
    try:
        shape = be.broadcast_shapes(input._data.shape, out_shape)
    except ValueError:
        shape = None
    if shape != tuple(out_shape):
        raise RuntimeError(f"{op}: the size of input {list(input.shape)} does not broadcast to the "
                           f"product's size {list(out_shape)}")
    data = p if beta == 0 else be.add(p, input._data if beta == 1 else be.mul(input._data, beta))
    return record(_make(be.as_array(data), be), cls, (input, m1, m2), saved=(m1, m2), beta=beta,
                  alpha=alpha, in_shape=input._data.shape)


def _need(t: Tensor, ndim: int, op: str, name: str) -> None:
    if t.ndim != ndim:
        raise RuntimeError(f"{op}: {name} must be a {ndim}D tensor, got {t.ndim}D")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    _need(mat1, 2, "addmm", "mat1")
    _need(mat2, 2, "addmm", "mat2")
    if mat1._data.shape[1] != mat2._data.shape[0]:
        sa, sb = mat1._data.shape, mat2._data.shape
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})")
    return _add_product(input, mat1, mat2, beta, alpha, "addmm", AddmmProductBackward,
                        lambda be, a, b: be.matmul(a, b))


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    _need(mat, 2, "addmv", "mat")
    _need(vec, 1, "addmv", "vec")
    if mat._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.ndim else 1}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _add_product(input, mat, vec, beta, alpha, "addmv", AddmvBackward0,
                        lambda be, a, b: be.matmul(a, b))


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    _need(vec1, 1, "addr", "vec1")
    _need(vec2, 1, "addr", "vec2")
    return _add_product(input, vec1, vec2, beta, alpha, "addr", AddrBackward0,
                        lambda be, a, b: be.mul(be.reshape(a, (-1, 1)), be.reshape(b, (1, -1))))


def _batches(b1: Tensor, b2: Tensor, op: str) -> None:
    _need(b1, 3, op, "batch1")
    _need(b2, 3, op, "batch2")
    sa, sb = b1._data.shape, b2._data.shape
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    _batches(batch1, batch2, "baddbmm")
    return _add_product(input, batch1, batch2, beta, alpha, "baddbmm", BaddbmmBackward0,
                        lambda be, a, b: be.matmul(a, b))


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    _batches(batch1, batch2, "addbmm")
    return _add_product(input, batch1, batch2, beta, alpha, "addbmm", AddbmmBackward0,
                        lambda be, a, b: be.sum(be.matmul(a, b), (0,)))


# ---- other products ---------------------------------------------------------------------
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``dot`` (real tensors: no conjugation to do)."""
    return dot(input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims (``input * other`` when one is 0-D)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """Sum over the last ``dims`` dims of ``a`` and the first ``dims`` of ``b``, or over the
    given pairs ``(dims_a, dims_b)``."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [d % a.ndim for d in da] if a.ndim else []
    db = [d % b.ndim for d in db] if b.ndim else []
    sa, sb = a._data.shape, b._data.shape
    for x, y in zip(da, db):
        if sa[x] != sb[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[x]} in dim "
                               f"{x} and second has size {sb[y]} in dim {y}")
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod([sa[d] for d in da])
    am = a.permute(free_a + da).reshape(math.prod([sa[d] for d in free_a]), k)
    bm = b.permute(db + free_b).reshape(k, math.prod([sb[d] for d in free_b]))
    if am.dtype is not bm.dtype:
        am, bm = promote(am, bm, "tensordot")
    return mm(am, bm).reshape(tuple(sa[d] for d in free_a) + tuple(sb[d] for d in free_b))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: blocks ``input[i] * other``."""
    n = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.ndim) + tuple(other.shape))
    sa, sb = a._data.shape, b._data.shape
    # a as (a0, 1, a1, 1, ...) times b as (1, b0, 1, b1, ...), then the pairs merged.
    ia, ib = [], []
    for x, y in zip(sa, sb):
        ia += [x, 1]
        ib += [1, y]
    return (a.reshape(tuple(ia)) * b.reshape(tuple(ib))).reshape(tuple(x * y for x, y in zip(sa, sb)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (by default the first dim of size 3)."""
    a, b = broadcast_tensors(input, other)
    if dim is None:
        dims = [i for i, n in enumerate(a._data.shape) if n == 3]
        if not dims:
            raise RuntimeError("no dimension of size 3 in input")
        dim = dims[0]
    d = dim % a.ndim if a.ndim else 0
    if a._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                           f"{a._data.shape[d]} and {b._data.shape[d]}")
    be = a._be
    i1 = _make(be.asarray([1, 2, 0], "int64"), be)
    i2 = _make(be.asarray([2, 0, 1], "int64"), be)
    return a.index_select(d, i1) * b.index_select(d, i2) - a.index_select(d, i2) * b.index_select(d, i1)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """``matrices[0] @ matrices[1] @ ...`` (2-D tensors)."""
    ms = list(matrices[0]) if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)) else list(matrices)
    if not ms:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    out = ms[0]
    for m in ms[1:]:
        out = mm(out, m)
    return out


multi_dot = chain_matmul


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` (square matrices) multiplied by itself ``n`` times (inverted for n < 0)."""
    if input.ndim < 2 or input._data.shape[-1] != input._data.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{' by '.join(str(s) for s in input.shape[-2:])} matrices")
    if n == 0:
        be = input._be
        k = input._data.shape[-1]
        ar = be.arange(0, k, 1, "int64")
        eye = be.astype(be.eq(be.reshape(ar, (k, 1)), be.reshape(ar, (1, k))), input.dtype.name)
        return _make(be.copy(be.broadcast_to(eye, input._data.shape)), be)
    base = inverse(input) if n < 0 else input
    out = None
    power = base
    n = abs(n)
    while n:  # square-and-multiply
        if n & 1:
            out = power if out is None else matmul(out, power)
        n >>= 1
        if n:
            power = matmul(power, power)
    return out


# ---- inverse, determinants, solve -----------------------------------------------------------
def _square(a: Tensor, op: str) -> None:
    if a.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{' by '.join(str(s) for s in a.shape[-2:])} matrices")
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {a.dtype.word}")


def _linalg_call(fn: Any, op: str, *args: Any) -> Any:
    """A backend solver, its singular-matrix error as PyTorch's (a RuntimeError)."""
    try:
        return fn(*args)
    except Exception as exc:  # numpy.linalg.LinAlgError, cupy's equivalent
        if "singular" in str(exc).lower():
            raise RuntimeError(f"{op}: The diagonal element 1 is zero, the inversion could not be "
                               "completed because the input matrix is singular.") from exc
        raise


class LinalgInvExBackward0(Node):
    __slots__ = ()
    jvp = derived_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (inv,) = self.unpack()
        it = inv.transpose(-2, -1)
        return -matmul(matmul(it, g), it)


def inverse(input: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch)."""
    _square(input, "linalg.inv")
    be = input._be
    data = _linalg_call(be.inv, "linalg.inv", input._data)
    return record(_make(data, be), LinalgInvExBackward0, (input,), save_output=True)


class LinalgDetBackward0(Node):
    __slots__ = ()
    jvp = derived_jvp
    saved_outputs = (1,)

    def backward(self, g: Tensor) -> Tensor:
        a, det = self.unpack()
        return (g * det).unsqueeze(-1).unsqueeze(-1) * inverse(a).transpose(-2, -1)



def det(input: Tensor) -> Tensor:
    """Determinant of a square matrix (or of each in a batch)."""
    _square(input, "linalg.det")
    be = input._be
    return record(_make(be.det(input._data), be), LinalgDetBackward0, (input,), saved=(input,),
                  save_output=True)


class LinalgSlogdetBackward0(Node):
    __slots__ = ()
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        (a,) = self.unpack()
        return g.unsqueeze(-1).unsqueeze(-1) * inverse(a).transpose(-2, -1)


class SlogdetSignBackward(Node):
    """The sign output of ``slogdet``: piecewise constant, so its gradient is 0 (PyTorch
    records it too, as output 0 of the same node)."""

    __slots__ = ("in_shape",)
    jvp = derived_jvp
    torch_name = "LinalgSlogdetBackward0"

    def backward(self, g: Tensor) -> Tensor:
        return (g * 0).unsqueeze(-1).unsqueeze(-1).expand(self.in_shape)


return_slogdet = _return_type("slogdet", ("sign", "logabsdet"))


def slogdet(input: Tensor) -> Any:
    """``(sign, logabsdet)`` of the determinant; only ``logabsdet`` has a gradient."""
    _square(input, "linalg.slogdet")
    be = input._be
    sign, logabs = be.slogdet(input._data)
    logabs_t = record(_make(logabs, be), LinalgSlogdetBackward0, (input,), saved=(input,))
    sign_t = record(_make(sign, be), SlogdetSignBackward, (input,), in_shape=input._data.shape)
    return return_slogdet(sign_t, logabs_t)


def logdet(input: Tensor) -> Tensor:
    """``log(det(input))``: NaN where the determinant is negative, -inf where it is 0."""
    sign, logabs = slogdet(input)
    be = input._be
    return logabs + _make(be.log(sign._data), be) if be.any(be.le(sign._data, 0)) else logabs


class LinalgSolveExBackward0(Node):
    __slots__ = ("vector",)
    jvp = derived_jvp
    saved_outputs = (1,)

    def backward(self, g: Tensor) -> tuple:
        a, x = self.unpack()
        ea, eb = edges_of(self)
        at = a.transpose(-2, -1)
        gb = solve(at, g)
        ga = None
        if ea is not None:
            if self.vector:
                ga = -(gb.unsqueeze(-1) * x.unsqueeze(-2))
            else:
                ga = -matmul(gb, x.transpose(-2, -1))
        return ga, (gb if eb is not None else None)



def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803 - PyTorch's names
    """``X`` with ``A @ X = B`` (``B`` a vector or matrices; ``left=False``: ``X @ A = B``)."""
    if not left:
        return solve(A.transpose(-2, -1), B.transpose(-2, -1)).transpose(-2, -1)
    _square(A, "linalg.solve")
    if A._be is not B._be:
        raise device_mismatch(A, B, "linalg.solve")
    if A.dtype is not B.dtype:
        A, B = promote(A, B, "linalg.solve")  # noqa: N806
    be = A._be
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B._data.shape == A._data.shape[:-1])
    b = be.reshape(B._data, B._data.shape + (1,)) if vector else B._data
    data = _linalg_call(be.solve, "linalg.solve", A._data, b)
    if vector:
        data = be.reshape(data, data.shape[:-1])
    return record(_make(data, be), LinalgSolveExBackward0, (A, B), saved=(A,), save_output=True,
                  vector=vector)


class LinalgCholeskyExBackward0(Node):
    """For ``A = L L^T``: with ``P`` the lower triangle of ``L^T g`` (diagonal halved),
    ``S = L^-T P L^-1`` and the gradient is its symmetric part."""

    __slots__ = ("upper",)
    jvp = derived_jvp
    saved_outputs = (0,)

    def backward(self, g: Tensor) -> Tensor:
        (out,) = self.unpack()
        low = out.transpose(-2, -1) if self.upper else out
        if self.upper:
            g = g.transpose(-2, -1)
        be = out._be
        n = out._data.shape[-1]
        ar = be.arange(0, n, 1, "int64")
        rows, cols = be.reshape(ar, (n, 1)), be.reshape(ar, (1, n))
        half = be.where(be.eq(rows, cols), 0.5, be.astype(be.gt(rows, cols), out.dtype.name))
        phi = matmul(low.transpose(-2, -1), g) * _make(be.astype(half, out.dtype.name), be)
        inv = inverse(low)
        s = matmul(matmul(inv.transpose(-2, -1), phi), inv)
        return (s + s.transpose(-2, -1)) * 0.5


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The lower (``upper``: upper) triangular ``L`` with ``input = L @ L.mT``, for symmetric
    positive-definite matrices."""
    _square(input, "linalg.cholesky")
    be = input._be
    try:
        data = be.cholesky(input._data)
    except Exception as exc:  # numpy.linalg.LinAlgError
        raise RuntimeError("linalg.cholesky: The factorization could not be completed because the "
                           "input is not positive-definite.") from exc
    if upper:
        data = be.copy(be.transpose(data, tuple(range(data.ndim - 2)) + (data.ndim - 1, data.ndim - 2)))
    return record(_make(data, be), LinalgCholeskyExBackward0, (input,), save_output=True, upper=upper)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Pseudo-inverse of a matrix of full column (or row) rank, from the normal equations."""
    if input.ndim < 2:
        raise RuntimeError("linalg.pinv(" + str(input.ndim) + "D): expected a matrix")
    m, n = input._data.shape[-2:]
    at = input.transpose(-2, -1)
    if m >= n:
        return solve(matmul(at, input), at)
    return solve(matmul(input, at), input).transpose(-2, -1)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Pairwise ``p``-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "mm", "matmul", "dot", "bmm", "outer", "ger", "einsum", "addmm", "addmv", "addr", "baddbmm",
    "addbmm", "mv", "vdot", "inner", "tensordot", "kron", "cross", "chain_matmul", "matrix_power",
    "inverse", "det", "slogdet", "logdet", "pinverse", "cdist", "cholesky",
)
METHODS = {
    "__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self),
    "matmul": matmul, "mm": mm, "dot": dot, "bmm": bmm, "outer": outer, "ger": outer,
    "addmm": addmm, "addmv": addmv, "addr": addr, "baddbmm": baddbmm, "addbmm": addbmm, "mv": mv,
    "vdot": vdot, "inner": inner, "kron": kron, "cross": cross, "matrix_power": matrix_power,
    "inverse": inverse, "det": det, "slogdet": slogdet, "logdet": logdet, "pinverse": pinverse,
    "cholesky": cholesky,
}
