"""Simulated CUDA devices: a NumPy stand-in for the ``cupy`` and ``cupyx`` modules.

With ``AUTODIFF_SIMULATE_CUDA=N`` in the environment (read when ``autodiff`` is imported),
inside ``with autodiff.testing.simulate_cuda(N):``, or after ``install(N)``, the names
``cupy``, ``cupyx`` and their submodules import this stand-in, so ``autodiff.cuda.is_available()`` is True,
``device_count()`` is N and ``device="cuda:1"`` works on a machine without a GPU -- as
JAX lets one simulate several host devices. The real CUDA backend
(``backends/cupy_backend.py``) runs on top of it unchanged: there is no second backend.

Where CuPy differs from NumPy the stand-in behaves as CuPy 14 does, so that what passes
here has a good chance on a GPU:

- its own ``ndarray`` that refuses implicit conversion to NumPy (``np.asarray``, the
  buffer protocol) with CuPy's TypeError, converts explicitly with ``.get()`` or
  ``cupy.asnumpy``, and keeps 0-d results as arrays;
- every array belongs to one device; a kernel (any computing op, ``copy`` and advanced
  indexing included) runs on the *current* device, allocates its result there, and
  raises CuPy's ValueError when an operand lives on another device (a machine without
  peer access); views (reshape, transpose, basic slicing) stay on their array's device;
- ``cupy.cuda.Device(i)`` as a context manager and ``.use()``, a current device per
  thread, ``runtime.getDeviceCount``/``getDevice``/``getDeviceProperties``;
- a random ``Generator`` that belongs to the device it was made on;
- ``cupyx.scatter_add`` with CuPy's dtypes only, ``cupyx.scipy.special.erf`` without a
  float16 loop, the ``add.at`` of CuPy's ufuncs;
- streams, events (with timing) and the memory pool's counters (``using_allocator`` with
  a pool of one's own);
- stream capture into a ``cupy.cuda.Graph`` (``begin_capture``/``end_capture``/``launch``):
  the kernels a capturing stream runs are recorded and ``launch`` runs them again into the
  same output arrays; a capture leaves no trace before a launch (see ``_Capture``); host
  transfers, synchronizations and random draws during a capture raise CUDA's
  ``cudaErrorStreamCaptureUnsupported`` and invalidate it;
- ``cupy.cuda.nccl`` with one rank (a one-process job): its collectives copy the send
  buffer to the receive buffer, what NCCL does when it is alone.

Only names and parameters real CuPy has (tests/test_cupy_api.py checks this against the
real wheel when it is installed). It lives in ``backends/`` because it is an array
library: ``autodiff`` never calls NumPy on tensor data; ``autodiff.testing`` exposes it.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import inspect
import math
import sys
import threading
import time
import types
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

import backends
from backends.dlpack import capsule_device, set_capsule_device
from backends.numpy_backend import silenced
from backends.special_functions import special

IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
    "a NumPy array explicitly."
)
# CuPy's scatter_add has kernels for these dtypes only.
SCATTER_ADD_DTYPES = frozenset(["int32", "int64", "uint32", "uint64", "float16", "float32", "float64"])


_KDLCPU, _KDLCUDA = 1, 2  # DLPack's device types


class CUDARuntimeError(RuntimeError):
    """``cupy_backends.cuda.api.runtime.CUDARuntimeError``."""


class _ThreadState(threading.local):
    device = 0  # CUDA's current device is per host thread


_thread = _ThreadState()
_config = {"count": 0}
_pool_bytes: dict[int, int] = {}
_finalizers: dict[int, Any] = {}


def _current() -> int:
    return _thread.device


def _check_device(dev: int) -> None:
    cur = _thread.device
    if dev != cur:
        raise ValueError(
            f"The device where the array resides ({dev}) is different from the current "
            f"device ({cur}). Peer access is unavailable between these devices."
        )


# ---- the array -------------------------------------------------------------------------
class ndarray:  # noqa: N801 - CuPy's name
    """A NumPy array that lives on one simulated device."""

    __slots__ = ("_a", "_dev", "_base", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape: Any, dtype: Any = float, memptr: Any = None, strides: Any = None,
                 order: str = "C") -> None:
        self._a = np.empty(shape, dtype=dtype, order=order)
        self._dev = _current()
        self._base = None
        _account(self)

    # NumPy must not take the data implicitly (np.asarray, np.exp(...) etc. dispatch below).
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(IMPLICIT)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = getattr(_cupy, ufunc.__name__, None)
        if fn is None or method != "__call__":
            return NotImplemented
        return fn(*inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        fn = getattr(_cupy, func.__name__, None)
        if fn is None:
            return NotImplemented
        return fn(*args, **kwargs)

    # ---- metadata (no kernel: any device) ----------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._a.shape

    @property
    def dtype(self) -> Any:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def strides(self) -> tuple:
        return self._a.strides

    @property
    def data(self) -> Any:
        """``cupy.cuda.MemoryPointer``: only its ``ptr`` (the address) here."""
        return types.SimpleNamespace(ptr=self._a.__array_interface__["data"][0])

    @property
    def flags(self) -> Any:
        return self._a.flags

    # ---- interchange: DLPack and the CUDA array interface ---------------------------------
    @property
    def __cuda_array_interface__(self) -> dict:
        """Version 3 of the interface, with the host address of the simulated memory."""
        host = self._a.__array_interface__
        return {"shape": self._a.shape, "typestr": self._a.dtype.str, "descr": host["descr"],
                "data": host["data"], "strides": None if self._a.flags.c_contiguous else self._a.strides,
                "version": 3, "stream": 1}

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_KDLCUDA, self._dev)

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        # NumPy makes the capsule of the (host) memory; it is relabelled as this device's,
        # so consumers treat it as CuPy's (NumPy refuses it, this module's from_dlpack takes it).
        if dl_device is not None and tuple(int(x) for x in dl_device) != (_KDLCUDA, self._dev):
            raise BufferError(f"the array is on CUDA device {self._dev}; it cannot be exported to {dl_device}")
        kwargs = {} if max_version is None else {"max_version": max_version}
        capsule = self._a.__dlpack__(copy=copy, **kwargs)
        set_capsule_device(capsule, _KDLCUDA, self._dev)
        return capsule

    @property
    def base(self) -> Any:
        return self._base

    @property
    def device(self) -> Device:
        return Device(self._dev)

    @property
    def T(self) -> ndarray:  # noqa: N802 - NumPy's name
        return self.transpose()

    def __len__(self) -> int:
        if not self._a.shape:
            raise TypeError("len() of unsized object")
        return self._a.shape[0]

    def __iter__(self) -> Iterator:
        if not self._a.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))

    def __repr__(self) -> str:
        _host_transfer("a device-to-host copy")
        return repr(self._a)

    # ---- host transfers (from any device) ------------------------------------------------
    def get(self, stream: Any = None, order: str = "C", out: Any = None, blocking: bool = True) -> Any:
        _host_transfer("a device-to-host copy")
        copy = np.array(self._a, order=order)
        if out is None:
            return copy
        out[...] = copy
        return out

    def set(self, arr: Any, stream: Any = None) -> None:
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, not {type(arr)}")
        _host_transfer("a host-to-device copy")
        self._a[...] = arr

    def item(self) -> Any:
        _host_transfer("a device-to-host copy")
        return self._a.item()

    def tolist(self) -> Any:
        _host_transfer("a device-to-host copy")
        return self._a.tolist()

    # Python scalars from one element synchronize and copy to the host, as CuPy does.
    def __bool__(self) -> bool:
        _host_transfer("a device-to-host copy")
        return bool(self._a)

    def __float__(self) -> float:
        _host_transfer("a device-to-host copy")
        return float(self._a)

    def __int__(self) -> int:
        _host_transfer("a device-to-host copy")
        return int(self._a)

    def __complex__(self) -> complex:
        _host_transfer("a device-to-host copy")
        return complex(self._a)

    # ---- views (no kernel) ---------------------------------------------------------------
    def reshape(self, *shape: Any, order: str = "C") -> ndarray:
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        out = self._a.reshape(shape, order=order)
        if np.shares_memory(out, self._a):
            return _view(out, self)
        _check_device(self._dev)
        a = self._a
        return _compute(lambda: a.reshape(shape, order=order), _new, first=out)

    def transpose(self, *axes: Any) -> ndarray:
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        return _view(self._a.transpose(*axes) if axes else self._a.transpose(), self)

    def view(self, dtype: Any = None, array_class: Any = None) -> ndarray:
        return _view(self._a.view() if dtype is None else self._a.view(dtype), self)

    def __getitem__(self, index: Any) -> Any:
        index = _unwrap_index(index)
        if _is_advanced(index):
            _check_device(self._dev)
            a = self._a
            return _compute(lambda: np.asarray(a[_wrap_around(index, a.shape)]), _new)
        out = self._a[index]
        if not isinstance(out, np.ndarray):  # one element: CuPy gives a 0-d view, not a scalar
            out = self._a[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return _view(out, self)

    # ---- kernels (current device only) ---------------------------------------------------
    def __setitem__(self, index: Any, value: Any) -> None:
        _check_device(self._dev)
        index = _unwrap_index(index)
        value = _operand(value)
        a = self._a
        if not _is_advanced(index):
            def write() -> None:
                a[index] = value
            _write(self, write)
            return

        def write_selected() -> None:
            where = _wrap_around(index, a.shape)
            # Duplicate indices: a GPU writes them in no defined order; the stand-in keeps the
            # first (NumPy keeps the last), so that code relying on either shows up.
            selected = np.arange(a.size).reshape(a.shape)[where]
            ids = selected.reshape(-1)
            unique, first = np.unique(ids, return_index=True)
            values = np.broadcast_to(np.asarray(value, dtype=a.dtype), selected.shape).reshape(-1)
            a[np.unravel_index(unique, a.shape)] = values[first]

        _write(self, write_selected)

    def copy(self, order: str = "C") -> ndarray:
        _check_device(self._dev)
        a = self._a
        return _compute(lambda: a.copy(order=order), _new)

    def astype(self, dtype: Any, order: str = "K", casting: Any = None, subok: Any = None,
               copy: bool = True) -> ndarray:
        if not copy and np.dtype(dtype) == self._a.dtype:
            return self
        _check_device(self._dev)
        kw = {} if casting is None else {"casting": casting}
        a = self._a
        return _compute(lambda: a.astype(dtype, order=order, **kw), _new)

    def fill(self, value: Any) -> None:
        _check_device(self._dev)
        a, v = self._a, _operand(value)
        _write(self, lambda: a.fill(v))

    def ravel(self, order: str = "C") -> ndarray:
        return self.reshape(-1, order=order)

    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return sum(self, axis, dtype, out, keepdims)

    def mean(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return mean(self, axis, dtype, out, keepdims)


def _binary(op: Any, reflected: bool = False) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        if isinstance(other, np.ndarray) and other.ndim:
            # CuPy refuses a NumPy array operand (it does not move host data implicitly).
            raise TypeError(f"Unsupported type {type(other)}")
        a, b = (other, self) if reflected else (self, other)
        return _kernel(op, a, b)

    return method


def _inplace(op: Any) -> Any:
    def method(self: ndarray, other: Any) -> ndarray:
        _check_device(self._dev)
        a, b = self._a, _operand(other)
        _write(self, lambda: op(a, b))
        return self

    return method


def _unary(op: Any) -> Any:
    def method(self: ndarray) -> ndarray:
        return _kernel(op, self)

    return method


for _name, _op in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide), ("mod", np.mod),
                   ("pow", np.power), ("matmul", np.matmul), ("and", np.bitwise_and),
                   ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
    setattr(ndarray, f"__{_name}__", _binary(_op))
    setattr(ndarray, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                   ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(ndarray, f"__{_name}__", _binary(_op))
for _name, _op in [("iadd", np.ndarray.__iadd__), ("isub", np.ndarray.__isub__),
                   ("imul", np.ndarray.__imul__), ("itruediv", np.ndarray.__itruediv__),
                   ("ipow", np.ndarray.__ipow__)]:
    setattr(ndarray, f"__{_name}__", _inplace(_op))
for _name, _op in [("neg", np.negative), ("pos", np.positive), ("abs", np.abs), ("invert", np.invert)]:
    setattr(ndarray, f"__{_name}__", _unary(_op))
ndarray.__hash__ = None  # as NumPy's and CuPy's arrays


# ---- plumbing: wrapping, device checks, the memory pool ------------------------------------
def _new(a: Any, dev: int | None = None) -> ndarray:
    """A new array on the current device (or ``dev``) holding the NumPy array ``a``."""
    out = object.__new__(ndarray)
    out._a = np.asarray(a)
    out._dev = _current() if dev is None else dev
    out._base = None
    _account(out)
    return out


def _view(a: Any, of: ndarray) -> ndarray:
    out = object.__new__(ndarray)
    out._a = a
    out._dev = of._dev
    out._base = of if of._base is None else of._base
    return out


def _account(arr: ndarray) -> None:
    dev = arr._dev
    # The allocator of this thread (``using_allocator``): the default pool, another pool, or
    # none (raw allocations, counted by no pool).
    counts = _allocator.counts
    if counts is not None:
        counts[dev] = counts.get(dev, 0) + arr._a.nbytes
        # The bytes go back to their pool when the array dies (a callback on a weak reference).
        _finalizers[id(arr)] = weakref.ref(arr, _releaser(counts, dev, arr._a.nbytes, id(arr)))
    capture = _capture()
    if capture is not None:
        capture.made.append(arr)
        capture.made_ids.add(id(arr))


def _releaser(counts: dict, dev: int, nbytes: int, key: int) -> Any:
    def release(_ref: Any) -> None:
        counts[dev] = counts.get(dev, 0) - nbytes
        _finalizers.pop(key, None)

    return release


class _AllocatorState(threading.local):
    counts: Any = _pool_bytes  # the byte counts of the pool allocations come from


_allocator = _AllocatorState()


# ---- stream capture (CUDA graphs) -------------------------------------------------------------
# While the current stream captures, every kernel is recorded -- the NumPy computation that
# makes it, closed over the NumPy arrays it reads and writes (fixed memory, as a GPU's fixed
# addresses) -- and ``Graph.launch`` runs the recorded kernels again, writing the SAME output
# arrays. The kernels also run during the capture (their results' shapes are needed), but as
# on a GPU nothing a capture does is visible afterwards: arrays that existed before it get
# their contents back at ``end_capture``, arrays it made hold garbage (NaN bits) until a launch.
class _Capture:
    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.dev = _current()
        self.calls: list = []  # (computation, output array or tuple of them, or None for a write)
        self.made: list = []  # arrays allocated during the capture: the graph's memory
        self.made_ids: set = set()
        self.saved: dict = {}  # id(root array) -> (root, its contents before the capture's first write)
        self.error: str | None = None  # what invalidated the capture

    def before_write(self, target: ndarray) -> None:
        root = target if target._base is None else target._base
        if id(root) in self.saved or id(root) in self.made_ids:
            return
        self.saved[id(root)] = (root, root._a.copy())


def _capture() -> _Capture | None:
    """The capture of the current stream, or None."""
    return getattr(_stream.current, "_capture", None)


def _capture_error(what: str) -> None:
    """Fail an operation a capturing stream refuses; like CUDA, it also invalidates the capture."""
    capture = _capture()
    if capture is not None and capture.error is None:
        capture.error = what
    raise CUDARuntimeError(f"cudaErrorStreamCaptureUnsupported: operation not permitted when stream is capturing ({what})")


def _host_transfer(what: str) -> None:
    """A synchronous copy between host and device: refused while the current stream captures."""
    if _capture() is not None:
        _capture_error(what)


def _compute(computation: Any, wrap: Any = None, first: Any = None) -> Any:
    """Run a kernel making new arrays (``computation()`` gives their NumPy values), recorded
    when the current stream captures. ``first``: the values, already computed."""
    out = (_wrap if wrap is None else wrap)(computation() if first is None else first)
    capture = _capture()
    if capture is not None:
        if not isinstance(out, (ndarray, tuple)):
            _capture_error("a kernel's result read on the host")
        capture.calls.append((computation, out))
    return out


def _write(target: ndarray, computation: Any) -> None:
    """Run a kernel writing into ``target`` (``computation()`` writes it), recorded when the
    current stream captures."""
    capture = _capture()
    if capture is not None:
        capture.before_write(target)
        capture.calls.append((computation, None))
    computation()


def _store(out: Any, values: Any) -> None:
    """A launched kernel's values written into the arrays it made at the capture."""
    if isinstance(out, tuple):
        for o, v in zip(out, values):
            _store(o, v)
    elif isinstance(out, ndarray):
        out._a[...] = values


