"""Every behaviour of the classic PyTorch autograd tutorials, with the values PyTorch prints."""

from __future__ import annotations

import threading

import pytest

import autodiff as torch


def test_requires_grad_leaf_and_grad_fn(device):
    x = torch.ones(2, 2, requires_grad=True, device=device)
    # PyTorch prints the device with its index (device='cuda:0', never 'cuda').
    suffix = "" if device == "cpu" else f"device='{x.device}', "
    assert repr(x) == f"tensor([[1., 1.],\n        [1., 1.]], {suffix}requires_grad=True)"
    assert x.grad_fn is None
    y = x + 2
    assert repr(y) == f"tensor([[3., 3.],\n        [3., 3.]], {suffix}grad_fn=<AddBackward0>)"
    assert repr(y.grad_fn).startswith("<AddBackward0 object at 0x")
    assert (x.is_leaf, y.is_leaf) == (True, False)
    z = y * y * 3
    out = z.mean()
    assert repr(z) == f"tensor([[27., 27.],\n        [27., 27.]], {suffix}grad_fn=<MulBackward0>)"
    assert repr(out) == f"tensor(27., {suffix}grad_fn=<MeanBackward0>)"
    out.backward()
    assert x.grad.tolist() == [[4.5, 4.5], [4.5, 4.5]]
    assert repr(x.grad) == f"tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]]{', ' + suffix[:-2] if suffix else ''})"


def test_gradients_accumulate_and_zero(device):
    x = torch.ones(2, 2, requires_grad=True, device=device)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward()
    out2 = x.sum()
    out2.backward()
    assert x.grad.tolist() == [[5.5, 5.5], [5.5, 5.5]]
    out3 = x.sum()
    x.grad.data.zero_()
    out3.backward()
    assert x.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    x.grad.zero_()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_accumulation_in_a_loop(device):
    w = torch.tensor([1.0], requires_grad=True, device=device)
    x = torch.tensor([2.0], requires_grad=True, device=device)
    seen = []
    for _ in range(4):
        a = torch.add(w, x)
        b = torch.add(w, 1)
        y = torch.mul(a, b)
        y.backward()
        seen.append(w.grad.item())
    assert seen == [5.0, 10.0, 15.0, 20.0]


def test_requires_grad_propagates(device):
    w = torch.tensor([1.0], requires_grad=True, device=device)
    x = torch.tensor([2.0], requires_grad=True, device=device)
    a = torch.add(w, x)
    b = torch.add(w, 1)
    y = torch.mul(a, b)
    assert (a.requires_grad, b.requires_grad, y.requires_grad) == (True, True, True)
    c = torch.ones(2, device=device) * 2
    assert not c.requires_grad and c.grad_fn is None


def test_requires_grad_underscore(device):
    a = torch.randn(2, 2, device=device)
    a = (a * 3) / (a - 1)
    assert a.requires_grad is False
    a.requires_grad_(True)
    assert a.requires_grad is True
    b = (a * a).sum()
    assert b.grad_fn.name() == "SumBackward0"
    x = torch.ones(2, device=device)
    assert str(x) == "tensor([1., 1.])" if device == "cpu" else True
    x.requires_grad_(True)
    assert x.requires_grad


def test_integer_tensors_cannot_require_grad(device):
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        torch.ones(2, dtype=torch.int64, device=device, requires_grad=True)
    t = torch.tensor([True, False], device=device)
    with pytest.raises(RuntimeError, match="floating point"):
        t.requires_grad_()
    assert t.requires_grad is False


def test_sum_backward_and_print(device):
    x = torch.ones(2, requires_grad=True, device=device)
    y = x * x
    assert y.grad_fn.name() == "MulBackward0"
    y = y.sum()
    assert y.grad_fn.name() == "SumBackward0"
    assert x.grad is None
    assert y.backward() is None
    assert x.grad.tolist() == [2.0, 2.0]


def test_non_scalar_backward_needs_gradient(device):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True, device=device)
    y = 2 * x
    z = y.view(2, 2)
    assert z.grad_fn.name() == "ViewBackward0"
    assert z.tolist() == [[2.0, 4.0], [6.0, 8.0]]
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar outputs$"):
        z.backward()
    v = torch.tensor([[1.0, 0.1], [0.01, 0.001]], dtype=torch.float, device=device)
    z.backward(v)
    assert x.grad.tolist() == pytest.approx([2.0, 0.2, 0.02, 0.002])
    assert "tensor([2.0000, 0.2000, 0.0200, 0.0020]" in repr(x.grad)
    assert v.view(4).tolist() == pytest.approx([1.0, 0.1, 0.01, 0.001])  # the argument is untouched


