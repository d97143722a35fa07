"""PyTorch as an oracle: the same randomly drawn programs (and every op spec) run in
autodiff and in torch; forward values, first and second derivatives must agree to
rtol 1e-7 in float64. The documented misuse cases must raise the same exception types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff.testing import SPECS, op_graphs, op_inputs
from tests.spec_utils import assert_close, grads_of, loss, outputs, scale

torch = pytest.importorskip("torch")

RTOL = 1e-7


def _derivatives(m, f, xs):
    """Forward value, first derivatives, and second derivatives (Hessian-vector products
    along fixed uneven directions) of the scalar ``f(xs)``."""
    y = f(xs)
    g1 = grads_of(m, y, xs, create_graph=True)
    hv = None
    for g in g1:
        if g.requires_grad:
            term = loss(m, (g,))
            hv = term if hv is None else hv + term
    g2 = grads_of(m, hv, xs) if hv is not None else tuple(m.zeros_like(x) for x in xs)
    return y, g1, g2


def _compare(mine, theirs, what):
    for name, a, e in zip(("forward", "first derivative", "second derivative"), mine, theirs):
        for k, (ai, ei) in enumerate(zip(a if isinstance(a, tuple) else (a,),
                                         e if isinstance(e, tuple) else (e,))):
            assert tuple(ai.shape) == tuple(ei.shape), f"{what}: {name} {k} shape"
            assert_close(ai, ei, rtol=RTOL, atol=RTOL * scale(ei), what=f"{what}: {name} {k}")


@settings(max_examples=300)
@given(program=op_graphs())
def test_random_programs_match_torch(program) -> None:
    xs = program.inputs.tensors(autodiff)
    ts = program.inputs.tensors(torch)
    mine = _derivatives(autodiff, lambda v: program.run(autodiff, v), xs)
    theirs = _derivatives(torch, lambda v: program.run(torch, v), ts)
    _compare(mine, theirs, program.describe())


TORCH_SPECS = [s for s in SPECS if s.torch]


@pytest.mark.parametrize("spec", TORCH_SPECS, ids=[s.id for s in TORCH_SPECS])
@settings(max_examples=6)
@given(data=st.data())
def test_every_spec_matches_torch(spec, data) -> None:
    case = data.draw(op_inputs(spec), label="case")

    def f(m):
        def run(xs):
            outs = outputs(spec.fn(m, *xs, **case.params))
            return loss(m, outs)

        return run

    xs, ts = case.tensors(autodiff), case.tensors(torch)
    mine_out = outputs(spec.fn(autodiff, *xs, **case.params))
    torch_out = outputs(spec.fn(torch, *ts, **case.params))
    assert [o.requires_grad for o in mine_out] == [o.requires_grad for o in torch_out], spec.id
    for a, e in zip(mine_out, torch_out):
        assert str(a.dtype) == str(e.dtype), spec.id
    _compare(_derivatives(autodiff, f(autodiff), xs), _derivatives(torch, f(torch), ts), spec.id)


# ---- misuse: the same exception types (and messages where users read them) ------------------
def _raises(m, action):
    try:
        action(m)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return exc
    return None


def _non_scalar_backward(m):
    x = m.ones(2, 2, requires_grad=True)
    (x * 2).backward()


def _second_backward(m):
    x = m.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _inplace_on_leaf(m):
    x = m.ones(2, requires_grad=True)
    x.add_(1)


def _saved_tensor_modified(m):
    x = m.ones(2, requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    y.add_(1)
    z.backward()


@pytest.mark.parametrize("action", [_non_scalar_backward, _second_backward, _inplace_on_leaf,
                                    _saved_tensor_modified])
def test_misuse_raises_like_torch(action) -> None:
    mine, theirs = _raises(autodiff, action), _raises(torch, action)
    assert theirs is not None and mine is not None
    assert type(mine) is type(theirs)
    first = str(theirs).split(".")[0]
    assert first in str(mine), f"{mine!r} vs torch {theirs!r}"


def test_device_mismatch_raises_like_torch() -> None:
    """autodiff: cpu + strict; torch (CPU build): cpu + meta. Both a RuntimeError."""
    mine = _raises(autodiff, lambda m: m.ones(2) + m.ones(2, device="strict"))
    theirs = _raises(torch, lambda m: m.ones(2) + m.ones(2, device="meta"))
    assert type(mine) is type(theirs) is RuntimeError
    assert "Expected all tensors to be on the same device" in str(mine)