class Graph:
    """``cupy.cuda.Graph``: the kernels a stream captured, run again by ``launch`` into the
    arrays they wrote at the capture (a graph's fixed addresses)."""

    def __init__(self, capture: _Capture) -> None:
        self._calls = capture.calls
        self._memory = capture.made  # held as long as the graph: its own allocations
        self._dev = capture.dev

    def launch(self, stream: Any = None) -> None:
        prev = _thread.device
        _thread.device = self._dev
        try:
            for computation, out in self._calls:
                values = _silent_call(computation)
                if out is not None:
                    _store(out, values)
        finally:
            _thread.device = prev

    def upload(self, stream: Any = None) -> None:
        pass


def _begin_capture(stream: Stream, mode: Any = None) -> None:
    if stream._null:
        raise CUDARuntimeError("cudaErrorStreamCaptureUnsupported: operation not permitted when stream is capturing "
                               "(the null stream cannot be captured)")
    if stream._capture is not None:
        raise CUDARuntimeError("cudaErrorIllegalState: the stream is already capturing")
    stream._capture = _Capture(stream)


def _end_capture(stream: Stream) -> Graph:
    capture = stream._capture
    if capture is None:
        raise CUDARuntimeError("cudaErrorIllegalState: the stream is not capturing")
    stream._capture = None
    # Nothing the capture ran happened: earlier arrays get their contents back, its own
    # arrays hold garbage until the graph is launched.
    for arr in capture.made:
        a = arr._a
        if a.dtype.kind in "fciu" and a.size and a.flags.owndata and a.flags.c_contiguous:
            a.reshape(-1).view(np.uint8).fill(0xFF)  # NaN for floats, -1 / the largest value for integers
    for root, contents in capture.saved.values():
        root._a[...] = contents
    if capture.error is not None:
        raise CUDARuntimeError(f"cudaErrorStreamCaptureInvalidated: operation failed due to a previous error "
                               f"during capture ({capture.error})")
    return Graph(capture)




