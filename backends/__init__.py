"""Backend registry: maps a device string ("cpu", "cuda:0", ...) to an array backend.

A backend is an object whose methods are the primitive array ops autodiff needs
(``add``, ``matmul``, ``sum``, ``index_add``, ``random_normal``, ``to_host``, ...) for one
device. This package never imports ``autodiff``; it can be used on its own::

    import backends
    be = backends.get("cpu")
    be.matmul(be.ones((2, 3), "float32"), be.ones((3, 1), "float32"))
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from backends.array_backend import ArrayBackend
from backends.numpy_backend import NumpyBackend, restore_float_errors, silence_float_errors

__all__ = ["ArrayBackend", "register", "get", "parse_device", "registered_types", "loaded", "seed_all",
           "silence_float_errors", "restore_float_errors", "device_of_array"]

# device type -> factory(index) returning a backend; factories run lazily on first use,
# so CuPy is imported only when a CUDA device is first asked for.
_factories: dict[str, Callable[[int | None], Any]] = {}
_instances: dict[tuple[str, int | None], Any] = {}
_seed: list[int | None] = [None]
_type_seed: dict[str, int] = {}  # seeds given for one device type only (autodiff.cuda.manual_seed)
_default_index: dict[str, int] = {}  # "cuda" without an index: this device (default 0)
# device types whose devices are numbered ("cuda:0"); the others have no index ("cpu").
_indexed: dict[str, bool] = {}


def register(device_type: str, factory: Callable[[int | None], Any], indexed: bool = False) -> None:
    """Register ``factory(index)`` as the maker of backends for ``device_type``."""
    _factories[device_type] = factory
    _indexed[device_type] = indexed
    forget(device_type)


def forget(device_type: str) -> None:
    """Drop the backends made so far for ``device_type`` (the next ``get`` makes new ones),
    and its seed and default device."""
    for key in [k for k in _instances if k[0] == device_type]:
        del _instances[key]
    _type_seed.pop(device_type, None)
    _default_index.pop(device_type, None)


def registered_types() -> list[str]:
    """The device types that can be asked for."""
    return list(_factories)


def split_device(device: str) -> tuple[str, int | None]:
    """Split ``"cuda:1"`` into ``("cuda", 1)`` and ``"cuda"`` into ``("cuda", None)``,
    with PyTorch's errors for an unknown type or a malformed index."""
    kind, sep, index = device.partition(":")
    if kind not in _factories:
        raise RuntimeError(
            f"Expected one of {', '.join(_factories)} device type at start of device string: {device}"
        )
    if sep:
        if not index.isdigit():
            raise RuntimeError(f"Invalid device string: '{device}'")
        return kind, int(index)
    return kind, None


def parse_device(device: str) -> tuple[str, int | None]:
    """``split_device``, where an indexed type without index gets 0 (``"cuda"`` is ``cuda:0``)."""
    kind, index = split_device(device)
    return kind, (_default_index.get(kind, 0) if index is None and _indexed[kind] else index)


def get(device: str) -> Any:
    """The backend for ``device`` (created on first use, then cached)."""
    key = parse_device(device)
    backend = _instances.get(key)
    if backend is None:
        backend = _factories[key[0]](key[1])
        seed = _type_seed.get(key[0], _seed[0])
        if seed is not None:
            backend.seed(seed)
        _instances[key] = backend
    return backend


def loaded() -> list[Any]:
    """Backends created so far (used to re-seed every live random generator)."""
    return list(_instances.values())


def seed_all(seed: int, device_type: str | None = None) -> None:
    """Seed the random generator of every backend (or of every ``device_type`` backend),
    now and of those created later."""
    if device_type is None:
        _seed[0] = seed
        _type_seed.clear()
    else:
        _type_seed[device_type] = seed
    for (kind, _), backend in _instances.items():
        if device_type in (None, kind):
            backend.seed(seed)


def set_default_index(device_type: str, index: int) -> None:
    """The device ``"cuda"`` (no index) means from now on (``torch.cuda.set_device``)."""
    _default_index[device_type] = index


def device_of_array(obj: Any) -> str | None:
    """``"cuda:N"`` for a CuPy array on GPU N, None for anything else (CuPy is not imported
    for this: an array of it exists only once it is)."""
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(obj, cupy.ndarray):
        return f"cuda:{obj.device.id}"
    return None


def _numpy_factory(index: int | None) -> Any:
    return NumpyBackend()


def _cupy_factory(index: int | None) -> Any:
    # A lazy load: this module (and CuPy, which it imports) loads on the first CUDA device.
    from backends.cupy_backend import CupyBackend

    return CupyBackend(index or 0)


register("cpu", _numpy_factory)
register("cuda", _cupy_factory, indexed=True)
