"""``copy.deepcopy`` and ``pickle`` of tensors, parameters, state dicts and modules, against
PyTorch: what is copied (data, ``requires_grad``, ``.grad``), what is shared within one copy
(views and their base), and what is refused (non-leaves)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import autodiff

torch = pytest.importorskip("torch")


def _both(build):
    return build(autodiff), build(torch)


def _same(ours, theirs):
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
    assert (ours.requires_grad, ours.is_leaf) == (theirs.requires_grad, theirs.is_leaf)
    assert ours.stride() == theirs.stride()
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


SOURCES = {
    "leaf": lambda m: m.arange(6.0).reshape(2, 3),
    "requires_grad": lambda m: m.arange(6.0).requires_grad_(),
    "int": lambda m: m.arange(4),
    "transposed": lambda m: m.arange(6.0).reshape(2, 3).t(),
    "0-d": lambda m: m.tensor(2.5, dtype=m.float64),
    "parameter": lambda m: m.nn.Parameter(m.ones(2, 2)),
    "frozen parameter": lambda m: m.nn.Parameter(m.ones(2), requires_grad=False),
}


@pytest.mark.parametrize("copier", ["deepcopy", "pickle"])
@pytest.mark.parametrize("source", list(SOURCES))
def test_copies_match_torch(copier, source):
    def run(m):
        t = SOURCES[source](m)
        if t.requires_grad:
            t.grad = m.ones_like(t) * 3
        c = copy.deepcopy(t) if copier == "deepcopy" else pickle.loads(pickle.dumps(t))
        return t, c

    (o, oc), (t, tc) = _both(run)
    _same(oc, tc)
    assert (oc.grad is None) == (tc.grad is None)  # a plain tensor's grad is copied, a Parameter's not
    if oc.grad is not None:
        np.testing.assert_array_equal(oc.grad.numpy(), tc.grad.numpy())
    with autodiff.no_grad():
        oc.add_(1)  # a copy, not an alias
    assert not np.array_equal(oc.detach().numpy(), o.detach().numpy())


def test_non_leaves_refuse_deepcopy_but_pickle_as_leaves():
    def nonleaf(m):
        return m.ones(2, requires_grad=True) * 2

    with pytest.raises(RuntimeError) as theirs:
        copy.deepcopy(nonleaf(torch))
    with pytest.raises(RuntimeError) as ours:
        copy.deepcopy(nonleaf(autodiff))
    assert str(ours.value) == str(theirs.value)
    _same(pickle.loads(pickle.dumps(nonleaf(autodiff))), pickle.loads(pickle.dumps(nonleaf(torch))))


def test_one_deepcopy_keeps_views_on_their_base():
    def run(m):
        base = m.arange(6.0)
        d = copy.deepcopy({"base": base, "view": base[2:4], "alias": base.detach()})
        d["base"][2] = 100
        return d["view"].tolist(), d["alias"].tolist(), base.tolist()

    ours, theirs = _both(run)
    assert ours == theirs


def test_modules_and_state_dicts_deepcopy_like_torch():
    # The transfer-learning recipe keeps the best weights with copy.deepcopy(model.state_dict()).
    def run(m):
        m.manual_seed(0)
        model = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4))
        best = copy.deepcopy(model.state_dict())
        twin = copy.deepcopy(model)
        with m.no_grad():
            model[0].weight.add_(1)
            model[1].running_mean.add_(1)
        return best, twin, model

    best, twin, model = run(autodiff)
    assert list(best) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                          "1.num_batches_tracked"]
    assert best["1.running_mean"].tolist() == [0.0] * 4 and twin[1].running_mean.tolist() == [0.0] * 4
    assert not np.array_equal(twin[0].weight.detach().numpy(), model[0].weight.detach().numpy())
    assert type(twin[0].weight).__name__ == "Parameter" and twin[0].weight.requires_grad
    model.load_state_dict(best)  # the copy restores the model
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), twin[0].weight.detach().numpy())


def test_copies_stay_on_their_device(device):
    t = autodiff.arange(4.0, device=device)
    for c in (copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert c.device == t.device and c.tolist() == t.tolist()
