"""Shape ops (autodiff/ops/shape.py): views, node names and the errors of view/reshape.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import pytest

import autodiff


def test_shape_ops(device):
    x = autodiff.arange(6.0, device=device).requires_grad_()
    v = x.view(2, 3)
    assert v.grad_fn.name() == "ViewBackward0" and v.shape == (2, 3)
    assert x.reshape(3, -1).shape == (3, 2)
    assert v.t().shape == (3, 2) and v.t().grad_fn.name() == "TBackward0"
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        v.t().view(6)
    assert v.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6"):
        x.view(4, -1)
    c = autodiff.cat([v, v * 2], dim=1)
    assert c.shape == (2, 6)
    c.sum().backward()
    assert x.grad.tolist() == [3.0] * 6
    assert x.clone().grad_fn.name() == "CloneBackward0"
