"""Grad mode: whether ops record the graph. Thread-local, as in PyTorch."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any


class _State(threading.local):
    # Class attributes are each thread's starting values.
    enabled = True
    anomaly = False
    inference = False  # inside inference_mode (which also turns recording off)
    saved_hooks: tuple = ()  # the (pack, unpack) pairs of saved_tensors_hooks, innermost last
    saved_hooks_disabled: str | None = None  # disable_saved_tensors_hooks' message


state = _State()


def is_grad_enabled() -> bool:
    """True when operations are being recorded for backward."""
    return state.enabled


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that is also a decorator."""

    mode: bool

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        state.enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Context manager / decorator under which no graph is recorded."""

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Context manager / decorator that turns recording back on inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - PyTorch's name
    """``set_grad_enabled(False)`` as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        state.enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        state.enabled = self.prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(_GradModeContext):  # noqa: N801 - PyTorch's name
    """``no_grad`` for inference: ``inference_mode()`` (or ``inference_mode(False)``, which
    changes nothing) as a context manager or a decorator.

    PyTorch also marks the tensors made inside as "inference tensors" that may never join
    a graph later; autodiff does not mark them (they are ordinary tensors that do not
    require grad), so code that works under PyTorch works here too.
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode_on = bool(mode)

    def __enter__(self) -> None:
        self.prev = state.enabled, state.inference
        if self.mode_on:
            state.enabled, state.inference = False, True

    def __exit__(self, *exc: Any) -> None:
        state.enabled, state.inference = self.prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode_on

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return state.inference
