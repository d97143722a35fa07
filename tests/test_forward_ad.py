"""Forward-mode AD (autodiff/autograd/forward_ad.py): every row of the op table
(autodiff/testing/op_specs.py) has its Jacobian-vector product checked against central
finite differences and against PyTorch's ``torch.autograd.forward_ad`` (float64); every node
class has a JVP rule or says it uses the derived one (or none); the API behaves as PyTorch's.
"""

from __future__ import annotations

import inspect
import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff.autograd import forward_ad as fwad
from autodiff.autograd.forward_rules import derived_jvp, no_jvp, symmetric_jvp
from autodiff.autograd.node import Node
from autodiff.ops import OP_MODULES
from autodiff.testing import COMPOSITE_SPECS, SPECS, op_inputs
from tests.spec_utils import assert_close, outputs, scale

ROWS = SPECS + COMPOSITE_SPECS

# Rows whose op has no forward-mode derivative here, each with the reason.
NO_FORWARD = {
}

# Rows PyTorch itself has no forward-mode formula for (its forward_ad raises): checked
# against finite differences only.
TORCH_NO_FORWARD: set = set()


def _tangents(m, xs):
    """Fixed, uneven tangents shaped like each input (a wrong permutation shows)."""
    out = []
    for i, x in enumerate(xs):
        n = x.numel()
        vals = [0.5 - 0.3 * ((k + i) % 4) + 0.05 * (k % 7) for k in range(n)]
        out.append(m.tensor(vals, dtype=m.float64).reshape(tuple(x.shape)))
    return out


def _jvp(m, spec, case, xs, ts):
    fw = m.autograd.forward_ad
    with fw.dual_level():
        duals = [fw.make_dual(x, t) for x, t in zip(xs, ts)]
        outs = outputs(spec.fn(m, *duals, **case.params))
        result = []
        for o in outs:
            tangent = fw.unpack_dual(o).tangent
            result.append(m.zeros_like(o) if tangent is None else tangent.detach().clone())
        return result


def _finite_difference(spec, case, xs, ts, eps=1e-6):
    def at(sign):
        with autodiff.no_grad():
            shifted = [x + sign * eps * t for x, t in zip(xs, ts)]
            return [o.detach() for o in outputs(spec.fn(autodiff, *shifted, **case.params))]

    return [(p - q) / (2 * eps) for p, q in zip(at(1.0), at(-1.0))]


