"""Devices: the registry, device objects, moving tensors, mixing devices, missing CUDA."""

from __future__ import annotations

import sys

import pytest

import autodiff as torch
import backends
from tests.conftest import HAS_CUDA, cuda_only


def test_device_objects():
    assert repr(torch.device("cpu")) == "device(type='cpu')"
    assert repr(torch.device("cuda")) == "device(type='cuda')"
    assert repr(torch.device("cuda:1")) == "device(type='cuda', index=1)"
    assert str(torch.device("cuda", 0)) == "cuda:0"
    assert torch.device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="device type at start of device string: tpu"):
        torch.device("tpu")


def test_tensor_device_and_to(device):
    t = torch.ones(2, device=device)
    assert t.device.type == torch.device(device).type
    c = t.cpu()
    assert c.device == torch.device("cpu") and c.tolist() == [1.0, 1.0]
    back = c.to(device)
    assert back.device.type == t.device.type
    assert t.to(torch.float64).dtype is torch.float64


def test_gradient_flows_back_across_devices():
    x = torch.ones(3, requires_grad=True)
    y = x.to("strict") * 2
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert x.grad.device == torch.device("cpu") and x.grad.tolist() == [2.0, 2.0, 2.0]


def test_mixing_devices_raises():
    a = torch.ones(2)
    b = torch.ones(2, device="strict")
    for op in (lambda: a + b, lambda: a * b, lambda: torch.mm(a.view(1, 2), b.view(2, 1)),
               lambda: torch.cat([a, b]), lambda: a.copy_(b) if False else b - a):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            op()


def test_functional_ops_refuse_mixed_devices():
    x = torch.randn(2, 3)
    w = torch.randn(4, 3, device="strict")
    with pytest.raises(RuntimeError, match="same device"):
        torch.nn.functional.linear(x, w)
    with pytest.raises(RuntimeError, match="same device"):
        torch.nn.functional.cross_entropy(x, torch.tensor([0, 1], device="strict"))
    with pytest.raises(RuntimeError, match="same device"):
        torch.nn.functional.conv2d(torch.randn(1, 1, 4, 4), torch.randn(1, 1, 2, 2, device="strict"))


def test_numpy_bridge():
    import numpy as np

    arr = np.arange(4.0)
    t = torch.from_numpy(arr)
    assert t.dtype is torch.float64
    t.add_(1)  # shares memory
    assert arr.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert t.numpy() is arr
    with pytest.raises(RuntimeError, match="Use tensor.detach"):
        torch.ones(2, requires_grad=True).numpy()


def test_numpy_on_a_non_cpu_tensor_raises():
    t = torch.ones(2, device="strict")
    with pytest.raises(TypeError, match="can't convert strict device type tensor to numpy"):
        t.numpy()


def test_strict_arrays_refuse_implicit_conversion():
    import numpy as np

    t = torch.ones(2, device="strict")
    with pytest.raises(TypeError):
        np.asarray(t._data)
    with pytest.raises(TypeError):
        np.exp(t._data)


def test_cuda_is_available_never_raises():
    assert isinstance(torch.cuda.is_available(), bool)
    assert torch.cuda.is_available() == HAS_CUDA


@pytest.mark.skipif(HAS_CUDA, reason="checks the error raised where CUDA is missing")
def test_missing_cuda_error_says_what_is_missing(monkeypatch):
    if "cupy" not in sys.modules:
        monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    with pytest.raises(RuntimeError) as info:
        torch.ones(2, device="cuda")
    msg = str(info.value)
    assert "CuPy is not installed" in msg or "no NVIDIA GPU" in msg
    if "CuPy is not installed" in msg:
        assert 'pip install "autodiff-tape[cuda12]"' in msg and "autodiff-tape[cuda13]" in msg
    with pytest.raises(RuntimeError):
        torch.ones(2).cuda()


@cuda_only
def test_cuda_tensor_basics():
    x = torch.ones(2, 2, device="cuda", requires_grad=True)
    assert x.device == torch.device("cuda:0")
    assert "device='cuda:0'" in repr(x)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward()
    assert x.grad.device == x.device and x.grad.tolist() == [[4.5, 4.5], [4.5, 4.5]]
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        x.detach().numpy()
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x + torch.ones(2, 2)


def test_backend_registry_standalone():
    be = backends.get("cpu")
    a = be.ones((2, 3), "float32")
    b = be.ones((3, 1), "float32")
    assert be.to_host(be.matmul(a, b)).tolist() == [[3.0], [3.0]]
    assert backends.get("cpu") is be
    with pytest.raises(RuntimeError, match="device type"):
        backends.get("nope")
