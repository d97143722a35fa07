"""Linear algebra (autodiff/ops/linalg.py): mm/matmul values, node names and shape errors.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import pytest

import autodiff
import autodiff.nn.functional as AF


def test_matmul(device):
    a = autodiff.ones(2, 3, requires_grad=True, device=device)
    b = autodiff.ones(3, 4, requires_grad=True, device=device)
    c = a.mm(b)
    assert c.grad_fn.name() == "MmBackward0" and c.tolist() == [[3.0] * 4] * 2
    assert (a @ b).grad_fn.name() == "MmBackward0"
    c.sum().backward()
    assert a.grad.tolist() == [[4.0] * 3] * 2 and b.grad.tolist() == [[2.0] * 4] * 3
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x3\)"):
        a.mm(autodiff.ones(4, 3, device=device))
    assert (a @ autodiff.ones(3, device=device)).shape == (2,)


def test_linear_shape_error():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 5x2\)"):
        AF.linear(autodiff.randn(4, 3), autodiff.randn(2, 5))


def test_grad_fn_names():
    x = autodiff.randn(2, 3, requires_grad=True)
    assert AF.linear(x, autodiff.randn(4, 3), autodiff.randn(4)).grad_fn.name() == "AddmmBackward0"
