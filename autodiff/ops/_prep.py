"""Argument preparation shared by the ops: scalars, devices, dtype promotion, dims."""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.ops.conversion import to_backend, to_dtype
from autodiff.ops.creation import tensor
from autodiff.tensor import Tensor, wrap_dim

SCALAR_TYPES = (int, float, bool)


def device_mismatch(a: Tensor, b: Tensor, op: str) -> RuntimeError:
    return RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{a.device} and {b.device}! (when checking arguments for {op})"
    )


def as_tensor(value: Any, like: Tensor) -> Tensor:
    """``value`` (a tensor, Python number or nested list) as a tensor on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    return tensor(value, device=like.device)


def number_as_tensor(value: Any, like: Tensor) -> Tensor:
    """A Python number (or tensor) as a tensor on ``like``'s device; a float beside a float
    tensor takes that tensor's dtype, so that ``0.1`` is not first rounded to float32 (the
    default dtype) when ``like`` is float64."""
    if isinstance(value, float) and like.dtype.kind == "f":
        return tensor(value, dtype=like.dtype, device=like.device)
    return as_tensor(value, like)


def check_same_device(tensors: Any, op: str) -> None:
    first = None
    for t in tensors:
        if first is None:
            first = t
        elif t._be is not first._be:
            raise device_mismatch(first, t, op)


def promote(a: Tensor, b: Any, op: str) -> tuple[Tensor, Any]:
    """Bring ``a`` and ``b`` (tensor or Python scalar) to a common dtype, PyTorch's way.

    A Python scalar stays a Python scalar (it is "weak": ``float32 * 2.0`` is float32);
    a cast of a tensor that requires grad is recorded, so its gradient is cast back.
    """
    if b.__class__ is Tensor or isinstance(b, Tensor):
        if a._be is not b._be:
            a, b = _one_device(a, b, op)
        if a._data.dtype == b._data.dtype:
            return a, b
        target = dtypes.result_type(a.dtype, a.ndim, b.dtype, b.ndim)
        return cast(a, target), cast(b, target)
    cls = b.__class__
    if cls is not float and cls is not int and cls is not bool:
        if isinstance(b, SCALAR_TYPES):  # int/float subclasses, e.g. numpy scalars
            return promote(a, float(b) if isinstance(b, float) else int(b), op)
        if hasattr(b, "__len__") or hasattr(b, "item"):
            return promote(a, as_tensor(b, a), op)
        raise TypeError(f"{op}(): argument 'other' must be Tensor or Number, not {type(b).__name__}")
    kind = a._data.dtype.kind
    if cls is float:
        if kind != "f":
            a = cast(a, dtypes.get_default_dtype())
    elif cls is int and kind == "b":
        a = cast(a, dtypes.int64)
    return a, b


def _one_device(a: Tensor, b: Tensor, op: str) -> tuple[Tensor, Tensor]:
    """PyTorch lets a 0-d CPU tensor take part in an op on another device, as a number
    would: it is moved there (a recorded copy, so its gradient comes back to the CPU)."""
    if b._be.type == "cpu" and not b._data.shape:
        return a, to_backend(b, a._be)
    if a._be.type == "cpu" and not a._data.shape:
        return to_backend(a, b._be), b
    raise device_mismatch(a, b, op)


def cast(t: Tensor, dtype: dtypes.dtype) -> Tensor:
    """``t`` converted to ``dtype`` (recorded as ``ToCopyBackward0`` when it needs grad)."""
    if t.dtype is dtype:
        return t
    return to_dtype(t, dtype)


def float_result(t: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype (for division, exp, mean...)."""
    if t.dtype.kind == "f":
        return t
    return cast(t, dtypes.get_default_dtype())


def wrap_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return out


# (value, dtype, backend) -> what the backend computes fastest with for a Python float
# operand (see ArrayBackend.scalar_operand). Looked up inline by the hot ops:
#     c = OPERANDS.get((b, a._data.dtype, be)); ... c if c is not None else float_operand(...)
OPERANDS: dict = {}


def float_operand(be: Any, data: Any, value: float) -> Any:
    """The operand the backend gets for Python float ``value`` against ``data`` (cached)."""
    if not value:
        return value  # never cached: 0.0 and -0.0 are equal as dict keys
    if len(OPERANDS) > 1024:  # bounded: learning rates, NaNs (never equal) and the like
        OPERANDS.clear()
    operand = OPERANDS[(value, data.dtype, be)] = be.scalar_operand(value, be.dtype_name(data))
    return operand