def _operand(x: Any) -> Any:
    """A kernel operand: a stand-in array on the current device (unwrapped), or a scalar."""
    if isinstance(x, ndarray):
        _check_device(x._dev)
        return x._a
    if isinstance(x, np.ndarray) and x.ndim:
        raise TypeError(f"Unsupported type {type(x)}")
    return x


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    if isinstance(index, ndarray):
        _check_device(index._dev)
        return index._a
    return index


def _is_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(i, (np.ndarray, list, bool, np.bool_)) for i in items)


def _wrap_around(index: Any, shape: tuple) -> Any:
    """CuPy's integer-array indexing wraps out-of-range indices around (NumPy raises)."""
    items = index if isinstance(index, tuple) else (index,)
    if builtins.any(i is Ellipsis for i in items):
        return index  # (not modelled)
    out, dim = [], 0
    for i in items:
        if isinstance(i, np.ndarray) and i.dtype.kind in "iu" and dim < len(shape) and shape[dim]:
            out.append(np.mod(i, shape[dim]))
        else:
            out.append(i)
        dim += 0 if i is None else (i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _wrap(out: Any) -> Any:
    if isinstance(out, tuple):
        return tuple(_wrap(o) for o in out)
    if isinstance(out, (np.ndarray, np.generic)):
        # CuPy's kernels write C-contiguous results, whatever the inputs' layout (NumPy's
        # follow the inputs: a transposed input gives a transposed result).
        return _new(np.require(out, requirements="C"))  # (0-d stays 0-d, unlike ascontiguousarray)
    return out


def _kernel(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run the NumPy function ``fn`` as a kernel on the current device."""
    args = tuple(_operand(a) if not isinstance(a, (list, tuple)) else type(a)(_operand(x) for x in a)
                 for a in args)
    kwargs = {k: _operand(v) for k, v in kwargs.items()}
    return _compute(lambda: _silent_call(fn, *args, **kwargs))


# A GPU raises no floating-point warnings (CuPy returns inf/nan silently): neither do the
# simulated kernels, whatever NumPy's error state (see backends/numpy_backend.py).
_silent_call = silenced(lambda fn, *args, **kwargs: fn(*args, **kwargs))


# ---- the cupy module's functions (CuPy's parameters) -----------------------------------------
dtype = np.dtype
finfo = np.finfo
iinfo = np.iinfo
inf = np.inf


def asarray(a: Any, dtype: Any = None, order: Any = None, *, copy: Any = None, blocking: bool = False) -> ndarray:
    if isinstance(a, ndarray):
        if (dtype is None or np.dtype(dtype) == a.dtype) and not copy:
            return a  # the same array, on whichever device it lives
        return a.astype(a.dtype if dtype is None else dtype)
    _host_transfer("a host-to-device copy")
    return _new(np.array(a, dtype=dtype, order=order))


def array(obj: Any, dtype: Any = None, copy: bool = True, order: str = "K", subok: bool = False,
          ndmin: int = 0, *, blocking: bool = False) -> ndarray:
    if isinstance(obj, ndarray):
        src = _operand(obj)
        return _compute(lambda: np.array(src, dtype=dtype, order=order, ndmin=ndmin), _new)
    _host_transfer("a host-to-device copy")
    return _new(np.array(obj, dtype=dtype, order=order, ndmin=ndmin))


class _HostCapsule:
    """A capsule of simulated memory, offered to ``np.from_dlpack`` as the CPU memory it is."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_KDLCPU, 0)

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._capsule


def from_dlpack(array: Any, *, device: Any = None, copy: Any = None) -> ndarray:
    """``cupy.from_dlpack``: an array sharing the memory of a (simulated) CUDA array that
    ``array`` exports by DLPack, on the device it lives on."""
    kind, dev = array.__dlpack_device__()
    if int(kind) != _KDLCUDA:
        raise BufferError(f"cupy.from_dlpack: the array is not on a CUDA device (DLPack device type {int(kind)}); "
                          "simulated CUDA imports only simulated CUDA arrays")
    _valid(int(dev))
    try:  # a versioned capsule (DLPack 1.0) says whether the memory is writable; a legacy one does not
        capsule = array.__dlpack__(stream=None, max_version=(1, 0))
    except TypeError:
        capsule = array.__dlpack__(stream=None)
    kind, dev = capsule_device(capsule)
    if kind != _KDLCUDA:
        raise BufferError(f"cupy.from_dlpack: the exported memory is not on a CUDA device (DLPack device type {kind})")
    set_capsule_device(capsule, _KDLCPU, 0)  # the simulated device memory is host memory
    host = np.from_dlpack(_HostCapsule(capsule), copy=copy)
    out = object.__new__(ndarray)  # shared memory: nothing is allocated from the pool
    out._a, out._dev, out._base = host, int(dev), None
    return out


def asnumpy(a: Any, stream: Any = None, order: str = "C", out: Any = None, *, blocking: bool = True) -> Any:
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args: Any) -> Any:
    return _cupy if builtins.any(isinstance(a, ndarray) for a in args) else np


def zeros(shape: Any, dtype: Any = float, order: str = "C") -> ndarray:
    return _compute(lambda: np.zeros(shape, dtype=dtype, order=order), _new)


def ones(shape: Any, dtype: Any = float, order: str = "C") -> ndarray:
    return _compute(lambda: np.ones(shape, dtype=dtype, order=order), _new)


def empty(shape: Any, dtype: Any = float, order: str = "C") -> ndarray:
    return _new(np.empty(shape, dtype=dtype, order=order))


def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C") -> ndarray:
    value = _operand(fill_value)
    return _compute(lambda: np.full(shape, value, dtype=dtype, order=order), _new)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> ndarray:
    return _compute(lambda: np.arange(start, stop, step, dtype=dtype), _new)


def ascontiguousarray(a: Any, dtype: Any = None) -> ndarray:
    if isinstance(a, ndarray) and a.flags.c_contiguous and (dtype is None or np.dtype(dtype) == a.dtype):
        return a
    return _kernel(lambda x: np.require(x, dtype, requirements="C"), a)


def broadcast_to(array: Any, shape: Any) -> ndarray:
    # CuPy's broadcast views are writable (NumPy's are read-only): writes into one race.
    b = np.broadcast_to(array._a, shape)
    return _view(np.lib.stride_tricks.as_strided(array._a, b.shape, b.strides, writeable=True), array)


def broadcast_shapes(*args: Any) -> tuple:
    return np.broadcast_shapes(*args)


def concatenate(tup: Any, axis: int = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind") -> ndarray:
    return _kernel(lambda arrs: np.concatenate(arrs, axis=axis, dtype=dtype, casting=casting), list(tup))


def stack(tup: Any, axis: int = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind") -> ndarray:
    return _kernel(lambda arrs: np.stack(arrs, axis=axis, dtype=dtype, casting=casting), list(tup))


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return _kernel(np.where, condition)
    return _kernel(np.where, condition, x, y)


def may_share_memory(a: ndarray, b: ndarray, max_work: Any = None) -> bool:
    return bool(a._dev == b._dev and np.may_share_memory(a._a, b._a))


def copyto(dst: ndarray, src: Any, casting: str = "same_kind", where: Any = None) -> None:
    _check_device(dst._dev)
    a, b, w = dst._a, _operand(src), True if where is None else _operand(where)
    _write(dst, lambda: np.copyto(a, b, casting=casting, where=w))


def _reduction(np_fn: Any) -> Any:
    def reduce(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        kw = {} if dtype is None else {"dtype": dtype}
        return _kernel(lambda x: np_fn(x, axis=axis, keepdims=keepdims, **kw), a)

    reduce.__name__ = np_fn.__name__
    return reduce


sum = _reduction(np.sum)  # noqa: A001 - NumPy's and CuPy's name
mean = _reduction(np.mean)
prod = _reduction(np.prod)


def _minmax(np_fn: Any) -> Any:
    def reduce(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
        return _kernel(lambda x: np_fn(x, axis=axis, keepdims=keepdims), a)

    reduce.__name__ = np_fn.__name__
    return reduce


amax = _minmax(np.amax)
amin = _minmax(np.amin)
any = _minmax(np.any)  # noqa: A001
all = _minmax(np.all)  # noqa: A001


def argmax(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
    return _kernel(lambda x: np.argmax(x, axis=axis, keepdims=keepdims), a)


def argmin(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False) -> ndarray:
    return _kernel(lambda x: np.argmin(x, axis=axis, keepdims=keepdims), a)


def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False) -> ndarray:
    def kernel(x: Any) -> Any:
        n = x.size if axis is None else math.prod(np.array(x.shape)[list(np.atleast_1d(axis))])
        if n <= ddof:  # CuPy: nan where NumPy (and PyTorch) give inf
            return np.full(np.var(x, axis=axis, keepdims=keepdims).shape, np.nan, x.dtype)
        return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)

    return _kernel(kernel, a)


def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> ndarray:
    return _kernel(lambda x: np.cumsum(x, axis=axis, dtype=dtype), a)


def flip(a: Any, axis: Any = None) -> ndarray:
    return _view(np.flip(a._a, axis), a)


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> ndarray:
    return _kernel(lambda x: np.pad(x, pad_width, mode=mode, **kwargs), array)


def tile(A: Any, reps: Any) -> ndarray:  # noqa: N803 - CuPy's name
    return _kernel(lambda x: np.tile(x, reps), A)


def einsum(*operands: Any, **kwargs: Any) -> ndarray:
    subscripts, arrays = operands[0], operands[1:]
    return _kernel(lambda *xs: np.einsum(subscripts, *xs, **kwargs), *arrays)



def take(a: Any, indices: Any, axis: Any = None, out: Any = None) -> ndarray:
    return _kernel(lambda x, i: np.take(x, i, axis=axis), a, indices)


def take_along_axis(a: Any, indices: Any, axis: Any) -> ndarray:
    return _kernel(lambda x, i: np.take_along_axis(x, i, axis), a, indices)


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False,
           axis: Any = None, *, equal_nan: bool = True) -> Any:
    return _kernel(lambda x: np.unique(x, return_index=return_index, return_inverse=return_inverse,
                                       return_counts=return_counts, axis=axis, equal_nan=equal_nan), ar)


def unravel_index(indices: Any, dims: Any, order: str = "C") -> tuple:
    return _kernel(lambda i: np.unravel_index(i, dims, order=order), indices)


def argsort(a: Any, axis: int = -1, kind: Any = None) -> ndarray:
    return _kernel(lambda x: np.argsort(x, axis=axis, kind="stable"), a)  # CuPy's sort is stable


def sort(a: Any, axis: int = -1, kind: Any = None) -> ndarray:
    return _kernel(lambda x: np.sort(x, axis=axis, kind="stable"), a)


def nonzero(a: Any) -> tuple:
    return _kernel(np.nonzero, a)


def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> ndarray:
    return _kernel(lambda x, y: np.searchsorted(x, y, side=side), a, v)


def bincount(x: Any, weights: Any = None, minlength: Any = None) -> ndarray:
    return _kernel(lambda i, w: np.bincount(i, weights=w, minlength=minlength or 0), x, weights)


def histogram(x: Any, bins: Any = 10, range: Any = None, density: bool = False, weights: Any = None) -> tuple:  # noqa: A002
    return _kernel(lambda y: np.histogram(y, bins=bins, range=range, density=density), x)


def roll(a: Any, shift: Any, axis: Any = None) -> ndarray:
    return _kernel(lambda x: np.roll(x, shift, axis=axis), a)


def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> ndarray:
    return _kernel(lambda x: np.cumprod(x, axis=axis, dtype=dtype), a)


def moveaxis(a: Any, source: Any, destination: Any) -> ndarray:
    return _view(np.moveaxis(a._a, source, destination), a)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> ndarray:
    return _view(np.diagonal(a._a, offset, axis1, axis2), a)


def _inv(a: Any) -> ndarray:
    return _kernel(np.linalg.inv, a)


def _solve(a: Any, b: Any) -> ndarray:
    return _kernel(np.linalg.solve, a, b)


def _det(a: Any) -> ndarray:
    return _kernel(np.linalg.det, a)


def _cholesky(a: Any) -> ndarray:
    return _kernel(np.linalg.cholesky, a)


def _slogdet(a: Any) -> tuple:
    return _kernel(lambda x: tuple(np.linalg.slogdet(x)), a)


def around(a: Any, decimals: int = 0, out: Any = None) -> ndarray:
    return _kernel(lambda x: np.around(x, decimals), a)


round = around  # noqa: A001


def _unary_kernel(x: Any, /, out: Any = None, *, casting: str = "same_kind", dtype: Any = None) -> Any:
    """(The signature of a one-input ufunc, as ``inspect.signature`` shows CuPy's.)"""


def _binary_kernel(x1: Any, x2: Any, /, out: Any = None, *, casting: str = "same_kind",
                   dtype: Any = None) -> Any:
    """(The signature of a two-input ufunc.)"""


class ufunc:  # noqa: N801 - CuPy's name
    """An elementwise kernel; ``add.at`` accumulates repeated indices (``ufunc.at``)."""

    def __init__(self, np_ufunc: Any, name: str, nin: int = 1) -> None:
        self._f = np_ufunc
        self.__name__ = name
        self.nin = nin
        self.__signature__ = inspect.signature(_unary_kernel if nin == 1 else _binary_kernel)

    def __call__(self, *args: Any, out: Any = None, casting: str = "same_kind", dtype: Any = None) -> Any:
        if out is not None:
            raise NotImplementedError("the simulated ufuncs take no out=")
        kw = {} if dtype is None else {"dtype": dtype}
        return _kernel(self._f, *args, casting=casting, **kw)

    def at(self, a: ndarray, indices: Any, b: Any = None) -> None:
        _check_device(a._dev)
        target, where, values = a._a, _unwrap_index(indices), _operand(b)
        _write(a, lambda: self._f.at(target, where, values))


for _name in ["exp", "log", "sqrt", "abs", "absolute", "sign", "floor", "trunc", "ceil", "maximum",
              "minimum", "logical_not", "logical_and", "logical_or", "isnan", "isinf", "sin", "cos",
              "tan", "tanh", "expm1", "log1p", "log2", "add", "subtract", "multiply", "divide",
              "true_divide", "negative", "power", "equal", "not_equal", "less", "less_equal",
              "greater", "greater_equal", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh",
              "arccosh", "arctanh", "arctan2", "hypot", "exp2", "log10", "copysign", "fmod",
              "remainder", "floor_divide", "fmax", "fmin", "nextafter", "signbit", "isfinite",
              "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift",
              "right_shift", "gcd", "lcm"]:
    globals()[_name] = ufunc(getattr(np, _name), _name, getattr(np, _name).nin)
# ufuncs in CuPy, functions in NumPy:
i0 = ufunc(lambda x, casting="same_kind": np.i0(x), "i0")
sinc = ufunc(lambda x, casting="same_kind": np.sinc(x), "sinc")


def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False) -> ndarray:
    return _kernel(lambda a, b: np.isin(a, b, assume_unique=assume_unique, invert=invert),
                   element, test_elements)


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> ndarray:
    return _kernel(lambda a: np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf), x)


def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None) -> ndarray:
    return _kernel(lambda x, lo, hi: np.clip(x, lo, hi), a, a_min, a_max)


