"""Creation, dtypes, metadata, printing, operators, broadcasting and indexing."""

from __future__ import annotations

import pytest

import autodiff as torch


def test_creation_functions(device):
    assert torch.zeros(2, 3, device=device).tolist() == [[0.0] * 3] * 2
    assert torch.ones((2,), device=device).dtype is torch.float32
    assert torch.full((2,), 7, device=device).dtype is torch.int64
    assert torch.full((2,), 7.0, device=device).tolist() == [7.0, 7.0]
    assert torch.empty(3, device=device).shape == (3,)
    assert torch.arange(4, device=device).tolist() == [0, 1, 2, 3]
    assert torch.arange(4, device=device).dtype is torch.int64
    assert torch.arange(0, 1, 0.25, device=device).dtype is torch.float32
    assert torch.randn(3, 4, device=device).shape == torch.Size([3, 4])
    r = torch.rand(1000, device=device)
    assert ((r >= 0) & (r < 1)).sum().item() == 1000
    t = torch.tensor([[1, 2], [3, 4]], device=device)
    assert t.dtype is torch.int64
    assert torch.tensor([1.5], device=device).dtype is torch.float32
    assert torch.tensor([True], device=device).dtype is torch.bool
    assert torch.tensor(3.0, dtype=torch.float64, device=device).dtype is torch.float64
    assert torch.zeros_like(t).tolist() == [[0, 0], [0, 0]]
    assert torch.ones_like(t, dtype=torch.float).dtype is torch.float32
    assert torch.full_like(t, 2).tolist() == [[2, 2], [2, 2]]
    assert torch.randn_like(torch.ones(2, device=device)).shape == (2,)


def test_manual_seed_repeats(device):
    torch.manual_seed(3)
    a = torch.randn(5, device=device).tolist()
    torch.manual_seed(3)
    assert torch.randn(5, device=device).tolist() == a


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


def test_python_scalars_keep_float32(device):
    x = torch.ones(2, device=device)
    for y in (x * 2.5, 2.5 * x, x + 1e-3, x / 3, 3 / x, x ** 2.0, 2.0 ** x, x - 1, 1 - x, -x):
        assert y.dtype is torch.float32
    assert (torch.tensor([1, 2], device=device) * 2.5).dtype is torch.float32
    assert (torch.tensor([1, 2], device=device) / 2).dtype is torch.float32
    assert (torch.tensor([1, 2], device=device) * 2).dtype is torch.int64
    assert (x.double() * x).dtype is torch.float64
    assert (torch.tensor([1, 2], device=device) + x).dtype is torch.float32


def test_mixed_dtype_gradient_keeps_each_dtype(device):
    a = torch.ones(2, requires_grad=True, device=device)
    b = torch.ones(2, dtype=torch.float64, requires_grad=True, device=device)
    (a * b).sum().backward()
    assert a.grad.dtype is torch.float32 and b.grad.dtype is torch.float64


def test_broadcasting_gradients_are_reduced(device):
    a = torch.ones(3, 1, requires_grad=True, device=device)
    b = torch.ones(4, requires_grad=True, device=device)
    c = torch.ones(2, 1, 1, requires_grad=True, device=device)
    out = (a * b + c - b / 2).sum()
    out.backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[8.0]] * 3
    assert b.grad.shape == (4,) and b.grad.tolist() == [3.0] * 4
    assert c.grad.shape == (2, 1, 1) and c.grad.tolist() == [[[12.0]], [[12.0]]]


def test_comparisons_return_bool(device):
    x = torch.tensor([1.0, 2.0, 3.0], device=device)
    for m in (x > 1, x >= 2, x < 2, x <= 1, x == 2, x != 2):
        assert m.dtype is torch.bool and not m.requires_grad
    assert (x > 1).tolist() == [False, True, True]
    assert (~(x > 1)).tolist() == [True, False, False]


