"""The CUDA backend: ``ArrayBackend`` on CuPy, imported only when a CUDA device is used."""

from __future__ import annotations

import functools
from typing import Any

INSTALL_HINT = (
    'Install CuPy with pip install "autodiff-tape[cuda12]" or pip install "autodiff-tape[cuda13]", '
    "matching the CUDA version your NVIDIA driver supports (nvidia-smi shows it)."
)


NO_GPU_HINT = (
    "CuPy is installed; it needs an NVIDIA GPU and its driver (nvidia-smi should list the GPU). "
    "To try the CUDA code path without one, set AUTODIFF_SIMULATE_CUDA=1 (simulated devices)."
)


def import_cupy() -> Any:
    """Import CuPy and check a GPU is there, or raise a RuntimeError saying what is missing."""
    try:
        import cupy
    except ImportError as exc:
        raise RuntimeError(f"CUDA device requested but CuPy is not installed. {INSTALL_HINT}") from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError when no driver is loaded
        raise RuntimeError(
            f"CUDA device requested but no NVIDIA GPU or driver was found ({exc}). {NO_GPU_HINT}"
        ) from exc
    if count == 0:
        raise RuntimeError(f"CUDA device requested but no NVIDIA GPU was found. {NO_GPU_HINT}")
    return cupy


def device_count() -> int:
    """Number of CUDA GPUs usable through CuPy; 0 when CuPy or a GPU is missing."""
    try:
        return import_cupy().cuda.runtime.getDeviceCount()
    except RuntimeError:
        return 0


from backends.array_backend import ArrayBackend, GraphCaptureError  # noqa: E402

# The dtypes cupyx.scatter_add has kernels for.
SCATTER_ADD_DTYPES = frozenset(["int32", "int64", "uint32", "uint64", "float16", "float32", "float64"])

# ArrayBackend methods that launch no kernel (metadata, host copies from any device).
NO_KERNEL = frozenset([
    "name", "dtype_name", "name_of_dtype", "is_view", "strides", "data_ptr", "rng_state", "is_contiguous", "overlaps", "to_host", "tolist",
    "item", "scalar_operand", "broadcast_shapes",
    "adopt", "to_dlpack", "dlpack_device", "cuda_array_interface",
    "capture_graph", "launch_graph",  # (they switch to this backend's device themselves)
])


def _on_device(fn: Any) -> Any:
    """``fn`` run with this backend's GPU as the current device: CuPy launches every kernel
    (and allocates every result) on the current device, whatever device the arrays are on."""

    @functools.wraps(fn)
    def method(self: CupyBackend, *args: Any, **kwargs: Any) -> Any:
        prev = self._get_device()
        if prev == self.index:  # the usual case: no switch
            return fn(self, *args, **kwargs)
        self._set_device(self.index)
        try:
            return fn(self, *args, **kwargs)
        finally:
            self._set_device(prev)

    return method


