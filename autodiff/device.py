"""``autodiff.device``: names a device ("cpu", "cuda", "cuda:1") as PyTorch does."""

from __future__ import annotations

import warnings
from typing import Any

import backends
from autodiff.float_warnings import INSTALLED_IN, keep_filter


class device:  # noqa: N801 - named as in PyTorch
    """A device type with an optional index: ``device("cuda:0")``, ``device("cuda", 0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: {type!r}")
        kind, idx = backends.split_device(type)
        if idx is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            index = idx
        self.type = kind
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        """``with autodiff.device("cuda"):`` -- factories default to this device inside."""
        _default_stack.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc: Any) -> None:
        _default[0] = _default_stack.pop()


# The device factories (``zeros``, ``tensor``, ``randn`` ...) use when given none; None is
# the CPU. ``with device(...)`` blocks stack their previous defaults here.
_default: list[device | None] = [None]
_default_stack: list[device | None] = []


def set_default_device(dev: Any) -> None:
    """The device factories create tensors on when given none (``None`` resets to the CPU)."""
    _default[0] = None if dev is None else device(dev)
    if _default[0] is not None:
        backend_for(_default[0])  # an unusable device fails here, not at the next factory


def get_default_device() -> device:
    """The device factories use by default (``cuda:0`` rather than ``cuda``, as PyTorch says)."""
    return device_of(backend_for(_default[0]))


def factory_backend(dev: Any) -> Any:
    """The backend of a factory's ``device=`` argument; the default device when None."""
    if warnings.filters is not INSTALLED_IN[0]:  # (where computations start: autodiff/float_warnings.py)
        keep_filter()
    return backend_for(_default[0] if dev is None else dev)


def backend_for(dev: Any) -> Any:
    """The backend of a device given as ``device``, string or ``None`` (the CPU)."""
    if dev is None:
        return backends.get("cpu")
    return backends.get(str(dev) if isinstance(dev, device) else device(dev).__str__())


def device_of(backend: Any) -> device:
    """The ``device`` a backend computes on (``cuda:0`` rather than ``cuda``)."""
    return device(backend.type, backend.index)