def test_gradient_argument_shape_is_checked(device):
    x = torch.ones(4, requires_grad=True, device=device)
    z = (2 * x).view(2, 2)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[4\]\) and output\[0\] has a shape of torch.Size\(\[2, 2\]\)"):
        z.backward(torch.ones(4, device=device))
    assert x.grad is None


def test_retain_graph_and_second_backward_error(device):
    w = torch.tensor([1.0], requires_grad=True, device=device)
    x = torch.tensor([2.0], requires_grad=True, device=device)
    a = torch.add(w, x)
    b = torch.add(w, 1)
    y = torch.mul(a, b)
    y.backward(retain_graph=True)
    assert w.grad.tolist() == [5.0]
    y.backward()
    assert w.grad.tolist() == [10.0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_backward_with_grad_tensors_and_cat(device):
    w = torch.tensor([1.0], requires_grad=True, device=device)
    x = torch.tensor([2.0], requires_grad=True, device=device)
    a = torch.add(w, x)
    b = torch.add(w, 1)
    y0 = torch.mul(a, b)
    y1 = torch.add(a, b)
    loss = torch.cat([y0, y1], dim=0)
    assert loss.grad_fn.name() == "CatBackward0"
    loss.backward(gradient=torch.tensor([1.0, 2.0], device=device))
    assert w.grad.tolist() == [9.0]


def test_autograd_backward_function(device):
    x = torch.tensor([1.0, 2.0], requires_grad=True, device=device)
    y1 = (x * x).sum()
    y2 = (3 * x).sum()
    torch.autograd.backward([y1, y2], [torch.tensor(1.0, device=device), torch.tensor(2.0, device=device)])
    assert x.grad.tolist() == [8.0, 10.0]


def test_autograd_grad_second_derivative(device):
    x = torch.tensor([3.0], requires_grad=True, device=device)
    y = torch.pow(x, 2)
    grad_1 = torch.autograd.grad(y, x, create_graph=True)
    assert isinstance(grad_1, tuple) and len(grad_1) == 1
    assert grad_1[0].tolist() == [6.0]
    assert grad_1[0].grad_fn is not None
    grad_2 = torch.autograd.grad(grad_1[0], x)
    assert grad_2[0].tolist() == [2.0]
    assert grad_2[0].grad_fn is None
    assert x.grad is None


def test_grad_allow_unused(device):
    x = torch.tensor([1.0], requires_grad=True, device=device)
    z = torch.tensor([1.0], requires_grad=True, device=device)
    y = x * 2
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        torch.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = torch.autograd.grad(y, [x, z], allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None


def test_detach_and_no_grad(device):
    x = torch.ones(2, requires_grad=True, device=device)
    y = (x * x).sum()
    assert y.grad_fn.name() == "SumBackward0"
    with torch.no_grad():
        y = (x * x).sum()
        assert y.grad_fn is None and not y.requires_grad
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d2 = (x * 2)
    d2.detach_()
    assert d2.is_leaf and not d2.requires_grad


def test_no_grad_branch_gets_no_gradient(device):
    x = torch.tensor(1.0, requires_grad=True, device=device)
    y1 = x ** 2
    with torch.no_grad():
        y2 = x ** 3
    y3 = y1 + y2
    assert x.requires_grad
    assert (y1.requires_grad, y2.requires_grad, y3.requires_grad) == (True, False, True)
    assert y1.grad_fn.name() == "PowBackward0" and y2.grad_fn is None
    y3.backward()
    assert x.grad.item() == 2.0
    if device == "cpu":
        assert repr(y1) == "tensor(1., grad_fn=<PowBackward0>)"
        assert repr(y2) == "tensor(1.)"
        assert repr(x.grad) == "tensor(2.)"


def test_grad_mode_switches():
    assert torch.is_grad_enabled()
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        with torch.enable_grad():
            assert torch.is_grad_enabled()
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()

    @torch.no_grad()
    def doubled(t):
        return t * 2

    x = torch.ones(1, requires_grad=True)
    assert not doubled(x).requires_grad
    torch.set_grad_enabled(False)
    assert not torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["thread"] = torch.is_grad_enabled()

    with torch.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not torch.is_grad_enabled()
    assert seen["thread"] is True


def test_data_shares_storage_outside_graph(device):
    x = torch.ones(1, requires_grad=True, device=device)
    assert x.data.tolist() == [1.0]
    assert x.data.requires_grad is False
    y = 2 * x
    x.data *= 100
    y.backward()
    assert x.tolist() == [100.0]
    assert x.grad.tolist() == [2.0]
    if device == "cpu":
        assert repr(x) == "tensor([100.], requires_grad=True)"
        assert repr(x.grad) == "tensor([2.])"


def test_inplace_on_leaf_requiring_grad_raises(device):
    leaf_msg = "a leaf Variable that requires grad is being used in an in-place operation."
    w = torch.tensor([1.0], requires_grad=True, device=device)
    for op in (lambda: w.add_(1), lambda: w.sub_(1), lambda: w.mul_(2), lambda: w.zero_(),
               lambda: w.fill_(3), lambda: w.clamp_(0, 1), lambda: w.copy_(torch.ones(1, device=device))):
        with pytest.raises(RuntimeError, match=leaf_msg):
            op()
    with pytest.raises(RuntimeError, match=leaf_msg):
        w += 1
    with pytest.raises(RuntimeError, match=leaf_msg):
        w[0] = 5.0
    assert w.tolist() == [1.0] and w._version[0] == 0
    with torch.no_grad():
        w -= 0.5
        w *= 2
        w /= 4
        w += 1
    assert w.tolist() == [1.25]
    assert w.is_leaf and w.requires_grad


def test_inplace_ops_work_and_bump_version(device):
    a = torch.ones((1,), device=device)
    before = id(a)
    a += torch.ones((1,), device=device)
    assert id(a) == before and a.tolist() == [2.0]
    b = a + torch.ones((1,), device=device)
    assert id(b) != id(a)
    t = torch.zeros(2, 3, device=device)
    v0 = t._version[0]
    t.add_(1).mul_(3).sub_(1).div_(2)
    assert t.tolist() == [[1.0] * 3] * 2
    t.fill_(7)
    t[0, 1] = -1.0
    t.clamp_(0, 5)
    assert t.tolist() == [[5.0, 0.0, 5.0], [5.0, 5.0, 5.0]]
    t.copy_(torch.arange(3, device=device).float())
    assert t.tolist() == [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    t.zero_()
    assert t.sum().item() == 0
    assert t._version[0] == v0 + 9  # one bump per in-place op above


def test_inplace_on_non_leaf_is_recorded(device):
    x = torch.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 1
    y += x
    assert y.grad_fn.name() == "AddBackward0"
    y *= x
    y.sum().backward()
    # y = (x + x) * x = 2 x^2 -> dy/dx = 4x
    assert x.grad.tolist() == [4.0, 8.0]


def test_setitem_on_non_leaf_records_copyslices(device):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = x * 2
    y[1] = 0.0
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 2.0]


def test_saved_tensor_modified_in_place_is_caught(device):
    x = torch.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 1
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_shape_and_dtype_errors(device):
    a = torch.zeros(2, device=device)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[3, 2\]"):
        a.add_(torch.ones(3, 2, device=device))
    i = torch.zeros(2, dtype=torch.int64, device=device)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i.add_(1.5)
    assert a.tolist() == [0.0, 0.0] and i.tolist() == [0, 0]


def test_leaf_grads_never_alias_each_other_or_the_gradient_argument(device):
    x = torch.ones(2, requires_grad=True, device=device)
    y = torch.ones(2, requires_grad=True, device=device)
    (x + y).sum().backward()
    x.grad.zero_()
    assert y.grad.tolist() == [1.0, 1.0]
    v = torch.tensor([1.0, 2.0, 3.0, 4.0], device=device)
    w = torch.ones(2, 2, requires_grad=True, device=device)
    w.view(4).backward(v)
    w.grad.zero_()
    assert v.tolist() == [1.0, 2.0, 3.0, 4.0]
    u = torch.ones(4, requires_grad=True, device=device)
    u.backward(v)  # the root gradient goes straight into the leaf
    u.grad.mul_(0)
    assert v.tolist() == [1.0, 2.0, 3.0, 4.0]
