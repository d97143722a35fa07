"""The extended op set: float64 gradcheck + gradgradcheck (with broadcasting) on every
device, and forward/backward values against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.nn.functional as AF
from tests import _numgrad

IDX = [[2, 0, 1], [1, 1, 0]]  # class / gather indices used below


def _idx(m, device=None):
    return m.tensor(IDX, device=device) if device else m.tensor(IDX)


# name -> (fn(m, F, dev, *xs), input shapes, domain). ``m`` is autodiff or torch, ``F`` its
# nn.functional; ``domain`` "pos" draws inputs in [0.5, 2], "unit" in [0.1, 0.9], else N(0, 1).
OPS = {
    "rsqrt": (lambda m, f, d, x: m.rsqrt(x), [(2, 3)], "pos"),
    "expm1": (lambda m, f, d, x: m.expm1(x), [(2, 3)], None),
    "log1p": (lambda m, f, d, x: m.log1p(x), [(2, 3)], "pos"),
    "log2": (lambda m, f, d, x: m.log2(x), [(2, 3)], "pos"),
    "sin": (lambda m, f, d, x: m.sin(x), [(2, 3)], None),
    "cos": (lambda m, f, d, x: m.cos(x), [(2, 3)], None),
    "tan": (lambda m, f, d, x: m.tan(x), [(2, 3)], "unit"),
    "tanh": (lambda m, f, d, x: m.tanh(x), [(2, 3)], None),
    "sigmoid": (lambda m, f, d, x: m.sigmoid(x), [(2, 3)], None),
    "relu": (lambda m, f, d, x: m.relu(x), [(2, 3)], None),
    "erf": (lambda m, f, d, x: m.erf(x), [(2, 3)], None),
    "floor": (lambda m, f, d, x: m.floor(x) * x, [(2, 3)], None),
    "ceil": (lambda m, f, d, x: m.ceil(x) * x, [(2, 3)], None),
    "round": (lambda m, f, d, x: m.round(x) * x, [(2, 3)], None),
    "maximum": (lambda m, f, d, a, b: m.maximum(a, b), [(2, 3), (3,)], None),
    "minimum": (lambda m, f, d, a, b: m.minimum(a, b), [(2, 1), (1, 3)], None),
    "lerp": (lambda m, f, d, a, b, w: m.lerp(a, b, w), [(2, 3), (3,), (2, 1)], None),
    "prod": (lambda m, f, d, x: m.prod(x), [(2, 3)], None),
    "prod_dim": (lambda m, f, d, x: m.prod(x, 1, keepdim=True), [(2, 3)], None),
    "max": (lambda m, f, d, x: m.max(x), [(2, 3)], None),
    "max_dim": (lambda m, f, d, x: m.max(x, 1).values, [(2, 3)], None),
    "min_dim": (lambda m, f, d, x: m.min(x, 0, keepdim=True)[0], [(2, 3)], None),
    "amax": (lambda m, f, d, x: m.amax(x, (0, 2)), [(2, 3, 2)], None),
    "amin": (lambda m, f, d, x: m.amin(x, -1, keepdim=True), [(2, 3)], None),
    "var": (lambda m, f, d, x: m.var(x, 1), [(2, 3)], None),
    "var_biased": (lambda m, f, d, x: m.var(x, unbiased=False), [(2, 3)], None),
    "std": (lambda m, f, d, x: m.std(x, 0, keepdim=True, correction=0), [(3, 2)], None),
    "logsumexp": (lambda m, f, d, x: m.logsumexp(x, 1), [(2, 3)], None),
    "norm": (lambda m, f, d, x: m.norm(x), [(2, 3)], None),
    "norm_dim": (lambda m, f, d, x: m.norm(x, 3, dim=1), [(2, 3)], None),
    "cumsum": (lambda m, f, d, x: m.cumsum(x, 1), [(2, 3)], None),
    "flip": (lambda m, f, d, x: m.flip(x, (0, 1)), [(2, 3)], None),
    "repeat": (lambda m, f, d, x: x.repeat(2, 1, 2), [(2, 3)], None),
    "split": (lambda m, f, d, x: m.split(x, 2, 1)[1] * 2 + m.split(x, [1, 2], 1)[0], [(2, 3)], None),
    "chunk": (lambda m, f, d, x: m.chunk(x, 2, 0)[1], [(3, 2)], None),
    "pad": (lambda m, f, d, x: f.pad(x, (1, 2, 0, 1), value=0.5), [(2, 3)], None),
    "gather": (lambda m, f, d, x: m.gather(x, 1, _idx(m, d)), [(2, 3)], None),
    "scatter_add": (lambda m, f, d, x, s: m.scatter_add(x, 1, _idx(m, d), s), [(2, 3), (2, 3)], None),
    "index_select": (lambda m, f, d, x: m.index_select(x, 1, m.tensor([2, 0, 2], device=d)), [(2, 3)], None),
    "masked_fill": (lambda m, f, d, x: m.masked_fill(x, m.tensor([True, False, True], device=d), 1.5), [(2, 3)], None),
    "bmm": (lambda m, f, d, a, b: m.bmm(a, b), [(2, 2, 3), (2, 3, 2)], None),
    "outer": (lambda m, f, d, a, b: m.outer(a, b), [(3,), (2,)], None),
    "einsum": (lambda m, f, d, a, b: m.einsum("bij,jk->bik", a, b), [(2, 2, 3), (3, 2)], None),
    "einsum_sum": (lambda m, f, d, a, b: m.einsum("ij,j->", a, b), [(2, 3), (3,)], None),
    "leaky_relu": (lambda m, f, d, x: f.leaky_relu(x, 0.2), [(2, 3)], None),
    "gelu": (lambda m, f, d, x: f.gelu(x), [(2, 3)], None),
    "gelu_tanh": (lambda m, f, d, x: f.gelu(x, approximate="tanh"), [(2, 3)], None),
    "softmax": (lambda m, f, d, x: f.softmax(x, 1), [(2, 3)], None),
    "log_softmax": (lambda m, f, d, x: f.log_softmax(x, 0), [(2, 3)], None),
    "linear": (lambda m, f, d, x, w, b: f.linear(x, w, b), [(2, 3), (4, 3), (4,)], None),
    "linear_3d": (lambda m, f, d, x, w: f.linear(x, w), [(2, 1, 3), (2, 3)], None),
    "mse_loss": (lambda m, f, d, a, b: f.mse_loss(a, b), [(2, 3), (2, 3)], None),
    "mse_none": (lambda m, f, d, a, b: f.mse_loss(a, b, reduction="none"), [(2, 3), (2, 3)], None),
    "cross_entropy": (lambda m, f, d, x: f.cross_entropy(x, m.tensor([2, 0], device=d)), [(2, 3)], None),
    "cross_entropy_w": (lambda m, f, d, x: f.cross_entropy(
        x, m.tensor([2, 0, 2], device=d), weight=m.tensor([0.5, 2.0, 1.0], dtype=m.float64, device=d)),
        [(3, 3)], None),
    "cross_entropy_prob": (lambda m, f, d, x, p: f.cross_entropy(x, p), [(2, 3), (2, 3)], "unit"),
    "nll_none": (lambda m, f, d, x: f.nll_loss(x, m.tensor([1, 2], device=d), reduction="none"), [(2, 3)], None),
    "bce": (lambda m, f, d, x, t: f.binary_cross_entropy(x, t), [(2, 3), (2, 3)], "unit"),
    "bce_logits": (lambda m, f, d, x, t: f.binary_cross_entropy_with_logits(x, t), [(2, 3), (2, 3)], None),
    "conv2d": (lambda m, f, d, x, w, b: f.conv2d(x, w, b, padding=1), [(1, 2, 3, 3), (2, 2, 2, 2), (2,)], None),
    "conv2d_stride": (lambda m, f, d, x, w: f.conv2d(x, w, stride=2, dilation=1), [(1, 1, 4, 4), (1, 1, 2, 2)], None),
    "conv2d_groups": (lambda m, f, d, x, w: f.conv2d(x, w, groups=2), [(1, 2, 3, 3), (2, 1, 2, 2)], None),
    "max_pool2d": (lambda m, f, d, x: f.max_pool2d(x, 2), [(1, 1, 4, 4)], None),
    "avg_pool2d": (lambda m, f, d, x: f.avg_pool2d(x, 2, stride=1, padding=1), [(1, 1, 3, 3)], None),
}


def _inputs(shapes, domain, device, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if domain == "pos":
            v = rng.uniform(0.5, 2.0, s)
        elif domain == "unit":
            v = rng.uniform(0.1, 0.9, s)
        else:
            v = rng.standard_normal(s)
        out.append(v)
    return out, [autodiff.tensor(v, dtype=autodiff.float64, device=device, requires_grad=True) for v in out]


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_and_gradgradcheck(name, device):
    fn, shapes, domain = OPS[name]
    _, xs = _inputs(shapes, domain, device)

    def f(*a):
        return fn(autodiff, AF, device, *a)

    _numgrad.check(f, xs)
    _numgrad.check2(f, xs)


@pytest.mark.parametrize("name", sorted(OPS))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as tf

    fn, shapes, domain = OPS[name]
    raw, xs = _inputs(shapes, domain, "cpu", seed=1)
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in raw]
    out = fn(autodiff, AF, None, *xs)
    tout = fn(torch, tf, None, *ts)
    np.testing.assert_allclose(np.asarray(out.tolist()), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(2).standard_normal(tuple(tout.shape))
    grads = autodiff.autograd.grad((out * autodiff.tensor(w)).sum(), xs)
    tgrads = torch.autograd.grad((tout * torch.tensor(w)).sum(), ts)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(np.asarray(g.tolist()), tg.numpy(), rtol=1e-9, atol=1e-11)


def test_max_ties_share_like_torch():
    torch = pytest.importorskip("torch")
    v = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    for call in (lambda m, x: m.max(x), lambda m, x: m.amax(x, 1), lambda m, x: m.max(x, 1).values,
                 lambda m, x: m.min(x, 0).values, lambda m, x: m.norm(x, float("inf"))):
        x = autodiff.tensor(v, dtype=autodiff.float64, requires_grad=True)
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        call(autodiff, x).sum().backward()
        call(torch, t).sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad.tolist()), t.grad.numpy())


def test_repeated_advanced_indices_accumulate(device):
    x = autodiff.zeros(4, dtype=autodiff.float64, device=device, requires_grad=True)
    idx = autodiff.tensor([0, 2, 0, 0], device=device)
    x[idx].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0, 0.0]
    y = autodiff.zeros(2, 3, dtype=autodiff.float64, device=device, requires_grad=True)
    autodiff.gather(y, 1, autodiff.tensor([[1, 1, 1], [0, 2, 2]], device=device)).sum().backward()
    assert y.grad.tolist() == [[0.0, 3.0, 0.0], [1.0, 0.0, 2.0]]


def test_softmax_is_stable():
    x = autodiff.tensor([[1000.0, 0.0, -1000.0]])
    assert autodiff.softmax(x, 1).tolist() == [[1.0, 0.0, 0.0]]
    assert autodiff.log_softmax(x, 1)[0, 0].item() == 0.0
    assert np.isfinite(autodiff.logsumexp(x, 1).item())


def test_max_returns_values_and_indices():
    x = autodiff.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.argmax().item() == 3 and x.argmin(1).tolist() == [0, 1]
    assert x.max(1, keepdim=True).values.shape == (2, 1)


def test_grad_fn_names():
    x = autodiff.randn(2, 3, requires_grad=True)
    assert autodiff.tanh(x).grad_fn.name() == "TanhBackward0"
    assert autodiff.sigmoid(x).grad_fn.name() == "SigmoidBackward0"
    assert AF.relu(x).grad_fn.name() == "ReluBackward0"
    assert AF.softmax(x, 1).grad_fn.name() == "SoftmaxBackward0"
    assert AF.log_softmax(x, 1).grad_fn.name() == "LogSoftmaxBackward0"
    assert x.max(1).values.grad_fn.name() == "MaxBackward0"
    assert x.amax(1).grad_fn.name() == "AmaxBackward0"
    assert x.prod().grad_fn.name() == "ProdBackward0"
    assert x.cumsum(0).grad_fn.name() == "CumsumBackward0"
    assert AF.cross_entropy(x, autodiff.tensor([0, 1])).grad_fn.name() == "NllLossBackward0"
    assert AF.mse_loss(x, x.detach()).grad_fn.name() == "MseLossBackward0"
    assert AF.linear(x, autodiff.randn(4, 3), autodiff.randn(4)).grad_fn.name() == "AddmmBackward0"


def test_prod_with_zeros_matches_torch():
    torch = pytest.importorskip("torch")
    v = [[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]]
    for call in (lambda x: x.prod(), lambda x: x.prod(1)):
        x = autodiff.tensor(v, dtype=autodiff.float64, requires_grad=True)
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        call(x).sum().backward()
        call(t).sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad.tolist()), t.grad.numpy())
