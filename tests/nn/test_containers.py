"""Containers against torch.nn: Sequential and ModuleList list operations, ModuleDict,
ParameterList and ParameterDict (registration, names, repr, iteration)."""

from __future__ import annotations

from collections import OrderedDict

import pytest

import autodiff
import autodiff.nn as nn
from tests.nn.module_oracle import torch


def _names(m):
    return [n for n, _ in m.named_parameters()]


@pytest.mark.parametrize("cls", ["Sequential", "ModuleList"])
def test_sequence_operations_match_torch(cls):
    def build(lib):
        mods = [lib.nn.Linear(2, 2), lib.nn.ReLU(), lib.nn.Linear(2, 3), lib.nn.Tanh()]
        seq = getattr(lib.nn, cls)(*mods) if cls == "Sequential" else getattr(lib.nn, cls)(mods)
        seq.append(lib.nn.Linear(3, 1))
        seq.insert(1, lib.nn.Sigmoid())
        del seq[2]
        seq[0] = lib.nn.Linear(2, 2, bias=False)
        popped = seq.pop(1)
        seq.extend([lib.nn.Identity()])
        seq += lib.nn.Sequential(lib.nn.ReLU()) if cls == "Sequential" else [lib.nn.ReLU()]
        return seq, popped

    (t, tp), (o, op) = build(torch), build(autodiff)
    assert repr(o) == repr(t) and repr(op) == repr(tp)
    assert _names(o) == _names(t)
    assert len(o) == len(t) == 6
    assert [type(m).__name__ for m in o] == [type(m).__name__ for m in t]
    assert repr(o[1:4]) == repr(t[1:4]) and type(o[1:4]) is type(o)
    assert type(o[-1]).__name__ == "ReLU"
    with pytest.raises(IndexError):
        o[6]
    joined = o + o
    assert len(joined) == 12 and type(joined) is type(o)


def test_sequential_runs_in_order_and_keeps_ordered_dict_names():
    seq = nn.Sequential(OrderedDict([("lin", nn.Linear(3, 2)), ("act", nn.ReLU())]))
    assert _names(seq) == ["lin.weight", "lin.bias"] and seq[0] is seq.lin
    assert seq(autodiff.ones(4, 3)).shape == (4, 2)
    assert (seq[1:])(autodiff.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]


def test_module_dict_matches_torch():
    def build(lib):
        d = lib.nn.ModuleDict({"b": lib.nn.Linear(2, 2), "a": lib.nn.ReLU()})
        d["c"] = lib.nn.Linear(2, 1)
        d.update([("e", lib.nn.Tanh())])
        d.pop("a")
        return d

    t, o = build(torch), build(autodiff)
    assert repr(o) == repr(t) and _names(o) == _names(t)
    assert list(o.keys()) == list(t.keys()) == ["b", "c", "e"] and "c" in o and len(o) == 3
    assert [type(m).__name__ for m in o.values()] == ["Linear", "Linear", "Tanh"]
    del o["c"]
    assert list(o) == ["b", "e"]


def test_parameter_list_and_dict_match_torch():
    def build(lib):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2)), lib.ones(3)])
        pl.append(lib.nn.Parameter(lib.ones(2, 2)))
        pd = lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.zeros(2, 3))})
        pd["b"] = lib.ones(3)
        holder = lib.nn.Module()
        holder.pl, holder.pd = pl, pd
        return holder, pl, pd

    (ht, plt, pdt), (ho, plo, pdo) = build(torch), build(autodiff)
    assert repr(plo) == repr(plt) and repr(pdo) == repr(pdt)
    assert _names(ho) == _names(ht) == ["pl.0", "pl.1", "pl.2", "pd.w", "pd.b"]
    assert all(isinstance(p, nn.Parameter) for p in plo) and isinstance(pdo["b"], nn.Parameter)
    assert len(plo) == 3 and [tuple(p.shape) for p in plo[1:]] == [(3,), (2, 2)]
    assert list(pdo.keys()) == ["w", "b"] and "w" in pdo and pdo.get("x") is None
    pdo.pop("w")
    assert _names(ho) == ["pl.0", "pl.1", "pl.2", "pd.b"]
    (plo[1].sum() * 2).backward()
    assert plo[1].grad.tolist() == [2.0, 2.0, 2.0]


def test_module_list_repr_groups_repeats_like_torch():
    def build(lib):
        return lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2), lib.nn.Linear(2, 2), lib.nn.ReLU(),
                                  lib.nn.Sequential(lib.nn.ReLU(), lib.nn.ReLU()), lib.nn.ReLU()])

    assert repr(build(autodiff)) == repr(build(torch))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
