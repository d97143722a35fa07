"""Indexing (autodiff/ops/indexing.py): basic, mask and advanced indexing, views,
``__setitem__``, repeated indices and errors.

Gradients of every op are checked from its rows in autodiff/testing/op_specs.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff


def test_indexing_and_gradients(device):
    x = autodiff.arange(12.0, device=device).view(3, 4).requires_grad_()
    assert x[1].tolist() == [4.0, 5.0, 6.0, 7.0] and x[1].grad_fn.name() == "SelectBackward0"
    assert x[:, 1:3].shape == (3, 2) and x[:, 1:3].grad_fn.name() == "SliceBackward0"
    assert x[None].shape == (1, 3, 4)
    assert x[..., 0].tolist() == [0.0, 4.0, 8.0]
    assert x[1, 2].item() == 6.0
    mask = x > 5
    assert x[mask].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    assert x[mask].grad_fn.name() == "IndexBackward0"
    idx = autodiff.tensor([0, 0, 2], device=device)
    x[idx].sum().backward()
    assert x.grad.tolist() == [[2.0] * 4, [0.0] * 4, [1.0] * 4]  # repeated rows accumulate


def test_basic_index_is_a_view(device):
    x = autodiff.zeros(2, 3, device=device)
    row = x[0]
    row.fill_(1.0)
    assert x.tolist() == [[1.0] * 3, [0.0] * 3]
    assert x._version[0] == 1


def test_setitem(device):
    x = autodiff.zeros(2, 3, device=device)
    x[0, 1] = 5.0
    x[1] = autodiff.tensor([1.0, 2.0, 3.0], device=device)
    x[x > 4] = -1.0
    assert x.tolist() == [[0.0, -1.0, 0.0], [1.0, 2.0, 3.0]]
    w = autodiff.ones(3, requires_grad=True, device=device)
    y = autodiff.zeros(2, 3, device=device)
    y[1] = w * 2
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_index_errors(device):
    x = autodiff.zeros(2, 3, device=device)
    with pytest.raises(IndexError):
        x[5]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[autodiff.tensor([0.0], device=device)]


def test_repeated_advanced_indices_accumulate(device):
    x = autodiff.zeros(4, dtype=autodiff.float64, device=device, requires_grad=True)
    idx = autodiff.tensor([0, 2, 0, 0], device=device)
    x[idx].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0, 0.0]
    y = autodiff.zeros(2, 3, dtype=autodiff.float64, device=device, requires_grad=True)
    autodiff.gather(y, 1, autodiff.tensor([[1, 1, 1], [0, 2, 2]], device=device)).sum().backward()
    assert y.grad.tolist() == [[0.0, 3.0, 0.0], [1.0, 0.0, 2.0]]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
@pytest.mark.parametrize("value", [0, 1.5, -1, 7, float("nan"), True])
def test_mask_setitem_matches_numpy_indexing(device: str, dtype: str, value: object) -> None:
    # ``t[mask] = scalar`` with a mask of t's shape takes np.putmask on the CPU: same values,
    # same casts and same errors as NumPy's boolean indexing, which is PyTorch's index_put_.
    base = np.array([[0, 3, 1], [2, 0, 5]]).astype(dtype)
    mask = np.array([[True, False, True], [False, False, True]])
    expected = base.copy()
    try:
        with np.errstate(invalid="ignore"):
            expected[mask] = value
    except (ValueError, OverflowError) as exc:
        expected = type(exc)
    t = autodiff.tensor(base, device=device)
    m = autodiff.tensor(mask, device=device)
    if expected is ValueError or expected is OverflowError:
        with pytest.raises(expected):
            t[m] = value
        return
    with np.errstate(invalid="ignore"):
        t[m] = value
    np.testing.assert_array_equal(t.cpu().numpy(), expected)
    assert t._version[0] == 1


def test_setitem_refuses_what_torch_refuses(device):
    """Only tensors and Python numbers can be assigned: None used to be written as NaN."""
    x = autodiff.zeros(3, device=device)
    word = {"cpu": "torch.", "strict": "torch."}.get(device, "torch.cuda.")
    for value, name in ((None, "NoneType"), ("a", "str"), ([1.0], "list"), (object(), "object"),
                        (np.float32(1.0), "numpy.float32"), (np.ones(1), "numpy.ndarray")):
        with pytest.raises(TypeError, match=f"can't assign a {name} to a {word}FloatTensor"):
            x[0:1] = value
    with pytest.raises(TypeError, match="can't assign a NoneType to a .*LongTensor"):
        autodiff.zeros(2, dtype=autodiff.int64, device=device)[0] = None
    assert x.tolist() == [0.0, 0.0, 0.0]
    x[0] = True
    x[1] = 2
    x[2] = np.float64(3.0)  # a float subclass: a number
    assert x.tolist() == [1.0, 2.0, 3.0]


def _index_op_results(m):
    """Values and first derivatives of the newer index ops in library ``m`` (autodiff or torch)."""
    x = m.arange(12.0).reshape(3, 4).requires_grad_()
    i = m.tensor([2, 0, 2])
    src = m.ones(3, 3) * m.tensor([[1.0], [2.0], [3.0]])
    idx = m.tensor([[0, 1, 0], [2, 2, 1]])
    s = m.arange(6.0).reshape(2, 3) + 1
    r = [m.index_add(x, 1, i, src, alpha=2), x.index_copy(0, m.tensor([2, 0]), m.zeros(2, 4)),
         x.index_fill(1, m.tensor([1, 3]), -1.0), m.take(x, m.tensor([[0, 11], [5, 5]])),
         m.take_along_dim(x, m.tensor([[0], [2], [1]]), 1), m.take_along_dim(x, m.tensor([[0, 1, 2, 0]]), 0),
         m.masked_select(x, x > 5), m.masked_select(x, m.tensor([True, False, True, False])),
         m.masked_scatter(x, m.tensor([True, False, True, False]), m.arange(100.0, 112.0).reshape(3, 4)),
         m.nonzero(m.tensor([[1, 0], [0, 3]])), *m.nonzero(m.tensor([[1, 0], [0, 3]]), as_tuple=True),
         m.argwhere(m.tensor([0, 1, 1])), m.select(x, 1, -1), m.select_scatter(x, m.zeros(3), 1, 0),
         m.slice_scatter(x, m.zeros(3, 2), 1, 0, 4, 2), m.scatter(x, 0, idx, s), x.scatter(1, idx, 9.5),
         x[range(2)], x[:, [1, 0]], x[[0, 2]]]
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            r.append(m.scatter_reduce(x, 0, idx, s, reduce, include_self=include_self))
    y = ((m.index_add(x, 1, i, src, alpha=2) ** 2).sum() + (x.index_copy(0, m.tensor([2, 0]), x[:2] * 3) ** 2).sum()
         + m.take_along_dim(x, m.tensor([[0], [2], [1]]), 1).sum() + (m.masked_scatter(x, x > 4, x * 2) ** 2).sum()
         + m.scatter(x, 0, idx, s).sum())
    for reduce in ("sum", "prod", "mean", "amax", "amin"):  # x has a 0: prod's exact gradient
        for include_self in (True, False):
            y = y + (m.scatter_reduce(x + 1, 0, idx, x[:2, :3] + 2, reduce, include_self=include_self) ** 2).sum()
            y = y + (m.scatter_reduce(x, 0, idx, x[:2, :3] - 1, reduce, include_self=include_self) ** 2).sum()
    (g,) = m.autograd.grad(y, x)
    return [t.tolist() for t in r] + [g.tolist()]


def test_newer_index_ops_match_torch():
    torch = pytest.importorskip("torch")
    for k, (mine, theirs) in enumerate(zip(_index_op_results(autodiff), _index_op_results(torch))):
        assert mine == theirs, k


def test_scatter_keeps_the_last_write_on_every_device(device):
    x = autodiff.zeros(3, device=device)
    out = x.scatter(0, autodiff.tensor([1, 1, 2], device=device), autodiff.tensor([5.0, 6.0, 7.0], device=device))
    assert out.tolist() == [0.0, 6.0, 7.0]
    y = autodiff.arange(6.0, device=device).reshape(2, 3)
    assert y[range(1, 2)].tolist() == [[3.0, 4.0, 5.0]] and y[:, [2, 0]].tolist() == [[2.0, 0.0], [5.0, 3.0]]
    got = autodiff.scatter_reduce(y, 1, autodiff.tensor([[0, 0, 1]], device=device), y[:1] + 1, "prod")
    assert got.tolist() == [[0.0, 3.0, 2.0], [3.0, 4.0, 5.0]]
