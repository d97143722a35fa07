"""NumPy's floating-point warnings never reach the user from an op (PyTorch returns inf/nan
silently), with Python's default warning filters and with warnings made errors; the user's
own NumPy calls still warn. (How: docs/architecture.md, "NumPy's floating-point warnings".)"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autodiff

F = autodiff.nn.functional


def _overflowing_ops(device: str) -> dict:
    """Forward ops whose NumPy computation overflows, divides by zero or meets inf - inf."""
    big = autodiff.tensor([1e38, 2.0], device=device)
    zero = autodiff.tensor([0.0, 1.0], device=device)
    m = autodiff.full((2, 2), 1e38, device=device)
    inf = autodiff.tensor([math.inf, 1.0], device=device)
    return {
        "mul": lambda: big * big, "add": lambda: big * 3 + big * 3, "sub": lambda: big * 4 - big * -4,
        "div by 0": lambda: 1.0 / zero, "0/0": lambda: zero / zero, "log 0": lambda: zero.log(),
        "exp": lambda: (big * 0 + 1000).exp(), "pow": lambda: big ** 2, "rpow": lambda: 2 ** (big * 1e-30 * 1e4),
        "sum": lambda: m.sum(), "mean": lambda: m.mean(), "mean dim": lambda: m.mean(1),
        "mean of nothing": lambda: autodiff.zeros(0, device=device).mean(), "matmul": lambda: m @ m,
        "mm": lambda: autodiff.mm(m, m), "linear": lambda: F.linear(m, m), "inf - inf": lambda: inf - inf,
        "inf * 0": lambda: inf * 0, "softmax of inf": lambda: inf.softmax(0), "norm": lambda: m.norm(),
        "var": lambda: m.var(), "prod": lambda: m.prod(), "cumsum": lambda: m.cumsum(0),
        "mse_loss": lambda: F.mse_loss(big * 10, big * -10), "rsqrt 0": lambda: zero.rsqrt(),
        "cast to half": lambda: (big * 1e-30 * 1e5).half(), "in place": lambda: m.clone().add_(m).mul_(m),
        "backward": lambda: (big.clone().requires_grad_() * 1e10).sum().backward(),
    }


def _local(device: str) -> None:
    if device == "strict":  # a test-only backend, outside autodiff's modules
        pytest.skip("the strict test backend's NumPy calls are its own")


def test_forward_ops_do_not_warn(device: str) -> None:
    _local(device)
    for name, op in _overflowing_ops(device).items():
        with warnings.catch_warnings(record=True) as caught:
            # (appended: any RuntimeWarning that autodiff's filter lets through is recorded)
            warnings.filterwarnings("always", category=RuntimeWarning, append=True)
            op()
        assert not caught, f"{name}: {[str(w.message) for w in caught]}"


def test_user_numpy_warnings_still_show() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=RuntimeWarning, append=True)
        autodiff.tensor([0.0]).log()
        np.log(np.zeros(1))
        np.float32(1e38) * np.float32(10)
    assert [str(w.message).split(" in ")[0] for w in caught] == ["divide by zero encountered",
                                                                 "overflow encountered"]


def test_ops_stay_silent_when_warnings_are_errors(device: str) -> None:
    """``warnings.simplefilter("error")`` (``pytest -W error``): PyTorch does not raise here."""
    _local(device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for op in _overflowing_ops(device).values():
            op()
        big = autodiff.tensor([1e38, 2.0], device=device)
        assert (big * big).tolist() == [math.inf, 4.0]
        # in place: written once (NumPy raises after the write), never twice
        assert big.clone().mul_(10.0).tolist() == [math.inf, 20.0]
        assert big.clone().add_(big, alpha=10).tolist() == [math.inf, 22.0]
        x = big.clone().requires_grad_()
        (x * 1e10).sum().backward()
        assert x.grad.tolist() == [1e10, 1e10]
        assert np.isnan(autodiff.zeros(0, device=device).mean().item())
        # a user's own warning-as-error is theirs to see
        with pytest.raises(RuntimeWarning):
            np.log(np.zeros(1))
