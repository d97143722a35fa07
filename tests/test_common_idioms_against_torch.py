"""Idioms common in PyTorch programs, each run with autodiff and with PyTorch and compared:
what they print must be the same (values, dtypes, errors)."""

from __future__ import annotations

import pytest

import autodiff

torch = pytest.importorskip("torch")


def _run(idiom, m):
    try:
        return idiom(m)
    except Exception as e:  # the class and message are what is compared
        return f"{type(e).__name__}: {e}"


def _where_one_argument(m):
    return [t.tolist() for t in m.where(m.tensor([[0, 1], [1, 0]]))], [t.tolist() for t in m.where(m.tensor(1))]


def _index_put_accumulate(m):
    a = m.zeros(3)
    a.index_put_((m.tensor([0, 0, 2]),), m.tensor([1.0, 2.0, 5.0]), accumulate=True)
    b = m.zeros(2, 3, dtype=m.int64)
    b.index_put_((m.tensor([0, 0]), m.tensor([1, 1])), m.tensor(2), accumulate=True)
    x, v = m.ones(3, requires_grad=True), m.tensor([1.0, 2.0], requires_grad=True)
    y = x.index_put((m.tensor([1, 1]),), v, accumulate=True)
    (y * m.tensor([1.0, 2.0, 3.0])).sum().backward()
    return a.tolist(), b.tolist(), y.tolist(), x.grad.tolist(), v.grad.tolist()


def _index_put_accumulate_dtypes_must_match(m):
    return m.zeros(3).index_put_((m.tensor([0]),), m.tensor([1.0], dtype=m.float64), accumulate=True)


def _module_lookups(m):
    seq = m.nn.Sequential(m.nn.Linear(1, 2), m.nn.Sequential(m.nn.BatchNorm1d(3)))
    said = [type(seq.get_submodule("1.0")).__name__, tuple(seq.get_parameter("1.0.weight").shape),
            seq.get_buffer("1.0.running_var").tolist(), type(seq.get_submodule("")).__name__]
    for lookup in (lambda: seq.get_submodule("1.5"), lambda: seq.get_submodule("1.0.weight"),
                   lambda: seq.get_parameter("1.0.running_mean"), lambda: seq.get_buffer("1.0.weight"),
                   lambda: seq.get_parameter("0.nope")):
        said.append(_run(lambda _m, found=lookup: found(), m))
    return said


def _load_state_dict_assign(m):
    lin = m.nn.Linear(2, 2)
    lin.weight.requires_grad_(False)
    sd = {"weight": m.ones(2, 2), "bias": m.zeros(2)}
    result = repr(lin.load_state_dict(sd, assign=True))
    bn = m.nn.BatchNorm1d(2)
    bsd = {k: v.clone() + 1 for k, v in bn.state_dict().items()}
    bn.load_state_dict(bsd, assign=True)
    return (result, lin.weight.data_ptr() == sd["weight"].data_ptr(), type(lin.weight).__name__,
            lin.weight.requires_grad, lin.bias.requires_grad, bn.running_mean is bsd["running_mean"])


def _half_module(m):
    lin = m.nn.Linear(2, 2).half()
    return str(lin.weight.dtype), str(lin.bias.dtype)


IDIOMS = {f.__name__[1:]: f for f in (_where_one_argument, _index_put_accumulate,
                                        _index_put_accumulate_dtypes_must_match, _module_lookups,
                                        _load_state_dict_assign, _half_module)}


@pytest.mark.parametrize("name", list(IDIOMS))
def test_idiom_prints_what_torch_prints(name):
    ours, theirs = _run(IDIOMS[name], autodiff), _run(IDIOMS[name], torch)
    assert ours == theirs
