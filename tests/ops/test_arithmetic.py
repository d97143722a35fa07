"""Arithmetic ops (autodiff/ops/arithmetic.py): dtype promotion with Python scalars and
mixed dtypes.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import pytest

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


def test_alpha_and_lerp_arguments_are_checked_as_in_torch(device):
    """A bad alpha or lerp operand raises PyTorch's TypeError (it used to make a tensor of
    NumPy objects whose dtype and repr raised KeyError)."""
    x = autodiff.ones(3, device=device)
    y = autodiff.full((3,), 2.0, device=device)
    for op in (autodiff.add, autodiff.sub, autodiff.Tensor.add_, autodiff.Tensor.sub_):
        name = op.__name__.rstrip("_")
        for bad in ([1], "a", None, autodiff.ones(2, device=device),
                    autodiff.tensor(2.0, device=device, requires_grad=True)):
            with pytest.raises(TypeError, match=f"{name}\\(\\): argument 'alpha' must be Number, not"):
                op(x.clone(), y, alpha=bad)
    # A 0-d tensor that needs no grad is a number to PyTorch.
    assert autodiff.add(x, y, alpha=autodiff.tensor(3.0, device=device)).tolist() == [7.0] * 3
    assert autodiff.sub(x, y, alpha=autodiff.tensor(2, device=device)).tolist() == [-3.0] * 3
    ints = autodiff.ones(2, dtype=autodiff.int64, device=device)
    with pytest.raises(RuntimeError, match="For integral input tensors, argument alpha must not be a floating"):
        autodiff.add(ints, ints, alpha=2.5)
    for args in ((x, [1.0, 2.0, 3.0], 0.5), (x, y, [0.5]), ([1.0, 1.0, 1.0], y, 0.5), (x, y, "w")):
        with pytest.raises(TypeError, match="lerp\\(\\)"):
            autodiff.lerp(*args)
    assert autodiff.lerp(x, y, 0.25).tolist() == [1.25] * 3


def test_rounded_div_is_in_the_graph_with_zero_gradients(device):
    """As in PyTorch: DivBackward2, zero gradients for both operands, and the zeros need no
    graph even under create_graph."""
    x = autodiff.tensor([3.0, -5.0], device=device, requires_grad=True)
    y = autodiff.tensor([2.0, 2.0], device=device, requires_grad=True)
    for mode, expected in (("floor", [1.0, -3.0]), ("trunc", [1.0, -2.0])):
        z = autodiff.div(x, y, rounding_mode=mode)
        assert z.tolist() == expected and z.grad_fn.name() == "DivBackward2"
        gx, gy = autodiff.autograd.grad(z.sum(), (x, y), create_graph=True)
        assert gx.tolist() == gy.tolist() == [0.0, 0.0]
        assert not gx.requires_grad and not gy.requires_grad
        z = x.div(2.0, rounding_mode=mode)
        assert z.grad_fn.name() == "DivBackward2"
        z.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_integer_rounded_div_by_zero_raises(device):
    a = autodiff.tensor([3, -5], device=device)
    for mode in ("floor", "trunc"):
        for divisor in (autodiff.tensor([1, 0], device=device), 0):
            with pytest.raises(RuntimeError, match=f"ZeroDivisionError.*div\\(rounding_mode='{mode}'\\)"):
                autodiff.div(a, divisor, rounding_mode=mode)
    assert autodiff.div(a, 2, rounding_mode="floor").tolist() == [1, -3]
    inf = autodiff.div(a.float(), 0.0, rounding_mode="trunc")  # floats divide by zero
    assert inf.tolist() == [float("inf"), float("-inf")]
