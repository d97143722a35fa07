"""Run one autodiff module and its torch.nn twin on the same weights and inputs, and compare
outputs, input gradients, parameter gradients and buffers (tests/nn/*)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")


def to_torch(x: Any, requires_grad: bool = False) -> Any:
    t = torch.tensor(np.asarray(x))
    return t.requires_grad_(requires_grad) if t.is_floating_point() else t


def to_ours(x: Any, requires_grad: bool = False) -> Any:
    t = autodiff.tensor(np.asarray(x).tolist(), dtype=getattr(autodiff, str(np.asarray(x).dtype)))
    return t.requires_grad_(requires_grad) if t.is_floating_point() else t


def values(t: Any) -> np.ndarray:
    return np.asarray(t.detach().cpu().tolist() if t is not None else np.nan)


def copy_weights(ours: Any, theirs: Any) -> None:
    """Give ``ours`` the parameters and buffers of ``theirs`` (same names)."""
    state = {k: to_ours(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def check_module(ours: Any, theirs: Any, *inputs: Any, atol: float = 1e-6, grad: bool = True,
                 copy: bool = True, out_weights: Any = None) -> None:
    """Same output, input gradients, parameter gradients and buffers after one call; the
    ``inputs`` are NumPy arrays (float arrays get gradients), both modules in their current mode."""
    if any(np.asarray(x).dtype == np.float64 for x in inputs):
        theirs.double()
        ours.double()
    if copy:
        copy_weights(ours, theirs)
    xs_t = [to_torch(x, grad) for x in inputs]
    xs_o = [to_ours(x, grad) for x in inputs]
    y_t, y_o = theirs(*xs_t), ours(*xs_o)
    np.testing.assert_allclose(values(y_o), values(y_t), atol=atol, rtol=1e-5)
    for (name, b_t), (name_o, b_o) in zip(theirs.named_buffers(), ours.named_buffers()):
        assert name == name_o
        np.testing.assert_allclose(values(b_o), values(b_t), atol=atol, rtol=1e-5, err_msg=name)
    if not grad or not y_t.requires_grad:
        return
    w = np.linspace(0.5, 1.5, y_t.numel()).reshape(tuple(y_t.shape)) if out_weights is None else out_weights
    (y_t * to_torch(w)).sum().backward()
    (y_o * to_ours(w)).sum().backward()
    for x_t, x_o in zip(xs_t, xs_o):
        if x_t.is_floating_point():
            np.testing.assert_allclose(values(x_o.grad), values(x_t.grad), atol=atol, rtol=1e-5)
    for (name, p_t), (_, p_o) in zip(theirs.named_parameters(), ours.named_parameters()):
        if p_t.grad is None:
            assert p_o.grad is None, name
        else:
            np.testing.assert_allclose(values(p_o.grad), values(p_t.grad), atol=atol, rtol=1e-5,
                                       err_msg=name)
