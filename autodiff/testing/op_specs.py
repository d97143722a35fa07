"""The table of op specs: every differentiable op of autodiff, with how to draw valid inputs.

One row per op (or per variant of an op): ``OpSpec(op, fn, shapes, domain, params, ...)``.
``fn(m, *tensors, **params)`` calls the op through the library ``m`` -- ``autodiff`` or
``torch``, so the same row drives gradcheck, the device and dtype checks and the
differential tests against PyTorch. ``op`` names what the row checks: ``"add"`` is
``autodiff.add``, ``"Tensor.__radd__"`` the method, ``"nn.functional.relu"`` a function
of ``autodiff.nn.functional``. tests/test_op_properties.py fails for any exported op that
no row names, so a new op cannot go unchecked: add its row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from autodiff.testing.strategies import (
    BOUNDED,
    DISTINCT,
    NONZERO,
    POSITIVE,
    REAL,
    Domain,
    Shape,
    broadcastable_shapes,
    cat_shapes,
    matmul_shapes,
    one,
    same_shapes,
    shapes,
)


@dataclass(frozen=True, eq=False)
class OpSpec:
    """How to check one op. ``domain`` is one Domain for all inputs or one per input;
    ``params(shapes)`` draws keyword arguments valid for the drawn shapes; ``graph``
    ("unary"/"binary") lets random op graphs use the row (it must then work on any
    shape); ``gradcheck`` overrides eps/atol/rtol (ops that round to float32/16);
    ``tol32`` bounds float32-vs-float64 differences, relative to the values' scale."""

    op: str
    fn: Callable[..., Any]
    shapes: st.SearchStrategy = field(default_factory=one)
    domain: Domain | tuple[Domain, ...] = REAL
    params: Callable[[tuple], st.SearchStrategy[dict]] | None = None
    variant: str = ""
    graph: str | None = None
    gradcheck: dict = field(default_factory=dict)
    tol32: float = 1e-4
    torch: bool = True

    @property
    def id(self) -> str:
        return f"{self.op}-{self.variant}" if self.variant else self.op


# ---- parameter strategies (functions of the drawn input shapes) ---------------------------
def _dim(ndim: int, extra: int = 0) -> st.SearchStrategy[int]:
    n = max(ndim + extra, 1)
    return st.integers(-n, n - 1)


def dim_keepdim(s: tuple) -> st.SearchStrategy[dict]:
    nd = len(s[0])
    dims = st.lists(st.integers(0, max(nd - 1, 0)), min_size=1, max_size=max(nd, 1), unique=True)
    dim = st.one_of(_dim(nd), dims.map(tuple)) if nd else _dim(nd)
    return st.fixed_dictionaries({"dim": dim, "keepdim": st.booleans()})


def one_dim(s: tuple, extra: int = 0) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"dim": _dim(len(s[0]), extra)})


def two_dims(s: tuple) -> st.SearchStrategy[dict]:
    nd = len(s[0])
    return st.fixed_dictionaries({"dim0": _dim(nd), "dim1": _dim(nd)})


def permutation(s: tuple) -> st.SearchStrategy[dict]:
    return st.permutations(range(len(s[0]))).map(lambda p: {"dims": tuple(p)})


def flatten_dims(s: tuple) -> st.SearchStrategy[dict]:
    nd = max(len(s[0]), 1)
    return st.tuples(st.integers(0, nd - 1), st.integers(0, nd - 1)).map(
        lambda d: {"start_dim": min(d), "end_dim": max(d) - nd})