@pytest.mark.parametrize("spec", ROWS, ids=[s.id for s in ROWS])
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_jvp_matches_finite_differences_and_torch(spec, data) -> None:
    if spec.id in NO_FORWARD:
        pytest.skip(NO_FORWARD[spec.id])
    case = data.draw(op_inputs(spec), label="case")
    xs = case.tensors(autodiff, requires_grad=False)
    ts = _tangents(autodiff, xs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = _jvp(autodiff, spec, case, xs, ts)
        fd = _finite_difference(spec, case, xs, ts)
    atol = spec.gradcheck.get("atol", 1e-5)
    rtol = spec.gradcheck.get("rtol", 1e-3)
    assert len(mine) == len(fd)
    for k, (a, e) in enumerate(zip(mine, fd)):
        assert tuple(a.shape) == tuple(e.shape), f"{spec.id}: tangent {k} shape"
        assert_close(a, e, rtol=rtol, atol=atol * max(1.0, scale(e)), what=f"{spec.id}: tangent {k} vs FD")
    if not spec.torch or spec.id in TORCH_NO_FORWARD:
        return
    torch = pytest.importorskip("torch")
    txs = case.tensors(torch, requires_grad=False)
    try:
        theirs = _jvp(torch, spec, case, txs, _tangents(torch, txs))
    except (NotImplementedError, RuntimeError) as exc:
        if "forward" in str(exc).lower() or "not implemented" in str(exc).lower():
            return  # PyTorch has no forward formula for it: finite differences decide
        raise
    for k, (a, e) in enumerate(zip(mine, theirs)):
        assert_close(a, e, rtol=1e-7, atol=1e-9 * max(1.0, scale(e)), what=f"{spec.id}: tangent {k} vs torch")


# ---- every node class has a rule -----------------------------------------------------------
def _node_classes() -> list[type]:
    """The node classes of ``autodiff.ops`` (not abstract bases without a backward)."""
    return [c for mod in OP_MODULES for c in vars(mod).values()
            if inspect.isclass(c) and issubclass(c, Node) and c.__module__ == mod.__name__
            and c.backward is not Node.backward]


def rule_kinds() -> dict[str, list[str]]:
    """Node classes of ``autodiff.ops`` by the kind of their JVP rule."""
    kinds: dict[str, list[str]] = {"own": [], "symmetric": [], "derived": [], "none": [], "missing": []}
    for c in _node_classes():
        rule = getattr(c, "jvp", None)
        kind = ("missing" if rule is None else "symmetric" if rule is symmetric_jvp
                else "derived" if rule is derived_jvp else "none" if rule is no_jvp else "own")
        kinds[kind].append(c.__name__)
    return kinds


def test_every_node_class_has_a_jvp_rule() -> None:
    """A new op's node must say how its tangent is computed: a ``jvp`` method next to its
    backward, or ``jvp = symmetric_jvp`` / ``derived_jvp`` / ``no_jvp`` (forward_ad.py)."""
    assert rule_kinds()["missing"] == []


# ---- the API -----------------------------------------------------------------------------
def test_tangents_vanish_when_the_level_closes() -> None:
    x = autodiff.tensor([1.0, 2.0])
    with fwad.dual_level():
        d = fwad.make_dual(x, autodiff.ones(2))
        y = d.exp()
        assert fwad.unpack_dual(y).tangent is not None
    assert fwad.unpack_dual(y).tangent is None
    assert fwad.unpack_dual(d).tangent is None


def test_unpack_dual_is_a_named_tuple() -> None:
    x = autodiff.tensor([1.0, 2.0])
    with fwad.dual_level():
        d = fwad.make_dual(x, autodiff.tensor([3.0, 4.0]))
        primal, tangent = fwad.unpack_dual(d)
        assert fwad.unpack_dual(d).primal.tolist() == [1.0, 2.0]
        assert tangent.tolist() == [3.0, 4.0]
        assert fwad.unpack_dual(primal).tangent is None
        assert fwad.unpack_dual(x).tangent is None


def test_enter_and_exit_dual_level() -> None:
    level = fwad.enter_dual_level()
    try:
        d = fwad.make_dual(autodiff.tensor(2.0), autodiff.tensor(1.0))
        assert fwad.unpack_dual(d * d).tangent.item() == 4.0
        with pytest.raises(RuntimeError, match="Nested forward mode AD"):
            fwad.enter_dual_level()
    finally:
        fwad.exit_dual_level(level=level)


def test_make_dual_checks_its_arguments() -> None:
    with pytest.raises(RuntimeError, match="forward AD level"):
        fwad.make_dual(autodiff.ones(2), autodiff.ones(2))
    with fwad.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fwad.make_dual(autodiff.ones(2), autodiff.ones(3))


def test_op_without_a_rule_names_itself() -> None:
    with fwad.dual_level():
        d = fwad.make_dual(autodiff.tensor([1.0, 2.0]), autodiff.ones(2))
        with pytest.raises(NotImplementedError, match="NotImplemented|floor_divide|forward AD"):
            _no_rule_op(d)


def _no_rule_op(d):
    from autodiff.autograd.record import record
    from autodiff.ops.arithmetic import NotImplementedBackward
    from autodiff.tensor import _make
    return record(_make(d._data, d._be), NotImplementedBackward, (d,), op="floor_divide")


def test_no_grad_keeps_forward_mode() -> None:
    with fwad.dual_level():
        d = fwad.make_dual(autodiff.tensor([1.0, 2.0]), autodiff.ones(2))
        with autodiff.no_grad():
            y = (d * d).sum()
        assert fwad.unpack_dual(y).tangent.item() == 6.0


def test_in_place_ops_update_the_tangent() -> None:
    with fwad.dual_level():
        d = fwad.make_dual(autodiff.tensor([1.0, 2.0]), autodiff.ones(2))
        y = d.clone()
        y.mul_(d)
        y += 1.0
        assert fwad.unpack_dual(y).tangent.tolist() == [2.0, 4.0]
        y.zero_()
        assert fwad.unpack_dual(y).tangent is None


def test_custom_function_jvp() -> None:
    class Square(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 2 * x * t

    class NoJvp(autodiff.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with fwad.dual_level():
        d = fwad.make_dual(autodiff.tensor([1.0, 3.0]), autodiff.ones(2))
        assert fwad.unpack_dual(Square.apply(d)).tangent.tolist() == [2.0, 6.0]
        with pytest.raises(NotImplementedError, match="jvp function"):
            NoJvp.apply(d)


def test_forward_over_reverse_gives_hessian_vector_products() -> None:
    torch = pytest.importorskip("torch")
    values, v = [0.3, -1.2, 2.0], [1.0, 0.5, -2.0]

    def hvp(m):
        fw = m.autograd.forward_ad
        x = m.tensor(values, dtype=m.float64, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(x, m.tensor(v, dtype=m.float64))
            y = (d.sin() * d.exp()).sum() + d[0] * d[1] * d[2] + m.nn.functional.softplus(d).pow(3).sum()
            (g,) = m.autograd.grad(y, d, create_graph=True)
            return fw.unpack_dual(g).tangent

    assert_close(hvp(autodiff), hvp(torch), rtol=1e-10, what="hvp")


def test_tangent_is_differentiable_with_respect_to_the_primal() -> None:
    # reverse over forward: d/dx of (d/dt sin(x + t v)) = -sin(x) v
    x = autodiff.tensor([0.5, 1.0], dtype=autodiff.float64, requires_grad=True)
    with fwad.dual_level():
        d = fwad.make_dual(x, autodiff.tensor([1.0, 2.0]))
        tangent = fwad.unpack_dual(d.sin()).tangent
        (g,) = autodiff.autograd.grad(tangent.sum(), x)
    expected = [-math.sin(0.5) * 1.0, -math.sin(1.0) * 2.0]
    assert_close(g, autodiff.tensor(expected, dtype=autodiff.float64), rtol=1e-12)
