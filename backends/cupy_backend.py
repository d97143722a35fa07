"""The CUDA backend: ``ArrayBackend`` on CuPy, imported only when a CUDA device is used."""

from __future__ import annotations

from typing import Any

INSTALL_HINT = (
    'Install CuPy with pip install "autodiff[cuda12]" or pip install "autodiff[cuda13]", '
    "matching the CUDA version your NVIDIA driver supports (nvidia-smi shows it)."
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
            f"CUDA device requested but no NVIDIA GPU or driver was found ({exc})."
        ) from exc
    if count == 0:
        raise RuntimeError("CUDA device requested but no NVIDIA GPU was found.")
    return cupy


def device_count() -> int:
    """Number of CUDA GPUs usable through CuPy; 0 when CuPy or a GPU is missing."""
    try:
        return import_cupy().cuda.runtime.getDeviceCount()
    except RuntimeError:
        return 0


from backends.array_backend import ArrayBackend  # noqa: E402


class CupyBackend(ArrayBackend):
    """CuPy arrays on one GPU (device ``"cuda:N"``)."""

    type = "cuda"

    def __init__(self, index: int = 0) -> None:
        cupy = import_cupy()
        count = cupy.cuda.runtime.getDeviceCount()
        if index >= count:
            raise RuntimeError(f"CUDA error: invalid device ordinal cuda:{index} (found {count} GPU(s))")
        self.index = index
        self.device = cupy.cuda.Device(index)
        with self.device:
            super().__init__(cupy)
            self.seed(0)
        import cupyx

        self._scatter_add = cupyx.scatter_add

    def to_host(self, a: Any) -> Any:
        return a.get()

    def from_host(self, a: Any) -> Any:
        with self.device:
            return self.xp.asarray(a)

    def tolist(self, a: Any) -> Any:
        return a.get().tolist()

    def item(self, a: Any) -> Any:
        return a.get().item()

    # Creation runs on this backend's GPU, whichever device is current.
    def asarray(self, data: Any, dtype: str | None = None) -> Any:
        with self.device:
            return super().asarray(data, dtype)

    def zeros(self, shape: tuple[int, ...], dtype: str) -> Any:
        with self.device:
            return super().zeros(shape, dtype)

    def ones(self, shape: tuple[int, ...], dtype: str) -> Any:
        with self.device:
            return super().ones(shape, dtype)

    def full(self, shape: tuple[int, ...], value: Any, dtype: str) -> Any:
        with self.device:
            return super().full(shape, value, dtype)

    def empty(self, shape: tuple[int, ...], dtype: str) -> Any:
        with self.device:
            return super().empty(shape, dtype)

    def arange(self, start: Any, end: Any, step: Any, dtype: str) -> Any:
        with self.device:
            return super().arange(start, end, step, dtype)

    def is_view(self, a: Any) -> bool:
        return a.base is not None

    def random_normal(self, shape: tuple[int, ...], dtype: str) -> Any:
        with self.device:
            return super().random_normal(shape, dtype)

    def random_uniform(self, shape: tuple[int, ...], dtype: str) -> Any:
        with self.device:
            return super().random_uniform(shape, dtype)

    def index_add(self, a: Any, index: Any, values: Any) -> None:
        self._scatter_add(a, index, values)

    def _erf(self, a: Any) -> Any:
        from cupyx.scipy.special import erf

        return erf(a)
