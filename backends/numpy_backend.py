"""The CPU backend: ``ArrayBackend`` on NumPy.

NumPy turns the result of an operation on 0-d arrays into a scalar (``np.float32``),
which has no storage to share or write into. The methods here hand back a 0-d array
instead; the bare binary operators do not (a wrapper would cost a Python frame per op),
and ``autodiff.tensor._make`` turns their scalars into arrays through ``as_array``. So a
tensor's data is always an ``ndarray``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from backends.array_backend import ArrayBackend

_ndarray = np.ndarray
_asarray = np.asarray
_F32_MAX = float(np.finfo(np.float32).max)

# NumPy < 2 casts by value: a Python scalar can widen a 0-d float32 array to float64.
# NumPy 2 (NEP 50) treats Python scalars as "weak", as PyTorch does; on NumPy < 2 the
# ops that take scalars are wrapped to give them the array's dtype first.
_LEGACY_CASTING = int(np.__version__.split(".")[0]) < 2


# NumPy warns (RuntimeWarning) on floating-point errors -- log(0), 1/0, exp(1000), 0/0, a
# NaN cast to int -- where PyTorch returns inf/nan silently. The ops that meet them run with
# the warnings off for their own call only. NumPy 2 keeps its error state in a context
# variable (per thread and task): setting it around the call, with the "ignore everything"
# value made once here, leaves NumPy's state as the caller (or another thread) sees it
# untouched, and costs ~0.1 us -- np.errstate builds its state on every entry (~1.4 us).
try:
    from numpy._core import _ufunc_config

    _ERRSTATE = _ufunc_config._extobj_contextvar
except (ImportError, AttributeError):  # NumPy < 2: errstate (thread-local there), slower
    _ERRSTATE = None

# The methods that run silenced. Not the hottest (add, sub, mul, matmul, sum, mean and
# their in-place forms: a wrapper around each costs 30% of a chain of small ops), where
# only an overflow to inf or inf - inf can warn: autodiff ignores those warnings with a
# warnings filter for its own modules and this one (autodiff/float_warnings.py), which costs
# nothing until one happens; a backward runs wholly silenced (``silence_float_errors``,
# once per backward), which covers the sums of its gradients.
SILENCED = (
    "div", "pow", "idiv", "exp", "log", "sqrt", "expm1", "log1p", "log2", "sin", "cos", "tan",
    "erf", "var", "prod", "astype", "einsum", "cumsum",
    "arcsin", "arccos", "arccosh", "arctanh", "sinh", "cosh", "exp2", "log10", "fmod",
    "remainder", "floor_divide", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0",
    "cumprod", "inv", "det", "slogdet", "solve",
)


def silenced(fn: Any) -> Any:
    """``fn`` with NumPy's floating-point warnings off during its call only."""
    if _ERRSTATE is None:
        def call_legacy(*args: Any, **kwargs: Any) -> Any:
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs)

        return call_legacy
    set_state, reset_state = _ERRSTATE.set, _ERRSTATE.reset

    def call(*args: Any, **kwargs: Any) -> Any:
        token = set_state(_IGNORE_ALL)
        try:
            return fn(*args, **kwargs)
        finally:
            reset_state(token)

    return call


if _ERRSTATE is not None:
    with np.errstate(all="ignore"):
        _IGNORE_ALL = _ERRSTATE.get()


def silence_float_errors() -> Any:
    """Turn NumPy's floating-point warnings off in this thread (and task) until
    ``restore_float_errors(token)`` with the token returned."""
    if _ERRSTATE is None:
        state = np.errstate(all="ignore")
        state.__enter__()
        return state
    return _ERRSTATE.set(_IGNORE_ALL)


def restore_float_errors(token: Any) -> None:
    if _ERRSTATE is None:
        token.__exit__(None, None, None)
    else:
        _ERRSTATE.reset(token)


def _weak_scalars(args: tuple) -> tuple:
    """Give Python scalars the dtype of the array beside them (NumPy < 2 only)."""
    # The first non-bool array decides (``where``'s condition does not).
    arr = next((a for a in args if a.__class__ is _ndarray and a.dtype.kind != "b"), None)
    if arr is None:
        return args
    kind = arr.dtype.kind
    return tuple(
        arr.dtype.type(a) if (a.__class__ is float and kind == "f")
        or (a.__class__ is int and kind in "fiu") else a
        for a in args
    )


def _legacy(fn: Any) -> Any:
    def call(*args: Any) -> Any:
        return fn(*_weak_scalars(args))

    return call