def vectorize(pyfunc: Any, otypes: Any = None, doc: Any = None, excluded: Any = None, cache: bool = False,
              signature: Any = None) -> Any:
    vec = np.vectorize(pyfunc, otypes=otypes)
    return lambda *args: _kernel(vec, *args)


# ---- cupy.random ----------------------------------------------------------------------------
class Generator:
    """``cupy.random.Generator``: its state lives on the device it was made on."""

    def __init__(self, bit_generator: Any) -> None:
        self._rng = np.random.default_rng(bit_generator)
        self._dev = _current()

    def _draw(self, fn: Any) -> ndarray:
        if self._dev != _current():
            raise ValueError("This Generator state is allocated in a different device")
        if _capture() is not None:  # (a graph would replay the draw's recorded offsets: not modelled)
            _capture_error("random draws are not captured by the simulated devices")
        return _new(fn())

    def standard_normal(self, size: Any = None, dtype: Any = np.float64, out: Any = None) -> ndarray:
        return self._draw(lambda: self._rng.standard_normal(size, dtype=dtype))

    def random(self, size: Any = None, dtype: Any = np.float64, out: Any = None) -> ndarray:
        return self._draw(lambda: self._rng.random(size, dtype=dtype))

    def integers(self, low: Any, high: Any = None, size: Any = None, dtype: Any = np.int64,
                 endpoint: bool = False) -> ndarray:
        return self._draw(lambda: self._rng.integers(_operand(low), _operand(high), size, dtype=dtype,
                                                     endpoint=endpoint))

    def poisson(self, lam: Any = 1.0, size: Any = None) -> ndarray:
        return self._draw(lambda: self._rng.poisson(_operand(lam), size))


