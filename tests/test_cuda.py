"""CUDA on two devices: torch.cuda's API, tensors and modules moving between devices, and
each op running on its tensors' GPU whatever the current device is.

Without a GPU (or with fewer than two) these run on two simulated devices
(``autodiff.testing.simulated_cuda``); on a machine with two GPUs, on them.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import autodiff as torch
from autodiff.testing.simulated_cuda import simulate_cuda


@pytest.fixture(autouse=True)
def two_gpus():
    if torch.cuda.device_count() >= 2:
        yield
        return
    with simulate_cuda(2):
        yield


def test_device_queries():
    assert torch.cuda.is_available() and torch.cuda.device_count() >= 2
    assert torch.cuda.current_device() == 0
    assert isinstance(torch.cuda.get_device_name(1), str) and torch.cuda.get_device_name()
    props = torch.cuda.get_device_properties(0)
    assert props.total_memory > 0 and props.major >= 1 and props.name == torch.cuda.get_device_name(0)
    torch.cuda.synchronize()
    torch.cuda.synchronize("cuda:1")


def test_set_device_and_device_context_choose_what_cuda_means():
    with torch.cuda.device(1):
        assert torch.cuda.current_device() == 1
        assert torch.ones(2, device="cuda").device == torch.device("cuda:1")
    assert torch.cuda.current_device() == 0
    assert torch.ones(2, device="cuda").device == torch.device("cuda:0")
    torch.cuda.set_device(1)
    try:
        assert torch.zeros(1, device="cuda").get_device() == 1
    finally:
        torch.cuda.set_device(0)


def test_ops_and_gradients_run_on_the_tensors_device_whatever_is_current():
    # Device 0 stays current: every op (and its backward) must still compute on cuda:1.
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], device="cuda:1", requires_grad=True)
    w = torch.tensor([[1.0], [2.0], [3.0]], device="cuda:1", requires_grad=True)
    y = (x.exp() * x).sum(1, keepdim=True) + x.mm(w).tanh()
    z = y.clone()
    z[0] = 5.0
    loss = (z.flip(0).softmax(0) * z).sum()
    loss.backward()
    assert loss.device == torch.device("cuda:1") and x.grad.device == torch.device("cuda:1")
    xc = x.detach().cpu().requires_grad_()
    wc = w.detach().cpu().requires_grad_()
    yc = (xc.exp() * xc).sum(1, keepdim=True) + xc.mm(wc).tanh()
    zc = yc.clone()
    zc[0] = 5.0
    (zc.flip(0).softmax(0) * zc).sum().backward()
    assert np.allclose(x.grad.cpu().numpy(), xc.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert np.allclose(w.grad.cpu().numpy(), wc.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_random_numbers_on_the_second_device_and_per_device_seeds():
    torch.manual_seed(3)
    a = torch.randn(4, device="cuda:1")
    i = torch.randint(0, 10, (5,), device="cuda:1")
    assert a.device == i.device == torch.device("cuda:1")
    torch.manual_seed(3)
    cpu_first = torch.randn(3)
    torch.manual_seed(3)
    torch.cuda.manual_seed(7)  # seeds the GPUs only, as in PyTorch: the CPU stream goes on
    assert torch.randn(3).tolist() == cpu_first.tolist()
    torch.cuda.manual_seed_all(11)
    g1 = torch.randn(4, device="cuda:1")
    torch.cuda.manual_seed_all(11)
    assert torch.randn(4, device="cuda:1").tolist() == g1.tolist()


def test_moving_tensors_and_modules():
    x = torch.arange(6.0).reshape(2, 3)
    g = x.cuda(1)
    assert g.device == torch.device("cuda:1") and g.is_cuda and g.get_device() == 1
    assert x.get_device() == -1
    assert x.to("cuda:0", non_blocking=True).device == torch.device("cuda:0")
    assert x.pin_memory().to("cuda", non_blocking=True).device == torch.device("cuda:0")
    assert g.to("cuda:0").device == torch.device("cuda:0")
    assert g.cpu().tolist() == x.tolist()
    assert "device='cuda:1'" in repr(g)
    net = torch.nn.Linear(3, 2).to("cuda:1")
    assert all(p.device == torch.device("cuda:1") for p in net.parameters())
    out = net(g)
    assert out.device == torch.device("cuda:1")


@pytest.mark.parametrize("make", [
    lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: torch.optim.Adam(ps, lr=0.1),
])
def test_optimizer_state_follows_its_parameters(make):
    net = torch.nn.Linear(3, 2).to("cuda:1")
    opt = make(net.parameters())
    for _ in range(2):
        opt.zero_grad()
        net(torch.ones(4, 3, device="cuda:1")).sum().backward()
        opt.step()
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, torch.Tensor) and v.ndim:
                assert v.device == torch.device("cuda:1")


def test_pytorch_messages_for_mixed_devices_and_numpy():
    a = torch.ones(2, device="cuda:0")
    b = torch.ones(2, device="cuda:1")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found "
                                           "at least two devices, cuda:0 and cuda:1"):
        a + b
    with pytest.raises(TypeError, match="can't convert cuda:1 device type tensor to numpy"):
        b.numpy()


def test_a_zero_dim_cpu_tensor_and_a_cpu_index_work_with_a_cuda_tensor():
    # PyTorch allows both (a 0-d CPU tensor is treated like a number).
    x = torch.tensor([1.0, 2.0, 3.0], device="cuda:1", requires_grad=True)
    s = torch.tensor(2.0, requires_grad=True)
    y = x * s + s
    assert y.device == torch.device("cuda:1")
    y.sum().backward()
    assert s.grad.device == torch.device("cpu") and s.grad.item() == 9.0
    assert x[torch.tensor([2, 0])].tolist() == [3.0, 1.0]


def test_save_on_cuda_and_load_with_map_location():
    t = torch.arange(4.0, device="cuda:1")
    buf = io.BytesIO()
    torch.save({"t": t}, buf)
    buf.seek(0)
    back = torch.load(buf, map_location="cpu")
    assert back["t"].device == torch.device("cpu") and back["t"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_memory_events_and_streams():
    torch.cuda.reset_peak_memory_stats(1)
    before = torch.cuda.memory_allocated(1)
    big = torch.zeros(1000, device="cuda:1")
    assert torch.cuda.memory_allocated(1) >= before + 4000
    assert torch.cuda.max_memory_allocated(1) >= before + 4000
    del big
    torch.cuda.empty_cache()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s = torch.cuda.Stream()
    start.record()
    with torch.cuda.stream(s):
        torch.ones(10, device="cuda") * 2
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0.0 and end.query() and s.query()


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "bool"])
def test_scatter_add_on_small_integer_dtypes(dtype):
    # CuPy's scatter_add has no kernel for these; PyTorch accepts them.
    dt = getattr(torch, dtype)
    index = torch.tensor([0, 1, 0, 2])
    for device in ("cpu", "cuda:1"):
        base = torch.zeros(3, dtype=dt, device=device)
        src = torch.ones(4, dtype=dt, device=device)
        out = torch.scatter_add(base, 0, index.to(device), src)
        expected = [True, True, True] if dtype == "bool" else [2, 1, 1]
        assert out.tolist() == expected and out.dtype is dt


def test_erf_and_gelu_keep_float16():
    x = torch.tensor([0.5, -1.0], dtype=torch.float16, device="cuda:1", requires_grad=True)
    y = torch.nn.functional.gelu(x) + torch.erf(x)
    assert y.dtype is torch.float16
    y.sum().backward()
    assert x.grad.dtype is torch.float16


def test_out_of_range_indices_raise_on_every_device():
    # CuPy wraps integer-array indices around; the rule is ours: PyTorch's IndexError.
    for device in ("cpu", "cuda:1"):
        x = torch.arange(6.0, device=device).reshape(2, 3)
        with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
            x[torch.tensor([2, 0], device=device)]
        with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
            x[:, [3]] = 1.0
        assert x[:, [-1, 0]].tolist() == [[2.0, 0.0], [5.0, 3.0]]


@pytest.mark.parametrize("write", [
    lambda v: v.add_(1.0), lambda v: v.mul_(torch.ones(2, 3, device=v.device)), lambda v: v.zero_(),
    lambda v: v.fill_(2.0), lambda v: v.copy_(torch.ones(2, 3, device=v.device)),
    lambda v: v.__setitem__(0, 5.0),
])
def test_writes_into_an_expanded_tensor_are_refused_on_every_device(write):
    # CuPy's broadcast views are writable (and the writes race); NumPy's are read-only.
    for device in ("cpu", "cuda:1"):
        base = torch.zeros(3, device=device)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            write(base.expand(2, 3))
        assert base.tolist() == [0.0, 0.0, 0.0]


def test_var_and_std_with_a_correction_of_n_or_more_match_pytorch():
    # PyTorch divides by max(N - correction, 0): inf, or nan when all values are equal;
    # CuPy gives nan for both.
    import warnings

    for device in ("cpu", "cuda:1"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            x = torch.tensor([1.0, 2.0, 4.0], device=device)
            assert torch.var(x, correction=3).item() == float("inf")
            assert torch.std(x, correction=5).item() == float("inf")
            assert np.isnan(torch.var(torch.ones(2, device=device), correction=2).item())


def test_duplicate_index_writes_keep_the_last_on_every_device():
    # A GPU writes duplicates in no defined order (the stand-in keeps the first); the rule
    # is ours: the last write wins, as a sequential loop (and PyTorch on the CPU) leaves it.
    for device in ("cpu", "cuda:1"):
        x = torch.zeros(3, device=device)
        x[torch.tensor([0, 2, 0], device=device)] = torch.tensor([1.0, 2.0, 3.0], device=device)
        assert x.tolist() == [3.0, 0.0, 2.0]
        y = torch.zeros(2, 3, device=device, requires_grad=True) * 1
        y[:, [1, 1]] = torch.tensor([[4.0, 5.0], [6.0, 7.0]], device=device)
        assert y.tolist() == [[0.0, 5.0, 0.0], [0.0, 7.0, 0.0]]


def test_elementwise_results_keep_their_inputs_layout_on_every_device():
    # CuPy writes C-contiguous results; NumPy and PyTorch keep the inputs' layout, which
    # decides whether view() works and which node reshape records.
    for device in ("cpu", "cuda:1"):
        x = torch.arange(6.0, device=device).reshape(2, 3).requires_grad_()
        y = x.t() * 2
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            y.view(-1)
        assert y.reshape(-1).grad_fn.name() == "UnsafeViewBackward0"
        assert (x.t() + torch.ones(3, 2, device=device)).view(-1).shape == (6,)  # mixed: C order


def test_accelerator_reports_cuda_when_present() -> None:
    # (runs on every device setting: plain CPU, and the simulated or real CUDA devices)
    acc = torch.accelerator
    if torch.cuda.is_available():
        assert acc.is_available() and acc.current_accelerator() == torch.device("cuda")
        assert acc.device_count() == torch.cuda.device_count()
        with acc.device_index(acc.device_count() - 1):
            assert acc.current_device_index() == acc.device_count() - 1
        acc.synchronize()
    else:
        assert not acc.is_available() and acc.current_accelerator() is None
        assert acc.device_count() == 0
        with pytest.raises(RuntimeError, match="no accelerator"):
            acc.current_device_index()
        acc.synchronize()  # nothing to wait for
