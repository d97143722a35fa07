"""The CPU backend: ``ArrayBackend`` on NumPy.

NumPy turns the result of an operation on 0-d arrays into a scalar (``np.float32``),
which has no storage to share or write into. The methods here hand back a 0-d array
instead; the bare binary operators do not (a wrapper would cost a Python frame per op),
and ``autodiff.tensor._make`` turns their scalars into arrays through ``as_array``. So a
tensor's data is always an ``ndarray``.
"""

from __future__ import annotations

import ctypes
import json
import math
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

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


def _clip_into(a: Any, lo: Any, hi: Any, out: Any) -> Any:
    # ArrayBackend.clip's ufuncs, in the same order, into ``out``
    if lo is None:
        return np.minimum(a, hi, out=out)
    if hi is None:
        return np.maximum(a, lo, out=out)
    return np.minimum(np.maximum(a, lo, out=out), hi, out=out)


def _copy_into(a: Any, out: Any) -> Any:
    np.copyto(out, a)
    return out


# NumpyBackend.out_writer: the methods that are not ufuncs, written into a given array.
_OUT_WRITERS = {"clip": _clip_into, "copy": _copy_into}
_MEMSET_BYTES = 1 << 20  # (below, ndarray.fill is as fast or faster, measured in a training step)


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


def _pow_into(a: Any, b: Any, out: Any) -> Any:
    # ``a ** 2`` is NumPy's square(a) for a float array (its scalar-power fast path): into
    # ``out``, the same bits without a new array. Other exponents: ``a ** b`` copied in.
    if b.__class__ is int and b == 2 and a.__class__ is _ndarray and a.dtype.kind == "f":
        return np.square(a, out=out)
    np.copyto(out, a ** b)
    return out


_OUT_WRITERS["pow"] = silenced(_pow_into)  # (silenced, as the backend's pow)


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


class _PlaceholderSeed(ISeedSequence):
    """The words a new MT19937 starts from, overwritten at once by ``_seed_like_torch``:
    NumPy's own seeding of its 624 words (``SeedSequence``) costs ~1 ms, this ~nothing."""

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> Any:
        return np.ones(n_words, dtype=dtype)


_PLACEHOLDER_SEED = _PlaceholderSeed()


