"""``autodiff.accelerator``: PyTorch's device-agnostic accelerator API, answered by CUDA
(the only accelerator autodiff runs on) when a CUDA device is present, else "none"."""

from __future__ import annotations

from typing import Any

from autodiff import cuda
from autodiff.device import device

__all__ = [
    "is_available", "current_accelerator", "device_count", "current_device_index",
    "set_device_index", "device_index", "synchronize", "empty_cache", "memory_allocated",
    "max_memory_allocated", "reset_peak_memory_stats", "current_stream",
]


def is_available() -> bool:
    """True when an accelerator (a CUDA device) can be used."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device("cuda")`` when CUDA is present, else None."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """How many accelerator devices there are (0 without CUDA)."""
    return cuda.device_count() if cuda.is_available() else 0


def _need() -> None:
    if not cuda.is_available():
        raise RuntimeError("no accelerator is available: autodiff's accelerator is CUDA "
                           "(install CuPy on a machine with an NVIDIA GPU)")


def current_device_index() -> int:
    """The index of the current accelerator device."""
    _need()
    return cuda.current_device()


def set_device_index(index: Any) -> None:
    """Make ``index`` (an int or a device) the current accelerator device."""
    _need()
    cuda.set_device(index)


current_device_idx, set_device_idx = current_device_index, set_device_index  # older names


class device_index:  # noqa: N801 - PyTorch's name
    """Context manager: the current accelerator device is ``index`` inside it."""

    def __init__(self, index: int | None) -> None:
        self.index = index

    def __enter__(self) -> None:
        self.prev = current_device_index() if self.index is not None else None
        if self.index is not None:
            set_device_index(self.index)

    def __exit__(self, *exc: Any) -> None:
        if self.prev is not None:
            set_device_index(self.prev)


def synchronize(device: Any = None) -> None:
    """Wait for the accelerator's queued work (nothing to wait for without one)."""
    if cuda.is_available():
        cuda.synchronize(device)


def empty_cache() -> None:
    if cuda.is_available():
        cuda.empty_cache()


def memory_allocated(device: Any = None) -> int:
    _need()
    return cuda.memory_allocated(device)


def max_memory_allocated(device: Any = None) -> int:
    _need()
    return cuda.max_memory_allocated(device)


def reset_peak_memory_stats(device: Any = None) -> None:
    _need()
    cuda.reset_peak_memory_stats(device)


def current_stream(device: Any = None) -> Any:
    _need()
    return cuda.current_stream(device)