class CupyBackend(ArrayBackend):
    """CuPy arrays on one GPU (device ``"cuda:N"``). Every primitive runs with that GPU
    current, so a tensor on ``cuda:1`` computes there whichever device is current."""

    type = "cuda"

    def __init__(self, index: int = 0) -> None:
        cupy = import_cupy()
        count = cupy.cuda.runtime.getDeviceCount()
        if index >= count:
            raise RuntimeError(f"CUDA error: invalid device ordinal cuda:{index} (found {count} GPU(s))")
        self.index = index
        self._get_device = cupy.cuda.runtime.getDevice
        self._set_device = cupy.cuda.runtime.setDevice
        super().__init__(cupy)
        # The operators ArrayBackend binds per instance (add, mul, ...) get the same treatment.
        for name in OPERATORS + ("matmul",):
            setattr(self, name, self._bind(getattr(self, name), name in OPERATORS))
        import cupyx

        self._scatter_add = cupyx.scatter_add
        self.seed(0)

    def _bind(self, fn: Any, elementwise: bool) -> Any:
        kernel = lambda _self, *args: fn(*args)  # noqa: E731 - a method made of an operator
        method = _on_device(_same_layout(kernel) if elementwise else kernel)
        return lambda *args: method(self, *args)

    def to_host(self, a: Any) -> Any:
        return a.get()

    def tolist(self, a: Any) -> Any:
        return a.get().tolist()

    def item(self, a: Any) -> Any:
        return a.get().item()

    def is_view(self, a: Any) -> bool:
        return a.base is not None

    def adopt(self, a: Any) -> Any:
        return a if a.__class__ is self._array_type and a.device.id == self.index else None

    def cuda_array_interface(self, a: Any) -> dict:
        """``a``'s ``__cuda_array_interface__`` (version 3: shape, typestr, data pointer, strides, stream)."""
        return a.__cuda_array_interface__

    def index_add(self, a: Any, index: Any, values: Any) -> None:
        name = self.dtype_name(a)
        if name in SCATTER_ADD_DTYPES:
            self._scatter_add(a, index, values)
            return
        # CuPy's scatter_add has no kernel for bool and the 8/16-bit integers (PyTorch takes
        # them): add in int32 and cast back (bool: any addition makes True; the integers
        # wrap around as they would have).
        wide = a.astype("int32")
        self._scatter_add(wide, index, values.astype("int32") if hasattr(values, "astype") else values)
        self.xp.copyto(a, wide.astype(a.dtype) if name != "bool" else wide != 0, casting="unsafe")

    # ---- CUDA graphs (ArrayBackend.capture_graph) ------------------------------------
    supports_graphs = True

    def capture_graph(self, fn: Any, args: list) -> tuple[Any, Any]:
        """``fn(*args)`` captured on a stream of its own (a graph cannot capture the default
        stream) that first waits for the work queued so far, with CuPy's allocations inside
        coming from a new memory pool kept with the graph (CuPy's default pool could hand
        memory the graph writes to a later array)."""
        with self.xp.cuda.Device(self.index):
            stream = self.xp.cuda.Stream(non_blocking=True)
            stream.wait_event(self.xp.cuda.get_current_stream().record())
            pool = self.xp.cuda.MemoryPool()
            with self.xp.cuda.using_allocator(pool.malloc), stream:
                stream.begin_capture()
                try:
                    result = fn(*args)
                except Exception as exc:
                    try:
                        stream.end_capture()
                    except Exception:  # noqa: S110 - the capture is void either way; exc says why
                        pass
                    raise GraphCaptureError(f"{type(exc).__name__}: {exc}") from exc
                try:
                    graph = stream.end_capture()
                except Exception as exc:
                    raise GraphCaptureError(f"{type(exc).__name__}: {exc}") from exc
        return (graph, pool, stream), result

    def launch_graph(self, graph: Any) -> None:
        with self.xp.cuda.Device(self.index):
            graph[0].launch(self.xp.cuda.get_current_stream())

    # ---- NCCL (autodiff.distributed's "nccl" backend) -------------------------------
    # Each call is enqueued on this device's current stream: later kernels on that stream
    # see its result, so a collective needs no wait of its own.
    def nccl_unique_id(self) -> bytes:
        """A new NCCL id: made on one rank, sent to the others, given to ``nccl_communicator``."""
        from cupy.cuda import nccl

        return nccl.get_unique_id()

    def nccl_communicator(self, size: int, unique_id: bytes, rank: int) -> Any:
        """This process's NCCL communicator (rank ``rank`` of ``size``) on this GPU."""
        from cupy.cuda import nccl

        self._set_device(self.index)  # NCCL binds the communicator to the current device
        return nccl.NcclCommunicator(size, unique_id, rank)

    def _nccl_args(self, a: Any, op: str | None) -> tuple:
        """(datatype, op, stream) of a collective on ``a``, as NCCL numbers them."""
        from cupy.cuda import nccl

        types = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
                 "int8": nccl.NCCL_INT8, "uint8": nccl.NCCL_UINT8, "bool": nccl.NCCL_UINT8,
                 "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64}
        ops = {"sum": nccl.NCCL_SUM, "prod": nccl.NCCL_PROD, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN,
               "avg": nccl.NCCL_AVG}
        name = self.dtype_name(a)
        if name not in types:
            raise TypeError(f"NCCL has no type for {name} tensors")
        if name == "bool" and op in ("sum", "prod"):
            op = "max" if op == "sum" else "min"  # logical or / and on 0-1 bytes
        return types[name], (None if op is None else ops[op]), self.xp.cuda.get_current_stream().ptr

    def nccl_all_reduce(self, comm: Any, a: Any, op: str) -> None:
        """``a`` (contiguous) replaced by its reduction (``op``: sum, prod, max, min, avg) over the ranks."""
        dtype, nop, stream = self._nccl_args(a, op)
        comm.allReduce(a.data.ptr, a.data.ptr, a.size, dtype, nop, stream)

    def nccl_broadcast(self, comm: Any, a: Any, root: int) -> None:
        """``a`` (contiguous) replaced by rank ``root``'s."""
        dtype, _, stream = self._nccl_args(a, None)
        comm.bcast(a.data.ptr, a.size, dtype, root, stream)

    def nccl_all_gather(self, comm: Any, a: Any, out: Any) -> None:
        """``out`` (contiguous, ranks x ``a.size`` elements) filled with every rank's ``a``."""
        dtype, _, stream = self._nccl_args(a, None)
        comm.allGather(a.data.ptr, out.data.ptr, a.size, dtype, stream)

    def nccl_reduce_scatter(self, comm: Any, a: Any, out: Any, op: str) -> None:
        """``out`` (contiguous) set to this rank's block of ``a``'s reduction over the ranks."""
        dtype, nop, stream = self._nccl_args(out, op)
        comm.reduceScatter(a.data.ptr, out.data.ptr, out.size, dtype, nop, stream)

    def _erf(self, a: Any) -> Any:
        from cupyx.scipy.special import erf

        # CuPy's erf has no float16 kernel (it answers in float32): keep the input's dtype.
        return erf(a).astype(a.dtype, copy=False)

    def _special(self, name: str, a: Any, n: int | None = None) -> Any:
        from cupyx.scipy.special import digamma, erfc, erfinv, gammaln, i1, polygamma

        fns = {"erfc": erfc, "erfinv": erfinv, "gammaln": gammaln, "digamma": digamma, "i1": i1}
        out = polygamma(n, a) if name == "polygamma" else fns[name](a)
        return out.astype(a.dtype, copy=False)  # (float16: as for erf)