def test_sum_mean_dims(device):
    x = torch.arange(6.0, device=device).view(2, 3).requires_grad_()
    assert x.sum(0).tolist() == [3.0, 5.0, 7.0]
    assert x.sum(1, keepdim=True).shape == (2, 1)
    assert x.mean().item() == 2.5 and x.mean(dim=1).tolist() == [1.0, 4.0]
    assert x.sum(dim=(0, 1)).item() == 15.0
    assert x.mean(1).grad_fn.name() == "MeanBackward1" and x.sum(0).grad_fn.name() == "SumBackward1"
    x.mean(1, keepdim=True).sum().backward()
    assert x.grad.view(6).tolist() == pytest.approx([1 / 3] * 6)
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        torch.arange(3, device=device).mean()


def test_shape_ops(device):
    x = torch.arange(6.0, device=device).requires_grad_()
    v = x.view(2, 3)
    assert v.grad_fn.name() == "ViewBackward0" and v.shape == (2, 3)
    assert x.reshape(3, -1).shape == (3, 2)
    assert v.t().shape == (3, 2) and v.t().grad_fn.name() == "TBackward0"
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        v.t().view(6)
    assert v.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6"):
        x.view(4, -1)
    c = torch.cat([v, v * 2], dim=1)
    assert c.shape == (2, 6)
    c.sum().backward()
    assert x.grad.tolist() == [3.0] * 6
    assert x.clone().grad_fn.name() == "CloneBackward0"


def test_matmul(device):
    a = torch.ones(2, 3, requires_grad=True, device=device)
    b = torch.ones(3, 4, requires_grad=True, device=device)
    c = a.mm(b)
    assert c.grad_fn.name() == "MmBackward0" and c.tolist() == [[3.0] * 4] * 2
    assert (a @ b).grad_fn.name() == "MmBackward0"
    c.sum().backward()
    assert a.grad.tolist() == [[4.0] * 3] * 2 and b.grad.tolist() == [[2.0] * 4] * 3
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x3\)"):
        a.mm(torch.ones(4, 3, device=device))
    assert (a @ torch.ones(3, device=device)).shape == (2,)


def test_clamp(device):
    x = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True, device=device)
    y = x.clamp(min=0)
    assert y.grad_fn.name() == "ClampBackward1" and y.tolist() == [0.0, 0.5, 3.0]
    x.clamp(0, 1).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_indexing_and_gradients(device):
    x = torch.arange(12.0, device=device).view(3, 4).requires_grad_()
    assert x[1].tolist() == [4.0, 5.0, 6.0, 7.0] and x[1].grad_fn.name() == "SelectBackward0"
    assert x[:, 1:3].shape == (3, 2) and x[:, 1:3].grad_fn.name() == "SliceBackward0"
    assert x[None].shape == (1, 3, 4)
    assert x[..., 0].tolist() == [0.0, 4.0, 8.0]
    assert x[1, 2].item() == 6.0
    mask = x > 5
    assert x[mask].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    assert x[mask].grad_fn.name() == "IndexBackward0"
    idx = torch.tensor([0, 0, 2], device=device)
    x[idx].sum().backward()
    assert x.grad.tolist() == [[2.0] * 4, [0.0] * 4, [1.0] * 4]  # repeated rows accumulate


def test_basic_index_is_a_view(device):
    x = torch.zeros(2, 3, device=device)
    row = x[0]
    row.fill_(1.0)
    assert x.tolist() == [[1.0] * 3, [0.0] * 3]
    assert x._version[0] == 1


def test_setitem(device):
    x = torch.zeros(2, 3, device=device)
    x[0, 1] = 5.0
    x[1] = torch.tensor([1.0, 2.0, 3.0], device=device)
    x[x > 4] = -1.0
    assert x.tolist() == [[0.0, -1.0, 0.0], [1.0, 2.0, 3.0]]
    w = torch.ones(3, requires_grad=True, device=device)
    y = torch.zeros(2, 3, device=device)
    y[1] = w * 2
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_index_errors(device):
    x = torch.zeros(2, 3, device=device)
    with pytest.raises(IndexError):
        x[5]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[torch.tensor([0.0], device=device)]