def default_rng(seed: Any = None) -> Generator:
    return Generator(seed)


# ---- cupy.cuda --------------------------------------------------------------------------------
def getDeviceCount() -> int:  # noqa: N802 - CUDA's name
    if _config["count"] == 0:
        raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    return _config["count"]


def getDevice() -> int:  # noqa: N802
    return _current()


def setDevice(device: int) -> None:  # noqa: N802
    _valid(device)
    _thread.device = device


def getDeviceProperties(device: int) -> dict:  # noqa: N802
    _valid(device)
    return {"name": b"Simulated CUDA device (NumPy)", "totalGlobalMem": 16 * 2**30,
            "multiProcessorCount": 1, "major": 9, "minor": 0}


def deviceSynchronize() -> None:  # noqa: N802
    if _capture() is not None:
        _capture_error("a device synchronization")


def _valid(device: int) -> None:
    if not 0 <= device < _config["count"]:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")


class Device:
    """``cupy.cuda.Device(i)``: a context manager (and ``.use()``) that makes ``i`` current."""

    def __init__(self, device: Any = None) -> None:
        self.id = _current() if device is None else int(device)
        self._prev: list[int] = []

    def __enter__(self) -> Device:
        _valid(self.id)
        self._prev.append(_thread.device)
        _thread.device = self.id
        return self

    def __exit__(self, *exc: Any) -> None:
        _thread.device = self._prev.pop()

    def use(self) -> None:
        setDevice(self.id)

    def synchronize(self) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