# The elementwise primitives: NumPy (and PyTorch) give their result the memory layout of
# inputs that share one (a transposed input, a transposed result), CuPy always C order.
# Whether ``view()`` works on a result depends on it, so CUDA results follow NumPy's rule.
ELEMENTWISE = frozenset([
    "exp", "log", "sqrt", "abs", "sign", "floor", "trunc", "ceil", "round", "maximum", "minimum", "clip",
    "where", "logical_not", "logical_and", "logical_or", "isnan", "isinf", "sin", "cos", "tan", "tanh",
    "expm1", "log1p", "log2", "erf",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot", "exp2",
    "log10", "sinc", "copysign", "fmod", "remainder", "floor_divide", "fmax", "fmin", "nextafter", "signbit",
    "isfinite", "nan_to_num", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift",
    "right_shift", "gcd", "lcm", "isin", "i0", "i1", "erfc", "erfinv", "lgamma", "digamma", "polygamma",
])
OPERATORS = ("add", "sub", "mul", "div", "pow", "neg", "eq", "ne", "lt", "le", "gt", "ge")


def _layout_of(arrays: tuple, shape: tuple) -> tuple | None:
    """The axis order (largest stride first) the full-shape operands share, when it is not
    C order; None when they share none or it is C order."""
    order = None
    for a in arrays:
        if getattr(a, "shape", None) != shape:
            continue
        if a.flags.c_contiguous:
            return None
        mine = tuple(sorted(range(len(shape)), key=lambda d: -a.strides[d]))
        if order is not None and mine != order:
            return None
        order = mine
    return order


def _same_layout(fn: Any) -> Any:
    """``fn`` (an elementwise primitive), its result laid out as NumPy would lay it out."""

    @functools.wraps(fn)
    def method(self: CupyBackend, *args: Any) -> Any:
        out = fn(self, *args)
        if getattr(out, "ndim", 0) < 2:
            return out
        order = _layout_of(args, out.shape)
        if order is None:
            return out
        inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        return self.xp.ascontiguousarray(out.transpose(order)).transpose(inverse)

    return method


# Every other primitive launches kernels: each runs on this backend's device.
for _name, _fn in list(vars(ArrayBackend).items()):
    if (callable(_fn) and not _name.startswith("_") and _name not in NO_KERNEL
            and not isinstance(_fn, (staticmethod, type))):
        _fn = vars(CupyBackend).get(_name, _fn)
        setattr(CupyBackend, _name, _on_device(_same_layout(_fn) if _name in ELEMENTWISE else _fn))


for _name in ("nccl_all_reduce", "nccl_broadcast", "nccl_all_gather", "nccl_reduce_scatter"):
    setattr(CupyBackend, _name, _on_device(vars(CupyBackend)[_name]))


def _in_place(op: Any) -> Any:
    return _on_device(lambda self, a, b: op(a, b))


for _name in ("iadd", "isub", "imul", "idiv"):  # ``a op= b``: also a kernel
    setattr(CupyBackend, _name, _in_place(getattr(ArrayBackend, _name)))
