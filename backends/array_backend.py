"""The primitive array ops, written once for any NumPy-compatible module (``xp``).

NumPy and CuPy share this code: each backend is an ``ArrayBackend`` built around its
module, overriding only what differs (host copies, scatter-add, random generators).
Every method takes and returns the module's arrays; dtypes are passed by name
(``"float32"``), so callers never touch the module themselves.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

DTYPE_NAMES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class GraphCaptureError(RuntimeError):
    """A graph capture that failed or that the backend cannot make (``capture_graph``)."""


class ArrayBackend:
    """Array ops for one device, on top of the array module ``xp``."""

    type = "cpu"
    index: int | None = None
    # The class of this backend's arrays; a result of any other class (NumPy's 0-d
    # scalars) is turned back into an array once, by ``as_array``, when a tensor is made.
    _array_type: Any = None

    def __init__(self, xp: Any) -> None:
        self.xp = xp
        if self._array_type is None:
            self._array_type = xp.ndarray
        self.dtypes = {name: xp.dtype(name) for name in DTYPE_NAMES}
        # NumPy's ``dtype.name`` is a Python property costing about a microsecond per read;
        # ``Tensor.dtype`` reads it on every call, so known dtypes are looked up instead.
        self._dtype_names = {dt: name for name, dt in self.dtypes.items()}
        # Binary arithmetic goes through the operators: they are the fastest entry
        # point and every array type (NumPy, CuPy, the strict test array) has them.
        self.add = operator.add
        self.sub = operator.sub
        self.mul = operator.mul
        self.div = operator.truediv
        self.pow = operator.pow
        self.matmul = operator.matmul
        self.neg = operator.neg
        self.eq = operator.eq
        self.ne = operator.ne
        self.lt = operator.lt
        self.le = operator.le
        self.gt = operator.gt
        self.ge = operator.ge

    @property
    def name(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # ---- creation -------------------------------------------------------------
    def asarray(self, data: Any, dtype: str | None = None) -> Any:
        return self.xp.asarray(data, dtype=None if dtype is None else self.dtypes[dtype])

    def zeros(self, shape: tuple[int, ...], dtype: str) -> Any:
        return self.xp.zeros(shape, dtype=self.dtypes[dtype])

    def ones(self, shape: tuple[int, ...], dtype: str) -> Any:
        return self.xp.ones(shape, dtype=self.dtypes[dtype])

    def full(self, shape: tuple[int, ...], value: Any, dtype: str) -> Any:
        return self.xp.full(shape, value, dtype=self.dtypes[dtype])

    def empty(self, shape: tuple[int, ...], dtype: str) -> Any:
        return self.xp.empty(shape, dtype=self.dtypes[dtype])

    def arange(self, start: Any, end: Any, step: Any, dtype: str) -> Any:
        return self.xp.arange(start, end, step, dtype=self.dtypes[dtype])

    def carve(self, arena: Any, offset: int, shape: tuple[int, ...], dtype: str) -> Any:
        """A C-contiguous array of ``shape`` and ``dtype`` over the bytes of ``arena`` (1-d,
        uint8) from ``offset``: how a compiled program lays its temporaries in one block."""
        dt = self.dtypes[dtype]
        n = math.prod(shape) * self.xp.dtype(dt).itemsize
        return arena[offset:offset + n].view(dt).reshape(shape)

    # ---- random numbers ---------------------------------------------------------
    # Each draw takes the generator to use (``rng``: one of ``new_rng``'s, for a user's
    # ``autodiff.Generator``) or, by default, this device's own ``self.rng``.
    def new_rng(self, seed: int) -> Any:
        """A new random generator on this device, seeded with ``seed``."""
        return self.xp.random.default_rng(seed)

    def seed(self, seed: int) -> None:
        self.rng = self.xp.random.default_rng(seed)

    def reseed_rng(self, rng: Any, seed: int) -> Any:
        """``rng`` seeded with ``seed`` (in place where the generator allows; returned)."""
        return self.new_rng(seed)

    def rng_state(self, rng: Any) -> bytes:
        """The state of ``rng`` as bytes (``rng_from_state`` makes a generator from them)."""
        raise NotImplementedError(f"the random generator of {self.name} cannot save its state")

    def rng_from_state(self, state: bytes) -> Any:
        raise NotImplementedError(f"the random generator of {self.name} cannot restore a state")

    def random_normal(self, shape: tuple[int, ...], dtype: str, rng: Any = None) -> Any:
        if rng is None:
            rng = self.rng
        return rng.standard_normal(shape, dtype=self._float_for_rng(dtype)).astype(
            self.dtypes[dtype], copy=False
        )

    def random_uniform(self, shape: tuple[int, ...], dtype: str, rng: Any = None) -> Any:
        if rng is None:
            rng = self.rng
        return rng.random(shape, dtype=self._float_for_rng(dtype)).astype(
            self.dtypes[dtype], copy=False
        )

    def random_integers(self, low: Any, high: Any, shape: tuple[int, ...], dtype: str, rng: Any = None,
                        wide: bool | None = None) -> Any:
        """Integers in [low, high) (``low``/``high`` numbers or arrays broadcast to ``shape``).
        ``wide`` (64-bit draws or not) matters only to the CPU's PyTorch-exact streams."""
        if rng is None:
            rng = self.rng
        return rng.integers(low, high, shape).astype(self.dtypes[dtype], copy=False)

    def random_poisson(self, lam: Any, dtype: str, rng: Any = None) -> Any:
        """One Poisson sample per element of the rate array ``lam``."""
        if rng is None:
            rng = self.rng
        return rng.poisson(lam).astype(self.dtypes[dtype], copy=False)

    def random_permutation(self, n: int, rng: Any = None) -> Any:
        """A random permutation of ``range(n)`` (int64), from one uniform draw per element."""
        if rng is None:
            rng = self.rng
        return self.xp.argsort(rng.random(n), kind="stable").astype(self.dtypes["int64"])

    @staticmethod
    def _float_for_rng(dtype: str) -> str:
        # Generators draw float32/float64 only; float16 is drawn in float32 then cast.
        return "float64" if dtype == "float64" else "float32"

    # ---- conversion and metadata ---------------------------------------------
    def to_host(self, a: Any) -> Any:
        """A NumPy array with the same values (a copy for device arrays)."""
        return a

    def from_host(self, a: Any) -> Any:
        return self.xp.asarray(a)

    # ---- communication (autodiff.distributed) ------------------------------------
    def host_buffer(self, a: Any) -> tuple[Any, bool]:
        """``a``'s values as a host (NumPy) array that a communication library (MPI) reads
        and writes, and whether it is a copy (then ``copy_from_host`` writes results back)."""
        return self.to_host(a), True

    def copy_from_host(self, dst: Any, host: Any) -> None:
        """Write the host array ``host`` into ``dst`` (same shape and dtype) in place."""
        self.xp.copyto(dst, self.xp.asarray(host))

    def scalar_operand(self, value: float, dtype: str) -> Any:
        """The fastest operand for Python float ``value`` against arrays of ``dtype``.

        The caller caches it (per value, dtype and backend); the result must compute
        exactly what ``value`` itself would.
        """
        return value

    def as_array(self, a: Any) -> Any:
        """``a`` (an op's result, maybe a scalar) as an array of this backend."""
        return self.xp.asarray(a)

    def tolist(self, a: Any) -> Any:
        return a.tolist()

    def item(self, a: Any) -> Any:
        return a.item()

    def dtype_name(self, a: Any) -> str:
        return self.name_of_dtype(a.dtype)

    def name_of_dtype(self, dt: Any) -> str:
        """The name of one of this backend's dtype objects (``a.dtype``)."""
        name = self._dtype_names.get(dt)
        return name if name is not None else dt.name

    def astype(self, a: Any, dtype: str) -> Any:
        return a.astype(self.dtypes[dtype])

    def copy(self, a: Any) -> Any:
        return a.copy()

    def writes_out(self, fn: Any) -> bool:
        """True when ``fn`` (one of this backend's functions) takes ``out=`` and writes its
        whole result there, with the same values (``autodiff.compile`` reuses buffers)."""
        return False

    def out_writer(self, name: str) -> Any:
        """For this backend's method ``name`` that does not take ``out=``: a function of the
        same arguments and ``out`` that writes the method's result (the same values, C order)
        into ``out`` and returns it; None when there is none (``autodiff.compile``)."""
        return None

    def is_view(self, a: Any) -> bool:
        """True when ``a`` shares memory it does not own (so it must not be mutated as a copy)."""
        return a.base is not None

    # ---- graphs: a fixed sequence of kernels captured once, launched again ---------------
    # (autodiff.compile's CUDA graphs, docs/compile.md.) A backend without graphs says so
    # (``supports_graphs`` False) and raises GraphCaptureError from both methods.
    supports_graphs = False

    def capture_graph(self, fn: Callable, args: list) -> tuple[Any, Any]:
        """Run ``fn(*args)`` with the kernels it launches captured into a graph instead of
        run, its allocations served by a memory pool of the graph's own (so no later array
        gets memory the graph writes); returns ``(graph, fn's result)``. The result's arrays
        hold their values only once the graph is launched. A failed capture (a host read, a
        synchronization, an operation the capture refuses) raises GraphCaptureError, and
        nothing ``fn`` did has happened."""
        raise GraphCaptureError(f"the {self.name} device has no graphs")

    def launch_graph(self, graph: Any) -> None:
        """Run ``capture_graph``'s graph once, on this device's current stream: it reads and
        writes the arrays of its capture (fixed addresses)."""
        raise GraphCaptureError(f"the {self.name} device has no graphs")

    # ---- interchange: DLPack, the CUDA array interface, foreign arrays --------------
    def adopt(self, a: Any) -> Any:
        """``a`` itself when it is an array of this backend's kind on this device (so a
        tensor can hold it without a copy), else None."""
        return a if a.__class__ is self._array_type else None  # (not a subclass: np.matrix...)

    def to_dlpack(self, a: Any, stream: Any = None, max_version: tuple[int, int] | None = None,
                  dl_device: Any = None, copy: bool | None = None) -> Any:
        """A DLPack capsule of ``a``'s memory (the arguments are the DLPack protocol's;
        unset ones are left to the array library's defaults)."""
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                    ("dl_device", dl_device), ("copy", copy)) if v is not None}
        return a.__dlpack__(**kwargs)

    def dlpack_device(self, a: Any) -> tuple[int, int]:
        """DLPack's ``(device_type, device_id)`` of ``a`` (1: CPU, 2: CUDA)."""
        kind, index = a.__dlpack_device__()
        return int(kind), int(index)

    def from_dlpack(self, obj: Any) -> Any:
        """An array of this device sharing the memory of ``obj`` (an object with
        ``__dlpack__`` and ``__dlpack_device__``)."""
        return self.xp.from_dlpack(obj)

    # ---- elementwise ----------------------------------------------------------
    def exp(self, a: Any) -> Any:
        return self.xp.exp(a)

    def log(self, a: Any) -> Any:
        return self.xp.log(a)

    def sqrt(self, a: Any) -> Any:
        return self.xp.sqrt(a)

    def abs(self, a: Any) -> Any:
        return self.xp.abs(a)

    def sign(self, a: Any) -> Any:
        return self.xp.sign(a)

    def floor(self, a: Any) -> Any:
        return self.xp.floor(a)

    def trunc(self, a: Any) -> Any:
        return self.xp.trunc(a)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.xp.maximum(a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self.xp.minimum(a, b)

    def clip(self, a: Any, lo: Any, hi: Any) -> Any:
        if lo is None:
            return self.xp.minimum(a, hi)
        if hi is None:
            return self.xp.maximum(a, lo)
        return self.xp.minimum(self.xp.maximum(a, lo), hi)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return self.xp.where(cond, a, b)

    def logical_not(self, a: Any) -> Any:
        return self.xp.logical_not(a)

    def logical_and(self, a: Any, b: Any) -> Any:
        return self.xp.logical_and(a, b)

    def logical_or(self, a: Any, b: Any) -> Any:
        return self.xp.logical_or(a, b)

    def isnan(self, a: Any) -> Any:
        return self.xp.isnan(a)

    def any(self, a: Any) -> bool:
        return bool(self.xp.any(a))

    def all(self, a: Any) -> bool:
        return bool(self.xp.all(a))

    # ---- reductions -----------------------------------------------------------
    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.sum(a, axis=axis, keepdims=keepdims)

    def mean(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if not a.size:  # NaN, without the array library's "Mean of empty slice" warning
            total = self.xp.sum(a, axis=axis, keepdims=keepdims)
            return self.xp.full(total.shape, float("nan"), dtype=total.dtype)
        return self.xp.mean(a, axis=axis, keepdims=keepdims)

    # ---- shape ----------------------------------------------------------------
    def reshape(self, a: Any, shape: tuple[int, ...]) -> Any:
        return a.reshape(shape)

    def transpose(self, a: Any, axes: tuple[int, ...] | None = None) -> Any:
        return a.transpose(axes)

    def broadcast_to(self, a: Any, shape: tuple[int, ...]) -> Any:
        return self.xp.broadcast_to(a, shape)

    def broadcast_shapes(self, *shapes: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(self.xp.broadcast_shapes(*shapes))

    def concatenate(self, arrays: list[Any], axis: int) -> Any:
        return self.xp.concatenate(arrays, axis=axis)

    def getitem(self, a: Any, index: Any) -> Any:
        return a[index]

    def contiguous(self, a: Any) -> Any:
        return self.xp.ascontiguousarray(a)

    # ---- in place (each writes into ``a`` and returns nothing) -----------------
    def setitem(self, a: Any, index: Any, value: Any) -> None:
        if self._int_arrays(index):
            index, value = self._last_writes(a, index, value)
        a[index] = value

    def _int_arrays(self, index: Any) -> bool:
        items = index if isinstance(index, tuple) else (index,)
        return any(isinstance(i, self._array_type) and i.dtype.kind in "iu" for i in items)

    def _last_writes(self, a: Any, index: Any, value: Any) -> tuple:
        """``index`` and ``value`` with each element of ``a`` written once, by the last of
        its duplicates: what a sequential loop (NumPy, PyTorch on the CPU) leaves, made the
        rule on every device (a GPU writes duplicates in no defined order)."""
        xp = self.xp
        selected = xp.arange(a.size).reshape(a.shape)[index]  # the flat position of each write
        ids = selected.reshape(-1)
        if ids.size < 2:
            return index, value
        unique, first = xp.unique(ids[::-1], return_index=True)
        if unique.size == ids.size:
            return index, value  # no duplicates
        last = ids.size - 1 - first
        values = xp.broadcast_to(xp.asarray(value, dtype=a.dtype), selected.shape).reshape(-1)
        return xp.unravel_index(unique, a.shape), values[last]

    def copyto(self, dst: Any, src: Any) -> None:
        self.xp.copyto(dst, src, casting="unsafe")

    def fill(self, a: Any, value: Any) -> None:
        a.fill(value)

    # ``a op= b`` into ``a``'s memory (``b`` broadcast to ``a``, same dtype), no temporary.
    iadd = staticmethod(operator.iadd)
    isub = staticmethod(operator.isub)
    imul = staticmethod(operator.imul)
    idiv = staticmethod(operator.itruediv)

    def index_add(self, a: Any, index: Any, values: Any) -> None:
        """``a[index] += values`` where repeated indices accumulate."""
        self.xp.add.at(a, index, values)

    def is_contiguous(self, a: Any) -> bool:
        return a.flags.c_contiguous

    def strides(self, a: Any) -> tuple[int, ...]:
        """Strides in elements (the array module counts bytes)."""
        return tuple(s // a.itemsize for s in a.strides)

    def data_ptr(self, a: Any) -> int:
        """The address of ``a``'s first element (CuPy: in device memory)."""
        return a.data.ptr

    def may_share_memory(self, a: Any, b: Any) -> bool:
        """Whether arrays ``a`` and ``b`` of this backend might share memory (bounds only)."""
        return bool(self.xp.may_share_memory(a, b))

    def overlaps(self, a: Any) -> bool:
        """Whether two elements of ``a`` share memory (an ``expand``-ed view): writing into
        it is refused on every device (NumPy's broadcast views are read-only, CuPy's not)."""
        return any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))

    # ---- primitives of the extended op set (nn, reductions, indexing) -----------
    # Each result goes through ``_wrap`` so the NumPy backend hands back 0-d arrays.
    def _wrap(self, out: Any) -> Any:
        return out

    def sin(self, a: Any) -> Any:
        return self._wrap(self.xp.sin(a))

    def cos(self, a: Any) -> Any:
        return self._wrap(self.xp.cos(a))

    def tan(self, a: Any) -> Any:
        return self._wrap(self.xp.tan(a))

    def tanh(self, a: Any) -> Any:
        return self._wrap(self.xp.tanh(a))

    def sigmoid(self, a: Any) -> Any:
        """``1 / (1 + exp(-a))``, to full precision for either sign: with ``e = exp(-|a|)``
        (never overflows), ``1 / (1 + e)`` for ``a >= 0`` and ``e / (1 + e)`` below, so the
        tiny values at large negative ``a`` keep their relative precision."""
        xp = self.xp
        e = xp.exp(-xp.abs(a))
        r = 1 / (1 + e)
        return self._wrap(xp.where(a >= 0, r, e * r))

    def expm1(self, a: Any) -> Any:
        return self._wrap(self.xp.expm1(a))

    def log1p(self, a: Any) -> Any:
        return self._wrap(self.xp.log1p(a))

    def log2(self, a: Any) -> Any:
        return self._wrap(self.xp.log2(a))

    def erf(self, a: Any) -> Any:
        return self._wrap(self._erf(a))

    def _erf(self, a: Any) -> Any:
        try:  # SciPy is optional: looked up when erf is first used
            from scipy.special import erf
        except ImportError:  # no SciPy: Python's math.erf, elementwise (slow but exact)
            return self.xp.vectorize(math.erf, otypes=[a.dtype])(a)
        return erf(a).astype(a.dtype, copy=False)

    def ceil(self, a: Any) -> Any:
        return self._wrap(self.xp.ceil(a))

    def round(self, a: Any, decimals: int = 0) -> Any:
        return self._wrap(self.xp.round(a, decimals))

    def isinf(self, a: Any) -> Any:
        return self._wrap(self.xp.isinf(a))

    def prod(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._wrap(self.xp.prod(a, axis=axis, keepdims=keepdims))

    def amax(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._wrap(self.xp.amax(a, axis=axis, keepdims=keepdims))

    def amin(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._wrap(self.xp.amin(a, axis=axis, keepdims=keepdims))

    def argmax(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._wrap(self.xp.argmax(a, axis=axis, keepdims=keepdims))

    def argmin(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._wrap(self.xp.argmin(a, axis=axis, keepdims=keepdims))

    def var(self, a: Any, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Any:
        n = a.size if axis is None else math.prod([a.shape[d] for d in axis])
        if n > ddof:
            return self._wrap(self.xp.var(a, axis=axis, ddof=ddof, keepdims=keepdims))
        # As many elements as the correction, or fewer: PyTorch divides by max(N - ddof, 0),
        # giving inf (nan where all values are equal); NumPy does too, CuPy gives nan.
        c = a - self.xp.mean(a, axis=axis, keepdims=True)
        return self._wrap(self.xp.sum(c * c, axis=axis, keepdims=keepdims) / self.xp.zeros((), a.dtype))

    def cumsum(self, a: Any, axis: int) -> Any:
        return self._wrap(self.xp.cumsum(a, axis=axis))

    def flip(self, a: Any, axes: tuple[int, ...]) -> Any:
        return self._wrap(self.xp.flip(a, axis=axes))

    def pad(self, a: Any, widths: tuple, value: Any = 0) -> Any:
        """Constant padding; ``widths`` is one ``(before, after)`` pair per dimension."""
        return self.xp.pad(a, widths, mode="constant", constant_values=value)

    def tile(self, a: Any, reps: tuple[int, ...]) -> Any:
        return self._wrap(self.xp.tile(a, reps))

    def einsum(self, subscripts: str, *operands: Any) -> Any:
        return self._wrap(self.xp.einsum(subscripts, *operands))

    def batched_matmul(self, a: Any, b: Any) -> Any:
        """``a @ b`` for operands of 3 or more dims. When ``b``'s batch dims are a broadcast
        (stride 0: one matrix shared by the batch, as ``func.grad`` inside ``vmap`` makes
        of a shared weight), ``a``'s batch is folded into its rows: one matrix product
        instead of a stack of (often matrix-vector) products."""
        if a.ndim >= 3 and b.ndim == a.ndim and a.shape[:-2] == b.shape[:-2]:
            n = a.ndim - 2
            if not any(b.strides[:n]):
                k = a.shape[-1]
                # (the operator, not self.matmul: a backend's own methods may be wrapped)
                out = a.reshape(-1, k) @ b[(0,) * n]
                return out.reshape(a.shape[:-1] + b.shape[-1:])
        return a @ b

    def batched_outer(self, a: Any, b: Any) -> Any:
        """``a[..., :, None] * b[..., None, :]`` for ``a`` (B..., i) and ``b`` (B..., j) of
        the same batch shape: per-sample outer products (the weight gradients of ``vmap``
        of ``grad``)."""
        return self.xp.einsum("...j,...i->...ij", b, a)

    def take(self, a: Any, index: Any, axis: int) -> Any:
        return self.xp.take(a, index, axis=axis)

    def _along(self, index: Any, axis: int) -> tuple:
        """Full advanced index that picks ``index`` along ``axis`` (torch.gather's pattern)."""
        ndim = index.ndim
        parts = []
        for d, n in enumerate(index.shape):
            if d == axis:
                parts.append(index)
            else:
                shape = [1] * ndim
                shape[d] = n
                parts.append(self.xp.arange(n).reshape(shape))
        return tuple(parts)

    def gather(self, a: Any, axis: int, index: Any) -> Any:
        return a[self._along(index, axis)]

    def scatter_add(self, a: Any, axis: int, index: Any, src: Any) -> None:
        """In place: ``a[..., index[i], ...] += src[i]`` along ``axis``, repeats accumulating."""
        src = src[tuple(slice(0, n) for n in index.shape)]
        self.index_add(a, self._along(index, axis), src)

    def stack(self, arrays: list[Any], axis: int) -> Any:
        return self.xp.stack(arrays, axis=axis)

    def unfold2d(self, a: Any, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int) -> Any:
        """Sliding windows of an ``(N, C, H, W)`` array as ``(N, C, kh, kw, OH, OW)`` (a copy)."""
        n, c, h, w = a.shape
        oh = (h - dh * (kh - 1) - 1) // sh + 1
        ow = (w - dw * (kw - 1) - 1) // sw + 1
        out = self.xp.empty((n, c, kh, kw, oh, ow), dtype=a.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i, j] = a[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                                    j * dw : j * dw + sw * (ow - 1) + 1 : sw]
        return out

    def fold2d(self, cols: Any, h: int, w: int, sh: int, sw: int, dh: int, dw: int) -> Any:
        """The adjoint of ``unfold2d``: add each window back into an ``(N, C, h, w)`` array."""
        n, c, kh, kw, oh, ow = cols.shape
        out = self.xp.zeros((n, c, h, w), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                    j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[:, :, i, j]
        return out

    # ---- more elementwise math: trigonometry, special functions, integer bits ----
    # One line per NumPy/CuPy function of the same meaning; the special functions (gamma
    # family, erfc, erfinv, Bessel) go through ``_special``, which each backend provides.
    def arcsin(self, a: Any) -> Any:
        return self._wrap(self.xp.arcsin(a))

    def arccos(self, a: Any) -> Any:
        return self._wrap(self.xp.arccos(a))

    def arctan(self, a: Any) -> Any:
        return self._wrap(self.xp.arctan(a))

    def sinh(self, a: Any) -> Any:
        return self._wrap(self.xp.sinh(a))

    def cosh(self, a: Any) -> Any:
        return self._wrap(self.xp.cosh(a))

    def arcsinh(self, a: Any) -> Any:
        return self._wrap(self.xp.arcsinh(a))

    def arccosh(self, a: Any) -> Any:
        return self._wrap(self.xp.arccosh(a))

    def arctanh(self, a: Any) -> Any:
        return self._wrap(self.xp.arctanh(a))

    def arctan2(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.arctan2(a, b))

    def hypot(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.hypot(a, b))

    def exp2(self, a: Any) -> Any:
        return self._wrap(self.xp.exp2(a))

    def log10(self, a: Any) -> Any:
        return self._wrap(self.xp.log10(a))

    def sinc(self, a: Any) -> Any:
        """``sin(pi x) / (pi x)``, 1 at 0 (the normalised sinc, as PyTorch's)."""
        return self._wrap(self.xp.sinc(a))

    def copysign(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.copysign(a, b))

    def fmod(self, a: Any, b: Any) -> Any:
        """Remainder with the sign of ``a`` (C's fmod)."""
        return self._wrap(self.xp.fmod(a, b))

    def remainder(self, a: Any, b: Any) -> Any:
        """Remainder with the sign of ``b`` (Python's %)."""
        return self._wrap(self.xp.remainder(a, b))

    def floor_divide(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.floor_divide(a, b))

    def fmax(self, a: Any, b: Any) -> Any:
        """Maximum that ignores a NaN on one side."""
        return self._wrap(self.xp.fmax(a, b))

    def fmin(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.fmin(a, b))

    def nextafter(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.nextafter(a, b))

    def signbit(self, a: Any) -> Any:
        return self._wrap(self.xp.signbit(a))

    def isfinite(self, a: Any) -> Any:
        return self._wrap(self.xp.isfinite(a))

    def nan_to_num(self, a: Any, nan: float, posinf: float | None, neginf: float | None) -> Any:
        """NaN, +inf and -inf replaced (infinities by the dtype's extremes when None)."""
        return self._wrap(self.xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf))

    def logical_xor(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.logical_xor(a, b))

    def bitwise_and(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.bitwise_and(a, b))

    def bitwise_or(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.bitwise_or(a, b))

    def bitwise_xor(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.bitwise_xor(a, b))

    def invert(self, a: Any) -> Any:
        """Bitwise not (logical not for bool arrays)."""
        return self._wrap(self.xp.invert(a))

    def left_shift(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.left_shift(a, b))

    def right_shift(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.right_shift(a, b))

    def gcd(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.gcd(a, b))

    def lcm(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.lcm(a, b))

    def isin(self, a: Any, test: Any, invert: bool = False) -> Any:
        return self._wrap(self.xp.isin(a, test, invert=invert))

    def i0(self, a: Any) -> Any:
        """The modified Bessel function of the first kind, order 0."""
        return self._wrap(self.xp.i0(a).astype(a.dtype, copy=False))

    def i1(self, a: Any) -> Any:
        return self._special("i1", a)

    def erfc(self, a: Any) -> Any:
        return self._special("erfc", a)

    def erfinv(self, a: Any) -> Any:
        return self._special("erfinv", a)

    def lgamma(self, a: Any) -> Any:
        """``log |Gamma(a)|`` (SciPy's and CuPy's ``gammaln``; +inf at -inf, as PyTorch's)."""
        out = self._special("gammaln", a)
        return self._wrap(self.xp.where(self.xp.isinf(a), self.xp.abs(a), out))

    def digamma(self, a: Any) -> Any:
        return self._special("digamma", a)

    def polygamma(self, n: int, a: Any) -> Any:
        """The ``n``-th derivative of digamma."""
        return self._special("polygamma", a, n)

    def _special(self, name: str, a: Any, n: int | None = None) -> Any:
        from backends.special_functions import special

        return self._wrap(special(name, a, n))

    # ---- sorting, selection and counting ----------------------------------------
    def argsort(self, a: Any, axis: int = -1, descending: bool = False) -> Any:
        """Stable sort order along ``axis``. Descending keeps equal elements in their
        original order and puts NaN first, as PyTorch's ``sort(stable=True)`` does."""
        if not descending:
            return self._wrap(self.xp.argsort(a, axis=axis, kind="stable"))
        n = a.shape[axis]
        rev = self.xp.flip(a, axis=axis)
        order = self.xp.flip(self.xp.argsort(rev, axis=axis, kind="stable"), axis=axis)
        return self._wrap((n - 1) - order)

    def nonzero(self, a: Any) -> tuple:
        """The indices of the non-zero elements, one int64 array per dimension."""
        return tuple(self._wrap(i.astype(self.dtypes["int64"])) for i in self.xp.nonzero(a))

    def unique(self, a: Any, axis: int | None = None) -> tuple:
        """``(values, inverse, counts)``, values sorted (along ``axis`` when given)."""
        values, inverse, counts = self.xp.unique(a, return_inverse=True, return_counts=True, axis=axis)
        return values, self._wrap(inverse.reshape(-1)), counts

    def searchsorted(self, sorted_seq: Any, values: Any, right: bool = False) -> Any:
        """Insertion points of ``values`` in the last dim of ``sorted_seq``; an N-D sequence
        is searched row by row (its leading dims match ``values``')."""
        side = "right" if right else "left"
        if sorted_seq.ndim == 1:
            return self._wrap(self.xp.searchsorted(sorted_seq, values, side=side))
        seq = sorted_seq.reshape(-1, sorted_seq.shape[-1])
        vals = values.reshape(seq.shape[0], -1)
        rows = [self.xp.searchsorted(seq[i], vals[i], side=side) for i in range(seq.shape[0])]
        return self.xp.stack(rows).reshape(values.shape)

    def bincount(self, a: Any, weights: Any = None, minlength: int = 0) -> Any:
        return self._wrap(self.xp.bincount(a, weights=weights, minlength=minlength))

    def histogram(self, a: Any, bins: int, lo: float, hi: float) -> Any:
        return self._wrap(self.xp.histogram(a, bins=bins, range=(lo, hi))[0])

    def roll(self, a: Any, shifts: tuple, axes: tuple | None) -> Any:
        return self._wrap(self.xp.roll(a, shifts, axis=axes))

    def cumprod(self, a: Any, axis: int) -> Any:
        return self._wrap(self.xp.cumprod(a, axis=axis))

    def cumextreme(self, a: Any, axis: int, take_max: bool) -> tuple:
        """Running max (or min) along ``axis`` and where it was last reached (a tie moves
        the index to the later element, as PyTorch's ``cummax`` does; NaN propagates)."""
        xp = self.xp
        moved = xp.moveaxis(a, axis, 0)
        values = xp.empty(moved.shape, dtype=a.dtype)
        indices = xp.zeros(moved.shape, dtype=self.dtypes["int64"])
        for i in range(moved.shape[0]):
            if i == 0:
                values[0] = moved[0]
                continue
            x, best = moved[i], values[i - 1]
            take = (x >= best) if take_max else (x <= best)
            if a.dtype.kind == "f":
                take = take | xp.isnan(x)
                take = take & ~xp.isnan(best)
            values[i] = xp.where(take, x, best)
            indices[i] = xp.where(take, i, indices[i - 1])
        return xp.moveaxis(values, 0, axis), xp.moveaxis(indices, 0, axis)

    def diagonal(self, a: Any, offset: int, axis1: int, axis2: int) -> Any:
        """The diagonal as a new array (the diagonal dim last)."""
        return self._wrap(self.xp.diagonal(a, offset, axis1, axis2).copy())

    # ---- linear algebra ----------------------------------------------------------
    def inv(self, a: Any) -> Any:
        return self._wrap(self.xp.linalg.inv(a))

    def solve(self, a: Any, b: Any) -> Any:
        return self._wrap(self.xp.linalg.solve(a, b))

    def det(self, a: Any) -> Any:
        return self._wrap(self.xp.linalg.det(a))

    def cholesky(self, a: Any) -> Any:
        return self._wrap(self.xp.linalg.cholesky(a))

    def slogdet(self, a: Any) -> tuple:
        sign, logabs = self.xp.linalg.slogdet(a)
        return self._wrap(sign), self._wrap(logabs)

    def mode(self, a: Any, axis: int) -> tuple:
        """The most frequent value along ``axis`` (the smallest of equally frequent ones) and
        the index of its last occurrence, as PyTorch's ``mode`` gives; both keep ``axis``."""
        xp = self.xp
        moved = xp.moveaxis(a, axis, -1)
        s = xp.sort(moved, axis=-1)
        counts = xp.sum(s[..., :, None] == s[..., None, :], axis=-1)
        first = xp.argmax(counts == xp.amax(counts, axis=-1, keepdims=True), axis=-1)[..., None]
        value = xp.take_along_axis(s, first, -1)
        n = a.shape[axis]
        where = xp.where(moved == value, xp.arange(n), -1)
        index = xp.amax(where, axis=-1, keepdims=True).astype(self.dtypes["int64"])
        return xp.moveaxis(value, -1, axis), xp.moveaxis(index, -1, axis)

    def scatter(self, a: Any, axis: int, index: Any, src: Any) -> None:
        """In place: ``a[..., index[i], ...] = src[i]`` along ``axis`` (the last of repeated
        positions wins, as ``setitem`` rules)."""
        src = src[tuple(slice(0, n) for n in index.shape)]
        self.setitem(a, self._along(index, axis), src)

    def scatter_reduce(self, a: Any, axis: int, index: Any, src: Any, reduce: str, include_self: bool) -> Any:
        """``a`` (written in place, and returned) with ``src`` reduced into it at ``index``
        along ``axis``: ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``."""
        xp = self.xp
        src = src[tuple(slice(0, n) for n in index.shape)]
        idx = self._along(index, axis)
        if not include_self:  # positions that receive something start from the identity
            if reduce in ("amax", "amin"):
                info = xp.finfo(a.dtype) if a.dtype.kind == "f" else xp.iinfo(a.dtype)
                start = (-xp.inf if reduce == "amax" else xp.inf) if a.dtype.kind == "f" else (
                    info.min if reduce == "amax" else info.max)
            else:
                start = 1 if reduce == "prod" else 0
            a[idx] = start
        if reduce in ("sum", "mean"):
            self.index_add(a, idx, src)
        elif reduce == "amax":
            xp.maximum.at(a, idx, src)
        elif reduce == "amin":
            xp.minimum.at(a, idx, src)
        else:  # prod, in rounds of distinct positions (CuPy has no multiply.at)
            flat = a.reshape(-1)
            pos = xp.arange(a.size).reshape(a.shape)[idx].reshape(-1)
            vals = src.reshape(-1)
            while pos.size:
                unique, first = xp.unique(pos, return_index=True)
                flat[unique] = flat[unique] * vals[first]
                rest = xp.ones(pos.shape, dtype=bool)
                rest[first] = False
                pos, vals = pos[rest], vals[rest]
            a = flat.reshape(a.shape)
        if reduce == "mean":
            count = xp.zeros(a.shape, dtype=a.dtype)
            self.index_add(count, idx, xp.ones(src.shape, dtype=a.dtype))
            if include_self:
                count = count + 1
            count = xp.where(count == 0, 1, count)
            a = a / count if a.dtype.kind == "f" else (a // count).astype(a.dtype)
        return self._wrap(a)
