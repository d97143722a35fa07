"""Creation ops (autodiff/ops/creation.py): zeros, ones, full, empty, arange, rand, randn,
tensor, the ``*_like`` ops, and ``manual_seed``.
"""

from __future__ import annotations

import pytest

import autodiff


def test_creation_functions(device):
    assert autodiff.zeros(2, 3, device=device).tolist() == [[0.0] * 3] * 2
    assert autodiff.ones((2,), device=device).dtype is autodiff.float32
    assert autodiff.full((2,), 7, device=device).dtype is autodiff.int64
    assert autodiff.full((2,), 7.0, device=device).tolist() == [7.0, 7.0]
    assert autodiff.empty(3, device=device).shape == (3,)
    assert autodiff.arange(4, device=device).tolist() == [0, 1, 2, 3]
    assert autodiff.arange(4, device=device).dtype is autodiff.int64
    assert autodiff.arange(0, 1, 0.25, device=device).dtype is autodiff.float32
    assert autodiff.randn(3, 4, device=device).shape == autodiff.Size([3, 4])
    r = autodiff.rand(1000, device=device)
    assert ((r >= 0) & (r < 1)).sum().item() == 1000
    t = autodiff.tensor([[1, 2], [3, 4]], device=device)
    assert t.dtype is autodiff.int64
    assert autodiff.tensor([1.5], device=device).dtype is autodiff.float32
    assert autodiff.tensor([True], device=device).dtype is autodiff.bool
    assert autodiff.tensor(3.0, dtype=autodiff.float64, device=device).dtype is autodiff.float64
    assert autodiff.zeros_like(t).tolist() == [[0, 0], [0, 0]]
    assert autodiff.ones_like(t, dtype=autodiff.float).dtype is autodiff.float32
    assert autodiff.full_like(t, 2).tolist() == [[2, 2], [2, 2]]
    assert autodiff.randn_like(autodiff.ones(2, device=device)).shape == (2,)


def test_manual_seed_repeats(device):
    autodiff.manual_seed(3)
    a = autodiff.randn(5, device=device).tolist()
    autodiff.manual_seed(3)
    assert autodiff.randn(5, device=device).tolist() == a


def test_fill_values_that_do_not_fit_the_dtype_raise(device):
    """PyTorch refuses a fill value its integer dtype cannot hold (NumPy gave INT_MIN for NaN)."""
    i32 = autodiff.zeros(3, dtype=autodiff.int32, device=device)
    for make in (lambda v: autodiff.full_like(i32, v), lambda v: autodiff.full((2,), v, dtype=autodiff.int64),
                 lambda v: i32.clone().fill_(v)):
        for v in (float("nan"), float("inf"), -float("inf"), 2.0 ** 70, 2 ** 70):
            with pytest.raises(RuntimeError, match=r"value cannot be converted to type \w+ without overflow \((full|full_like|fill_)"):
                make(v)
    with pytest.raises(RuntimeError, match="int8_t without overflow"):
        autodiff.full((1,), 200, dtype=autodiff.int8)
    with pytest.raises(RuntimeError, match="type float without overflow"):
        autodiff.full((1,), 1e300, dtype=autodiff.float32)
    assert autodiff.full_like(i32, 2.5).tolist() == [2, 2, 2]
    assert autodiff.full((1,), -1, dtype=autodiff.uint8).tolist() == [255]  # as in PyTorch
    assert autodiff.full((1,), float("nan"), dtype=autodiff.bool).tolist() == [True]
    assert autodiff.full((1,), float("inf")).tolist() == [float("inf")]
