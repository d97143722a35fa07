"""Tensor creation: ``tensor``, ``ones``, ``zeros``, ``full``, ``empty``, ``arange``,
``linspace``, ``logspace``, ``eye``, ``randn``, ``rand``, ``randint``, ``randperm``, the
``*_like`` family, ``Tensor.new_*``, ``from_numpy`` and the seeding functions of
``autodiff.random``.

Every factory takes the size as PyTorch does (``zeros(2, 3)``, ``zeros((2, 3))``,
``zeros([2, 3])``, ``zeros(size=(2, 3))``), ``dtype=``, ``device=`` (default: the default
device, ``autodiff.set_default_device``) and ``requires_grad=``; the random ones take
``generator=`` (an ``autodiff.Generator``).
"""

from __future__ import annotations

import builtins
import math
import operator
from typing import Any

import backends
from autodiff import dtypes
from autodiff.device import factory_backend
from autodiff.ops._defaults import OMITTED
from autodiff.random import (  # noqa: F401 - the seeding functions are exported from here
    get_rng_state,
    initial_seed,
    manual_seed,
    rng_of,
    seed,
    set_rng_state,
)
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
    """The dtype PyTorch picks for Python data: each element has a dtype (bool, int64, the
    default float, or a NumPy scalar's own, e.g. float64 for ``np.float64(1.0)``, which is
    also a Python float) and the result promotes them all, as ``torch.tensor`` does."""
    kind = "b"
    seen = False  # ``[]`` and ``[[]]`` hold no element: the default float, as in PyTorch
    scalar_dtypes: list[dtypes.dtype] = []
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
            continue
        seen = True
        if hasattr(x, "dtype") and not isinstance(x, Tensor):  # a NumPy scalar
            found = dtypes.BY_NAME.get(getattr(x.dtype, "name", ""))
            if found is None:
                raise TypeError(f"Could not infer dtype of {type(x).__name__}")
            scalar_dtypes.append(found)
        elif isinstance(x, bool):
            continue
        elif isinstance(x, int):
            kind = "i" if kind == "b" else kind
        elif isinstance(x, float):
            kind = "f"
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    if not seen:
        return dtypes.get_default_dtype()
    result = {"b": dtypes.bool, "i": dtypes.int64, "f": dtypes.get_default_dtype()}[kind]
    for d in scalar_dtypes:
        result = dtypes.promote_types(result, d)
    return result


