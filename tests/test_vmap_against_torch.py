"""vmap against ``torch.vmap`` where the op table's vmap-against-stacking rows do not reach:
ops called without their dim argument (an op's default dim counts in the sample, never the
batch: ``x.split(1)`` inside vmap splits each sample's first dim, ``normalize`` normalizes
each sample's dim 1), and the integer and in-place operators."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
from autodiff import func

torch = pytest.importorskip("torch")

CALLS = {
    "split": lambda m, x: x.split(1),
    "chunk": lambda m, x: x.chunk(2),
    "unbind": lambda m, x: x.unbind(),
    "torch.split": lambda m, x: m.split(x, 1),
    "torch.chunk": lambda m, x: m.chunk(x, 2),
    "torch.unbind": lambda m, x: m.unbind(x),
    "normalize": lambda m, x: m.nn.functional.normalize(x),
    "cosine_similarity unbatched other": lambda m, x: m.nn.functional.cosine_similarity(
        x, m.ones(x.shape, dtype=x.dtype)),
    "cosine_similarity": lambda m, x: m.nn.functional.cosine_similarity(x, x * 2 + 1),
    "sort": lambda m, x: x.sort().values,
    "argsort": lambda m, x: x.argsort(),
    "topk": lambda m, x: x.topk(1).values,
    "kthvalue": lambda m, x: x.kthvalue(1).values,
    "glu": lambda m, x: m.nn.functional.glu(x),
    "sum": lambda m, x: x.sum(),
    "mean": lambda m, x: x.mean(),
    "std": lambda m, x: x.std(),
    "var": lambda m, x: x.var(),
    "prod": lambda m, x: x.prod(),
    "argmax": lambda m, x: x.argmax(),
    "max": lambda m, x: x.max(),
    "median": lambda m, x: x.median(),
    "logsumexp": lambda m, x: m.logsumexp(x, (0, 1)),
    "squeeze": lambda m, x: x[:1].squeeze(),
    "flatten": lambda m, x: x.flatten(),
    "norm": lambda m, x: x.norm(),
    "diagonal": lambda m, x: x.diagonal(),
    "trace": lambda m, x: x[:, :2].trace(),
    "cumsum last": lambda m, x: x.cumsum(-1),
    "roll": lambda m, x: x.roll(1),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_default_dims_count_in_the_sample(name):
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (an op of the list that loops says so)
        got = func.vmap(lambda a: CALLS[name](autodiff, a))(autodiff.tensor(x))
        want = torch.vmap(lambda a: CALLS[name](torch, a))(torch.tensor(x))
    got, want = (got, want) if isinstance(want, torch.Tensor) else (list(got), list(want))
    for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)


INTEGER_CALLS = {
    "bitwise_and": lambda m, x, y: m.bitwise_and(x, y),
    "bitwise_or": lambda m, x, y: x | y,
    "bitwise_xor": lambda m, x, y: x ^ y,
    "bitwise_left_shift": lambda m, x, y: m.bitwise_left_shift(x, y % 3),
    "shift operators": lambda m, x, y: (x << 1) + (y >> 1),
    "gcd": lambda m, x, y: m.gcd(x, y),
    "lcm": lambda m, x, y: m.lcm(x, y),
    "isin": lambda m, x, y: m.isin(x, m.tensor([1, 5, 7])),
    "isreal": lambda m, x, y: m.isreal(x),
    "in-place operators": lambda m, x, y: _in_place(x.clone(), y),
}


def _in_place(t, y):
    t += y
    t *= 2
    t.bitwise_and_(7).gcd_(y + 1).sub_(1)
    t <<= 1
    return t


@pytest.mark.parametrize("name", list(INTEGER_CALLS))
def test_integer_and_in_place_ops_batch_like_torch(name):
    x, y = np.arange(12).reshape(3, 4), np.arange(12)[::-1].reshape(3, 4).copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # each of these has a batching rule: no loop warning
        got = func.vmap(lambda a, b: INTEGER_CALLS[name](autodiff, a, b))(autodiff.tensor(x), autodiff.tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's own loop warnings, for isin)
        want = torch.vmap(lambda a, b: INTEGER_CALLS[name](torch, a, b))(torch.tensor(x), torch.tensor(y))
    assert got.tolist() == want.tolist() and str(got.dtype) == str(want.dtype)


def _set_items(m, x, y):
    z = x.clone()
    z[1:3] = y[0, :2]
    z[0] = 5.0
    z[..., -1] = y.sum()
    z[m.tensor([True, False, False, True])] *= 2
    return z


# Ops of two batched float tensors x (4,) ... per sample; y (3, 3) per sample.
BATCHED_CALLS = {
    "setitem": _set_items,
    "setitem grad": lambda m, x, y: m.func.grad(lambda a, b: (_set_items(m, a, b) ** 2).sum())(x, y),
    "select_scatter": lambda m, x, y: m.select_scatter(y, x[:3], 0, 1),
    "slice_scatter": lambda m, x, y: m.slice_scatter(y, x[:3].reshape(1, 3), start=1, end=2),
    "diagonal_scatter": lambda m, x, y: m.diagonal_scatter(y, x[:3]),
    "quantile": lambda m, x, y: m.quantile(y, 0.3),
    "quantile q tensor dim": lambda m, x, y: m.quantile(y, m.tensor([0.2, 0.7], dtype=y.dtype), dim=1),
    "nanquantile": lambda m, x, y: m.nanquantile(x, m.tensor([0.5, 0.9], dtype=x.dtype)),
    "cross default dim": lambda m, x, y: m.cross(y, y * 2 + 1),
    "cross unbatched other": lambda m, x, y: m.cross(y, m.ones(3, dtype=y.dtype).expand(3, 3), dim=1),
    "diag of vector": lambda m, x, y: m.diag(x, 1),
    "diag of matrix": lambda m, x, y: m.diag(y, -1),
    "diag_embed": lambda m, x, y: m.diag_embed(y),
    "adjoint": lambda m, x, y: y.adjoint(),
    "vdot": lambda m, x, y: m.vdot(x, x * 3),
    "dist": lambda m, x, y: m.dist(y, y.t(), 3),
    "addr": lambda m, x, y: m.addr(y, x[:3], x[1:], beta=0.5, alpha=2),
    "addbmm": lambda m, x, y: m.addbmm(y, y.expand(2, 3, 3), y.t().expand(2, 3, 3)),
    "repeat_interleave": lambda m, x, y: m.repeat_interleave(y, 2),
    "repeat_interleave dim": lambda m, x, y: y.repeat_interleave(m.tensor([1, 0, 2]), dim=1),
    "rot90": lambda m, x, y: m.rot90(y),
    "rot90 k dims": lambda m, x, y: m.rot90(y, 3, (1, 0)),
    "diff": lambda m, x, y: m.diff(y, 2),
    "diff dim": lambda m, x, y: m.diff(y, dim=0),
    "hinge_embedding_loss": lambda m, x, y: m.nn.functional.hinge_embedding_loss(
        y, m.tensor([[1.0, -1.0, 1.0]] * 3, dtype=y.dtype)),
    "cosine_embedding_loss": lambda m, x, y: m.nn.functional.cosine_embedding_loss(
        y, y.t(), m.tensor([1, -1, 1]), 0.1),
    "cosine_embedding_loss one row": lambda m, x, y: m.nn.functional.cosine_embedding_loss(
        x, x.flip(0), m.tensor(-1), reduction="sum"),
    "multi_margin_loss": lambda m, x, y: m.nn.functional.multi_margin_loss(
        y, m.tensor([0, 2, 1]), weight=m.tensor([1.0, 2.0, 0.5], dtype=y.dtype)),
    "multilabel_margin_loss": lambda m, x, y: m.nn.functional.multilabel_margin_loss(
        y, m.tensor([[2, -1, 0], [0, 1, -1], [1, 2, 0]]), reduction="none"),
    "multilabel_soft_margin_loss": lambda m, x, y: m.nn.functional.multilabel_soft_margin_loss(
        y, (y > 0).to(y.dtype)),
    "triplet_margin_loss": lambda m, x, y: m.nn.functional.triplet_margin_loss(y, y.t(), y * 2, swap=True),
    "broadcast_tensors": lambda m, x, y: m.stack(m.broadcast_tensors(y, x[:3])),
    "inner": lambda m, x, y: m.inner(y, y[:2]),
    "inner of vectors": lambda m, x, y: m.inner(x, x * 2),
    "cdist": lambda m, x, y: m.cdist(y, y[:2] + 1),
    "hsplit": lambda m, x, y: m.stack(m.hsplit(y, 3)),
    "vsplit": lambda m, x, y: m.cat(m.vsplit(y, [1])),
    "hsplit of a vector": lambda m, x, y: m.cat(m.hsplit(x, [1, 3])),
    "triplet_margin_with_distance_loss": lambda m, x, y: m.nn.functional.triplet_margin_with_distance_loss(
        y, y.t(), y * 2, reduction="sum"),
}


@pytest.mark.parametrize("name", list(BATCHED_CALLS))
def test_batched_ops_match_torch_vmap(name):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 4)), rng.standard_normal((2, 3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # each has a batching rule: no loop warning
        got = func.vmap(lambda a, b: BATCHED_CALLS[name](autodiff, a, b))(autodiff.tensor(x), autodiff.tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's own warnings)
        want = torch.vmap(lambda a, b: BATCHED_CALLS[name](torch, a, b))(torch.tensor(x), torch.tensor(y))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
