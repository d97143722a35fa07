"""Sorting and selection (autodiff/ops/sorting.py): values, indices and node names against
PyTorch, ties (stable order, where the gradient goes), NaNs, and the integer-valued ops.

Gradients on distinct values are checked from the rows in autodiff/testing/op_specs.py;
ties are kinks, so their gradient rule is checked here, against PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff

TIES = [3.0, 1.0, 1.0, 2.0, 1.0, 3.0]
NAN = float("nan")


def _both(fn, values, dtype="float64"):
    """``fn(m, x)`` in autodiff and torch on the same leaf values; the results and grads."""
    torch = pytest.importorskip("torch")
    out = []
    for m in (autodiff, torch):
        x = m.tensor(values, dtype=getattr(m, dtype), requires_grad=True)
        r = fn(m, x)
        loss = sum((o * (1.0 + m.arange(o.numel(), dtype=o.dtype).reshape(o.shape))).sum()
                   for o in (r if isinstance(r, tuple) else (r,)) if o.dtype.is_floating_point)
        loss.backward()
        out.append((r, x.grad))
    return out


def _same(a, b):
    np.testing.assert_allclose(np.asarray(a.tolist(), dtype=float), b.detach().double().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, fn", [
    ("sort", lambda m, x: m.sort(x)),
    ("sort-descending", lambda m, x: m.sort(x, descending=True, stable=True)),
    ("median-dim", lambda m, x: m.median(x, 0)),
    ("mode", lambda m, x: m.mode(x)),
    ("cummax", lambda m, x: m.cummax(x, 0)),
    ("cummin", lambda m, x: m.cummin(x, 0)),
    ("kthvalue-unique", lambda m, x: m.kthvalue(x, 5)),
])
def test_ties_pick_the_indices_torch_picks(name, fn):
    """Stable order among equal values; the gradient goes to the index returned."""
    (mine, gm), (theirs, gt) = _both(fn, TIES)
    for a, b in zip(mine, theirs):
        _same(a, b)
    _same(gm, gt)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.median(x), lambda m, x: m.nanmedian(x), lambda m, x: m.quantile(x, 0.3),
    lambda m, x: m.quantile(x, 0.5, interpolation="midpoint"),
])
def test_full_median_shares_the_gradient_between_ties(fn):
    (mine, gm), (theirs, gt) = _both(fn, TIES)
    _same(mine, theirs)
    _same(gm, gt)


def test_topk_and_kthvalue_take_the_stable_index_among_ties():
    """PyTorch leaves their index among equal values unspecified; ours is the stable one."""
    x = autodiff.tensor(TIES)
    assert autodiff.topk(x, 3).indices.tolist() == [0, 5, 3]
    assert autodiff.topk(x, 2, largest=False).indices.tolist() == [1, 2]
    assert autodiff.kthvalue(x, 2).indices.tolist() == 2


def test_nans_sort_last_and_propagate_like_torch():
    v = [[1.0, NAN, 2.0, 0.5], [4.0, 0.0, 3.0, NAN]]
    for fn in (lambda m, x: m.median(x, 1), lambda m, x: m.nanmedian(x, 1), lambda m, x: m.sort(x, 1),
               lambda m, x: m.sort(x, 1, descending=True), lambda m, x: m.quantile(x, 0.4, 1),
               lambda m, x: m.nanquantile(x, 0.4, 1), lambda m, x: m.nanmedian(x),
               lambda m, x: m.cummax(x, 1)):
        (mine, _), (theirs, _) = _both(fn, v)
        for a, b in zip(mine if isinstance(mine, tuple) else (mine,),
                        theirs if isinstance(theirs, tuple) else (theirs,)):
            _same(a, b)


def test_node_names_and_return_types():
    x = autodiff.tensor([[2.0, 1.0], [0.0, 3.0]], requires_grad=True)
    assert x.sort().values.grad_fn.name() == "SortBackward0"
    assert x.sort(stable=True).values.grad_fn.name() == "SortBackward1"
    assert x.topk(1).values.grad_fn.name() == "TopkBackward0"
    assert x.median().grad_fn.name() == "MedianBackward0"
    assert x.median(0).values.grad_fn.name() == "MedianBackward1"
    assert x.kthvalue(1).values.grad_fn.name() == "KthvalueBackward0"
    assert x.cummax(0).values.grad_fn.name() == "CummaxBackward0"
    assert repr(x.sort()).startswith("torch.return_types.sort(\nvalues=tensor(")
    assert x.mode(1).indices.dtype is autodiff.int64
    assert autodiff.sort(autodiff.tensor(2.0)).values.shape == ()


def test_integer_valued_ops_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda m: m.unique(m.tensor([3, 1, 2, 1]), return_inverse=True, return_counts=True),
        lambda m: m.unique(m.tensor([[1, 2], [1, 2], [0, 5]]), dim=0, return_inverse=True),
        lambda m: m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1, 1]), return_inverse=True,
                                       return_counts=True),
        lambda m: m.searchsorted(m.tensor([1, 3, 5, 7]), m.tensor([[3, 6], [9, 0]])),
        lambda m: m.searchsorted(m.tensor([[1, 3, 5], [2, 4, 6]]), m.tensor([[3, 6], [3, 6]]), right=True),
        lambda m: m.bucketize(m.tensor([0.5, 3.0, 7.0]), m.tensor([1.0, 3.0, 5.0]), right=True),
        lambda m: m.bincount(m.tensor([0, 2, 2, 5]), minlength=8),
        lambda m: m.bincount(m.tensor([0, 2, 2]), weights=m.tensor([0.5, 1.0, 2.0])),
        lambda m: m.histc(m.tensor([1.0, 2, 1, 4]), bins=4, min=0, max=3),
        lambda m: m.histc(m.tensor([1.0, 2, 1, 4]), bins=3),
        lambda m: m.argsort(m.tensor([[2, 1, 2], [0, 3, 0]]), dim=1, descending=True),
    ]
    for case in cases:
        mine, theirs = case(autodiff), case(torch)
        mine = mine if isinstance(mine, tuple) else (mine,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        for a, b in zip(mine, theirs):
            assert a.tolist() == b.tolist() and str(a.dtype) == str(b.dtype)


def test_sorting_on_every_device(device):
    x = autodiff.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0]], device=device, requires_grad=True)
    values, indices = x.sort(1, descending=True)
    assert values.tolist() == [[3.0, 2.0, 1.0], [5.0, 5.0, 0.0]] and indices.tolist() == [[0, 2, 1], [1, 2, 0]]
    (values * autodiff.tensor([1.0, 2.0, 3.0], device=device)).sum().backward()
    assert x.grad.tolist() == [[1.0, 3.0, 2.0], [3.0, 1.0, 2.0]]
    assert x.mode(1).values.tolist() == [1.0, 5.0]
    assert autodiff.unique(x.detach()).tolist() == [0.0, 1.0, 2.0, 3.0, 5.0]
    assert autodiff.searchsorted(autodiff.tensor([1.0, 3.0], device=device), x.detach()).tolist() == [
        [1, 0, 1], [0, 2, 2]]
    assert x.cummin(1).indices.tolist() == [[0, 1, 1], [0, 0, 0]]


def test_bad_arguments_raise_like_torch():
    x = autodiff.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(3)
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range"):
        x.kthvalue(0)
    with pytest.raises(RuntimeError, match="q values must be in the range"):
        x.quantile(1.5)
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative"):
        autodiff.bincount(autodiff.tensor([-1, 2]))
