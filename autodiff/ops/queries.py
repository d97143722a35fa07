"""Questions about tensors: ``equal``, ``allclose``, ``isclose`` (values), and metadata
(``is_signed``, ``is_nonzero``, ``is_same_size``, ``stride``, ``storage_offset``,
``data_ptr``, ``dim_order``, ``itemsize``, ``nbytes`` ...). None of them is differentiable."""

from __future__ import annotations

import builtins
from typing import Any

from autodiff import dtypes
from autodiff.ops._prep import check_same_device
from autodiff.tensor import Tensor, _make, wrap_dim


def _tensor_arg(op: str, x: Any, pos: int, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}")


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise (bool; broadcast); equal
    infinities are close, NaNs only with ``equal_nan``."""
    _tensor_arg("isclose", input, 1, "input")
    _tensor_arg("isclose", other, 2, "other")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype.word} did not match {other.dtype.word}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"{'rtol' if rtol < 0 else 'atol'} must be greater than or equal to zero, "
                           f"but got {rtol if rtol < 0 else atol}")
    check_same_device((input, other), "isclose")
    be = input._be
    a, b = input._data, other._data
    if input.dtype.kind != "f":
        a, b = be.astype(a, "float64"), be.astype(b, "float64")
    same = be.eq(a, b)
    # Infinities are close only when equal; they are zeroed before subtracting (inf - inf
    # would warn) and the comparison's answer for them discarded.
    infinite = be.logical_or(be.isinf(a), be.isinf(b))
    a0, b0 = be.where(infinite, 0, a), be.where(infinite, 0, b)
    diff = be.abs(be.sub(a0, b0))
    close = be.le(diff, be.add(be.mul(be.abs(b0), float(rtol)), float(atol)))
    close = be.logical_or(be.logical_and(close, be.logical_not(infinite)), same)
    if equal_nan:
        close = be.logical_or(close, be.logical_and(be.isnan(a), be.isnan(b)))
    return _make(close, be)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> builtins.bool:
    """True when every element of ``input`` is close to ``other``'s (see ``isclose``)."""
    return builtins.bool(input._be.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input: Tensor, other: Tensor) -> builtins.bool:
    """True when both have the same size and elements (NaN is never equal)."""
    _tensor_arg("equal", input, 1, "input")
    _tensor_arg("equal", other, 2, "other")
    check_same_device((input, other), "equal")
    if input._data.shape != other._data.shape:
        return False
    return builtins.bool(input._be.all(input._be.eq(input._data, other._data)))


def result_type(tensor: Any, other: Any) -> Any:
    """The dtype ``tensor op other`` would have (tensors or Python numbers)."""

    def kind(x: Any) -> tuple:
        if isinstance(x, Tensor):
            return x.dtype, x.ndim
        if isinstance(x, (builtins.bool, builtins.int, builtins.float)):
            return None, 0
        raise TypeError(f"result_type(): expected Tensor or Number, got {type(x).__name__}")

    (a, ad), (b, bd) = kind(tensor), kind(other)
    if a is None and b is None:
        return dtypes.scalar_result(dtypes.bool if isinstance(tensor, builtins.bool)
                                    else dtypes.int64 if isinstance(tensor, builtins.int) else
                                    dtypes.get_default_dtype(), other)
    if a is None:
        return dtypes.scalar_result(b, tensor)
    if b is None:
        return dtypes.scalar_result(a, other)
    return dtypes.result_type(a, ad, b, bd)


def get_device(input: Tensor) -> int:
    """The CUDA device index of a CUDA tensor; -1 for a CPU tensor."""
    return input.get_device()


def is_floating_point(input: Tensor) -> builtins.bool:
    return input.dtype.is_floating_point


def is_signed(input: Tensor) -> builtins.bool:
    return input.dtype.is_signed


def is_complex(input: Tensor) -> builtins.bool:
    """Always False: autodiff has no complex dtypes."""
    return False


def is_nonzero(input: Tensor) -> builtins.bool:
    """The truth of a one-element tensor (PyTorch's errors for empty and larger ones)."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins.bool(input.item())


def is_same_size(input: Tensor, other: Tensor) -> builtins.bool:
    return input._data.shape == other._data.shape


def stride(self: Tensor, dim: int | None = None) -> Any:
    """Strides in elements (not bytes), as PyTorch counts them."""
    strides = self._be.strides(self._data)
    if dim is None:
        return strides
    return strides[wrap_dim(dim, len(strides))]


def data_ptr(self: Tensor) -> int:
    """The address of the first element (device memory for CUDA tensors)."""
    return self._be.data_ptr(self._data)


def storage_offset(self: Tensor) -> int:
    """Elements between the start of the base tensor's memory and this view's first element."""
    base = self._base
    if base is None:
        return 0
    return (self._be.data_ptr(self._data) - self._be.data_ptr(base._data)) // self.dtype.itemsize


def dim_order(self: Tensor) -> tuple:
    """The dims from outermost to innermost in memory (largest stride first)."""
    strides = self._be.strides(self._data)
    return tuple(sorted(range(len(strides)), key=lambda d: -strides[d]))


def is_contiguous(self: Tensor, memory_format: Any = None) -> builtins.bool:
    return self._be.is_contiguous(self._data)


def _ndimension(self: Tensor) -> int:
    return self.ndim


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = ("isclose", "allclose", "equal", "result_type", "get_device", "is_floating_point", "is_signed", "is_complex", "is_nonzero",
             "is_same_size")
METHODS = {
    "isclose": isclose, "allclose": allclose, "equal": equal, "is_signed": is_signed,
    "is_complex": is_complex, "is_nonzero": is_nonzero, "is_same_size": is_same_size,
    "stride": stride, "data_ptr": data_ptr, "storage_offset": storage_offset, "dim_order": dim_order,
    "is_contiguous": is_contiguous, "ndimension": _ndimension,
    "itemsize": property(lambda self: self.dtype.itemsize),
    "nbytes": property(lambda self: self.dtype.itemsize * self.numel()),
    "is_cpu": property(lambda self: self._be.type == "cpu"),
    "is_pinned": lambda self, device=None: False,
    # Layouts and kinds autodiff does not have: every tensor is dense, strided, not quantized.
    "is_sparse": property(lambda self: False), "is_sparse_csr": property(lambda self: False),
    "is_quantized": property(lambda self: False), "is_meta": property(lambda self: False),
    "is_mkldnn": property(lambda self: False), "is_nested": property(lambda self: False),
}
