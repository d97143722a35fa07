"""Small helpers shared by the autograd semantics tests."""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff


def T(data: Any, device: str = "cpu", requires_grad: bool = False) -> autodiff.Tensor:  # noqa: N802
    """A float64 tensor on ``device``."""
    return autodiff.tensor(data, dtype=autodiff.float64, device=device, requires_grad=requires_grad)


def host(t: Any) -> np.ndarray:
    """A tensor's values as a NumPy array (works for every device, torch tensors too)."""
    if t is None:
        return None
    if hasattr(t, "_be"):
        return np.asarray(t.detach().cpu().tolist(), dtype=np.float64)
    if hasattr(t, "detach"):  # a torch tensor
        return t.detach().numpy().astype(np.float64)
    return np.asarray(t, dtype=np.float64)


def close(a: Any, b: Any, tol: float = 1e-10) -> bool:
    return np.allclose(host(a), host(b), atol=tol, rtol=tol)


def error_of(fn: Any) -> tuple[type, str] | None:
    """(exception type, message) raised by ``fn()``, or None."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the point is to capture any error
        return type(e), str(e)
    return None