def _seed_like_torch(bits: Any, seed: int) -> None:
    """Seed an MT19937 as PyTorch's CPU generator (and std::mt19937): ``init_genrand`` of the
    seed's low 32 bits -- what NumPy calls legacy seeding (``RandomState(seed)``'s)."""
    bits._legacy_seeding(seed & 0xFFFFFFFF)


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

    def batched_outer(self, a: Any, b: Any) -> Any:
        # Big outer products: one BLAS product (k = 1) per sample into the result, about
        # 15% faster than einsum's loop (which adds into a zeroed result); for many small
        # ones the Python loop would cost more than it saves.
        if a.ndim != 2 or a.shape[1] * b.shape[1] < 4096 or a.dtype != b.dtype:
            return super().batched_outer(a, b)
        out = np.empty((a.shape[0], a.shape[1], b.shape[1]), a.dtype)
        cols, rows = a[:, :, None], b[:, None, :]
        for k in range(a.shape[0]):
            np.dot(cols[k], rows[k], out=out[k])
        return out

    def writes_out(self, fn: Any) -> bool:
        # A ufunc with one output computes the same values into ``out`` as into a new array.
        return self._array_type is _ndarray and isinstance(fn, np.ufunc) and fn.nout == 1

    def out_writer(self, name: str) -> Any:
        return _OUT_WRITERS.get(name) if self._array_type is _ndarray else None

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

    def fill(self, a: Any, value: Any) -> None:
        # Zeros into a big contiguous array (``.grad.zero_()``, ``zero_grad``): memset is
        # ~30% faster than ndarray.fill from 1 MiB on and writes the same bytes (+0.0 and
        # integer 0 are all zero bits; -0.0 is not, and goes to fill).
        if (a.nbytes >= _MEMSET_BYTES and value.__class__ in (int, float) and value == 0
                and math.copysign(1.0, value) > 0 and a.flags.c_contiguous and a.flags.writeable
                and a.dtype.kind in "fiub"):
            ctypes.memset(a.ctypes.data, 0, a.nbytes)
        else:
            a.fill(value)

    def data_ptr(self, a: Any) -> int:
        return a.__array_interface__["data"][0]

    # ---- random numbers: PyTorch's CPU streams ----------------------------------------
    # PyTorch's CPU generator is a Mersenne Twister (mt19937) seeded by ``init_genrand`` with
    # the seed's low 32 bits -- the seeding of std::mt19937 and of NumPy's legacy
    # ``RandomState(int)``. Generators here are NumPy Generators on that same bit generator,
    # so the draws that PyTorch takes straight from the 32-bit words (``randperm``,
    # ``randint``, ``random_``) are taken the same way below and give PyTorch's numbers.
    # The other distributions (normal, uniform, ...) are NumPy's algorithms on this stream:
    # reproducible, but not PyTorch's values.
    def new_rng(self, seed: int) -> Any:
        bits = np.random.MT19937(_PLACEHOLDER_SEED)
        _seed_like_torch(bits, seed)
        return np.random.Generator(bits)

    def seed(self, seed: int) -> None:
        rng = getattr(self, "rng", None)  # (none yet while the backend is being made)
        self.rng = self.new_rng(seed) if rng is None else self.reseed_rng(rng, seed)

    def reseed_rng(self, rng: Any, seed: int) -> Any:
        # In place (~2 us): a new generator costs ~100x more.
        if isinstance(rng.bit_generator, np.random.MT19937):
            _seed_like_torch(rng.bit_generator, seed)
            return rng
        return self.new_rng(seed)

    def random_integers(self, low: Any, high: Any, shape: tuple[int, ...], dtype: str, rng: Any = None,
                        wide: bool | None = None) -> Any:
        """Integers in [low, high): on an mt19937 stream, PyTorch's draws -- one 32-bit word
        per element, ``word % (high - low) + low``, or for a range of 2**28 or more (or
        ``wide``) two words ``(first << 32 | second) % range + low``."""
        if rng is None:
            rng = self.rng
        span = high - low if isinstance(low, int) and isinstance(high, int) else 0
        if (not isinstance(rng.bit_generator, np.random.MT19937) or span <= 0
                or low < -(2**63) or high > 2**63):
            return super().random_integers(low, high, shape, dtype, rng)
        count = int(np.prod(shape))
        if wide is None:
            wide = span >= 2**28
        if wide:
            words = rng.bit_generator.random_raw(2 * count)
            draws = ((words[0::2] << np.uint64(32)) | words[1::2]) % np.uint64(span)
        else:
            draws = rng.bit_generator.random_raw(count) % np.uint64(span)
        # Wrapping int64 arithmetic: ``low + draw`` is exact as it lies in [low, high).
        out = draws.astype(np.int64) + np.int64(low)
        return out.reshape(shape).astype(self.dtypes[dtype], copy=False)

    def random_permutation(self, n: int, rng: Any = None) -> Any:
        """A random permutation of ``range(n)`` (int64); on an mt19937 stream, PyTorch's:
        a Fisher-Yates shuffle swapping place ``i`` with ``i + word % (n - i)``."""
        if rng is None:
            rng = self.rng
        if not isinstance(rng.bit_generator, np.random.MT19937) or n >= 2**32:
            return super().random_permutation(n, rng)
        if n < 2:
            return np.arange(n, dtype=np.int64)
        offsets = (rng.bit_generator.random_raw(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
        perm = list(range(n))
        # Each swap reads the result of the ones before it: a plain loop over Python ints.
        for i, step in enumerate(offsets):
            j = i + step
            perm[i], perm[j] = perm[j], perm[i]
        return np.array(perm, dtype=np.int64)

    def seed_numpy_global(self, seed: int) -> None:
        """Seed NumPy's global generator (``np.random.rand`` and friends, which user code such
        as a dataset's augmentation calls directly): a DataLoader worker seeds its own."""
        np.random.seed(seed % 2**32)

    def rng_state(self, rng: Any) -> bytes:
        # The bit generator's state is a dict of numbers: JSON keeps it data, not code.
        return json.dumps(rng.bit_generator.state, default=lambda a: a.tolist()).encode()

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

    def host_array(self, a: Any, dtype: Any = None, copy: bool | None = None) -> Any:
        """``a`` for ``np.asarray(tensor, dtype, copy=...)``: the array itself (shared
        memory) unless another dtype or a copy is asked for; ``copy=False`` with another
        dtype raises NumPy's ValueError."""
        return _asarray(a, dtype=dtype, copy=copy)

    def wrap_host_result(self, a: Any) -> Any:
        """A NumPy function's result on tensors, as this backend's array, or None when its
        dtype is not one a tensor can hold (complex, strings, ...)."""
        a = _asarray(a)
        return a if a.dtype in self._dtype_names else None

    def from_host(self, a: Any) -> Any:
        return _asarray(a)

    def host_buffer(self, a: Any) -> tuple[Any, bool]:
        # The array itself: MPI reads and writes its memory, no copy (the caller checks it
        # is contiguous, as a buffer must be).
        return a, False

    def copy_from_host(self, dst: Any, host: Any) -> None:
        if host is not dst:
            np.copyto(dst, host)
