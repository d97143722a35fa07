"""In-place ops: ``add_``, ``mul_``, ``zero_``, ``copy_``, ``t[idx] = v``, ``+=`` ...

Untracked (grad mode off, or nothing requires grad), the new values are written straight
into the storage. Tracked, the op is computed out of place on a snapshot of the old
values (so saved tensors stay valid), written into the storage, and the tensor takes the
new node as its ``grad_fn`` (it is "rebased", as in PyTorch); on a view, its base is
rebased too (``ops/views.py``). Either way the shared version counter is bumped, so a
tensor saved for backward cannot change silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.hooks import move_retain
from autodiff.autograd.node import Node, edge_of
from autodiff.ops.arithmetic import add, div, mul, sub
from autodiff.ops.elementwise import clamp
from autodiff.ops.indexing import _convert_index, index_put
from autodiff.ops.reduction import expand, sum_to
from autodiff.ops.views import inplace_on_view
from autodiff.tensor import LEAF_INPLACE, Tensor, _make


def _dtype_word(t: Tensor) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}[t.dtype.name]


def apply_inplace(t: Tensor, compute: Callable[[Tensor], Tensor], *others: Any) -> Tensor:
    """Replace ``t``'s values with ``compute(t)``; ``others`` are the op's other inputs."""
    base = t._base
    tracked = _grad.enabled and (
        t._requires_grad
        or (base is not None and base._requires_grad)
        or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    )
    if tracked and base is not None:
        return inplace_on_view(t, compute, _write)
    if tracked and t._requires_grad and t.grad_fn is None:
        raise RuntimeError(LEAF_INPLACE)
    be = t._be
    if tracked:
        snapshot = _make(be.copy(t._data), be, t.grad_fn)
        snapshot._requires_grad = t._requires_grad
        snapshot._output_nr = t._output_nr
        snapshot._accumulator = t._accumulator
        result = compute(snapshot)
    else:
        prev = _grad.enabled
        _grad.enabled = False
        try:
            result = compute(t)
        finally:
            _grad.enabled = prev
    _write(t, result)
    if tracked:
        _rebase(t, result.grad_fn, result._output_nr)
    return t


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
                f"result type {_dtype_word(result)} can't be cast to the desired output type "
                f"{_dtype_word(t)}"
            )
    t._be.copyto(t._data, result._data)
    t._version[0] += 1


def _direct(t: Tensor, other: Any) -> Any:
    """The operand for a write straight into ``t``'s memory, or None when it must go the long way.

    The fast path (``w -= lr * w.grad`` under ``no_grad``, ``x += 1.0``) is taken only when
    nothing is recorded and the long way's result would have ``t``'s dtype and shape anyway:
    ``other`` a Python number with a float ``t``, or a tensor of ``t``'s dtype, device and
    shape. Everything else, errors included, goes through ``apply_inplace``.
    """
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
    op(t._data, operand)
    t._version[0] += 1
    return t


def add_(t: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha == 1 and (operand := _direct(t, other)) is not None:
        return _direct_write(t, t._be.iadd, operand)
    return apply_inplace(t, lambda x: add(x, other, alpha=alpha), other)


def sub_(t: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    if alpha == 1 and (operand := _direct(t, other)) is not None:
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


def clamp_(t: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return apply_inplace(t, lambda x: clamp(x, min, max), min, max)


def pow_(t: Tensor, exponent: Any) -> Tensor:
    return apply_inplace(t, lambda x: x ** exponent, exponent)


class FillBackward2(Node):
    """``fill_`` with a number: the old values get no gradient."""

    __slots__ = ()

    def backward(self, g: Tensor) -> Tensor:
        return _zeros_like(g)


class ZeroBackward0(FillBackward2):
    __slots__ = ()


class CopyBackwards(Node):
    """``copy_``: the old values get no gradient; ``src`` gets it back in its own dtype."""

    __slots__ = ("src_shape", "src_dtype", "src_device")

    def backward(self, g: Tensor) -> tuple:
        es = self.next_edges[1]
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
    return _fill(t, value, FillBackward2)


def zero_(t: Tensor) -> Tensor:
    return _fill(t, 0, ZeroBackward0)


def _fill(t: Tensor, value: Any, node_cls: type) -> Tensor:
    base = t._base
    if _grad.enabled and base is not None and (t._requires_grad or base._requires_grad):
        be = t._be
        return inplace_on_view(
            t, lambda x: _make(be.full(x._data.shape, value, x.dtype.name), be), _write
        )
    if _grad.enabled and t._requires_grad:
        if t.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
        _rebase(t, node_cls((edge_of(t),)), 0)
    t._be.fill(t._data, value)
    t._version[0] += 1
    return t


def copy_(t: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values (broadcast, cast, moved to t's device) into ``t``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' must be Tensor, not {type(src).__name__}")
    base = t._base
    tracked = _grad.enabled and (
        t._requires_grad or src._requires_grad or (base is not None and base._requires_grad)
    )
    if tracked and base is not None:
        shape = t.shape
        return inplace_on_view(
            t, lambda x: expand(src.to(device=t.device, dtype=t.dtype), shape), _write
        )
    if tracked and t._requires_grad and t.grad_fn is None:
        raise RuntimeError(LEAF_INPLACE)
    prev = _grad.enabled
    _grad.enabled = False
    try:
        moved = expand(src.to(device=t.device, dtype=t.dtype), t.shape)
    finally:
        _grad.enabled = prev
    _write(t, moved)
    if tracked:
        node = CopyBackwards((edge_of(t), edge_of(src)))
        node.src_shape = src._data.shape
        node.src_dtype = src.dtype
        node.src_device = src.device
        _rebase(t, node, 0)
    return t


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``."""
    idx, _ = _convert_index(t, index)
    if not (_grad.enabled and (
        t._requires_grad
        or (t._base is not None and t._base._requires_grad)
        or (isinstance(value, Tensor) and value._requires_grad)
    )):
        # The common untracked case writes through the backend directly.
        if isinstance(value, Tensor):
            if value._be is not t._be:
                from autodiff.ops._prep import device_mismatch

                raise device_mismatch(t, value, "index_put_")
            value = value._data
        t._be.setitem(t._data, idx, value)
        t._version[0] += 1
        return
    apply_inplace(t, lambda x: index_put(x, idx, value, _converted=True), value)
