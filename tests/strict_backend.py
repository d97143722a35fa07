"""A test-only backend whose arrays refuse implicit conversion, as CuPy's do.

``StrictArray`` wraps a NumPy array, but ``np.asarray(a)``, ``np.exp(a)``, ``bool(a)``,
``float(a)`` and iteration all raise ``TypeError``. Registered as device ``"strict"``,
it proves on a machine without a GPU that the engine only touches tensor data through
its backend: any stray NumPy call on ``_data`` fails the test that made it.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

import backends
from backends.numpy_backend import NumpyBackend

_REFUSED = "StrictArray refuses implicit conversion to a host (NumPy) array"


class StrictArray:
    __slots__ = ("a",)
    __array_ufunc__ = None  # NumPy ufuncs raise TypeError on this type
    __array_priority__ = 10_000

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_REFUSED)

    def __bool__(self) -> bool:
        raise TypeError(_REFUSED + " (bool)")

    def __float__(self) -> float:
        raise TypeError(_REFUSED + " (float)")

    def __int__(self) -> int:
        raise TypeError(_REFUSED + " (int)")

    def __iter__(self) -> Any:
        raise TypeError(_REFUSED + " (iteration)")

    def __len__(self) -> int:
        raise TypeError(_REFUSED + " (len)")

    @property
    def shape(self) -> tuple:
        return self.a.shape

    @property
    def dtype(self) -> Any:
        return self.a.dtype

    @property
    def ndim(self) -> int:
        return self.a.ndim

    @property
    def size(self) -> int:
        return self.a.size

    def __repr__(self) -> str:
        return f"StrictArray({self.a!r})"

    def __getitem__(self, index: Any) -> Any:
        return _wrap(self.a[_unwrap(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self.a[_unwrap(index)] = _unwrap(value)


def _binary(op: Any, reflected: bool = False) -> Any:
    def method(self: StrictArray, other: Any) -> Any:
        if isinstance(other, np.ndarray):
            raise TypeError("StrictArray cannot be mixed with a NumPy array")
        o = _unwrap(other)
        return _wrap(op(o, self.a) if reflected else op(self.a, o))

    return method


def _inplace(op: Any) -> Any:
    def method(self: StrictArray, other: Any) -> Any:
        op(self.a, _unwrap(other))  # writes into self.a's buffer
        return self

    return method


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("pow", operator.pow),
                   ("matmul", operator.matmul), ("floordiv", operator.floordiv),
                   ("mod", operator.mod), ("and", operator.and_), ("or", operator.or_),
                   ("xor", operator.xor)]:
    setattr(StrictArray, f"__{_name}__", _binary(_op))
    setattr(StrictArray, f"__r{_name}__", _binary(_op, reflected=True))
    setattr(StrictArray, f"__i{_name}__", _inplace(getattr(operator, f"__i{_name}__")))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(StrictArray, f"__{_name}__", _binary(getattr(operator, _name)))
StrictArray.__neg__ = lambda self: _wrap(-self.a)
StrictArray.__invert__ = lambda self: _wrap(~self.a)
StrictArray.__abs__ = lambda self: _wrap(abs(self.a))
StrictArray.__hash__ = None


def _unwrap(x: Any) -> Any:
    if isinstance(x, StrictArray):
        return x.a
    if isinstance(x, tuple):
        return tuple(_unwrap(i) for i in x)
    if isinstance(x, list):
        return [_unwrap(i) for i in x]
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return StrictArray(x)
    if isinstance(x, np.generic):
        return StrictArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(i) for i in x)
    if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
        return [_wrap(i) for i in x]
    return x


# Methods whose results are host values, handed back unwrapped.
_HOST = {"to_host", "tolist", "item", "dtype_name", "is_view", "is_contiguous", "any", "all",
         "broadcast_shapes", "overlaps"}


class StrictBackend(NumpyBackend):
    """NumpyBackend behind a wall: every array in or out is a StrictArray."""

    type = "strict"
    index = None
    _array_type = StrictArray  # what its ops return (see ArrayBackend._array_type)

    def __init__(self) -> None:
        super().__init__()
        for name in dir(self):
            if name.startswith("_") or name in ("seed", "name", "xp", "dtypes", "rng", "type", "index"):
                continue
            fn = getattr(self, name)
            if callable(fn):
                setattr(self, name, self._guard(fn, name in _HOST))

    @staticmethod
    def _guard(fn: Any, host: bool) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            out = fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
            return out if host else _wrap(out)

        return call

    def from_host(self, a: Any) -> Any:
        if isinstance(a, StrictArray):
            return a
        return StrictArray(np.asarray(a))


def register() -> None:
    backends.register("strict", lambda index: StrictBackend())