class Stream:
    """``cupy.cuda.Stream``: work on the simulated devices is synchronous, so a stream only
    records which device it belongs to, whether it is in use, and its capture (a CUDA graph
    in the making: see ``_Capture``)."""

    null: Stream

    def __init__(self, null: bool = False, non_blocking: bool = False, ptds: bool = False,
                 priority: Any = None) -> None:
        self.device_id = _current()
        self._prev: list[Any] = []
        self._null = null
        self._capture: _Capture | None = None

    def begin_capture(self, mode: Any = None) -> None:
        """Record the kernels run while this stream is current, until ``end_capture``."""
        _begin_capture(self, mode)

    def end_capture(self) -> Graph:
        return _end_capture(self)

    def is_capturing(self) -> bool:
        return self._capture is not None

    def __enter__(self) -> Stream:
        self._prev.append(_stream.current)
        _stream.current = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _stream.current = self._prev.pop()

    def use(self) -> Stream:
        _stream.current = self
        return self

    def synchronize(self) -> None:
        if self._capture is not None:
            _capture_error("a stream synchronization")

    def record(self, event: Any = None) -> Event:
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event: Event) -> None:
        pass

    @property
    def done(self) -> bool:
        return True

    @property
    def ptr(self) -> int:
        return 0  # the null stream's handle


