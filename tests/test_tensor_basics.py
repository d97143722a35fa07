"""Tensor basics: dtypes and their aliases, metadata, ``item``/``tolist`` and printing.

The ops themselves are tested in tests/ops/ (one file per op group).
"""

from __future__ import annotations

import pytest

import autodiff as torch


def test_dtypes_and_aliases():
    assert torch.float is torch.float32 and torch.double is torch.float64
    assert torch.long is torch.int64 and torch.int is torch.int32 and torch.half is torch.float16
    assert repr(torch.float32) == "torch.float32"
    assert torch.get_default_dtype() is torch.float32
    x = torch.ones(2)
    assert x.float().dtype is torch.float32 and x.double().dtype is torch.float64
    assert x.long().dtype is torch.int64 and x.int().dtype is torch.int32
    assert x.half().dtype is torch.float16 and x.bool().dtype is torch.bool
    assert x.type() == "torch.FloatTensor"


def test_metadata(device):
    x = torch.zeros(2, 3, 4, device=device)
    assert x.shape == torch.Size([2, 3, 4]) and repr(x.shape) == "torch.Size([2, 3, 4])"
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)


def test_item_and_tolist(device):
    assert torch.tensor(2.5, device=device).item() == 2.5
    assert torch.tensor([[1, 2]], device=device).tolist() == [[1, 2]]
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        torch.ones(2, device=device).item()
    assert float(torch.tensor([3.0], device=device)) == 3.0


def test_printing():
    assert repr(torch.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(torch.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(torch.tensor([1.0], dtype=torch.float64)) == "tensor([1.], dtype=torch.float64)"
    assert repr(torch.tensor([1], dtype=torch.int32)) == "tensor([1], dtype=torch.int32)"
    assert repr(torch.tensor([True, False])) == "tensor([ True, False])"
    assert repr(torch.zeros(0)) == "tensor([])"
    assert repr(torch.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert repr(torch.tensor(1e-5)) == "tensor(1.0000e-05)"
    assert str(torch.ones(2)) == "tensor([1., 1.])"
    big = repr(torch.arange(2000))
    assert big == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"


def test_printing_matches_torch():
    real = pytest.importorskip("torch")
    for values in ([[0.1, 200.0], [3.0, -4.0]], [1e10, 1.0], [[[1.0]]], [float("nan"), 1.0, float("inf")]):
        assert repr(torch.tensor(values)) == repr(real.tensor(values))
    a = torch.arange(30.0).view(5, 6)
    assert repr(a) == repr(real.arange(30.0).view(5, 6))
    b = torch.ones(2, 2, requires_grad=True)
    assert repr(b * 2) == repr(real.ones(2, 2, requires_grad=True) * 2)


def test_float_of_a_tensor_requiring_grad_warns_once_like_torch(monkeypatch):
    import sys
    import warnings

    # (``autodiff.tensor`` the attribute is the factory; the module is in sys.modules)
    monkeypatch.setattr(sys.modules["autodiff.tensor"], "_warned_float_of_grad", [False])
    x = torch.ones(1, requires_grad=True)
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar") as caught:
        assert float(x * 2) == 2.0
    assert caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        float(x)  # once per process, as PyTorch's
        int(x), x.item(), bool(x)  # these never warn
        float(torch.ones(1))