def tensor(
    data: Any,
    dtype: dtypes.dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or a tensor)."""
    if isinstance(data, Tensor):
        be = data._be if device is None else factory_backend(device)
        src = data.detach().to(device=be.name, dtype=dtype or data.dtype, copy=True)
        return _finish(src._data, be, requires_grad)
    src = backends.device_of_array(data)
    if src is not None:  # a CuPy array: copied on its own GPU, or to ``device``
        held = _shared(data, None, src)
        if held is not None:
            return tensor(held, dtype=dtype, device=src if device is None else device, requires_grad=requires_grad)
    be = factory_backend(device)
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


def _shared(data: Any, dtype: dtypes.dtype | None, device: Any) -> Tensor | None:
    """A tensor holding ``data`` itself, when it is an array of the target device (a NumPy
    array for the CPU, a CuPy array on the same GPU) of the asked dtype; else None."""
    if isinstance(data, (list, tuple, int, float, bool)):
        return None
    if device is None:
        device = backends.device_of_array(data)  # a CuPy array stays on its GPU
    be = factory_backend(device)
    arr = be.adopt(data)
    if arr is None:
        return None
    name = be.dtype_name(arr)
    if name not in dtypes.BY_NAME or (dtype is not None and dtype.name != name):
        return None
    return _make(arr, be)


def as_tensor(data: Any, dtype: dtypes.dtype | None = None, device: Any = None) -> Tensor:
    """``data`` as a tensor without a copy when it already is one, or is a NumPy array
    (for the CPU) or a CuPy array (for its GPU) of the asked dtype; else a copy."""
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype) and device is None:
        return data
    if not isinstance(data, Tensor):
        out = _shared(data, dtype, device)
        if out is not None:
            return out
    return tensor(data, dtype=dtype, device=device)


def asarray(obj: Any, *, dtype: dtypes.dtype | None = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor, sharing the memory of a tensor, NumPy array or CuPy array unless
    a copy is asked for or needed."""
    if isinstance(obj, Tensor) and not copy:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and out is not obj:
            raise ValueError("asarray(): copy=False, but a copy is needed to change the dtype or device")
    elif not copy and (shared := _shared(obj, dtype, device)) is not None:
        out = shared
    elif copy is False:
        raise ValueError("asarray(): copy=False, but the object cannot be shared without a copy "
                         "(another dtype or device, or not an array)")
    else:
        out = tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def scalar_tensor(s: Any, *, dtype: dtypes.dtype | None = None, device: Any = None,
                  requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """A 0-d tensor holding the number ``s`` (of the default float dtype unless given)."""
    _check_ignored("scalar_tensor", kwargs)
    value = s.item() if isinstance(s, Tensor) else s
    return tensor(value, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)


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


# ---- sizes, dtypes, devices ------------------------------------------------------------------
def _size(size: tuple, kw_size: Any = None, op: str = "size") -> tuple:
    """A shape from any of PyTorch's spellings: ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])``,
    ``f(torch.Size([2, 3]))``, ``f(size=(2, 3))``; each entry an int (or 0-d integer tensor)."""
    if kw_size is not None:
        if size:
            raise TypeError(f"{op}() got multiple values for argument 'size'")
        size = (kw_size,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for n in size:
        if isinstance(n, builtins.bool) or not hasattr(n, "__index__") or (
                isinstance(n, Tensor) and n.dtype.kind != "i"):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of "
                            f"type {type(n).__name__}")
        out.append(operator.index(n))
    for n in out:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {out}")
    return tuple(out)


def _float_dtype(dtype: Any) -> dtypes.dtype:
    return dtype or dtypes.get_default_dtype()


def _filled(maker: str, size: tuple, kw_size: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    be = factory_backend(device)
    shape = _size(size, kw_size, maker)
    return _finish(getattr(be, maker)(shape, _float_dtype(dtype).name), be, requires_grad)


# The keywords PyTorch's factories take that change nothing here (one memory layout:
# strided; NumPy memory is already what CuPy copies from).
_IGNORED = ("layout", "pin_memory", "memory_format", "out")


def _check_ignored(op: str, kwargs: dict) -> None:
    for k, v in kwargs.items():
        if k not in _IGNORED:
            raise TypeError(f"{op}() got an unexpected keyword argument '{k}'")
        if k == "out" and v is not None:
            raise TypeError(f"{op}(): out= is not supported; assign the result instead")


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """A tensor of ones: ``ones(2, 3)``, ``ones((2, 3))``, ``ones(size=(2, 3))``."""
    kw_size = kwargs.pop("size", None)
    _check_ignored("ones", kwargs)
    return _filled("ones", size, kw_size, dtype, device, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, **kwargs: Any) -> Tensor:
    kw_size = kwargs.pop("size", None)
    _check_ignored("zeros", kwargs)
    return _filled("zeros", size, kw_size, dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held)."""
    kw_size = kwargs.pop("size", None)
    _check_ignored("empty", kwargs)
    return _filled("empty", size, kw_size, dtype, device, requires_grad)


def _scalar_dtype(value: Any) -> dtypes.dtype:
    """The dtype PyTorch gives a Python number (or a 0-d tensor's dtype)."""
    if isinstance(value, Tensor):
        return value.dtype
    return _infer_dtype(value)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """``size`` filled with ``fill_value``; the dtype follows the value (bool, int64, float)."""
    _check_ignored("full", kwargs)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    be = factory_backend(device)
    if not isinstance(fill_value, (builtins.int, builtins.float)) and not (
            isinstance(fill_value, Tensor) and fill_value.numel() == 1):
        raise TypeError(f"full(): argument 'fill_value' must be Number, not {type(fill_value).__name__}")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = dtype or _scalar_dtype(fill_value)
    fill_value = _check_fill(fill_value, dtype, "full")
    return _finish(be.full(_size((size,), op="full"), fill_value, dtype.name), be, requires_grad)


def _number(x: Any, op: str) -> Any:
    if isinstance(x, Tensor):
        return x.item()
    if not isinstance(x, (builtins.int, builtins.float)) and hasattr(x, "__index__"):
        return operator.index(x)
    if not isinstance(x, (builtins.int, builtins.float)):
        if hasattr(x, "__float__"):
            return builtins.float(x)
        raise TypeError(f"{op}(): expected a number, got {type(x).__name__}")
    return x


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
    if isinstance(value, int) and not -(2 ** 63) <= value < 2 ** 64:
        raise OverflowError(f"{op}(): int too big to convert")  # (PyTorch's class, any dtype)
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


def arange(start: Any, end: Any = OMITTED, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """``[start, end)`` by ``step``: ``ceil((end - start) / step)`` values (int64 unless a
    bound or the step is a float)."""
    _check_ignored("arange", kwargs)
    if end is None or step is None:
        raise TypeError("arange(): argument 'end' and 'step' must be Number, not NoneType")
    start, step = _number(start, "arange"), _number(step, "arange")
    if end is OMITTED:
        start, end = 0, start
    end = _number(end, "arange")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if any(isinstance(x, builtins.float) and not math.isfinite(x) for x in (start, end, step)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = _infer_dtype([start, end, step])
        dtype = dtypes.int64 if dtype is dtypes.bool else dtype
    elif dtype is dtypes.bool:
        raise NotImplementedError('"arange_cpu" not implemented for \'Bool\'')
    be = factory_backend(device)
    n = math.ceil((end - start) / step)
    # Computed in float64 (int64 for integers), then cast: start + i * step, as PyTorch does.
    wide = "int64" if all(isinstance(x, builtins.int) for x in (start, end, step)) else "float64"
    values = be.add(be.mul(be.arange(0, n, 1, wide), step), start)
    return _finish(be.astype(values, dtype.name), be, requires_grad)


def linspace(start: Any, end: Any, steps: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included)."""
    _check_ignored("linspace", kwargs)
    start, end, steps = _number(start, "linspace"), _number(end, "linspace"), _steps(steps, "linspace")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_dtype(dtype)
    be = factory_backend(device)
    return _finish(be.astype(_spaced(be, start, end, steps), dtype.name), be, requires_grad)


def _steps(steps: Any, op: str) -> int:
    if isinstance(steps, builtins.float) or not hasattr(steps, "__index__"):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    return operator.index(steps)


def _spaced(be: Any, start: Any, end: Any, steps: int) -> Any:
    """Float64 ``linspace``: the first half counted up from ``start``, the second half down
    from ``end`` (so both ends are exact, as in PyTorch)."""
    i = be.arange(0, steps, 1, "float64")
    if steps <= 1:
        return be.add(be.mul(i, 0.0), builtins.float(start))
    step = (end - start) / (steps - 1)
    up = be.add(be.mul(i, step), builtins.float(start))
    down = be.sub(builtins.float(end), be.mul(be.sub(builtins.float(steps - 1), i), step))
    return be.where(be.lt(i, steps // 2), up, down)


def logspace(start: Any, end: Any, steps: Any, base: Any = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    _check_ignored("logspace", kwargs)
    start, end, steps = _number(start, "logspace"), _number(end, "logspace"), _steps(steps, "logspace")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_dtype(dtype)
    be = factory_backend(device)
    values = be.pow(builtins.float(base), _spaced(be, start, end, steps))
    return _finish(be.astype(values, dtype.name), be, requires_grad)


def eye(n: Any, m: Any = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
        **kwargs: Any) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``)."""
    _check_ignored("eye", kwargs)
    n = operator.index(n)
    m = n if m is None else operator.index(m)
    if n < 0 or m < 0:
        raise RuntimeError(f"{'n' if n < 0 else 'm'} must be greater or equal to 0, got {min(n, m)}")
    be = factory_backend(device)
    rows = be.reshape(be.arange(0, n, 1, "int64"), (n, 1))
    cols = be.reshape(be.arange(0, m, 1, "int64"), (1, m))
    return _finish(be.astype(be.eq(rows, cols), _float_dtype(dtype).name), be, requires_grad)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """Standard-normal samples (NumPy's/CuPy's stream; see ``autodiff.random``)."""
    kw_size = kwargs.pop("size", None)
    _check_ignored("randn", kwargs)
    be = factory_backend(device)
    shape = _size(size, kw_size, "randn")
    dt = _float_dtype(dtype)
    _random_dtype("randn", dt)
    return _finish(be.random_normal(shape, dt.name, rng_of(generator, be)), be, requires_grad)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """Uniform samples in [0, 1)."""
    kw_size = kwargs.pop("size", None)
    _check_ignored("rand", kwargs)
    be = factory_backend(device)
    shape = _size(size, kw_size, "rand")
    dt = _float_dtype(dtype)
    _random_dtype("rand", dt)
    return _finish(be.random_uniform(shape, dt.name, rng_of(generator, be)), be, requires_grad)


def _random_dtype(op: str, dt: dtypes.dtype) -> None:
    if not dt.is_floating_point:
        kernel = {"rand": "check_uniform_bounds", "randn": "normal_kernel_cpu"}[op]
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dt.word}\'')


def randint(*args: Any, generator: Any = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """Integers in ``[low, high)``: ``randint(high, size)``, ``randint(low, high, size)``
    (int64 unless ``dtype`` says otherwise)."""
    names = {k: kwargs.pop(k) for k in ("low", "high", "size") if k in kwargs}
    _check_ignored("randint", kwargs)
    given = list(args)
    if "size" not in names and given:
        names["size"] = given.pop()
    if "high" not in names and given:
        names["high"] = given.pop()
    if "low" not in names and given:
        names["low"] = given.pop()
    if given or "high" not in names or "size" not in names:
        raise TypeError("randint() received an invalid combination of arguments: expected "
                        "(high, size) or (low, high, size)")
    low, high = operator.index(names.get("low", 0)), operator.index(names["high"])
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    be = factory_backend(device)
    dt = dtype or dtypes.int64
    shape = _size((names["size"],), op="randint")
    data = be.random_integers(low, high, shape, dt.name, rng_of(generator, be))
    return _finish(data, be, requires_grad)


def randperm(n: Any, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64)."""
    _check_ignored("randperm", kwargs)
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    be = factory_backend(device)
    data = be.random_permutation(n, rng_of(generator, be))
    dt = dtype or dtypes.int64
    return _finish(be.astype(data, dt.name), be, requires_grad)


# ---- the ``*_like`` family and ``Tensor.new_*`` -----------------------------------------------
def _like_args(t: Tensor, dtype: Any, device: Any) -> dict:
    return {"dtype": dtype or t.dtype, "device": device if device is not None else t.device}


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              **kwargs: Any) -> Tensor:
    _check_ignored("ones_like", kwargs)
    return ones(input.shape, requires_grad=requires_grad, **_like_args(input, dtype, device))


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               **kwargs: Any) -> Tensor:
    _check_ignored("zeros_like", kwargs)
    return zeros(input.shape, requires_grad=requires_grad, **_like_args(input, dtype, device))


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               **kwargs: Any) -> Tensor:
    _check_ignored("empty_like", kwargs)
    return empty(input.shape, requires_grad=requires_grad, **_like_args(input, dtype, device))


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kwargs: Any) -> Tensor:
    _check_ignored("full_like", kwargs)
    fill_value = _check_fill(fill_value, dtype or input.dtype, "full_like")
    return full(input.shape, fill_value, requires_grad=requires_grad, **_like_args(input, dtype, device))


def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kwargs: Any) -> Tensor:
    _check_ignored("randn_like", kwargs)
    return randn(input.shape, generator=generator, requires_grad=requires_grad,
                 **_like_args(input, dtype, device))


def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kwargs: Any) -> Tensor:
    _check_ignored("rand_like", kwargs)
    return rand(input.shape, generator=generator, requires_grad=requires_grad,
                **_like_args(input, dtype, device))


def randint_like(input: Tensor, low: Any = 0, high: Any = None, *, generator: Any = None,
                 dtype: Any = None, device: Any = None, requires_grad: bool = False,
                 **kwargs: Any) -> Tensor:
    """``randint`` with ``input``'s shape, dtype and device: ``randint_like(t, high)`` or
    ``randint_like(t, low, high)``."""
    _check_ignored("randint_like", kwargs)
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, requires_grad=requires_grad,
                   **_like_args(input, dtype, device))


def _new_size(size: tuple, kwargs: dict, op: str) -> tuple:
    return _size(size, kwargs.pop("size", None), op)


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kwargs: Any) -> Tensor:
    """A copy of ``data`` with this tensor's dtype and device (unless given)."""
    _check_ignored("new_tensor", kwargs)
    return tensor(data, requires_grad=requires_grad, **_like_args(self, dtype, device))


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kwargs: Any) -> Tensor:
    shape = _new_size(size, kwargs, "new_zeros")
    _check_ignored("new_zeros", kwargs)
    return zeros(shape, requires_grad=requires_grad, **_like_args(self, dtype, device))


def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, **kwargs: Any) -> Tensor:
    shape = _new_size(size, kwargs, "new_ones")
    _check_ignored("new_ones", kwargs)
    return ones(shape, requires_grad=requires_grad, **_like_args(self, dtype, device))


def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kwargs: Any) -> Tensor:
    shape = _new_size(size, kwargs, "new_empty")
    _check_ignored("new_empty", kwargs)
    return empty(shape, requires_grad=requires_grad, **_like_args(self, dtype, device))


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, **kwargs: Any) -> Tensor:
    _check_ignored("new_full", kwargs)
    return full(size, fill_value, requires_grad=requires_grad, **_like_args(self, dtype, device))

# ---- the public API of this file: ``autodiff.<name>`` for each name in FUNCTIONS, and
# the Tensor methods and operators in METHODS (autodiff/__init__.py and
# autodiff/tensor_methods.py read both).
FUNCTIONS = (
    "tensor", "as_tensor", "asarray", "scalar_tensor", "from_numpy", "ones", "zeros", "empty", "full", "arange", "linspace",
    "logspace", "eye", "randn", "rand", "randint", "randperm", "ones_like", "zeros_like", "empty_like",
    "randn_like", "rand_like", "randint_like", "full_like",
    "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
)
METHODS: dict = {
    "new_tensor": new_tensor, "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
    "new_full": new_full,
}
