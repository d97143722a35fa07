"""``autodiff.cuda``: ``torch.cuda``'s API on CuPy -- devices, seeds, memory, events, streams.

``is_available()`` and ``device_count()`` never raise; everything else needs CuPy and a GPU
(or simulated ones: ``AUTODIFF_SIMULATE_CUDA=N``, see ``autodiff.testing.simulated_cuda``)
and raises the RuntimeError that says what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import backends
from autodiff.device import device as _device
from autodiff.testing.simulated_cuda import install as _install_simulated

# AUTODIFF_SIMULATE_CUDA=N: N simulated devices on NumPy (autodiff/testing/simulated_cuda.py).
if os.environ.get("AUTODIFF_SIMULATE_CUDA", "0") not in ("", "0"):
    _install_simulated(int(os.environ["AUTODIFF_SIMULATE_CUDA"]))


def _cupy() -> Any:
    # A lazy load: CuPy (imported by cupy_backend) is loaded only when a GPU is asked about.
    from backends.cupy_backend import import_cupy

    return import_cupy()


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return device_count() > 0


def device_count() -> int:
    # (the same lazy load as _cupy)
    from backends.cupy_backend import device_count as count

    return count()


def _index(dev: Any) -> int:
    """A device index from an int, ``"cuda:1"``, a ``device`` or None (the current one)."""
    if dev is None:
        return current_device()
    if isinstance(dev, int):
        return dev
    d = _device(dev)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return current_device() if d.index is None else d.index


def current_device() -> int:
    """The index of the device ``"cuda"`` means now."""
    return _cupy().cuda.runtime.getDevice()


def set_device(device: Any) -> None:
    """Make ``device`` the current one: ``"cuda"`` (no index) means it from now on."""
    i = _index(device)
    _cupy().cuda.runtime.setDevice(i)
    backends.set_default_index("cuda", i)


class device:  # noqa: N801 - PyTorch's name
    """``with autodiff.cuda.device(1):`` -- ``"cuda"`` means ``cuda:1`` inside."""

    def __init__(self, device: Any) -> None:
        self.idx = _index(device) if device is not None else -1
        self.prev = -1

    def __enter__(self) -> None:
        if self.idx >= 0:
            self.prev = current_device()
            set_device(self.idx)

    def __exit__(self, *exc: Any) -> None:
        if self.idx >= 0:
            set_device(self.prev)


def get_device_name(device: Any = None) -> str:
    name = _cupy().cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else name


class _DeviceProperties:
    """What ``get_device_properties`` returns: name, total_memory, multi_processor_count,
    major, minor (as PyTorch's ``_CudaDeviceProperties``)."""

    def __init__(self, props: dict) -> None:
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else name
        self.total_memory = int(props["totalGlobalMem"])
        self.multi_processor_count = int(props["multiProcessorCount"])
        self.major, self.minor = int(props["major"]), int(props["minor"])

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device: Any = None) -> _DeviceProperties:
    return _DeviceProperties(_cupy().cuda.runtime.getDeviceProperties(_index(device)))


def synchronize(device: Any = None) -> None:
    """Wait for all work queued on ``device`` (default: the current one)."""
    _cupy().cuda.Device(_index(device)).synchronize()


# ---- memory (CuPy's memory pool of the device) ----------------------------------------------
_peak: dict[int, int] = {}


def _pool_bytes(device: Any) -> int:
    cp = _cupy()
    with cp.cuda.Device(_index(device)):
        return int(cp.get_default_memory_pool().used_bytes())


def memory_allocated(device: Any = None) -> int:
    """Bytes held by tensors on ``device`` (CuPy's memory pool: used bytes)."""
    used = _pool_bytes(device)
    i = _index(device)
    _peak[i] = max(_peak.get(i, 0), used)
    return used


def max_memory_allocated(device: Any = None) -> int:
    """The largest ``memory_allocated`` seen since the last ``reset_peak_memory_stats``
    (sampled when it is asked for: CuPy's pool keeps no peak of its own)."""
    memory_allocated(device)
    return _peak[_index(device)]


def reset_peak_memory_stats(device: Any = None) -> None:
    _peak[_index(device)] = _pool_bytes(device)


def empty_cache() -> None:
    """Give the memory pool's unused blocks back to the driver."""
    _cupy().get_default_memory_pool().free_all_blocks()


# ---- seeds -----------------------------------------------------------------------------------
def manual_seed(seed: int) -> None:
    """Seed the random generators of the CUDA devices (not the CPU's, as in PyTorch)."""
    backends.seed_all(int(seed), "cuda")


manual_seed_all = manual_seed


# ---- events and streams ----------------------------------------------------------------------
class Event:
    """``Event(enable_timing=True)``: ``record()`` it on both sides of some work, then
    ``end.synchronize()`` and ``start.elapsed_time(end)`` in milliseconds."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False) -> None:
        self._event = _cupy().cuda.Event(block=blocking, disable_timing=not enable_timing,
                                         interprocess=interprocess)

    def record(self, stream: Stream | None = None) -> None:
        self._event.record(None if stream is None else stream._stream)

    def synchronize(self) -> None:
        self._event.synchronize()

    def query(self) -> bool:
        return bool(self._event.done)

    def elapsed_time(self, end_event: Event) -> float:
        return float(_cupy().cuda.get_elapsed_time(self._event, end_event._event))


class Stream:
    """A CUDA stream on the current device; ``with autodiff.cuda.stream(s):`` makes CuPy's
    kernels go to it."""

    def __init__(self, device: Any = None, priority: int = 0) -> None:
        cp = _cupy()
        with cp.cuda.Device(_index(device)):
            self._stream = cp.cuda.Stream(non_blocking=True)

    def synchronize(self) -> None:
        self._stream.synchronize()

    def query(self) -> bool:
        return bool(self._stream.done)

    def record_event(self, event: Event | None = None) -> Event:
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event: Event) -> None:
        self._stream.wait_event(event._event)


@contextmanager
def stream(s: Stream | None) -> Iterator[None]:
    """Run CuPy's kernels on ``s`` inside (``None``: leave the current stream)."""
    if s is None:
        yield
        return
    with s._stream:
        yield


def current_stream(device: Any = None) -> Stream:
    st = object.__new__(Stream)
    st._stream = _cupy().cuda.get_current_stream()
    return st


def __getattr__(name: str) -> Any:
    """The legacy CUDA tensor types (``autodiff.cuda.FloatTensor`` ..., autodiff/legacy.py),
    loaded on first use (legacy.py imports the ops, which load after this module)."""
    from autodiff import legacy

    if name in legacy.CUDA_TYPES:
        return legacy.CUDA_TYPES[name]
    raise AttributeError(f"module 'autodiff.cuda' has no attribute '{name}'")
