"""The Tensor methods and operators that are ops: one table, attached once at import."""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.autograd.api import tensor_backward
from autodiff.ops import arithmetic as ar
from autodiff.ops import conversion as cv
from autodiff.ops import elementwise as ew
from autodiff.ops import indexing as ix
from autodiff.ops import inplace as ip
from autodiff.ops import linalg as la
from autodiff.ops import reduction as rd
from autodiff.ops import shape as sh
from autodiff.tensor import Tensor


def _iop(fn: Any) -> Any:
    """``t += x`` and friends: in place, returning ``t``."""

    def method(self: Tensor, other: Any) -> Tensor:
        return fn(self, other)

    return method


def _cast_method(dt: dtypes.dtype) -> Any:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return cv.to_dtype(self, dt)

    method.__name__ = dt.name
    return method


def _size_args(fn: Any) -> Any:
    """Methods taking sizes as ``*size`` or one sequence (``view(2, 3)`` / ``view((2, 3))``)."""

    def method(self: Tensor, *size: Any) -> Tensor:
        return fn(self, *size)

    method.__name__ = fn.__name__
    return method


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    name = "cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else str(device))
    return cv.to(self, name)


METHODS: dict[str, Any] = {
    # arithmetic
    "__add__": ar.add, "__radd__": ar.add, "add": ar.add,
    "__sub__": ar.sub, "__rsub__": ar.rsub, "sub": ar.sub,
    "__mul__": ar.mul, "__rmul__": ar.mul, "mul": ar.mul,
    "__truediv__": ar.div, "__rtruediv__": ar.rdiv, "div": ar.div,
    "__neg__": ar.neg, "neg": ar.neg,
    "__pow__": ar.pow, "__rpow__": ar.rpow, "pow": ar.pow,
    "reciprocal": ar.reciprocal,
    "__matmul__": la.matmul, "matmul": la.matmul, "mm": la.mm, "dot": la.dot,
    "__rmatmul__": lambda self, other: la.matmul(other, self),
    # elementwise
    "exp": ew.exp, "log": ew.log, "sqrt": ew.sqrt, "abs": ew.abs, "__abs__": ew.abs,
    "sign": ew.sign, "clamp": ew.clamp, "clip": ew.clamp,
    "__eq__": ew.eq, "__ne__": ew.ne, "__lt__": ew.lt, "__le__": ew.le,
    "__gt__": ew.gt, "__ge__": ew.ge, "eq": ew.eq, "ne": ew.ne, "lt": ew.lt, "le": ew.le,
    "gt": ew.gt, "ge": ew.ge,
    "__and__": ew.logical_and, "__or__": ew.logical_or, "__invert__": ew.bitwise_not,
    "logical_and": ew.logical_and, "logical_or": ew.logical_or, "logical_not": ew.logical_not,
    "isnan": ew.isnan,
    # reductions
    "sum": rd.sum, "mean": rd.mean, "sum_to_size": rd.sum_to_size,
    "expand": _size_args(rd.expand), "expand_as": lambda self, other: rd.expand(self, other.shape),
    "broadcast_to": rd.broadcast_to,
    # shape
    "view": _size_args(sh.view), "reshape": _size_args(sh.reshape),
    "view_as": lambda self, other: sh.view(self, other.shape),
    "reshape_as": lambda self, other: sh.reshape(self, other.shape),
    "flatten": sh.flatten, "t": sh.t, "transpose": sh.transpose, "permute": _size_args(sh.permute),
    "unsqueeze": sh.unsqueeze, "squeeze": sh.squeeze, "clone": sh.clone,
    "contiguous": sh.contiguous,
    "__getitem__": ix.getitem, "__setitem__": ip.setitem,
    # conversion
    "to": cv.to, "cpu": lambda self: cv.to(self, "cpu"), "cuda": _cuda,
    "float": _cast_method(dtypes.float32), "double": _cast_method(dtypes.float64),
    "half": _cast_method(dtypes.float16), "int": _cast_method(dtypes.int32),
    "long": _cast_method(dtypes.int64), "bool": _cast_method(dtypes.bool),
    # in place
    "__iadd__": _iop(ip.add_), "__isub__": _iop(ip.sub_), "__imul__": _iop(ip.mul_),
    "__itruediv__": _iop(ip.div_), "__ipow__": _iop(ip.pow_),
    "add_": ip.add_, "sub_": ip.sub_, "mul_": ip.mul_, "div_": ip.div_, "pow_": ip.pow_,
    "clamp_": ip.clamp_, "clip_": ip.clamp_, "zero_": ip.zero_, "fill_": ip.fill_,
    "copy_": ip.copy_,
}


def _T(self: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    return sh.permute(self, tuple(reversed(range(self.ndim))))


def attach() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.backward = tensor_backward  # not an op; defined with autograd's entry points
    Tensor.T = property(_T)
    Tensor.mT = property(lambda self: sh.transpose(self, -2, -1))


# ---- extended op set (issue 5): math, reductions, shape, indexing, products ----------
from autodiff.ops import activation as _act  # noqa: E402
from autodiff.ops import indexing_extra as _ixe  # noqa: E402
from autodiff.ops import linalg_extra as _lae  # noqa: E402
from autodiff.ops import reduction_extra as _rde  # noqa: E402
from autodiff.ops import shape_extra as _she  # noqa: E402
from autodiff.ops import unary as _un  # noqa: E402

METHODS.update({
    "rsqrt": _un.rsqrt, "expm1": _un.expm1, "log1p": _un.log1p, "log2": _un.log2,
    "sin": _un.sin, "cos": _un.cos, "tan": _un.tan, "tanh": _un.tanh, "sigmoid": _un.sigmoid,
    "relu": _un.relu, "erf": _un.erf, "floor": _un.floor, "ceil": _un.ceil, "round": _un.round,
    "maximum": _un.maximum, "minimum": _un.minimum, "lerp": _un.lerp,
    "softmax": _act.softmax, "log_softmax": _act.log_softmax,
    "prod": _rde.prod, "max": _rde.max, "min": _rde.min, "amax": _rde.amax, "amin": _rde.amin,
    "argmax": _rde.argmax, "argmin": _rde.argmin, "var": _rde.var, "std": _rde.std,
    "logsumexp": _rde.logsumexp, "norm": _rde.norm, "cumsum": _rde.cumsum,
    "flip": _she.flip, "repeat": _size_args(_she.repeat), "split": _she.split, "chunk": _she.chunk,
    "gather": _ixe.gather, "scatter_add": _ixe.scatter_add, "index_select": _ixe.index_select,
    "masked_fill": _ixe.masked_fill,
    "bmm": _lae.bmm, "outer": _lae.outer, "ger": _lae.outer,
})
