"""An in-place op whose operand broadcasts to a larger shape than the tensor written is
refused as PyTorch refuses it: a RuntimeError naming both shapes, with PyTorch's words, and
the tensor left unchanged."""

from __future__ import annotations

import pytest

import autodiff

torch = pytest.importorskip("torch")

OPS = ["add_", "sub_", "mul_", "div_", "pow_", "atan2_", "hypot_", "fmod_"]
SHAPES = [((3,), (2, 3)), ((1, 3), (2, 3)), ((2, 1), (2, 3)), ((), (2,))]


def _refusal(m, op: str, shape: tuple, other_shape: tuple) -> tuple[str, str, list]:
    t = m.ones(shape, dtype=m.float64) * 2
    other = m.ones(other_shape, dtype=m.float64) * 3
    with pytest.raises(Exception) as info:
        getattr(t, op)(other)
    return type(info.value).__name__, str(info.value), t.tolist()


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("op", OPS)
def test_inplace_op_refuses_a_larger_broadcast_shape_like_torch(op: str, shapes: tuple) -> None:
    ours = _refusal(autodiff, op, *shapes)
    assert ours == _refusal(torch, op, *shapes)
    assert ours[0] == "RuntimeError" and "doesn't match the broadcast shape" in ours[1]
