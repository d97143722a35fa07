"""PyTorch as an oracle: the same randomly drawn programs (and every op spec) run in
autodiff and in torch; forward values, first and second derivatives must agree in float64
(random programs to rtol 1e-7; single op specs to rtol 1e-10 for values, 1e-9 for
derivatives), and each spec's gradients must exist for the same inputs. The documented
misuse cases must raise the same exception types."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff.testing import COMPOSITE_SPECS, SPECS, op_graphs, op_inputs
from tests.spec_utils import assert_close, grads_of, loss, outputs, scale

torch = pytest.importorskip("torch")

RTOL = 1e-7  # random programs: deep compositions amplify rounding differences
# One op spec in float64: (rtol, atol relative to the largest magnitude) of the forward value,
# the first and the second derivatives.
SPEC_TOLS = ((1e-10, 1e-12), (1e-9, 1e-11), (1e-9, 1e-9))


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


def _compare(mine, theirs, what, tols=((RTOL, RTOL),) * 3):
    for name, a, e, (rtol, atol) in zip(("forward", "first derivative", "second derivative"), mine,
                                        theirs, tols):
        for k, (ai, ei) in enumerate(zip(a if isinstance(a, tuple) else (a,),
                                         e if isinstance(e, tuple) else (e,))):
            assert tuple(ai.shape) == tuple(ei.shape), f"{what}: {name} {k} shape"
            assert_close(ai, ei, rtol=rtol, atol=atol * scale(ei), what=f"{what}: {name} {k}")


@settings(max_examples=300)
@given(program=op_graphs())
def test_random_programs_match_torch(program) -> None:
    xs = program.inputs.tensors(autodiff)
    ts = program.inputs.tensors(torch)
    mine = _derivatives(autodiff, lambda v: program.run(autodiff, v), xs)
    theirs = _derivatives(torch, lambda v: program.run(torch, v), ts)
    _compare(mine, theirs, program.describe())


TORCH_SPECS = [s for s in SPECS + COMPOSITE_SPECS if s.torch]


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
    rtol, atol = SPEC_TOLS[0]
    for k, (a, e) in enumerate(zip(mine_out, torch_out)):
        assert str(a.dtype) == str(e.dtype), spec.id
        assert tuple(a.shape) == tuple(e.shape), f"{spec.id}: output {k} shape"
        assert_close(a, e, rtol=rtol, atol=atol * scale(e), what=f"{spec.id}: output {k}")
    # Rows that round to float32/16 sum their loss in that dtype: in any order, so RTOL there.
    tols = SPEC_TOLS if all(e.dtype == torch.float64 for e in torch_out) else ((RTOL, RTOL),) * 3
    _compare(_derivatives(autodiff, f(autodiff), xs), _derivatives(torch, f(torch), ts), spec.id, tols)




def _gradient_graph(m, spec, case):
    """Which inputs get a first derivative (``allow_unused``), which of those require grad
    (``create_graph``), and which inputs the second derivative reaches; None without a graph."""
    xs = case.tensors(m)
    y = loss(m, outputs(spec.fn(m, *xs, **case.params)))
    if not y.requires_grad:
        return None
    g1 = m.autograd.grad(y, xs, create_graph=True, allow_unused=True)
    first = [None if g is None else g.requires_grad for g in g1]
    terms = [loss(m, (g,)) for g in g1 if g is not None and g.requires_grad]
    if not terms:
        return first, None
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return first, [g is None for g in m.autograd.grad(total, xs, allow_unused=True)]


@pytest.mark.parametrize("spec", TORCH_SPECS, ids=[s.id for s in TORCH_SPECS])
@settings(max_examples=4)
@given(data=st.data())
def test_every_spec_differentiates_the_inputs_torch_does(spec, data) -> None:
    """Every row: unused inputs get None, the first derivative taken with
    ``create_graph`` requires grad, and a second derivative exists, exactly where PyTorch's
    do. (A backward that only masks, scatters or sums ``g`` is recorded as a function of the
    op's inputs too, as PyTorch's ``...BackwardBackward0`` nodes are: see GradientLink.)"""
    case = data.draw(op_inputs(spec), label="case")
    assert _gradient_graph(autodiff, spec, case) == _gradient_graph(torch, spec, case), spec.id


# ---- special points: ties, kinks, zeros, infinities ------------------------------------------
# The op-spec domains keep gradcheck away from these points; here only the convention matters
# (PyTorch's): ties share the gradient or send it to the returned index, kinks take one side,
# degenerate reductions give PyTorch's nan or 0. TIES holds two pairs of tied values.
TIES = [[1.0, 2.0, 2.0], [0.5, 0.5, -1.0]]
INF = float("inf")
SPECIAL_POINTS = {
    "amax-tie": lambda m, a: m.amax(a, 1),
    "amax-all-tie": lambda m, a: m.amax(a),
    "amin-tie": lambda m, a: m.amin(a, (0, 1)),
    "max-all-tie": lambda m, a: m.max(a),
    "min-all-tie": lambda m, a: m.min(a),
    "max-dim-tie": lambda m, a: m.max(a, 1).values,
    "min-dim-tie": lambda m, a: m.min(a, 0).values,
    "max-dim-0d": lambda m, a: m.max(a[0, 0], 0).values,
    "maximum-tie": lambda m, a: m.maximum(a, a.flip(1)),
    "minimum-tie": lambda m, a: m.minimum(a, m.ones(3, dtype=a.dtype)),
    "norm-inf-tie": lambda m, a: m.norm(a, INF),
    "norm-inf-dim-tie": lambda m, a: m.norm(a, INF, 1),
    "max_pool2d-tie": lambda m, a: m.nn.functional.max_pool2d(a.reshape(1, 1, 2, 3), 2, 1),
    "relu-at-0": lambda m, a: m.relu(a - 0.5),
    "leaky_relu-at-0": lambda m, a: m.nn.functional.leaky_relu(a - 0.5, 0.1),
    "abs-at-0": lambda m, a: (a - 0.5).abs(),
    "norm1-at-0": lambda m, a: m.norm(a - 0.5, 1),
    "l1_loss-at-0": lambda m, a: m.nn.functional.l1_loss(a, m.full_like(a, 0.5)),
    "clamp-at-bounds": lambda m, a: a.clamp(0.5, 1.0),
    "round-half": lambda m, a: m.round(a),
    "prod-one-zero": lambda m, a: m.prod(a - 0.5, 1),
    "prod-two-zeros": lambda m, a: m.prod((a - 0.5) * (a - 2.0)),
    "std-equal-values": lambda m, a: m.std(a * 0 + 1.0, 1),
    "var-one-element": lambda m, a: m.var(a[:, :1], 1),
    "cross_entropy-all-ignored": lambda m, a: m.nn.functional.cross_entropy(a, m.tensor([-100, -100])),
    "bce_with_logits-pos_weight-at-0": lambda m, a: m.nn.functional.binary_cross_entropy_with_logits(
        a - 0.5, (a + 1) / 4, pos_weight=m.tensor([0.5, 2.0, 1.0], dtype=a.dtype)),
    "logsumexp-with-minus-inf": lambda m, a: m.logsumexp(m.where(a > 1.5, a, -INF), 1),
    "log_softmax-with-minus-inf": lambda m, a: m.log_softmax(m.where(a > 0.7, a, -INF), 1),
    "sigmoid-saturated": lambda m, a: m.sigmoid(a * 1000),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_POINTS))
def test_special_points_match_torch(name) -> None:
    f = SPECIAL_POINTS[name]

    def derivatives(m):
        a = m.tensor(TIES, dtype=m.float64, requires_grad=True)
        return _derivatives(m, lambda xs: loss(m, outputs(f(m, xs[0]))), (a,))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nan results (var of one element)
        warnings.simplefilter("ignore", UserWarning)  # PyTorch: "degrees of freedom is <= 0"
        _compare(derivatives(autodiff), derivatives(torch), name)


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
