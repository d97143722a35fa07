"""In-place ops: ``add_``, ``mul_``, ``zero_``, ``copy_``, ``t[idx] = v``, ``+=`` ...

Untracked (grad mode off, or nothing requires grad), the new values are written straight
into the storage. Tracked, the op is computed out of place on a snapshot of the old
values (so saved tensors stay valid), written into the storage, and the tensor takes the
new node as its ``grad_fn`` (it is "rebased", as in PyTorch). Either way the shared
version counter is bumped, so a tensor saved for backward cannot change silently.

On a view ``v`` of ``base`` (PyTorch's ``CopySlices`` rebasing), a tracked op

1. computes the new values of ``v`` out of place (recorded as usual),
2. writes them into the shared storage,
3. rebases ``base`` onto a ``CopySlices`` node: ``base`` now equals its old value with the
   view's region replaced by the new values, and
4. rebuilds ``v``'s own ``grad_fn`` from the new ``base`` (``AsStridedBackward0``).

Every view remembers how to replay itself from its root base (``Tensor._view_fn``, set by
``tensor.as_view``). Other views of the same base see a new base ``grad_fn``; ``edge_of``
notices it and rebuilds theirs the same way before use (``autograd/record.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff.autograd.forward_rules import derived_jvp
from autodiff.autograd.forward_state import set_tangent, tangent_of
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import no_grad
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.hooks import move_retain
from autodiff.autograd.node import Node, edges_of
from autodiff.autograd.record import edge_of, refresh_view, replay
from autodiff.ops._prep import device_mismatch, number_as_tensor
from autodiff.ops.arithmetic import add, div, floor_divide, mul, remainder, sub
from autodiff.ops.broadcasting import expand, sum_to
from autodiff.ops.comparison import where
from autodiff.ops.creation import _check_fill
from autodiff.ops.indexing import _convert_index, index_put
from autodiff.ops.unary import clamp
from autodiff.tensor import LEAF_INPLACE, Tensor, _make

VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."
OVERLAP = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)


def _check_overlap(t: Tensor) -> None:
    """Refuse writes into a tensor whose elements share memory (an ``expand``-ed view), on
    every device: NumPy's broadcast views are read-only, CuPy's are writable and race."""
    if t._base is not None and t._be.overlaps(t._data):
        raise RuntimeError(OVERLAP)


class CopySlices(Node):
    """``base`` with the region of a view replaced by new values (edges: old base, values)."""

    __slots__ = ("steps", "base_shape", "value_dtype")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        eb, ev = edges_of(self)
        gb = gv = None
        if ev is not None:
            gv = replay(g, self.steps)
            if gv.dtype is not self.value_dtype:
                gv = gv.to(self.value_dtype)
        if eb is not None:
            be = g._be
            keep = _make(be.ones(self.base_shape, "bool"), be)
            with no_grad():
                region = replay(keep, self.steps)
            be.fill(region._data, False)
            gb = where(keep, g, 0.0)
        return gb, gv


def inplace_on_view(t: Tensor, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """Tracked in-place op on the view ``t``: compute, write, rebase base and view."""
    root = t._base
    if (root._requires_grad and root.grad_fn is None) or (t._requires_grad and t.grad_fn is None):
        # A view of a leaf, or a view that is a leaf itself (``arange(6.).reshape(2, 3)
        # .requires_grad_()``): either way PyTorch's message names the view of a leaf.
        raise RuntimeError(VIEW_OF_LEAF)
    if t._view_fn[1] is not root.grad_fn:
        refresh_view(t)
    base_edge = edge_of(root)
    be = t._be
    snapshot = _make(be.copy(t._data), be, t.grad_fn)
    snapshot._requires_grad = t._requires_grad
    snapshot._output_nr = t._output_nr
    result = compute(snapshot)
    _write(t, result)
    if not result._requires_grad and base_edge is None:
        return t
    node = CopySlices((base_edge, edge_of(result) if isinstance(result, Tensor) else None))
    node.steps = t._view_fn[0]
    node.base_shape = root._data.shape
    node.value_dtype = result.dtype
    _rebase(root, node, 0)
    refresh_view(t)
    return t


def apply_inplace(t: Tensor, compute: Callable[[Tensor], Tensor], *others: Any) -> Tensor:
    """Replace ``t``'s values with ``compute(t)``; ``others`` are the op's other inputs."""
    _check_overlap(t)
    base = t._base
    tracked = _grad.enabled and (
        t._requires_grad
        or (base is not None and base._requires_grad)
        or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    )
    if tracked and base is not None:
        return inplace_on_view(t, compute)
    if tracked and t._requires_grad and t.grad_fn is None:
        raise RuntimeError(LEAF_INPLACE)
    be = t._be
    if tracked:
        snapshot = _make(be.copy(t._data), be, t.grad_fn)
        snapshot._requires_grad = t._requires_grad
        snapshot._output_nr = t._output_nr
        snapshot._accumulator = t._accumulator
        if _fw.active:
            set_tangent(snapshot, tangent_of(t))
        result = compute(snapshot)
    else:
        prev = _grad.enabled
        _grad.enabled = False
        try:
            result = compute(t)
        finally:
            _grad.enabled = prev
    _write(t, result)
    if _fw.active:  # forward AD: t's tangent is now the result's (none: a zero tangent)
        _set_inplace_tangent(t, tangent_of(result))
    if tracked:
        _rebase(t, result.grad_fn, result._output_nr)
    return t


def _set_inplace_tangent(t: Tensor, tangent: Tensor | None) -> None:
    """After an in-place op inside a forward AD level: ``t``'s new tangent. (Views of ``t``
    do not see it: tangents are not shared between a view and its base here.)"""
    if tangent is not None:
        set_tangent(t, tangent)
    elif tangent_of(t) is not None:
        del t._fw_grad


def _rebase(t: Tensor, node: Node, output_nr: int) -> None:
    """``t`` is now computed by ``node`` (its retained gradient follows it)."""
    old_node, old_nr = t.grad_fn, t._output_nr
    t.grad_fn = node
    t._output_nr = output_nr
    t._requires_grad = True
    if t._retains_grad:
        move_retain(t, old_node, old_nr)


def _write(t: Tensor, result: Tensor) -> None:
    shape = t._data.shape
    if result._data.shape != shape:
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape "
            f"{list(result._data.shape)}"
        )
    if result.dtype is not t.dtype:
        rk, tk = result.dtype.kind, t.dtype.kind
        if {"b": 0, "i": 1, "f": 2}[rk] > {"b": 0, "i": 1, "f": 2}[tk]:
            raise RuntimeError(
                f"result type {result.dtype.word} can't be cast to the desired output type "
                f"{t.dtype.word}"
            )
    try:
        t._be.copyto(t._data, result._data)
    except RuntimeWarning:  # (made an error by the user: the write is done, see _direct_write)
        pass
    t._version[0] += 1


def _direct(t: Tensor, other: Any) -> Any:
    """The operand for a write straight into ``t``'s memory, or None when it must go the long way.

    The fast path (``w -= lr * w.grad`` under ``no_grad``, ``x += 1.0``) is taken only when
    nothing is recorded and the long way's result would have ``t``'s dtype and shape anyway:
    ``other`` a Python number with a float ``t``, or a tensor of ``t``'s dtype, device and
    shape. Everything else, errors included, goes through ``apply_inplace``.
    """
    if _fw.active:  # forward AD: the long way, which updates the tangent
        return None
    cls = other.__class__
    if cls is Tensor:
        if _grad.enabled and (t._requires_grad or other._requires_grad):
            return None
        od, td = other._data, t._data
        if other._be is t._be and od.dtype == td.dtype and od.shape == td.shape:
            return od
        return None
    if (cls is float or cls is int) and t._data.dtype.kind == "f":
        if _grad.enabled and t._requires_grad:
            return None
        return other
    return None


def _direct_write(t: Tensor, op: Callable, operand: Any) -> Tensor:
    _check_overlap(t)
    try:
        op(t._data, operand)
    except RuntimeWarning:
        # A float warning made an error by the user (PyTorch would not raise): NumPy checks
        # its error flags once the loop has run, so the values are written; finish the op.
        pass
    t._version[0] += 1
    return t


def add_(t: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha.__class__ is int and alpha == 1 and (operand := _direct(t, other)) is not None:
        return _direct_write(t, t._be.iadd, operand)
    return apply_inplace(t, lambda x: add(x, other, alpha=alpha), other)


def sub_(t: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha.__class__ is int and alpha == 1 and (operand := _direct(t, other)) is not None:
        return _direct_write(t, t._be.isub, operand)
    return apply_inplace(t, lambda x: sub(x, other, alpha=alpha), other)


def mul_(t: Tensor, other: Any) -> Tensor:
    if (operand := _direct(t, other)) is not None:
        return _direct_write(t, t._be.imul, operand)
    return apply_inplace(t, lambda x: mul(x, other), other)


def div_(t: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is None and (operand := _direct(t, other)) is not None:
        return _direct_write(t, t._be.idiv, operand)
    return apply_inplace(t, lambda x: div(x, other, rounding_mode=rounding_mode), other)


def floor_divide_(t: Tensor, other: Any) -> Tensor:
    return apply_inplace(t, lambda x: floor_divide(x, other), other)


def remainder_(t: Tensor, other: Any) -> Tensor:
    return apply_inplace(t, lambda x: remainder(x, other), other)


def clamp_(t: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return apply_inplace(t, lambda x: clamp(x, min, max), min, max)


def pow_(t: Tensor, exponent: Any) -> Tensor:
    return apply_inplace(t, lambda x: x ** exponent, exponent)


class FillBackward2(Node):
    """``fill_`` with a number: the old values get no gradient."""

    __slots__ = ()
    jvp = derived_jvp

    def backward(self, g: Tensor) -> Tensor:
        return _zeros_like(g)


class ZeroBackward0(FillBackward2):
    __slots__ = ()


class CopyBackwards(Node):
    """``copy_``: the old values get no gradient; ``src`` gets it back in its own dtype."""

    __slots__ = ("src_shape", "src_dtype", "src_device")
    jvp = derived_jvp

    def backward(self, g: Tensor) -> tuple:
        es = edges_of(self)[1]
        gs = None
        if es is not None:
            gs = sum_to(g, self.src_shape).to(device=self.src_device, dtype=self.src_dtype)
        return _zeros_like(g), gs


def _zeros_like(g: Tensor) -> Tensor:
    return _make(g._be.zeros(g._data.shape, g.dtype.name), g._be)


def fill_(t: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions."
            )
        return copy_(t, value)
    if not isinstance(value, (int, float)):
        raise TypeError(f"fill_(): argument 'value' must be Number, not {type(value).__name__}")
    if isinstance(value, int) and not -(1 << 63) <= value < 1 << 64:
        raise OverflowError("fill_(): int too big to convert")
    value = _check_fill(value, t.dtype, "fill_")
    return _fill(t, value, FillBackward2)


def zero_(t: Tensor) -> Tensor:
    return _fill(t, 0, ZeroBackward0)


def _fill(t: Tensor, value: Any, node_cls: type) -> Tensor:
    _check_overlap(t)
    base = t._base
    if _grad.enabled and base is not None and (t._requires_grad or base._requires_grad):
        be = t._be
        return inplace_on_view(t, lambda x: _make(be.full(x._data.shape, value, x.dtype.name), be))
    if _grad.enabled and t._requires_grad:
        if t.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
        _rebase(t, node_cls((edge_of(t),)), 0)
    t._be.fill(t._data, value)
    t._version[0] += 1
    if _fw.active:
        _set_inplace_tangent(t, None)  # a constant now
    return t


def copy_(t: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values (a tensor, broadcast, cast, moved to t's device; or a number)
    into ``t``."""
    if not isinstance(src, Tensor):
        if not isinstance(src, (int, float)):
            raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not {type(src).__name__}")
        src = number_as_tensor(src, t)
    _check_overlap(t)
    base = t._base
    tracked = _grad.enabled and (
        t._requires_grad or src._requires_grad or (base is not None and base._requires_grad)
    )
    if tracked and base is not None:
        shape = t.shape
        return inplace_on_view(t, lambda x: expand(src.to(device=t.device, dtype=t.dtype), shape))
    if tracked and t._requires_grad and t.grad_fn is None:
        raise RuntimeError(LEAF_INPLACE)
    prev = _grad.enabled
    _grad.enabled = False
    try:
        moved = expand(src.to(device=t.device, dtype=t.dtype), t.shape)
    finally:
        _grad.enabled = prev
    _write(t, moved)
    if _fw.active:  # t's tangent is now src's, broadcast (none: zero)
        tangent = tangent_of(src)
        _set_inplace_tangent(t, None if tangent is None else expand(tangent.to(t.dtype), t.shape).clone())
    if tracked:
        node = CopyBackwards((edge_of(t), edge_of(src)))
        node.src_shape = src._data.shape
        node.src_dtype = src.dtype
        node.src_device = src.device
        _rebase(t, node, 0)
    return t


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``: a tensor or a Python number (PyTorch takes nothing else:
    None, lists and NumPy arrays raise TypeError, rather than being written as NaN)."""
    if not isinstance(value, (Tensor, int, float)):  # (bool is an int)
        cls = type(value)
        name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
        raise TypeError(f"can't assign a {name} to a {t.type()}")
    if value.__class__ is int and not -(1 << 63) <= value < 1 << 63:  # (PyTorch's class and words)
        raise ValueError(f"Overflow when unpacking long long: can't assign {value} to a {t.type()}")
    _check_overlap(t)
    idx, _ = _convert_index(t, index)
    if not _fw.active and not (_grad.enabled and (
        t._requires_grad
        or (t._base is not None and t._base._requires_grad)
        or (isinstance(value, Tensor) and value._requires_grad)
    )):
        # The common untracked case writes through the backend directly.
        if isinstance(value, Tensor):
            if value._be is not t._be:
                raise device_mismatch(t, value, "index_put_")
            value = value._data
        try:
            t._be.setitem(t._data, idx, value)
        except IndexError as e:  # the array library's words ("axis") as PyTorch's
            raise IndexError(str(e).replace(" axis ", " dimension ")) from None
        t._version[0] += 1
        return
    apply_inplace(t, lambda x: index_put(x, idx, value, _converted=True), value)


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ()
METHODS = {
    "__setitem__": setitem,
    "__iadd__": add_, "__isub__": sub_, "__imul__": mul_, "__itruediv__": div_, "__ipow__": pow_,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "pow_": pow_,
    "__ifloordiv__": floor_divide_, "__imod__": remainder_, "floor_divide_": floor_divide_,
    "remainder_": remainder_,
    "clamp_": clamp_, "clip_": clamp_, "zero_": zero_, "fill_": fill_, "copy_": copy_,
}
