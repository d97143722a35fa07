"""Anomaly mode: ``detect_anomaly()`` / ``set_detect_anomaly(True)``.

While it is on, every new graph node records the stack of the user code that created it
(``Node.trace``), and every backward result is checked for NaN: the error names the node
(``PowBackward0`` ...) and shows where its forward op was called. Off, the only cost is
one attribute check per node (``grad_mode.state.anomaly``).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from autodiff.autograd import node
from autodiff.autograd.grad_mode import state


def check_nan(node: Any, grads: tuple) -> None:
    """Raise if the backward of ``node`` returned a gradient containing NaN."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        be = g._be
        if be.any(be.isnan(g._data)):
            msg = f"Function '{node.name()}' returned nan values in its {i}th output."
            if node.trace is not None:
                where = "Traceback of forward call that caused the error:\n" + node.trace
                warnings.warn(f"Error detected in {node.name()}. {where}", UserWarning, stacklevel=2)
                msg += "\n" + where
            raise RuntimeError(msg)


def is_anomaly_enabled() -> bool:
    return state.anomaly


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """``set_detect_anomaly(True)`` as a call or a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = state.anomaly
        state.anomaly = bool(mode)
        if mode:
            node.ANOMALY_USED = True

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        state.anomaly = self.prev


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager (or decorator) turning anomaly detection on inside it."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = state.anomaly

    def __enter__(self) -> None:
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.",
            UserWarning,
            stacklevel=2,
        )
        self.prev = state.anomaly
        state.anomaly = True
        node.ANOMALY_USED = True

    def __exit__(self, *exc: Any) -> None:
        state.anomaly = self.prev

    def __call__(self, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly():
                return fn(*args, **kwargs)

        return wrapper