def _numel(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def new_shape(s: tuple) -> st.SearchStrategy[dict]:
    """A shape with the same number of elements (possibly with a -1)."""
    shape = s[0]
    n = _numel(shape)
    options = [tuple(reversed(shape)), (n,), (-1,), (1, n), (n, 1, -1), shape + (1,), ()]
    return st.sampled_from([o for o in options if o != () or n == 1]).map(lambda o: {"shape": o})


@st.composite
def expanded(draw: Any, s: tuple) -> dict:
    """A shape ``s[0]`` expands to: leading dims added, size-1 dims grown."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    grown = tuple(draw(st.integers(1, 3)) if d == 1 else d for d in s[0])
    return {"shape": lead + grown}


@st.composite
def reduced(draw: Any, s: tuple) -> dict:
    """A shape that expands to ``s[0]`` (what ``sum_to_size`` sums down to)."""
    shape = s[0]
    drop = draw(st.integers(0, len(shape)))
    return {"shape": tuple(1 if draw(st.booleans()) else d for d in shape[drop:])}


@st.composite
def onto_shapes(draw: Any, n: int = 2) -> tuple[Shape, ...]:
    """``(S, T, ...)``: the others broadcast to S (in-place ops: the result keeps S)."""
    full = draw(shapes())
    out = [full]
    for _ in range(n - 1):
        drop = draw(st.integers(0, len(full)))
        out.append(tuple(1 if draw(st.booleans()) else d for d in full[drop:]))
    return tuple(out)


@st.composite
def basic_index(draw: Any, s: tuple) -> dict:
    """Ints, slices (positive steps), None and Ellipsis, as ``t[...]`` takes them."""
    index: list = []
    for d in s[0][: draw(st.integers(0, len(s[0])))]:
        kind = draw(st.sampled_from(["int", "slice", "none"]))
        if kind == "none":
            index.append(None)
        elif kind == "int":
            index.append(draw(st.integers(-d, d - 1)))
        else:
            start = draw(st.none() | st.integers(-d, d))
            stop = draw(st.none() | st.integers(-d, d))
            index.append(slice(start, stop, draw(st.none() | st.integers(1, 2))))
    if draw(st.booleans()):
        index.append(Ellipsis)
    return {"index": tuple(index)}


@st.composite
def advanced_index(draw: Any, s: tuple) -> dict:
    """A list of (possibly repeated) ints along one dimension."""
    shape = s[0]
    d = draw(st.integers(0, len(shape) - 1))
    picks = draw(st.lists(st.integers(-shape[d], shape[d] - 1), min_size=1, max_size=4))
    return {"index": (slice(None),) * d + (picks,)}


@st.composite
def mask(draw: Any, s: tuple) -> dict:
    def nest(shape: Shape) -> Any:
        if not shape:
            return draw(st.booleans())
        return [nest(shape[1:]) for _ in range(shape[0])]

    return {"mask": nest(s[0])}


@st.composite
def setitem_shapes(draw: Any) -> tuple[Shape, Shape]:
    """``(S, T)``: T broadcasts to ``S[1:]``, what ``t[i] = v`` writes."""
    full = draw(shapes(1))
    rest = full[1:]
    drop = draw(st.integers(0, len(rest)))
    return full, tuple(1 if draw(st.booleans()) else d for d in rest[drop:])


def row_index(s: tuple) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"i": st.integers(-s[0][0], s[0][0] - 1)})


def cat_dim(s: tuple) -> st.SearchStrategy[dict]:
    nd = len(s[0])
    ok = [d for d in range(nd) if all(x[:d] + x[d + 1:] == s[0][:d] + s[0][d + 1:] for x in s)]
    return st.sampled_from(ok).map(lambda d: {"dim": d})


def stack_dim(s: tuple) -> st.SearchStrategy[dict]:
    return one_dim(s, extra=1)


# ---- small functions the rows call ---------------------------------------------------------
def _setitem(m: Any, a: Any, b: Any, i: int) -> Any:
    y = a.clone()
    y[i] = b
    return y


def _setitem_scalar(m: Any, a: Any, i: int) -> Any:
    y = a.clone()
    y[i] = 0.5
    return y


def _iadd(m: Any, a: Any, b: Any) -> Any:
    y = a.clone()
    y += b
    return y


def _isub(m: Any, a: Any, b: Any) -> Any:
    y = a.clone()
    y -= b
    return y


def _imul(m: Any, a: Any, b: Any) -> Any:
    y = a.clone()
    y *= b
    return y


def _idiv(m: Any, a: Any, b: Any) -> Any:
    y = a.clone()
    y /= b
    return y


def _ipow(m: Any, a: Any) -> Any:
    y = a.clone()
    y **= 3
    return y


def _like(m: Any, x: Any, shape: Shape) -> Any:
    return m.zeros(shape, dtype=x.dtype, device=x.device)


LOW_PRECISION = {"eps": 1e-3, "atol": 1e-3, "rtol": 1e-2}  # outputs rounded to float32
HALF_PRECISION = {"eps": 0.1, "atol": 5e-2, "rtol": 5e-2}  # outputs rounded to float16
TWO = broadcastable_shapes(2)
THREE = broadcastable_shapes(3)
ONTO = onto_shapes()

# fmt: off
SPECS: tuple[OpSpec, ...] = (
    # ---- arithmetic ------------------------------------------------------------------------
    OpSpec("add", lambda m, a, b: m.add(a, b), TWO, graph="binary"),
    OpSpec("add", lambda m, a, b: m.add(a, b, alpha=-1.5), TWO, variant="alpha"),
    OpSpec("add", lambda m, a: a + 1.5, variant="scalar"),
    OpSpec("Tensor.__radd__", lambda m, a: 1.5 + a),
    OpSpec("sub", lambda m, a, b: m.sub(a, b), TWO, graph="binary"),
    OpSpec("sub", lambda m, a, b: m.sub(a, b, alpha=2), TWO, variant="alpha"),
    OpSpec("sub", lambda m, a: a - 0.5, variant="scalar"),
    OpSpec("rsub", lambda m, a, b: m.rsub(a, b), TWO),
    OpSpec("Tensor.__rsub__", lambda m, a: 1.5 - a, graph="unary"),
    OpSpec("mul", lambda m, a, b: m.mul(a, b), TWO, graph="binary"),
    OpSpec("mul", lambda m, a: a * 2.5, variant="scalar"),
    OpSpec("div", lambda m, a, b: m.div(a, b), TWO, (REAL, NONZERO), graph="binary"),
    OpSpec("div", lambda m, a: a / 4.0, variant="scalar"),
    OpSpec("Tensor.__rtruediv__", lambda m, a: 2.0 / a, domain=NONZERO, graph="unary"),
    OpSpec("neg", lambda m, a: m.neg(a), graph="unary"),
    OpSpec("reciprocal", lambda m, a: m.reciprocal(a), domain=NONZERO, graph="unary"),
    # PyTorch takes d/da a**b as exactly 0 where b == 0, so its second derivative there
    # differs from the true one (ours): exponents are drawn away from 0.
    OpSpec("pow", lambda m, a, b: m.pow(a, b), TWO, (POSITIVE, Domain(avoid=(0.0,))), graph="binary"),
    OpSpec("pow", lambda m, a: m.pow(a, 3), variant="cube", graph="unary"),
    OpSpec("pow", lambda m, a: a ** 2, variant="square", graph="unary"),
    OpSpec("pow", lambda m, a: a ** 2.5, domain=POSITIVE, variant="fractional"),
    OpSpec("pow", lambda m, a: a ** -1, domain=NONZERO, variant="negative"),
    OpSpec("pow", lambda m, a: a ** 0, variant="zero"),
    OpSpec("Tensor.__rpow__", lambda m, a: 1.5 ** a, domain=BOUNDED, graph="unary"),
    # ---- elementwise -----------------------------------------------------------------------
    OpSpec("exp", lambda m, a: m.exp(a), domain=BOUNDED, graph="unary"),
    OpSpec("log", lambda m, a: m.log(a), domain=POSITIVE, graph="unary"),
    OpSpec("sqrt", lambda m, a: m.sqrt(a), domain=POSITIVE, graph="unary"),
    OpSpec("abs", lambda m, a: m.abs(a), domain=Domain(avoid=(0.0,), unbounded=True), graph="unary"),
    OpSpec("sign", lambda m, a: m.sign(a), domain=Domain(avoid=(0.0,), unbounded=True)),
    OpSpec("clamp", lambda m, a: m.clamp(a, -0.5, 0.5),
           domain=Domain(avoid=(-0.5, 0.5), unbounded=True), graph="unary"),
    OpSpec("clamp", lambda m, a: m.clamp(a, min=0.2), domain=Domain(avoid=(0.2,), unbounded=True),
           variant="min"),
    OpSpec("clamp", lambda m, a: m.clamp(a, max=-0.2), domain=Domain(avoid=(-0.2,), unbounded=True),
           variant="max"),
    # Bounds broadcast onto the input (PyTorch's backward fails when they would widen it).
    OpSpec("clamp", lambda m, a, lo, hi: m.clamp(a, lo, hi), onto_shapes(3), DISTINCT, variant="tensor"),
    OpSpec("where", lambda m, c, a, b: m.where(c > 0, a, b), THREE,
           (NONZERO, REAL, REAL)),
    OpSpec("where", lambda m, c, a: m.where(c > 0, a, 0.25), TWO, (NONZERO, REAL), variant="scalar"),
    # ---- linear algebra --------------------------------------------------------------------
    OpSpec("matmul", lambda m, a, b: m.matmul(a, b), matmul_shapes()),
    OpSpec("Tensor.__rmatmul__", lambda m, a, b: b.__rmatmul__(a), matmul_shapes()),
    OpSpec("mm", lambda m, a, b: m.mm(a, b),
           st.tuples(*[st.integers(1, 3)] * 3).map(lambda n: ((n[0], n[1]), (n[1], n[2])))),
    OpSpec("dot", lambda m, a, b: m.dot(a, b), st.integers(1, 4).map(lambda n: ((n,), (n,)))),
    # ---- reductions and broadcasting ---------------------------------------------------------
    OpSpec("sum", lambda m, a: m.sum(a)),
    OpSpec("sum", lambda m, a, dim, keepdim: m.sum(a, dim, keepdim), params=dim_keepdim, variant="dim"),
    OpSpec("sum", lambda m, a: a.sum(-1, keepdim=True), variant="keepdim", graph="unary"),
    OpSpec("mean", lambda m, a: m.mean(a)),
    OpSpec("mean", lambda m, a, dim, keepdim: m.mean(a, dim, keepdim), params=dim_keepdim, variant="dim"),
    OpSpec("mean", lambda m, a: a.mean(0, keepdim=True), variant="keepdim", graph="unary"),
    OpSpec("sum_to_size", lambda m, a, shape: a.sum_to_size(shape), params=reduced),
    OpSpec("broadcast_to", lambda m, a, shape: m.broadcast_to(a, shape), params=expanded),
    OpSpec("Tensor.expand", lambda m, a, shape: a.expand(*shape),  # x.expand() takes >= 1 size
           params=lambda s: expanded(s).filter(lambda p: p["shape"] != ())),
    OpSpec("Tensor.expand_as", lambda m, a, shape: a.expand_as(_like(m, a, shape)), params=expanded),
    # ---- shape ---------------------------------------------------------------------------------
    OpSpec("reshape", lambda m, a, shape: m.reshape(a, shape), params=new_shape),
    OpSpec("Tensor.reshape", lambda m, a, shape: a.reshape(*shape),  # x.reshape() takes >= 1 size
           params=lambda s: new_shape(s).filter(lambda p: p["shape"] != ())),
    OpSpec("Tensor.view", lambda m, a, shape: a.view(shape), params=new_shape),
    OpSpec("Tensor.view_as", lambda m, a, shape: a.view_as(_like(m, a, shape)),
           params=lambda s: new_shape(s).filter(lambda p: -1 not in p["shape"])),
    OpSpec("Tensor.reshape_as", lambda m, a, shape: a.transpose(0, -1).reshape_as(_like(m, a, shape)),
           params=lambda s: new_shape(s).filter(lambda p: -1 not in p["shape"])),
    OpSpec("flatten", lambda m, a, start_dim, end_dim: m.flatten(a, start_dim, end_dim), params=flatten_dims),
    OpSpec("permute", lambda m, a, dims: m.permute(a, dims), params=permutation),
    OpSpec("Tensor.permute", lambda m, a, dims: a.permute(*dims), one(1), params=permutation),
    OpSpec("transpose", lambda m, a, dim0, dim1: m.transpose(a, dim0, dim1), params=two_dims),
    OpSpec("transpose", lambda m, a: a.transpose(0, -1), variant="ends", graph="unary"),
    OpSpec("t", lambda m, a: m.t(a), one(0, 2)),
    OpSpec("Tensor.T", lambda m, a: a.T, one(2, 2)),
    OpSpec("Tensor.mT", lambda m, a: a.mT, one(2, 3)),
    OpSpec("unsqueeze", lambda m, a, dim: m.unsqueeze(a, dim), params=stack_dim),
    OpSpec("squeeze", lambda m, a: m.squeeze(a), shapes(0, 3, 1, 2).map(lambda s: (s,))),
    OpSpec("squeeze", lambda m, a, dim: m.squeeze(a, dim), shapes(0, 3, 1, 2).map(lambda s: (s,)),
           params=one_dim, variant="dim"),
    OpSpec("cat", lambda m, *xs, dim: m.cat(list(xs), dim), cat_shapes(), params=cat_dim),
    OpSpec("stack", lambda m, *xs, dim: m.stack(list(xs), dim),
           st.integers(1, 3).flatmap(same_shapes), params=stack_dim),
    OpSpec("clone", lambda m, a: m.clone(a), graph="unary"),
    OpSpec("Tensor.contiguous", lambda m, a: a.transpose(0, -1).contiguous()),
    # ---- indexing ----------------------------------------------------------------------------
    OpSpec("Tensor.__getitem__", lambda m, a, index: a[index], params=basic_index),
    OpSpec("Tensor.__getitem__", lambda m, a, index: a[index], one(1), params=advanced_index,
           variant="advanced"),
    OpSpec("Tensor.__getitem__", lambda m, a, mask: a[m.tensor(mask, device=a.device)], one(1),
           params=mask, variant="mask"),
    OpSpec("Tensor.__setitem__", _setitem, setitem_shapes(), params=row_index),
    OpSpec("Tensor.__setitem__", _setitem_scalar, one(1), params=row_index, variant="scalar"),
    # ---- in place (on a clone: a leaf that requires grad refuses them) ------------------------
    OpSpec("Tensor.add_", lambda m, a, b: a.clone().add_(b, alpha=0.5), ONTO),
    OpSpec("Tensor.sub_", lambda m, a, b: a.clone().sub_(b), ONTO),
    OpSpec("Tensor.mul_", lambda m, a, b: a.clone().mul_(b), ONTO),
    OpSpec("Tensor.div_", lambda m, a, b: a.clone().div_(b), ONTO, (REAL, NONZERO)),
    OpSpec("Tensor.pow_", lambda m, a: a.clone().pow_(2)),
    OpSpec("Tensor.clamp_", lambda m, a: a.clone().clamp_(-0.5, 0.5),
           domain=Domain(avoid=(-0.5, 0.5), unbounded=True)),
    OpSpec("Tensor.zero_", lambda m, a: a.clone().zero_()),
    OpSpec("Tensor.fill_", lambda m, a: a.clone().fill_(0.5)),
    OpSpec("Tensor.fill_", lambda m, a, b: a.clone().fill_(b), st.tuples(shapes(), st.just(())),
           variant="tensor"),
    OpSpec("Tensor.copy_", lambda m, a, b: a.clone().copy_(b), ONTO),
    OpSpec("Tensor.__iadd__", _iadd, ONTO),
    OpSpec("Tensor.__isub__", _isub, ONTO),
    OpSpec("Tensor.__imul__", _imul, ONTO),
    OpSpec("Tensor.__itruediv__", _idiv, ONTO, (REAL, NONZERO)),
    OpSpec("Tensor.__ipow__", _ipow),
    # ---- dtype and device conversion ----------------------------------------------------------
    OpSpec("to", lambda m, a: a.to(m.float32), gradcheck=LOW_PRECISION),
    OpSpec("Tensor.float", lambda m, a: a.float(), gradcheck=LOW_PRECISION),
    OpSpec("Tensor.double", lambda m, a: a.float().double(), gradcheck=LOW_PRECISION),
    OpSpec("Tensor.half", lambda m, a: a.half(), gradcheck=HALF_PRECISION, tol32=2e-3),
    OpSpec("Tensor.cpu", lambda m, a: a.cpu() * 2),
)
# fmt: on

SPECS_BY_ID: dict[str, OpSpec] = {s.id: s for s in SPECS}
GRAPH_SPECS: tuple[OpSpec, ...] = tuple(s for s in SPECS if s.graph is not None)
