"""Unary ops (autodiff/ops/unary.py): clamp's values, gradient and node, and node names.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import autodiff


def test_clamp(device):
    x = autodiff.tensor([-2.0, 0.5, 3.0], requires_grad=True, device=device)
    y = x.clamp(min=0)
    assert y.grad_fn.name() == "ClampBackward1" and y.tolist() == [0.0, 0.5, 3.0]
    x.clamp(0, 1).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_grad_fn_names():
    x = autodiff.randn(2, 3, requires_grad=True)
    assert autodiff.tanh(x).grad_fn.name() == "TanhBackward0"
    assert autodiff.sigmoid(x).grad_fn.name() == "SigmoidBackward0"
