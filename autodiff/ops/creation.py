"""Tensor creation: ``tensor``, ``ones``, ``zeros``, ``full``, ``empty``, ``arange``,
``randn``, ``rand``, the ``*_like`` family, ``from_numpy`` and ``manual_seed``."""

from __future__ import annotations

import builtins
from typing import Any

import backends
from autodiff import dtypes
from autodiff.device import backend_for
from autodiff.tensor import Tensor, _make


def _finish(data: Any, be: Any, requires_grad: bool) -> Tensor:
    t = _make(data, be)
    if requires_grad:
        t.requires_grad = True  # validates the dtype with PyTorch's message
    return t


def _flatten_tensors(data: Any) -> Any:
    """Nested lists may hold 0-d tensors (``tensor([a, b])``): turn them into numbers."""
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(x) for x in data]
    return data


def _infer_dtype(data: Any) -> dtypes.dtype:
    """The dtype PyTorch picks for Python data: bool < int64 < default float."""
    kind = "b"
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, bool):
            continue
        elif isinstance(x, int):
            kind = "i" if kind == "b" else kind
        elif isinstance(x, float):
            return dtypes.get_default_dtype()
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    if kind == "b" and not (isinstance(data, (list, tuple)) and len(data) == 0):
        return dtypes.bool
    return dtypes.int64 if kind == "i" else dtypes.get_default_dtype()


def tensor(
    data: Any,
    dtype: dtypes.dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or a tensor)."""
    if isinstance(data, Tensor):
        be = data._be if device is None else backend_for(device)
        src = data.detach().to(device=be.name, dtype=dtype or data.dtype, copy=True)
        return _finish(src._data, be, requires_grad)
    be = backend_for(device)
    if isinstance(data, (list, tuple, int, float, bool)):
        data = _flatten_tensors(data)
        dt = dtype or _infer_dtype(data)
        arr = be.asarray(data, dt.name)
    else:
        # An array (NumPy, or the device's own): keep its dtype, as PyTorch does.
        arr = be.from_host(data)
        arr = be.copy(arr) if dtype is None else be.astype(arr, dtype.name)
        if be.dtype_name(arr) not in dtypes.BY_NAME:
            raise TypeError(f"can't convert array of dtype {be.dtype_name(arr)} to a tensor")
    return _finish(arr, be, requires_grad)


def as_tensor(data: Any, dtype: dtypes.dtype | None = None, device: Any = None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype) and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: Any) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array."""
    be = backends.get("cpu")
    name = be.dtype_name(ndarray)
    if name not in dtypes.BY_NAME:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{name}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        )
    return _make(ndarray, be)


def _size(size: tuple) -> tuple:
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"expected a sequence of integers for size, got {type(n).__name__}")
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    return tuple(size)


def _filled(maker: str, size: tuple, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    be = backend_for(device)
    dt = dtype or dtypes.get_default_dtype()
    return _finish(getattr(be, maker)(_size(size), dt.name), be, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled("ones", size, dtype, device, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled("zeros", size, dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled("empty", size, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    be = backend_for(device)
    if dtype is None:
        dtype = _infer_dtype(fill_value)
    fill_value = _check_fill(fill_value, dtype, "full")
    return _finish(be.full(_size((size,)), fill_value, dtype.name), be, requires_grad)


# The range of each integer dtype, and how PyTorch's overflow message names its C type.
_INT_RANGES = {
    "int8": (-2 ** 7, 2 ** 7 - 1, "int8_t"), "uint8": (0, 2 ** 8 - 1, "uint8_t"),
    "int16": (-2 ** 15, 2 ** 15 - 1, "int16_t"), "int32": (-2 ** 31, 2 ** 31 - 1, "int"),
    "int64": (-2 ** 63, 2 ** 63 - 1, "int64_t"),
}
_FLOAT_MAX = {"float32": (3.4028234663852886e38, "float"), "float64": (builtins.float("inf"), "double")}


def _check_fill(value: Any, dtype: dtypes.dtype, op: str) -> Any:
    """``value``, after PyTorch's check that a Python number fits the dtype it fills (NumPy
    would cast NaN to INT_MIN, or wrap around, silently)."""
    if isinstance(value, bool) or not isinstance(value, (int, builtins.float)):
        return value
    fits = True
    if dtype.name in _INT_RANGES:
        lo, hi, c_type = _INT_RANGES[dtype.name]
        if dtype.name == "uint8" and isinstance(value, int) and -(2 ** 7) <= value < 0:
            return value % 256  # PyTorch wraps small negative ints into uint8 (-1 -> 255)
        fits = value == value and lo <= value <= hi  # (NaN fails the first test)
    elif dtype.name in _FLOAT_MAX:
        top, c_type = _FLOAT_MAX[dtype.name]
        fits = not (top < abs(value) < builtins.float("inf"))
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {c_type} without overflow "
                           f"({op}: fill value {value!r} for {dtype})")
    return value


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = _infer_dtype([start, end, step])
        dtype = dtypes.int64 if dtype is dtypes.bool else dtype
    be = backend_for(device)
    return _finish(be.arange(start, end, step, dtype.name), be, requires_grad)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Any = None) -> Tensor:
    """Standard-normal samples (from the device backend's generator; see ``manual_seed``)."""
    be = backend_for(device)
    dt = dtype or dtypes.get_default_dtype()
    return _finish(be.random_normal(_size(size), dt.name), be, requires_grad)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Any = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    be = backend_for(device)
    dt = dtype or dtypes.get_default_dtype()
    return _finish(be.random_uniform(_size(size), dt.name), be, requires_grad)


def randint(low: int, high: Any = None, size: Any = None, *, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    if size is None:
        low, high, size = 0, low, high
    be = backend_for(device)
    dt = dtype or dtypes.int64
    return _finish(be.random_integers(low, high, _size((size,)), dt.name), be, requires_grad)


def _like(maker: Any, t: Tensor, dtype: Any, device: Any, requires_grad: bool, *args: Any) -> Tensor:
    return maker(*args, t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(ones, input, dtype, device, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, input, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(empty, input, dtype, device, requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(randn, input, dtype, device, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(rand, input, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    fill_value = _check_fill(fill_value, dtype or input.dtype, "full_like")
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def manual_seed(seed: int) -> Any:
    """Seed the random generators of every device (NumPy/CuPy generators, not PyTorch's)."""
    backends.seed_all(builtins.int(seed))
    return None


# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "tensor", "as_tensor", "from_numpy", "ones", "zeros", "empty", "full", "arange", "randn", "rand",
    "randint", "ones_like", "zeros_like", "empty_like", "randn_like", "rand_like", "full_like",
    "manual_seed",
)
METHODS: dict = {}