class _StreamState(threading.local):
    current: Any = None


_stream = _StreamState()


def get_current_stream(device_id: int = -1) -> Stream:
    if _stream.current is None:
        _stream.current = Stream(null=True)
    return _stream.current


class Event:
    """``cupy.cuda.Event``: records the host clock (the simulated work is synchronous)."""

    def __init__(self, block: bool = False, disable_timing: bool = False, interprocess: bool = False) -> None:
        self._time: float | None = None
        self._timing = not disable_timing

    def record(self, stream: Any = None) -> None:
        self._time = time.perf_counter()

    def synchronize(self) -> None:
        pass

    @property
    def done(self) -> bool:
        return True


def get_elapsed_time(start_event: Event, end_event: Event) -> float:
    """Milliseconds between two recorded events."""
    if start_event._time is None or end_event._time is None:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    return (end_event._time - start_event._time) * 1000.0


class MemoryPool:
    """``cupy.cuda.MemoryPool``'s counters: bytes held by live arrays on each device (the
    default pool's, or those of a pool made for ``using_allocator(pool.malloc)``)."""

    def __init__(self, allocator: Any = None) -> None:
        self._counts: dict[int, int] = {}

    def malloc(self, size: int) -> Any:
        """(Only as the allocator ``using_allocator`` takes: the simulated arrays allocate themselves.)"""
        raise NotImplementedError("the simulated memory pool hands out no raw memory")

    def used_bytes(self) -> int:
        return self._counts.get(_current(), 0)

    def total_bytes(self) -> int:
        return self._counts.get(_current(), 0)

    def free_bytes(self) -> int:
        return 0

    def free_all_blocks(self, stream: Any = None) -> None:
        pass


_pool = MemoryPool()
_pool._counts = _pool_bytes


@contextlib.contextmanager
def using_allocator(allocator: Any = None) -> Iterator[None]:
    """``cupy.cuda.using_allocator``: this thread's arrays come from ``allocator`` (a pool's
    ``malloc``; None: raw allocations, no pool) inside the block."""
    pool = getattr(allocator, "__self__", None)
    if allocator is not None and not isinstance(pool, MemoryPool):
        raise TypeError("the simulated devices take a MemoryPool's malloc (or None) as allocator")
    prev = _allocator.counts
    _allocator.counts = None if pool is None else pool._counts
    try:
        yield
    finally:
        _allocator.counts = prev


def get_default_memory_pool() -> MemoryPool:
    return _pool


# ---- cupyx ------------------------------------------------------------------------------------
def scatter_add(a: ndarray, slices: Any, value: Any) -> None:
    """``cupyx.scatter_add``: ``a[slices] += value`` with repeated indices accumulating."""
    if a.dtype.name not in SCATTER_ADD_DTYPES:
        raise TypeError(f"scatter_add does not support {a.dtype.name} (dtype {a.dtype})")
    _check_device(a._dev)
    target, where, values = a._a, _unwrap_index(slices), _operand(value)
    _write(a, lambda: np.add.at(target, where, values))


_erf64 = np.vectorize(math.erf, otypes=[np.float64])


def _erf(x: Any, casting: str = "same_kind") -> Any:
    # CuPy's erf has float32 and float64 loops only: float16 comes back float32, and
    # integers float64.
    x = np.asarray(x)
    return _erf64(x).astype(np.float32 if x.dtype in (np.float16, np.float32) else np.float64)


erf = ufunc(_erf, "erf")


def _special_kernel(name: str) -> Any:
    """A ``cupyx.scipy.special`` ufunc, computed by backends/special_functions.py (CuPy's
    float32 and float64 loops: float16 comes back float32)."""

    def kernel(x: Any, casting: str = "same_kind") -> Any:
        x = np.asarray(x)
        wide = x.astype(np.float32 if x.dtype in (np.float16, np.float32) else np.float64)
        return special(name, wide)

    return ufunc(kernel, name)


erfc, erfinv, gammaln, digamma, i1 = (_special_kernel(n) for n in ("erfc", "erfinv", "gammaln", "digamma", "i1"))


def polygamma(n: Any, x: Any) -> ndarray:
    """``cupyx.scipy.special.polygamma`` (a function of an integer order and an array)."""
    def kernel(a: Any) -> Any:
        return special("polygamma", a.astype(np.float32 if a.dtype in (np.float16, np.float32) else np.float64), n)

    return _kernel(kernel, x)


# ---- cupy.cuda.nccl: one rank ---------------------------------------------------------------
# NCCL's numbering of its data types and reductions.
NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_INT64, NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = 0, 1, 2, 4, 6, 7, 8
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = 0, 1, 2, 3, 4
_NCCL_ITEMSIZE = {NCCL_INT8: 1, NCCL_UINT8: 1, NCCL_INT32: 4, NCCL_INT64: 8, NCCL_FLOAT16: 2, NCCL_FLOAT32: 4,
                  NCCL_FLOAT64: 8}


def get_unique_id() -> bytes:
    return bytes(128)  # ncclUniqueId is 128 bytes


class NcclCommunicator:
    """``cupy.cuda.nccl.NcclCommunicator`` for a job of one rank: every collective of a lone
    rank copies its send buffer to its receive buffer (raw device addresses, as NCCL's)."""

    def __init__(self, ndev: int, commId: bytes, rank: int, config: Any = None) -> None:  # noqa: N803
        if ndev != 1 or rank != 0:
            raise RuntimeError(f"the simulated NCCL runs one rank, not rank {rank} of {ndev}")
        self._dev = _current()

    def _copy(self, dst: int, src: int, count: int, datatype: int) -> None:
        if _capture() is not None:  # (raw addresses: a capture could not restore what they wrote)
            _capture_error("NCCL collectives are not captured by the simulated devices")
        if dst != src:
            ctypes.memmove(dst, src, count * _NCCL_ITEMSIZE[datatype])

    def allReduce(self, sendbuf: int, recvbuf: int, count: int, datatype: int, op: int, stream: int) -> None:  # noqa: N802
        self._copy(recvbuf, sendbuf, count, datatype)

    def broadcast(self, sendbuff: int, recvbuff: int, count: int, datatype: int, root: int, stream: int) -> None:
        self._copy(recvbuff, sendbuff, count, datatype)

    def bcast(self, buff: int, count: int, datatype: int, root: int, stream: int) -> None:
        pass

    def allGather(self, sendbuf: int, recvbuf: int, count: int, datatype: int, stream: int) -> None:  # noqa: N802
        self._copy(recvbuf, sendbuf, count, datatype)

    def reduceScatter(self, sendbuf: int, recvbuf: int, recvcount: int, datatype: int, op: int,  # noqa: N802
                      stream: int) -> None:
        self._copy(recvbuf, sendbuf, recvcount, datatype)

    def destroy(self) -> None:
        pass

    def size(self) -> int:
        return 1

    def rank_id(self) -> int:
        return 0

    def device_id(self) -> int:
        return self._dev