class NumpyBackend(ArrayBackend):
    """NumPy arrays on the host (device ``"cpu"``)."""

    type = "cpu"
    index = None

    def __init__(self) -> None:
        # The binary operators stay the bare ``operator`` functions (no Python frame per
        # op): the scalars they return for 0-d operands are made arrays by ``as_array``
        # when the tensor is made (see ``autodiff.tensor._make``).
        super().__init__(np)
        # The ufuncs themselves: ~30 ns a call cheaper than the operators, which reach them
        # through ndarray's binary-operator dispatch.
        self.add, self.sub, self.mul, self.div = np.add, np.subtract, np.multiply, np.true_divide
        self.matmul, self.neg = np.matmul, np.negative
        self.eq, self.ne, self.lt, self.le, self.gt, self.ge = (
            np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal)
        self.seed(0)
        if _LEGACY_CASTING:
            for name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "clip", "where",
                         "floor_divide", "remainder"):
                setattr(self, name, _legacy(getattr(self, name)))
        for name in SILENCED:
            setattr(self, name, silenced(getattr(self, name)))

    def as_array(self, a: Any) -> Any:
        return _asarray(a)

    def scalar_operand(self, value: float, dtype: str) -> Any:
        # NumPy converts a Python float on every call; with a 0-d array of the other
        # operand's dtype the op runs about twice as fast and gives the same bits
        # (NEP 50 and the legacy rules both cast the float to that dtype first).
        if dtype == "float64" or (dtype == "float32" and -_F32_MAX <= value <= _F32_MAX):
            return _asarray(value, dtype=self.dtypes[dtype])
        return value  # float16, NaN, or a cast that overflows (NumPy warns each time)

    def _wrap(self, out: Any) -> Any:
        return out if out.__class__ is _ndarray else _asarray(out)

    def ones(self, shape: tuple[int, ...], dtype: str) -> Any:
        if not shape:  # backward's implicit gradient: np.ones spends ~0.6 us in Python
            return np.array(1, self.dtypes[dtype])
        return np.ones(shape, self.dtypes[dtype])

    def broadcast_to(self, a: Any, shape: tuple[int, ...]) -> Any:
        if a.size == 1 and shape:
            # A one-element array (a scalar loss's gradient) needs no checks: all strides
            # are 0. np.broadcast_to spends ~2 us in Python-level argument handling.
            out = _ndarray(shape, a.dtype, a, 0, (0,) * len(shape))
            out.flags.writeable = False  # read-only, as np.broadcast_to's views are
            return out
        return np.broadcast_to(a, shape)

    def exp(self, a: Any) -> Any:
        return self._wrap(np.exp(a))

    def log(self, a: Any) -> Any:
        return self._wrap(np.log(a))

    def sqrt(self, a: Any) -> Any:
        return self._wrap(np.sqrt(a))

    def abs(self, a: Any) -> Any:
        return self._wrap(np.abs(a))

    def sign(self, a: Any) -> Any:
        return self._wrap(np.sign(a))

    def floor(self, a: Any) -> Any:
        return self._wrap(np.floor(a))

    def trunc(self, a: Any) -> Any:
        return self._wrap(np.trunc(a))

    def floor_divide(self, a: Any, b: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):  # x // 0.0 is inf, as in PyTorch
            return self._wrap(np.floor_divide(a, b))

    def remainder(self, a: Any, b: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):  # x % 0.0 is nan, as in PyTorch
            return self._wrap(np.remainder(a, b))

    def maximum(self, a: Any, b: Any) -> Any:
        return self._wrap(np.maximum(a, b))

    def minimum(self, a: Any, b: Any) -> Any:
        return self._wrap(np.minimum(a, b))

    def clip(self, a: Any, lo: Any, hi: Any) -> Any:
        return self._wrap(super().clip(a, lo, hi))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return self._wrap(np.where(cond, a, b))

    def logical_not(self, a: Any) -> Any:
        return self._wrap(np.logical_not(a))

    def logical_and(self, a: Any, b: Any) -> Any:
        return self._wrap(np.logical_and(a, b))

    def logical_or(self, a: Any, b: Any) -> Any:
        return self._wrap(np.logical_or(a, b))

    def isnan(self, a: Any) -> Any:
        return self._wrap(np.isnan(a))

    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        # The ufunc's reduce is what np.sum calls for an ndarray, without ~1 us of dispatch.
        return self._wrap(np.add.reduce(a, axis=axis, keepdims=keepdims))

    def mean(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        # np.mean's steps (a sum, in float32 for float16, then a division by the count, the
        # same bits), taken here: a float warning is then raised from this module, where
        # autodiff's warning filter finds it (autodiff/float_warnings.py), not from NumPy's Python.
        kind = a.dtype.kind
        acc = np.float32 if a.dtype == np.float16 else (np.float64 if kind in "biu" else None)
        total = np.add.reduce(a, axis=axis, dtype=acc, keepdims=keepdims)
        count = a.size // total.size if total.size else 1
        out = np.true_divide(total, count)
        return self._wrap(out.astype(np.float16) if acc is np.float32 else out)

    def getitem(self, a: Any, index: Any) -> Any:
        # a[0] on a 1-d array is a scalar copy; a[0, ...] is a 0-d view, as in PyTorch.
        out = a[index]
        if out.__class__ is not _ndarray:
            index = index if isinstance(index, tuple) else (index,)
            out = a[index + (Ellipsis,)] if Ellipsis not in index else _asarray(out)
        return out

    def setitem(self, a: Any, index: Any, value: Any) -> None:
        # ``a[mask] = scalar`` with a mask of a's own shape (a ReLU's backward) is what
        # np.putmask does, ~1.5x faster, without the indexing machinery; same casts.
        if (value.__class__ in (float, int) and index.__class__ is tuple and len(index) == 1
                and index[0].__class__ is _ndarray and index[0].dtype.kind == "b"
                and index[0].shape == a.shape):
            np.putmask(a, index[0], value)
        else:
            a[index] = value

    def data_ptr(self, a: Any) -> int:
        return a.__array_interface__["data"][0]

    def rng_state(self, rng: Any) -> bytes:
        # The bit generator's state is a dict of numbers: JSON keeps it data, not code.
        return json.dumps(rng.bit_generator.state).encode()

    def rng_from_state(self, state: bytes) -> Any:
        try:
            saved = json.loads(bytes(state).decode())
            rng = np.random.Generator(getattr(np.random, saved["bit_generator"])())
            rng.bit_generator.state = saved
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a random generator state of {self.name}: {exc}") from None
        return rng

    def to_host(self, a: Any) -> Any:
        return a

    def from_host(self, a: Any) -> Any:
        return _asarray(a)
