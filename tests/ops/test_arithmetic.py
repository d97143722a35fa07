"""Arithmetic ops (autodiff/ops/arithmetic.py): dtype promotion with Python scalars and
mixed dtypes.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import autodiff


def test_python_scalars_keep_float32(device):
    x = autodiff.ones(2, device=device)
    for y in (x * 2.5, 2.5 * x, x + 1e-3, x / 3, 3 / x, x ** 2.0, 2.0 ** x, x - 1, 1 - x, -x):
        assert y.dtype is autodiff.float32
    assert (autodiff.tensor([1, 2], device=device) * 2.5).dtype is autodiff.float32
    assert (autodiff.tensor([1, 2], device=device) / 2).dtype is autodiff.float32
    assert (autodiff.tensor([1, 2], device=device) * 2).dtype is autodiff.int64
    assert (x.double() * x).dtype is autodiff.float64
    assert (autodiff.tensor([1, 2], device=device) + x).dtype is autodiff.float32


def test_mixed_dtype_gradient_keeps_each_dtype(device):
    a = autodiff.ones(2, requires_grad=True, device=device)
    b = autodiff.ones(2, dtype=autodiff.float64, requires_grad=True, device=device)
    (a * b).sum().backward()
    assert a.grad.dtype is autodiff.float32 and b.grad.dtype is autodiff.float64