# ---- the modules ------------------------------------------------------------------------------
def _module(name: str, **attrs: Any) -> types.ModuleType:
    mod = types.ModuleType(name, f"Simulated {name} (autodiff.testing.simulated_cuda)")
    mod.__dict__.update(attrs)
    return mod


_ARRAY_NAMES = [
    "ndarray", "dtype", "finfo", "iinfo", "inf", "asarray", "array", "asnumpy", "from_dlpack", "get_array_module", "zeros", "ones", "empty",
    "full", "arange", "ascontiguousarray", "broadcast_to", "broadcast_shapes", "concatenate", "stack",
    "where", "copyto", "may_share_memory", "sum", "mean", "prod", "amax", "amin", "any", "all", "argmax", "argmin", "var",
    "cumsum", "flip", "pad", "tile", "einsum", "take", "take_along_axis", "unique", "unravel_index",
    "around", "round", "ufunc", "argsort", "sort", "nonzero", "searchsorted", "bincount", "histogram",
    "roll", "cumprod", "moveaxis", "diagonal",
    "clip", "vectorize", "exp", "log", "sqrt", "abs", "absolute", "sign", "floor", "trunc", "ceil",
    "maximum", "minimum", "logical_not", "logical_and", "logical_or", "isnan", "isinf", "sin", "cos",
    "tan", "tanh", "expm1", "log1p", "log2", "add", "subtract", "multiply", "divide", "true_divide",
    "negative", "power", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot",
    "exp2", "log10", "sinc", "copysign", "fmod", "remainder", "floor_divide", "fmax", "fmin", "nextafter",
    "signbit", "isfinite", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "invert",
    "left_shift", "right_shift", "gcd", "lcm", "i0", "isin", "nan_to_num",
]
_runtime = _module("cupy.cuda.runtime", getDeviceCount=getDeviceCount, getDevice=getDevice,
                   setDevice=setDevice, getDeviceProperties=getDeviceProperties,
                   deviceSynchronize=deviceSynchronize, CUDARuntimeError=CUDARuntimeError)
_nccl = _module("cupy.cuda.nccl", available=True, NcclCommunicator=NcclCommunicator, get_unique_id=get_unique_id,
                NCCL_INT8=NCCL_INT8, NCCL_UINT8=NCCL_UINT8, NCCL_INT32=NCCL_INT32, NCCL_INT64=NCCL_INT64,
                NCCL_FLOAT16=NCCL_FLOAT16, NCCL_FLOAT32=NCCL_FLOAT32, NCCL_FLOAT64=NCCL_FLOAT64,
                NCCL_SUM=NCCL_SUM, NCCL_PROD=NCCL_PROD, NCCL_MAX=NCCL_MAX, NCCL_MIN=NCCL_MIN, NCCL_AVG=NCCL_AVG)
_graph = _module("cupy.cuda.graph", Graph=Graph)
_cuda = _module("cupy.cuda", nccl=_nccl, Device=Device, Stream=Stream, Event=Event, MemoryPool=MemoryPool,
                Graph=Graph, graph=_graph, using_allocator=using_allocator,
                runtime=_runtime, get_current_stream=get_current_stream,
                get_elapsed_time=get_elapsed_time, is_available=lambda: _config["count"] > 0)
_linalg = _module("cupy.linalg", inv=_inv, solve=_solve, det=_det, slogdet=_slogdet, cholesky=_cholesky)
_random = _module("cupy.random", Generator=Generator, default_rng=default_rng)
_cupy = _module("cupy", cuda=_cuda, random=_random, linalg=_linalg, get_default_memory_pool=get_default_memory_pool,
                __version__="14.2.0+simulated", **{n: globals()[n] for n in _ARRAY_NAMES})
_special = _module("cupyx.scipy.special", erf=erf, erfc=erfc, erfinv=erfinv, gammaln=gammaln, digamma=digamma,
                   polygamma=polygamma, i1=i1)
_scipy = _module("cupyx.scipy", special=_special)
_cupyx = _module("cupyx", scatter_add=scatter_add, scipy=_scipy)
Stream.null = Stream(null=True)


def standin_modules() -> dict[str, types.ModuleType]:
    """The stand-in modules by the name they import as."""
    return {"cupy": _cupy, "cupy.cuda": _cuda, "cupy.cuda.runtime": _runtime, "cupy.cuda.graph": _graph, "cupy.cuda.nccl": _nccl, "cupy.random": _random, "cupy.linalg": _linalg,
            "cupyx": _cupyx, "cupyx.scipy": _scipy, "cupyx.scipy.special": _special}


# ---- installing it ----------------------------------------------------------------------------
_saved: list[tuple[dict, int]] = []


def install(device_count: int = 1) -> None:
    """Make ``import cupy`` (and ``cupyx``) give the stand-in, with ``device_count`` devices."""
    if device_count < 1:
        raise ValueError(f"simulated CUDA needs at least one device, got {device_count}")
    # what to put back: the modules, and (when installs nest) the outer device count
    _saved.append(({name: sys.modules.get(name) for name in standin_modules()}, _config["count"]))
    sys.modules.update(standin_modules())
    _config["count"] = device_count
    _thread.device = 0
    backends.forget("cuda")  # backends made before (on real CuPy, or none) are dropped


def uninstall() -> None:
    """Undo the last ``install``: the modules ``cupy`` and ``cupyx`` were before it."""
    previous, count = _saved.pop()
    for name, mod in previous.items():
        if mod is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = mod
    _config["count"] = count if _saved else 0
    _thread.device = 0
    backends.forget("cuda")


def is_installed() -> bool:
    return sys.modules.get("cupy") is _cupy


@contextlib.contextmanager
def simulate_cuda(device_count: int = 1) -> Iterator[None]:
    """``with simulate_cuda(2):`` -- ``device="cuda"``, ``"cuda:1"`` work inside."""
    install(device_count)
    try:
        yield
    finally:
        uninstall()
