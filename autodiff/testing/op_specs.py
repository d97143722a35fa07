"""The table of op specs: every differentiable op of autodiff, with how to draw valid inputs.

One row per op (or per variant of an op): ``OpSpec(op, fn, shapes, domain, params, ...)``.
``fn(m, *tensors, **params)`` calls the op through the library ``m`` -- ``autodiff`` or
``torch``, so the same row drives gradcheck, the device and dtype checks and the
differential tests against PyTorch. ``op`` names what the row checks: ``"add"`` is
``autodiff.add``, ``"Tensor.__radd__"`` the method, ``"nn.functional.relu"`` a function
of ``autodiff.nn.functional``. tests/test_op_properties.py fails for any exported op that
no row names, so a new op cannot go unchecked: add its row here, under its group.

The rows are grouped like ``autodiff/ops/`` (a comment header per group: unary, arithmetic,
comparison, broadcasting, reduction, shape, indexing, linalg, activation, normalization,
loss, composite_loss, conv, inplace, conversion). The shape and parameter strategies the rows use are in op_params.py.
Besides rows that draw shapes, some rows pin one case (``fixed(...)`` shapes): broadcasting
combinations and composites of several ops on fixed inputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autodiff.testing import needs_hypothesis

try:
    from hypothesis import strategies as st
except ImportError as exc:  # hypothesis comes with the [test] extra
    raise ImportError(needs_hypothesis("op_specs")) from exc

from autodiff.testing.op_params import (
    advanced_index,
    basic_index,
    bilinear_shapes,
    bmm_shapes,
    broadcast_mask,
    cat_dim,
    cat_shapes,
    chunks,
    class_scores,
    class_targets,
    conv_params,
    conv_shapes,
    dim_keepdim,
    dim_keepdim_one,
    elementwise_weight,
    expanded,
    fixed,
    flatten_dims,
    flip_dims,
    gather_index,
    linear_shapes,
    logit_weights,
    mask,
    matmul_shapes,
    mm_shapes,
    new_shape,
    one_dim,
    onto_shapes,
    pad_widths,
    permutation,
    pool_params,
    pool_shapes,
    prod_zeros,
    reduced,
    reduction,
    repeats,
    row_index,
    scatter_index,
    scatter_shapes,
    select_index,
    setitem_shapes,
    split_sizes,
    stack_dim,
    two_dims,
    vector_pair,
)
from autodiff.testing.strategies import (
    BOUNDED,
    DISTINCT,
    NONZERO,
    POSITIVE,
    REAL,
    Domain,
    Shape,
    broadcastable_shapes,
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


def _imod(m: Any, a: Any, b: Any) -> Any:
    y = a.clone()
    y %= b
    return y


def _ipow(m: Any, a: Any) -> Any:
    y = a.clone()
    y **= 3
    return y


def _like(m: Any, x: Any, shape: Shape) -> Any:
    return m.zeros(shape, dtype=x.dtype, device=x.device)


def _setitem_rows(m: Any, a: Any, b: Any) -> Any:
    """Writes into slices and rows of a computed (2, 3) tensor, then uses it twice."""
    y = a * 1
    y[0, 1:] = b[:2] * a[1, :2]
    y[1] = y[1].clone() * b
    return y * y


def _idx(m: Any, like: Any, values: Any) -> Any:
    """An int64 index tensor (from nested lists) on ``like``'s device."""
    return m.tensor(values, dtype=m.int64, device=like.device)


def _bool(m: Any, like: Any, values: Any) -> Any:
    return m.tensor(values, dtype=m.bool, device=like.device)


def _const(m: Any, like: Any, values: Any) -> Any:
    """A constant (no grad) float tensor in ``like``'s dtype and device."""
    return m.tensor(values, dtype=like.dtype, device=like.device)


def _prod_zeros(m: Any, a: Any, z: Any, mask: Any, dim: Any, keepdim: bool) -> Any:
    """``prod`` of ``a`` with exact zeros (the inputs ``z``, which are all 0) where ``mask``."""
    x = m.where(_bool(m, a, mask), z, a)
    return m.prod(x) if dim is None else m.prod(x, dim, keepdim)


def _mse_broadcast(m: Any, a: Any, b: Any) -> Any:
    with warnings.catch_warnings():  # PyTorch warns that the shapes differ (and broadcasts)
        warnings.simplefilter("ignore", UserWarning)
        return m.nn.functional.mse_loss(a, b, reduction="sum")


def _gumbel_softmax(m: Any, a: Any) -> Any:
    """Seeded, so that the noise is the same in every call gradcheck makes; drawn in float64,
    so that the float32 run gets the same noise (a float32 uniform draw takes other bits of
    the stream than a float64 one), and on the CPU, so that every device gets the same noise
    (a CUDA generator's stream is CuPy's, not the CPU's mt19937)."""
    m.manual_seed(0)
    return m.nn.functional.gumbel_softmax(a.double().cpu(), tau=0.5).to(a.device, a.dtype)


def _chain_matmul(m: Any, a: Any, b: Any, c: Any) -> Any:
    with warnings.catch_warnings():  # PyTorch warns that chain_matmul is deprecated
        warnings.simplefilter("ignore", UserWarning)
        return m.chain_matmul(a, b, c)


def _cholesky(m: Any, a: Any) -> Any:
    """Both factors of the positive-definite ``a @ a.mT + 3 I``."""
    spd = _well_conditioned(m, a @ a.transpose(-2, -1))
    with warnings.catch_warnings():  # PyTorch warns that torch.cholesky is deprecated
        warnings.simplefilter("ignore", UserWarning)
        return m.cholesky(spd), m.linalg.cholesky(spd, upper=True)


def _index_reduce(m: Any, a: Any, b: Any, reduce: str) -> Any:
    with warnings.catch_warnings():  # PyTorch warns that index_reduce is in beta
        warnings.simplefilter("ignore", UserWarning)
        return m.index_reduce(a, 0, _idx(m, a, [1, 0, 1]), b, reduce, include_self=False)


def _with_nans(m: Any, a: Any) -> Any:
    """A (2, 3) ``a`` with NaN at two places, one per row (for the NaN-ignoring ops)."""
    nan = float("nan")
    return a + _const(m, a, [[0.0, nan, 0.0], [0.0, 0.0, nan]])


def _well_conditioned(m: Any, a: Any) -> Any:
    """``a`` plus 3 on the diagonal: with entries in [-1, 1], far from singular."""
    n = a.shape[-1]
    return a + _const(m, a, [[3.0 if i == j else 0.0 for j in range(n)] for i in range(n)])


def _q(m: Any, like: Any, values: Any) -> Any:
    """Quantile levels in ``like``'s dtype and device."""
    return m.tensor(values, dtype=like.dtype, device=like.device)


LOW_PRECISION = {"eps": 1e-3, "atol": 1e-3, "rtol": 1e-2}  # outputs rounded to float32
HALF_PRECISION = {"eps": 0.1, "atol": 5e-2, "rtol": 5e-2}  # outputs rounded to float16
TWO = broadcastable_shapes(2)
THREE = broadcastable_shapes(3)
ONTO = onto_shapes()

KINK_AT_0 = Domain(avoid=(0.0,), unbounded=True)
OPEN_UNIT = Domain(-0.9, 0.9)  # asin, atanh, erfinv: poles at +-1
NEAR_ONE = Domain(-1.5, 1.5, avoid=(0.0,), margin=0.5)  # prod: no underflow, no overflow
ZERO = Domain(0.0, 0.0)
PROB = Domain(0.05, 0.95)
UNIT = Domain(0.0, 1.0)
ABS_DISTINCT = Domain(-1.97, 2.0, distinct=True)  # off-centre grid: |x| never ties
WIDE_DISTINCT = Domain(-4.0, 4.0, distinct=True)  # room for 80 distinct values (two 27s, 64)
SIDES2 = shapes(1, 3, 2, 3).map(lambda s: (s,))  # every dim >= 2: var/std have n - 1 > 0
INTEGERS_AVOIDED = Domain(avoid=(-2.0, -1.0, 0.0, 1.0, 2.0))  # floor/ceil: away from the jumps
HALVES_AVOIDED = Domain(avoid=(-1.5, -0.5, 0.5, 1.5))  # round: away from the jumps
# Pinned inputs of the composite rows: a (2, 3) and a (3,) broadcast onto it, in [0.5, 1.5].
A, B = (2, 3), (3,)
A_B = fixed(A, B)
MID = Domain(0.5, 1.5)
REM_A, REM_B = Domain(2.2, 2.8), Domain(1.0, 1.05)  # remainder: a / b in (2, 3), away from its jumps
MID_NOT_1 = Domain(0.5, 1.5, avoid=(1.0,), margin=0.05)  # where(a > 1, ...) switches at 1
UNIT_SIGNED = Domain(-1.0, 1.0)  # matrix entries around a well-conditioned diagonal
MID_ABS_CLAMP = Domain(0.5, 1.5, avoid=(0.6 ** 0.5, 1.0, 1.5 ** 0.5), margin=0.05)  # the kinks
F = "nn.functional."

# fmt: off
ROWS: tuple[OpSpec, ...] = (
    # ---- unary (autodiff/ops/unary.py) -----------------------------------------------------------
    OpSpec("exp", lambda m, a: m.exp(a), domain=BOUNDED, graph="unary"),
    OpSpec("exp", lambda m, a, b: (a * b).exp() + (a * a).log() * (a + b).sqrt(), A_B, MID,
           variant="with-log-sqrt"),
    OpSpec("log", lambda m, a: m.log(a), domain=POSITIVE, graph="unary"),
    OpSpec("sqrt", lambda m, a: m.sqrt(a), domain=POSITIVE, graph="unary"),
    OpSpec("abs", lambda m, a: m.abs(a), domain=Domain(avoid=(0.0,), unbounded=True), graph="unary"),
    OpSpec("abs", lambda m, a: (a - 1).abs() * a + (a * a).clamp(0.6, 1.5), fixed(A), MID_ABS_CLAMP,
           variant="with-clamp"),
    OpSpec("sign", lambda m, a: m.sign(a), domain=Domain(avoid=(0.0,), unbounded=True)),
    OpSpec("sin", lambda m, a: m.sin(a), graph="unary"),
    OpSpec("cos", lambda m, a: m.cos(a), graph="unary"),
    OpSpec("tan", lambda m, a: m.tan(a), domain=Domain(-1.2, 1.2), graph="unary"),
    OpSpec("tanh", lambda m, a: m.tanh(a), graph="unary"),
    OpSpec("sigmoid", lambda m, a: m.sigmoid(a), graph="unary"),
    OpSpec("sigmoid", lambda m, a: m.sigmoid(a), domain=Domain(-40.0, 40.0), variant="large"),
    OpSpec("rsqrt", lambda m, a: m.rsqrt(a), domain=POSITIVE, graph="unary"),
    OpSpec("expm1", lambda m, a: m.expm1(a), domain=BOUNDED, graph="unary"),
    OpSpec("log1p", lambda m, a: m.log1p(a), domain=Domain(-0.8, 2.0), graph="unary"),
    OpSpec("log2", lambda m, a: m.log2(a), domain=POSITIVE, graph="unary"),
    OpSpec("erf", lambda m, a: m.erf(a), graph="unary"),
    # Piecewise constant (zero gradient): drawn away from the jumps.
    OpSpec("floor", lambda m, a: m.floor(a), domain=INTEGERS_AVOIDED),
    OpSpec("floor", lambda m, a: m.floor(a) * a, domain=INTEGERS_AVOIDED, variant="times-input"),
    OpSpec("ceil", lambda m, a: m.ceil(a), domain=INTEGERS_AVOIDED),
    OpSpec("ceil", lambda m, a: m.ceil(a) * a, domain=INTEGERS_AVOIDED, variant="times-input"),
    OpSpec("round", lambda m, a: m.round(a), domain=HALVES_AVOIDED),
    OpSpec("round", lambda m, a: m.round(a) * a, domain=HALVES_AVOIDED, variant="times-input"),
    OpSpec("clamp", lambda m, a: m.clamp(a, -0.5, 0.5),
           domain=Domain(avoid=(-0.5, 0.5), unbounded=True), graph="unary"),
    OpSpec("clamp", lambda m, a: m.clamp(a, min=0.2), domain=Domain(avoid=(0.2,), unbounded=True),
           variant="min"),
    OpSpec("clamp", lambda m, a: m.clamp(a, max=-0.2), domain=Domain(avoid=(-0.2,), unbounded=True),
           variant="max"),
    # Bounds broadcast onto the input (PyTorch's backward fails when they would widen it).
    OpSpec("clamp", lambda m, a, lo, hi: m.clamp(a, lo, hi), onto_shapes(3), DISTINCT, variant="tensor"),
    # Inverse trigonometry and hyperbolic functions (domains keep off the poles at +-1).
    OpSpec("asin", lambda m, a: m.asin(a), domain=OPEN_UNIT, graph="unary"),
    OpSpec("acos", lambda m, a: m.acos(a), domain=OPEN_UNIT, graph="unary"),
    OpSpec("atan", lambda m, a: m.atan(a), graph="unary"),
    OpSpec("sinh", lambda m, a: m.sinh(a), domain=BOUNDED, graph="unary"),
    OpSpec("cosh", lambda m, a: m.cosh(a), domain=BOUNDED, graph="unary"),
    OpSpec("asinh", lambda m, a: m.asinh(a), graph="unary"),
    OpSpec("acosh", lambda m, a: m.acosh(a), domain=Domain(1.2, 3.0), graph="unary"),
    OpSpec("atanh", lambda m, a: m.atanh(a), domain=OPEN_UNIT, graph="unary"),
    OpSpec("exp2", lambda m, a: m.exp2(a), domain=BOUNDED, graph="unary"),
    OpSpec("log10", lambda m, a: m.log10(a), domain=POSITIVE, graph="unary"),
    OpSpec("logit", lambda m, a: m.logit(a), domain=PROB, graph="unary"),
    # With eps the input is clamped to [eps, 1 - eps] (kinks there).
    # (Not at 0 and 1 themselves, where PyTorch's second derivative is nan.)
    OpSpec("logit", lambda m, a: m.logit(a, eps=0.1), domain=Domain(0.02, 0.98, avoid=(0.1, 0.9), margin=0.05),
           variant="eps"),
    OpSpec("trunc", lambda m, a: m.trunc(a) * a, domain=INTEGERS_AVOIDED),
    OpSpec("frac", lambda m, a: m.frac(a), domain=INTEGERS_AVOIDED),
    OpSpec("sgn", lambda m, a: m.sgn(a) * a, domain=KINK_AT_0),
    OpSpec("square", lambda m, a: m.square(a), graph="unary"),
    OpSpec("positive", lambda m, a: m.positive(a)),
    OpSpec("Tensor.__pos__", lambda m, a: +(a * 2)),
    OpSpec("deg2rad", lambda m, a: m.deg2rad(a), graph="unary"),
    OpSpec("rad2deg", lambda m, a: m.rad2deg(a)),
    OpSpec("nan_to_num", lambda m, a: m.nan_to_num(a)),
    OpSpec("clamp_min", lambda m, a: m.clamp_min(a, 0.2), domain=Domain(avoid=(0.2,), unbounded=True)),
    OpSpec("clamp_max", lambda m, a: a.clamp_max(-0.2), domain=Domain(avoid=(-0.2,), unbounded=True)),
    # ---- special (autodiff/ops/special.py) ---------------------------------------------------------
    OpSpec("erfc", lambda m, a: m.erfc(a), graph="unary"),
    OpSpec("erfinv", lambda m, a: m.erfinv(a), domain=OPEN_UNIT),
    OpSpec("lgamma", lambda m, a: m.lgamma(a), domain=Domain(0.2, 4.0), graph="unary"),
    OpSpec("lgamma", lambda m, a: m.lgamma(a), domain=Domain(-2.9, -0.1, avoid=(-2.0, -1.0), margin=0.1),
           variant="negative"),
    # PyTorch's polygamma (digamma's derivative) is good to ~1e-9 only (SciPy's, ours, to
    # 1e-15): compared with PyTorch at a looser tolerance in tests/ops/test_elementwise.py.
    OpSpec("digamma", lambda m, a: m.digamma(a), domain=Domain(0.2, 4.0), torch=False),
    OpSpec("polygamma", lambda m, a: m.polygamma(1, a), domain=Domain(0.2, 4.0), torch=False),
    OpSpec("Tensor.polygamma", lambda m, a: a.polygamma(2), domain=Domain(0.5, 4.0), torch=False),
    OpSpec("mvlgamma", lambda m, a: m.mvlgamma(a, 3), domain=Domain(1.2, 4.0)),
    OpSpec("i0", lambda m, a: m.i0(a), graph="unary"),
    # At 0 PyTorch's second derivative is nan (ours -pi^2 / 3): tests/ops/test_elementwise.py.
    OpSpec("sinc", lambda m, a: m.sinc(a), domain=KINK_AT_0, graph="unary"),
    OpSpec("xlogy", lambda m, a, b: m.xlogy(a, b), TWO, (REAL, POSITIVE)),
    OpSpec("xlogy", lambda m, a: m.xlogy(a, 2.5), variant="scalar"),
    # ---- arithmetic (autodiff/ops/arithmetic.py) -------------------------------------------------
    OpSpec("add", lambda m, a, b: m.add(a, b), TWO, graph="binary"),
    OpSpec("add", lambda m, a, b: m.add(a, b, alpha=-1.5), TWO, variant="alpha"),
    OpSpec("add", lambda m, a: a + 1.5, variant="scalar"),
    OpSpec("add", lambda m, a, b: a + b * 2, A_B, MID, variant="broadcast-scaled"),
    OpSpec("Tensor.__radd__", lambda m, a: 1.5 + a),
    OpSpec("sub", lambda m, a, b: m.sub(a, b), TWO, graph="binary"),
    OpSpec("sub", lambda m, a, b: m.sub(a, b, alpha=2), TWO, variant="alpha"),
    OpSpec("sub", lambda m, a: a - 0.5, variant="scalar"),
    OpSpec("sub", lambda m, a, b: (a * a).sub(b, alpha=3), A_B, MID, variant="method-alpha"),
    OpSpec("rsub", lambda m, a, b: m.rsub(a, b), TWO),
    OpSpec("Tensor.__rsub__", lambda m, a: 1.5 - a, graph="unary"),
    OpSpec("mul", lambda m, a, b: m.mul(a, b), TWO, graph="binary"),
    OpSpec("mul", lambda m, a: a * 2.5, variant="scalar"),
    OpSpec("mul", lambda m, a, b: a * b * a, A_B, MID, variant="repeated-input"),
    OpSpec("div", lambda m, a, b: m.div(a, b), TWO, (REAL, NONZERO), graph="binary"),
    OpSpec("div", lambda m, a: a / 4.0, variant="scalar"),
    OpSpec("div", lambda m, a, b: a / (b + a), A_B, MID, variant="by-sum"),
    # Rounded quotients: zero gradients, but in the graph. |a / b| < 1/8: trunc never jumps.
    OpSpec("div", lambda m, a, b: m.div(a, b, rounding_mode="trunc"), TWO,
           (Domain(-1.0, 1.0), Domain(8.0, 9.0)), variant="trunc"),
    OpSpec("div", lambda m, a: m.div(a, 1.0, rounding_mode="floor") * a, domain=INTEGERS_AVOIDED,
           variant="floor-scalar-times-input"),
    OpSpec("Tensor.__rtruediv__", lambda m, a: 2.0 / a, domain=NONZERO, graph="unary"),
    OpSpec("neg", lambda m, a: m.neg(a), graph="unary"),
    OpSpec("reciprocal", lambda m, a: m.reciprocal(a), domain=NONZERO, graph="unary"),
    OpSpec("reciprocal", lambda m, a, b: -(a * b).reciprocal(), A_B, MID, variant="neg-product"),
    # PyTorch takes d/da a**b as exactly 0 where b == 0, so its second derivative there
    # differs from the true one (ours): exponents are drawn away from 0.
    OpSpec("pow", lambda m, a, b: m.pow(a, b), TWO, (POSITIVE, Domain(avoid=(0.0,))), graph="binary"),
    OpSpec("pow", lambda m, a: m.pow(a, 3), variant="cube", graph="unary"),
    OpSpec("pow", lambda m, a: a ** 2, variant="square", graph="unary"),
    OpSpec("pow", lambda m, a: a ** 2.5, domain=POSITIVE, variant="fractional"),
    OpSpec("pow", lambda m, a: a ** -1, domain=NONZERO, variant="negative"),
    OpSpec("pow", lambda m, a: a ** 0, variant="zero"),
    OpSpec("pow", lambda m, a: a ** 3 + a ** 0.5, fixed(A), MID, variant="sum-of-powers"),
    OpSpec("pow", lambda m, a, b: a ** b, A_B, MID, variant="broadcast"),
    OpSpec("Tensor.__rpow__", lambda m, a: 1.5 ** a, domain=BOUNDED, graph="unary"),
    OpSpec("Tensor.__rpow__", lambda m, a: 2.0 ** a, domain=BOUNDED, variant="base2"),
    # Ties are kinks: DISTINCT values (op graphs may tie them; both sides then get half, as
    # in PyTorch, which the differential tests compare).
    OpSpec("maximum", lambda m, a, b: m.maximum(a, b), TWO, DISTINCT, graph="binary"),
    OpSpec("maximum", lambda m, a, b: m.maximum(a, b), A_B, DISTINCT, variant="broadcast"),
    OpSpec("minimum", lambda m, a, b: m.minimum(a, b), TWO, DISTINCT),
    OpSpec("minimum", lambda m, a, b: m.minimum(a, b), fixed((2, 1), (1, 3)), DISTINCT, variant="broadcast"),
    OpSpec("logaddexp", lambda m, a, b: m.logaddexp(a, b), TWO, graph="binary"),
    OpSpec("logaddexp", lambda m, a, b: a.logaddexp(b), A_B, variant="broadcast"),
    OpSpec("lerp", lambda m, a, b: m.lerp(a, b, 0.3), TWO, graph="binary"),
    OpSpec("lerp", lambda m, a, b, w: m.lerp(a, b, w), THREE, variant="tensor"),
    OpSpec("lerp", lambda m, a, b, w: m.lerp(a, b, w), fixed(A, B, (2, 1)), variant="tensor-broadcast"),
    # atan2 jumps by 2 pi across a == 0 where b < 0.
    OpSpec("atan2", lambda m, a, b: m.atan2(a, b), TWO, (NONZERO, REAL), graph="binary"),
    OpSpec("hypot", lambda m, a, b: m.hypot(a, b), TWO, (NONZERO, REAL)),
    OpSpec("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), TWO),
    # copysign: |a| is kinked at 0 and the sign of b jumps at 0.
    OpSpec("copysign", lambda m, a, b: m.copysign(a, b), TWO, (NONZERO, NONZERO)),
    OpSpec("copysign", lambda m, a: a.copysign(-1.5), domain=NONZERO, variant="scalar"),
    # Remainders jump where a / b is an integer: a / b is kept inside (2, 3) (and (-3, -2)).
    OpSpec("fmod", lambda m, a, b: m.fmod(a, b), TWO, (Domain(2.3, 2.6), Domain(1.0, 1.1))),
    OpSpec("fmod", lambda m, a: m.fmod(a, 1.5), domain=Domain(avoid=(-1.5, 0.0, 1.5)), variant="scalar"),
    OpSpec("remainder", lambda m, a, b: m.remainder(a, b), TWO, (Domain(-2.6, -2.3), Domain(1.0, 1.1))),
    OpSpec("remainder", lambda m, a: a % 1.5, domain=Domain(avoid=(-1.5, 0.0, 1.5)), variant="scalar"),
    # Ties are kinks (they go to the first input entirely; tests/ops/test_elementwise.py).
    OpSpec("fmax", lambda m, a, b: m.fmax(a, b), TWO, DISTINCT),
    OpSpec("fmin", lambda m, a, b: m.fmin(a, b), TWO, DISTINCT),
    OpSpec("float_power", lambda m, a, b: m.float_power(a, b), TWO, (POSITIVE, Domain(avoid=(0.0,)))),
    OpSpec("float_power", lambda m, a: m.float_power(a, 2), variant="scalar"),
    OpSpec("nextafter", lambda m, a, b: m.nextafter(a, b), TWO, DISTINCT),
    # (PyTorch's gradient is 0 for negative integer exponents: 2**-2 in integers.)
    OpSpec("ldexp", lambda m, a: m.ldexp(a, _idx(m, a, 3))),
    OpSpec("addcmul", lambda m, a, b, c: m.addcmul(a, b, c), THREE),
    OpSpec("addcmul", lambda m, a, b, c: a.addcmul(b, c, value=-0.5), THREE, variant="value"),
    OpSpec("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c, value=2.0), THREE, (REAL, REAL, NONZERO)),
    # ---- comparison (autodiff/ops/comparison.py) -------------------------------------------------
    OpSpec("where", lambda m, c, a, b: m.where(c > 0, a, b), THREE,
           (NONZERO, REAL, REAL)),
    OpSpec("where", lambda m, c, a: m.where(c > 0, a, 0.25), TWO, (NONZERO, REAL), variant="scalar"),
    OpSpec("Tensor.where", lambda m, c, a, b: a.where(c > 0, b), THREE, (NONZERO, REAL, REAL)),
    OpSpec("where", lambda m, a, b: m.where(a > 1, a * a, b * a), A_B, (MID_NOT_1, MID), variant="composite"),
    # ---- broadcasting (autodiff/ops/broadcasting.py) ---------------------------------------------
    OpSpec("broadcast_to", lambda m, a, shape: m.broadcast_to(a, shape), params=expanded),
    OpSpec("Tensor.expand", lambda m, a, shape: a.expand(*shape),  # x.expand() takes >= 1 size
           params=lambda s: expanded(s).filter(lambda p: p["shape"] != ())),
    OpSpec("Tensor.expand", lambda m, a: (a * a).view(3, 2).reshape(6).expand(2, 6) * a.reshape(6),
           fixed(A), MID, variant="after-view-reshape"),
    OpSpec("Tensor.expand_as", lambda m, a, shape: a.expand_as(_like(m, a, shape)), params=expanded),
    OpSpec("sum_to_size", lambda m, a, shape: a.sum_to_size(shape), params=reduced),
    # ---- reduction (autodiff/ops/reduction.py) ---------------------------------------------------
    OpSpec("sum", lambda m, a: m.sum(a)),
    OpSpec("sum", lambda m, a, dim, keepdim: m.sum(a, dim, keepdim), params=dim_keepdim, variant="dim"),
    OpSpec("sum", lambda m, a: a.sum(-1, keepdim=True), variant="keepdim", graph="unary"),
    OpSpec("sum", lambda m, a, b: (a * a).sum(0) * (a * b).mean(1, keepdim=True), A_B, MID,
           variant="with-mean-dims"),
    OpSpec("mean", lambda m, a: m.mean(a)),
    OpSpec("mean", lambda m, a, dim, keepdim: m.mean(a, dim, keepdim), params=dim_keepdim, variant="dim"),
    OpSpec("mean", lambda m, a: a.mean(0, keepdim=True), variant="keepdim", graph="unary"),
    OpSpec("prod", lambda m, a: m.prod(a), domain=NEAR_ONE),
    OpSpec("prod", lambda m, a, dim, keepdim: m.prod(a, dim, keepdim), domain=NEAR_ONE,
           params=dim_keepdim_one, variant="dim"),
    OpSpec("prod", _prod_zeros, same_shapes(2), (NEAR_ONE, ZERO), params=prod_zeros, variant="zeros"),
    OpSpec("max", lambda m, a: m.max(a), domain=DISTINCT),
    OpSpec("max", lambda m, a, dim, keepdim: m.max(a, dim, keepdim), domain=DISTINCT,
           params=dim_keepdim_one, variant="dim"),
    OpSpec("max", lambda m, a, b: m.max(a, b), TWO, DISTINCT, variant="binary"),
    OpSpec("min", lambda m, a: m.min(a), domain=DISTINCT),
    OpSpec("min", lambda m, a, dim, keepdim: m.min(a, dim, keepdim), domain=DISTINCT,
           params=dim_keepdim_one, variant="dim"),
    OpSpec("min", lambda m, a, b: m.min(a, b), TWO, DISTINCT, variant="binary"),
    OpSpec("amax", lambda m, a, dim, keepdim: m.amax(a, dim, keepdim), domain=DISTINCT, params=dim_keepdim),
    OpSpec("amax", lambda m, a: m.amax(a), domain=DISTINCT, variant="all"),
    OpSpec("amin", lambda m, a, dim, keepdim: m.amin(a, dim, keepdim), domain=DISTINCT, params=dim_keepdim),
    OpSpec("var", lambda m, a: m.var(a), SIDES2),
    OpSpec("var", lambda m, a, dim, keepdim: m.var(a, dim, keepdim=keepdim), SIDES2, params=dim_keepdim,
           variant="dim"),
    OpSpec("var", lambda m, a: m.var(a, 0, correction=0), variant="correction0"),
    OpSpec("var", lambda m, a: m.var(a, unbiased=False), SIDES2, variant="unbiased-false"),
    # std has an infinite slope where all values are equal: DISTINCT.
    OpSpec("std", lambda m, a: m.std(a), SIDES2, DISTINCT),
    OpSpec("std", lambda m, a, dim, keepdim: m.std(a, dim, keepdim=keepdim), SIDES2, DISTINCT,
           params=dim_keepdim, variant="dim"),
    OpSpec("std", lambda m, a: m.std(a, -1, unbiased=False), SIDES2, DISTINCT, variant="biased"),
    OpSpec("std", lambda m, a, dim, keepdim: m.std(a, dim, keepdim=keepdim, correction=0), SIDES2,
           DISTINCT, params=dim_keepdim, variant="correction0"),
    OpSpec("logsumexp", lambda m, a, dim, keepdim: m.logsumexp(a, dim, keepdim), params=dim_keepdim),
    OpSpec("logsumexp", lambda m, a: m.logsumexp(a, -1, keepdim=True), variant="keepdim", graph="unary"),
    OpSpec("logsumexp", lambda m, a: m.logsumexp(a * 400, -1), variant="large"),
    # Norms are kinked at 0 (and the inf-norm where |x| ties).
    OpSpec("norm", lambda m, a: m.norm(a), domain=NONZERO),
    OpSpec("norm", lambda m, a, dim, keepdim: m.norm(a, 2, dim, keepdim), domain=NONZERO,
           params=dim_keepdim, variant="dim"),
    OpSpec("norm", lambda m, a: m.norm(a, 1), domain=NONZERO, variant="p1"),
    OpSpec("norm", lambda m, a, dim: m.norm(a, 3, dim), domain=NONZERO, params=one_dim, variant="p3"),
    OpSpec("norm", lambda m, a: m.norm(a, 0), domain=NONZERO, variant="p0"),
    OpSpec("norm", lambda m, a: m.norm(a, float("inf")), domain=ABS_DISTINCT, variant="inf"),
    OpSpec("cumsum", lambda m, a, dim: m.cumsum(a, dim), params=one_dim),
    OpSpec("cumsum", lambda m, a: a.cumsum(-1), variant="last", graph="unary"),
    OpSpec("nansum", lambda m, a: m.nansum(_with_nans(m, a), 1), fixed((2, 3))),
    OpSpec("nanmean", lambda m, a: m.nanmean(_with_nans(m, a), 1, keepdim=True), fixed((2, 3))),
    OpSpec("var_mean", lambda m, a: m.var_mean(a, 1), fixed((2, 3))),
    OpSpec("std_mean", lambda m, a: m.std_mean(a, 0, correction=0), fixed((3, 2)), DISTINCT),
    OpSpec("aminmax", lambda m, a: m.aminmax(a, dim=1), fixed((2, 3)), DISTINCT),
    OpSpec("dist", lambda m, a, b: m.dist(a, b) + m.dist(a, b, 1), fixed((2, 3), (3,)), DISTINCT),
    OpSpec("trace", lambda m, a: m.trace(a), fixed((3, 2))),
    OpSpec("cumprod", lambda m, a: m.cumprod(a, 1), fixed((2, 3)), NEAR_ONE),
    OpSpec("cumprod", lambda m, a: m.cumprod(a * _const(m, a, [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), 1),
           fixed((2, 3)), NEAR_ONE, variant="zeros"),
    OpSpec("logcumsumexp", lambda m, a: m.logcumsumexp(a, 0), fixed((3, 2))),
    OpSpec("cov", lambda m, a: m.cov(a), fixed((2, 4))),
    # (the added pattern keeps the rows off perfect correlation, where corrcoef is clamped)
    OpSpec("corrcoef", lambda m, a: m.corrcoef(a + _const(m, a, [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]])),
           fixed((2, 4))),
    # ---- sorting (autodiff/ops/sorting.py): distinct values (ties are kinks; their gradient
    # rule is checked against PyTorch in tests/ops/test_sorting.py) ----------------------------
    OpSpec("sort", lambda m, a: m.sort(a, 1, descending=True), fixed((2, 3)), DISTINCT),
    OpSpec("msort", lambda m, a: m.msort(a), fixed((3, 2)), DISTINCT),
    OpSpec("topk", lambda m, a: m.topk(a, 2, 1) + m.topk(a, 1, 0, largest=False), fixed((2, 3)), DISTINCT),
    OpSpec("kthvalue", lambda m, a: m.kthvalue(a, 2, 0, keepdim=True), fixed((3, 2)), DISTINCT),
    OpSpec("median", lambda m, a: m.median(a) + m.median(a, 1).values.sum(), fixed((2, 3)), DISTINCT),
    OpSpec("nanmedian", lambda m, a: m.nanmedian(_with_nans(m, a), 1).values.sum() + m.nanmedian(_with_nans(m, a)),
           fixed((2, 3)), DISTINCT),
    OpSpec("mode", lambda m, a: m.mode(a, 1), fixed((2, 3)), DISTINCT),
    OpSpec("quantile", lambda m, a: m.quantile(a, _q(m, a, [0.25, 0.6]), 1), fixed((2, 4)), DISTINCT),
    OpSpec("nanquantile", lambda m, a: m.nanquantile(_with_nans(m, a), 0.3), fixed((2, 3)), DISTINCT),
    OpSpec("cummax", lambda m, a: m.cummax(a, 1), fixed((2, 3)), DISTINCT),
    OpSpec("cummin", lambda m, a: m.cummin(a, 0), fixed((3, 2)), DISTINCT),
    # ---- shape (autodiff/ops/shape.py) -----------------------------------------------------------
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
    OpSpec("Tensor.permute", lambda m, a: (a * a).t() * a.permute(1, 0) + a.transpose(0, 1) ** 2,
           fixed(A), MID, variant="with-t-transpose"),
    OpSpec("transpose", lambda m, a, dim0, dim1: m.transpose(a, dim0, dim1), params=two_dims),
    OpSpec("transpose", lambda m, a: a.transpose(0, -1), variant="ends", graph="unary"),
    OpSpec("t", lambda m, a: m.t(a), one(0, 2)),
    OpSpec("Tensor.T", lambda m, a: a.T, one(2, 2)),
    OpSpec("Tensor.mT", lambda m, a: a.mT, one(2, 3)),
    OpSpec("unsqueeze", lambda m, a, dim: m.unsqueeze(a, dim), params=stack_dim),
    OpSpec("unsqueeze", lambda m, a: (a * a).unsqueeze(1).squeeze(1) * a, fixed(A), MID,
           variant="then-squeeze"),
    OpSpec("squeeze", lambda m, a: m.squeeze(a), shapes(0, 3, 1, 2).map(lambda s: (s,))),
    OpSpec("squeeze", lambda m, a, dim: m.squeeze(a, dim), shapes(0, 3, 1, 2).map(lambda s: (s,)),
           params=one_dim, variant="dim"),
    OpSpec("cat", lambda m, *xs, dim: m.cat(list(xs), dim), cat_shapes(), params=cat_dim),
    OpSpec("cat", lambda m, a, b: m.cat([a * a, a], 0).sum(0) * m.stack([a, a * b]).sum(0).sum(0), A_B,
           MID, variant="with-stack"),
    OpSpec("stack", lambda m, *xs, dim: m.stack(list(xs), dim),
           st.integers(1, 3).flatmap(same_shapes), params=stack_dim),
    OpSpec("flip", lambda m, a, dims: m.flip(a, dims), one(1), params=flip_dims),
    OpSpec("flip", lambda m, a: m.flip(a, (-1,)), variant="last", graph="unary"),
    OpSpec("Tensor.repeat", lambda m, a, reps: a.repeat(*reps), params=repeats),
    OpSpec("split", lambda m, a, split, dim: m.split(a, split, dim), one(1), params=split_sizes),
    # Multi-output ops with only some outputs used (the others get zero gradients).
    OpSpec("split", lambda m, a: m.split(a, 2, 1)[1] * 2 + m.split(a, [1, 2], 1)[0], fixed(A),
           variant="some-pieces"),
    OpSpec("chunk", lambda m, a, chunks, dim: m.chunk(a, chunks, dim), one(1), params=chunks),
    OpSpec("chunk", lambda m, a: m.chunk(a, 2, 0)[1], fixed((3, 2)), variant="one-piece"),
    OpSpec(F + "pad", lambda m, a, pad, value: m.nn.functional.pad(a, pad, value=value), one(1),
           params=pad_widths),
    OpSpec(F + "pad", lambda m, a: m.nn.functional.pad(a, (1, 2, 0, 1), mode="reflect"), fixed((1, 2, 3)),
           variant="reflect-2d"),
    OpSpec(F + "pad", lambda m, a: m.nn.functional.pad(a, (2, 1, 1, 3), mode="replicate"), fixed((1, 2, 3)),
           variant="replicate"),
    OpSpec(F + "pad", lambda m, a: m.nn.functional.pad(a, (1, 1, 2, 0, 0, 1), mode="circular"),
           fixed((1, 2, 2, 3)), variant="circular"),
    OpSpec("clone", lambda m, a: m.clone(a), graph="unary"),
    OpSpec("clone", lambda m, a: (a * a).clone() * a.t().contiguous().t(), fixed(A), MID,
           variant="with-contiguous"),
    OpSpec("Tensor.contiguous", lambda m, a: a.transpose(0, -1).contiguous()),
    OpSpec("movedim", lambda m, a: m.movedim(a, (0, 1), (2, 0)), fixed((2, 1, 3))),
    OpSpec("swapaxes", lambda m, a: m.swapaxes(a, 0, -1), fixed((2, 3))),
    OpSpec("swapdims", lambda m, a: m.swapdims(a, 1, 0), fixed((2, 3))),
    OpSpec("adjoint", lambda m, a: m.adjoint(a), fixed((2, 1, 3))),
    OpSpec("roll", lambda m, a: m.roll(a, (1, -2), (0, 1)) * m.roll(a, 4), fixed((2, 3))),
    OpSpec("rot90", lambda m, a: (m.rot90(a), m.rot90(a, -1, (1, 0)), m.rot90(a, 2)), fixed((2, 3))),
    OpSpec("fliplr", lambda m, a: m.fliplr(a), fixed((2, 3))),
    OpSpec("flipud", lambda m, a: m.flipud(a), fixed((2, 3))),
    OpSpec("tile", lambda m, a: m.tile(a, (2,)) * 1.5, fixed((2, 2))),
    OpSpec("ravel", lambda m, a: m.ravel(a.t()), fixed((2, 3))),
    OpSpec("unflatten", lambda m, a: m.unflatten(a, 1, (2, -1)), fixed((2, 4))),
    OpSpec("narrow", lambda m, a: m.narrow(a, 1, 1, 2), fixed((2, 3))),
    OpSpec("unbind", lambda m, a: m.unbind(a, 1), fixed((2, 3))),
    OpSpec("tensor_split", lambda m, a: m.tensor_split(a, 2, 1) + m.tensor_split(a, [1], 0), fixed((2, 3))),
    OpSpec("hsplit", lambda m, a: m.hsplit(a, [1, 2]), fixed((2, 3))),
    OpSpec("vsplit", lambda m, a: m.vsplit(a, 2), fixed((2, 3))),
    OpSpec("dsplit", lambda m, a: m.dsplit(a, 2), fixed((1, 2, 2))),
    OpSpec("split_with_sizes", lambda m, a: m.split_with_sizes(a, [1, 2], 1), fixed((2, 3))),
    OpSpec("atleast_1d", lambda m, a, b: m.atleast_1d(a, b), fixed((), (2,))),
    OpSpec("atleast_2d", lambda m, a: m.atleast_2d(a), fixed((3,))),
    OpSpec("atleast_3d", lambda m, a, b: m.atleast_3d([a, b]), fixed((3,), (2, 2))),
    OpSpec("hstack", lambda m, a, b: m.hstack([a, b]), fixed((2, 1), (2, 2))),
    OpSpec("vstack", lambda m, a, b: m.vstack([a, b]), fixed((3,), (2, 3))),
    OpSpec("dstack", lambda m, a, b: m.dstack((a, b)), fixed((3,), (3,))),
    OpSpec("column_stack", lambda m, a, b: m.column_stack([a, b]), fixed((2,), (2, 2))),
    OpSpec("diagonal", lambda m, a: m.diagonal(a, 1, 2, 0), fixed((3, 1, 2))),
    OpSpec("diag_embed", lambda m, a: m.diag_embed(a, -1, 0, 2), fixed((2, 2))),
    OpSpec("diag", lambda m, a, b: (m.diag(a, 1), m.diag(b, -1)), fixed((2,), (3, 2))),
    OpSpec("diagflat", lambda m, a: m.diagflat(a), fixed((2, 1))),
    OpSpec("diagonal_scatter", lambda m, a, b: m.diagonal_scatter(a, b, 1), fixed((2, 3), (2,))),
    OpSpec("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), fixed((2, 2), (3,), ())),
    OpSpec("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a, b), fixed((2, 1), (3,))),
    OpSpec("meshgrid", lambda m, a, b: m.meshgrid(a, b, indexing="xy"), fixed((2,), (3,))),
    OpSpec("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), fixed((2,), (3,))),
    OpSpec("combinations", lambda m, a: m.combinations(a, 2), fixed((3,))),
    OpSpec("repeat_interleave", lambda m, a: (m.repeat_interleave(a, 2), m.repeat_interleave(
        a, _idx(m, a, [0, 2]), dim=0)), fixed((2, 2))),
    OpSpec("diff", lambda m, a, b: m.diff(a, 2, 1, prepend=b), fixed((2, 3), (2, 1))),
    OpSpec("Tensor.unfold", lambda m, a: a.unfold(1, 2, 1), fixed((2, 4))),
    # ---- indexing (autodiff/ops/indexing.py) -----------------------------------------------------
    OpSpec("Tensor.__getitem__", lambda m, a, index: a[index], params=basic_index),
    OpSpec("Tensor.__getitem__", lambda m, a, index: a[index], one(1), params=advanced_index,
           variant="advanced"),
    OpSpec("Tensor.__getitem__", lambda m, a, mask: a[m.tensor(mask, device=a.device)], one(1),
           params=mask, variant="mask"),
    OpSpec("Tensor.__getitem__", lambda m, a: (a * a)[1, 1:] * a[0, [2, 0]] + (a ** 3)[:, None][1, 0, 1:],
           fixed(A), MID, variant="basic-and-advanced"),
    OpSpec("Tensor.__setitem__", _setitem, setitem_shapes(), params=row_index),
    OpSpec("Tensor.__setitem__", _setitem_scalar, one(1), params=row_index, variant="scalar"),
    OpSpec("Tensor.__setitem__", _setitem_rows, A_B, MID, variant="slices-and-rows"),
    OpSpec("gather", lambda m, a, dim, index: m.gather(a, dim, _idx(m, a, index)), one(1),
           params=gather_index),
    OpSpec("scatter_add", lambda m, a, src, dim, index: m.scatter_add(a, dim, _idx(m, a, index), src),
           scatter_shapes(), params=scatter_index),
    OpSpec("index_select", lambda m, a, dim, index: m.index_select(a, dim, _idx(m, a, index)), one(1),
           params=select_index),
    OpSpec("masked_fill", lambda m, a, mask: a.masked_fill(_bool(m, a, mask), 0.5), params=broadcast_mask),
    OpSpec("masked_fill", lambda m, a, v, mask: a.masked_fill(_bool(m, a, mask), v),
           st.tuples(shapes(), st.just(())), params=broadcast_mask, variant="tensor"),
    OpSpec("masked_fill", lambda m, a, mask: m.masked_fill(a, _bool(m, a, mask), 1.5),
           params=broadcast_mask, variant="function"),
    OpSpec("index_add", lambda m, a, b: m.index_add(a, 1, _idx(m, a, [2, 0, 2]), b, alpha=2),
           fixed((2, 3), (2, 3))),
    OpSpec("index_copy", lambda m, a, b: m.index_copy(a, 0, _idx(m, a, [2, 0]), b), fixed((3, 2), (2, 2))),
    OpSpec("index_fill", lambda m, a, v: (a.index_fill(1, _idx(m, a, [1]), -0.5), a.index_fill(0, _idx(m, a, [0]), v)),
           fixed((2, 3), ())),
    OpSpec("index_reduce", _index_reduce,
           fixed((2, 3), (3, 3)), DISTINCT, params=lambda s: st.fixed_dictionaries(
               {"reduce": st.sampled_from(["prod", "mean", "amax", "amin"])})),
    OpSpec("put", lambda m, a, b: (m.put(a, _idx(m, a, [[4, 0]]), b), a.put(_idx(m, a, [1, 1]), b[0], accumulate=True)),
           fixed((2, 3), (1, 2))),
    OpSpec("take", lambda m, a: m.take(a, _idx(m, a, [[0, 5], [3, 3]])), fixed((2, 3))),
    OpSpec("take_along_dim", lambda m, a: m.take_along_dim(a, _idx(m, a, [[0], [2]]), 1), fixed((2, 3))),
    OpSpec("masked_select", lambda m, a: m.masked_select(a, _bool(m, a, [True, False, True])), fixed((2, 3))),
    OpSpec("masked_scatter", lambda m, a, b: m.masked_scatter(a, _bool(m, a, [[True], [False]]), b),
           fixed((2, 3), (2, 2))),
    OpSpec("select", lambda m, a: m.select(a, 1, -1), fixed((2, 3))),
    OpSpec("select_scatter", lambda m, a, b: m.select_scatter(a, b, 1, 0), fixed((2, 3), (2,))),
    OpSpec("slice_scatter", lambda m, a, b: m.slice_scatter(a, b, 1, 0, 3, 2), fixed((2, 3), (2, 2))),
    OpSpec("scatter", lambda m, a, b: (m.scatter(a, 0, _idx(m, a, [[1, 0, 1]]), b), a.scatter(1, _idx(m, a, [[2], [0]]), 0.5)),
           fixed((2, 3), (1, 3))),
    OpSpec("scatter_reduce", lambda m, a, b, reduce, include_self: m.scatter_reduce(
        a, 0, _idx(m, a, [[1, 0, 1], [1, 1, 0]]), b, reduce, include_self=include_self), fixed((2, 3), (2, 3)),
        DISTINCT, params=lambda s: st.fixed_dictionaries({
            "reduce": st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), "include_self": st.booleans()})),
    # ---- linalg (autodiff/ops/linalg.py) ---------------------------------------------------------
    OpSpec("mm", lambda m, a, b: m.mm(a, b),
           st.tuples(*[st.integers(1, 3)] * 3).map(lambda n: ((n[0], n[1]), (n[1], n[2])))),
    OpSpec("matmul", lambda m, a, b: m.matmul(a, b), matmul_shapes()),
    OpSpec("matmul", lambda m, a, b, w: (a * a) @ w @ (w.t() @ a[0]) + a @ b, fixed(A, B, (3, 2)),
           (MID, MID, Domain(-1.0, 1.0)), variant="chain"),
    OpSpec("Tensor.__rmatmul__", lambda m, a, b: b.__rmatmul__(a), matmul_shapes()),
    OpSpec("dot", lambda m, a, b: m.dot(a, b), st.integers(1, 4).map(lambda n: ((n,), (n,)))),
    OpSpec("dot", lambda m, a, b: (a[0] * a[0]).dot(a[1] * b), A_B, MID, variant="of-rows"),
    OpSpec("bmm", lambda m, a, b: m.bmm(a, b), bmm_shapes()),
    OpSpec("outer", lambda m, a, b: m.outer(a, b), vector_pair()),
    OpSpec("einsum", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), bmm_shapes()),
    OpSpec("einsum", lambda m, a, b: m.einsum("ij,jk", a, b), mm_shapes(), variant="implicit"),
    OpSpec("einsum", lambda m, a, b: m.einsum("...ij,jk->...ik", a, b), mm_shapes(batch=True),
           variant="ellipsis"),
    OpSpec("einsum", lambda m, a: m.einsum("ijk->ki", a), one(3, 3), variant="reduce"),
    OpSpec("einsum", lambda m, a, b, c: m.einsum("i,ij,j->", a, b, c), bilinear_shapes(), variant="three"),
    OpSpec("einsum", lambda m, a, b: m.einsum("bij,jk->bik", a, b), fixed((2, 2, 3), (3, 2)),
           variant="batch-one-side"),
    OpSpec("einsum", lambda m, a, b: m.einsum("ij,j->", a, b), A_B, variant="matrix-vector-sum"),
    OpSpec(F + "linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), linear_shapes()),
    OpSpec(F + "linear", lambda m, x, w: m.nn.functional.linear(x, w), linear_shapes(bias=False),
           variant="nobias"),
    OpSpec(F + "linear", lambda m, x, w: m.nn.functional.linear(x, w),
           linear_shapes(vector_weight=True), variant="vector"),
    OpSpec("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), fixed((3,), (2, 2), (2, 3))),
    OpSpec("addmv", lambda m, c, a, b: m.addmv(c, a, b, alpha=-1), fixed((2,), (2, 3), (3,))),
    OpSpec("addr", lambda m, c, a, b: m.addr(c, a, b, beta=2), fixed((2, 1), (2,), (3,))),
    OpSpec("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b), fixed((1, 3), (2, 2, 2), (2, 2, 3))),
    OpSpec("addbmm", lambda m, c, a, b: m.addbmm(c, a, b, beta=0.5), fixed((2, 3), (2, 2, 2), (2, 2, 3))),
    OpSpec("mv", lambda m, a, b: m.mv(a, b), fixed((2, 3), (3,))),
    OpSpec("vdot", lambda m, a, b: m.vdot(a, b), fixed((3,), (3,))),
    OpSpec("inner", lambda m, a, b: m.inner(a, b), fixed((2, 3), (2, 3))),
    OpSpec("tensordot", lambda m, a, b: (m.tensordot(a, b, 1), m.tensordot(a, b, ([0, 1], [1, 0]))),
           fixed((2, 3), (3, 2))),
    OpSpec("kron", lambda m, a, b: m.kron(a, b), fixed((2, 2), (3,))),
    OpSpec("cross", lambda m, a, b: m.cross(a, b, dim=1), fixed((2, 3), (1, 3))),
    OpSpec("chain_matmul", _chain_matmul, fixed((2, 3), (3, 2), (2, 2))),
    OpSpec("matrix_power", lambda m, a: (m.matrix_power(a, 3), m.matrix_power(_well_conditioned(m, a), -2)),
           fixed((2, 2)), UNIT_SIGNED),
    OpSpec("inverse", lambda m, a: m.inverse(_well_conditioned(m, a)), fixed((2, 2, 2)), UNIT_SIGNED),
    OpSpec("det", lambda m, a: m.det(_well_conditioned(m, a)), fixed((3, 3)), UNIT_SIGNED),
    OpSpec("slogdet", lambda m, a: m.slogdet(-_well_conditioned(m, a)), fixed((2, 3, 3)), UNIT_SIGNED),
    OpSpec("logdet", lambda m, a: m.logdet(_well_conditioned(m, a)), fixed((3, 3)), UNIT_SIGNED),
    OpSpec("linalg.solve", lambda m, a, b, c: (m.linalg.solve(_well_conditioned(m, a), b),
                                             m.linalg.solve(_well_conditioned(m, a), c)),
           fixed((2, 2), (2, 3), (2,)), (UNIT_SIGNED, REAL, REAL)),
    OpSpec("cholesky", lambda m, a: _cholesky(m, a), fixed((2, 3, 3)), UNIT_SIGNED),
    OpSpec("pinverse", lambda m, a: m.pinverse(a + _const(m, a, [[3.0, 0.0], [0.0, 3.0], [0.0, 0.0]])),
           fixed((3, 2)), UNIT_SIGNED),
    # PyTorch has no double backward for cdist: its oracle row compares first derivatives only
    # where they exist, so the row is checked by gradgradcheck here and by values there.
    OpSpec("cdist", lambda m, a, b: m.cdist(a, b), fixed((2, 3), (3, 3)), DISTINCT, torch=False),
    # ---- activation (autodiff/ops/activation.py; dropout: autodiff/nn/functional.py) -------------
    OpSpec("relu", lambda m, a: m.relu(a), domain=KINK_AT_0, graph="unary"),
    OpSpec(F + "leaky_relu", lambda m, a: m.nn.functional.leaky_relu(a, 0.2), domain=KINK_AT_0,
           graph="unary"),
    OpSpec(F + "gelu", lambda m, a: m.nn.functional.gelu(a), graph="unary"),
    OpSpec(F + "gelu", lambda m, a: m.nn.functional.gelu(a, approximate="tanh"), variant="tanh"),
    OpSpec("softmax", lambda m, a, dim: m.softmax(a, dim), params=one_dim),
    OpSpec("softmax", lambda m, a: m.softmax(a, -1), variant="last", graph="unary"),
    OpSpec("softmax", lambda m, a: a.softmax(0, dtype=m.float64), variant="dtype"),
    OpSpec("softmax", lambda m, a: m.softmax(a * 400, -1), variant="large"),
    OpSpec("log_softmax", lambda m, a, dim: m.log_softmax(a, dim), params=one_dim),
    OpSpec("log_softmax", lambda m, a: m.log_softmax(a, -1), variant="last", graph="unary"),
    OpSpec("log_softmax", lambda m, a: m.log_softmax(a * 400, -1), variant="large"),
    # nn.functional's own (``dim=None`` is the legacy implicit dim: 1 for 2-d input)
    OpSpec(F + "softmax", lambda m, a: m.nn.functional.softmax(a, None), fixed((2, 3))),
    OpSpec(F + "log_softmax", lambda m, a: m.nn.functional.log_softmax(a, 0), fixed((2, 3))),
    OpSpec(F + "relu", lambda m, a: m.nn.functional.relu(a), domain=KINK_AT_0),
    OpSpec(F + "elu", lambda m, a: m.nn.functional.elu(a, 0.7), domain=KINK_AT_0, graph="unary"),
    OpSpec("selu", lambda m, a: m.selu(a), domain=KINK_AT_0),
    OpSpec("celu", lambda m, a: m.celu(a, 0.5), domain=KINK_AT_0),
    OpSpec(F + "silu", lambda m, a: m.nn.functional.silu(a), graph="unary"),
    OpSpec(F + "mish", lambda m, a: m.nn.functional.mish(a)),
    OpSpec(F + "softplus", lambda m, a: m.nn.functional.softplus(a, 2.0, 3.0),
           domain=Domain(avoid=(1.5,), unbounded=True)),
    OpSpec(F + "hardtanh", lambda m, a: m.nn.functional.hardtanh(a, -1.0, 0.5),
           domain=Domain(avoid=(-1.0, 0.5), unbounded=True)),
    OpSpec(F + "relu6", lambda m, a: m.nn.functional.relu6(a * 4), domain=Domain(avoid=(0.0, 1.5))),
    OpSpec(F + "hardsigmoid", lambda m, a: m.nn.functional.hardsigmoid(a * 2),  # PyTorch has no double
           domain=Domain(avoid=(-1.5, 1.5)), torch=False),  # backward: tests/nn/test_activation.py compares
    OpSpec(F + "hardswish", lambda m, a: m.nn.functional.hardswish(a * 2), domain=Domain(avoid=(-1.5, 1.5))),
    OpSpec(F + "logsigmoid", lambda m, a: m.nn.functional.logsigmoid(a), graph="unary"),
    OpSpec("threshold", lambda m, a: m.threshold(a, 0.3, -2.0), domain=Domain(avoid=(0.3,), unbounded=True)),
    OpSpec("hardshrink", lambda m, a: m.hardshrink(a, 0.4), domain=Domain(avoid=(-0.4, 0.4), unbounded=True)),
    OpSpec(F + "softshrink", lambda m, a: m.nn.functional.softshrink(a, 0.4),
           domain=Domain(avoid=(-0.4, 0.4), unbounded=True)),
    OpSpec(F + "softsign", lambda m, a: m.nn.functional.softsign(a), domain=KINK_AT_0),
    OpSpec(F + "tanhshrink", lambda m, a: m.nn.functional.tanhshrink(a), graph="unary"),
    OpSpec("prelu", lambda m, a, w: m.prelu(a, w), fixed((2, 3, 2), (3,)), KINK_AT_0),
    OpSpec("rrelu", lambda m, a: m.rrelu(a, 0.1, 0.3), domain=KINK_AT_0),
    OpSpec("prelu", lambda m, a, w: m.prelu(a, w), fixed((4,), (1,)), (KINK_AT_0, REAL), variant="one-weight"),
    OpSpec("Tensor.prelu", lambda m, a, w: a.prelu(w), fixed((2, 3, 2), (3,)), (KINK_AT_0, REAL)),
    OpSpec("Tensor.hardshrink", lambda m, a: a.hardshrink(0.3), domain=Domain(avoid=(-0.3, 0.3), unbounded=True)),
    OpSpec(F + "glu", lambda m, a: m.nn.functional.glu(a, 1), fixed((2, 4, 1))),
    OpSpec(F + "softmin", lambda m, a, dim: m.nn.functional.softmin(a, dim), params=one_dim),
    OpSpec(F + "gumbel_softmax", _gumbel_softmax, torch=False, tol32=1e-3),
    # Random masks: gradcheck needs one function, so p in {0, 1} or eval mode (the seeded
    # mask is checked in tests/test_op_properties.py: PyTorch's generator differs).
    OpSpec(F + "dropout", lambda m, a: m.nn.functional.dropout(a, 0.5, training=False)),
    OpSpec(F + "dropout", lambda m, a: m.nn.functional.dropout(a, 0.0), variant="p0"),
    OpSpec(F + "dropout", lambda m, a: m.nn.functional.dropout(a, 1.0), variant="p1"),
    # ---- normalization (autodiff/ops/normalization.py) -------------------------------------------
    OpSpec(F + "batch_norm", lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, True),
           fixed((3, 2, 2), (2,), (2,))),
    OpSpec(F + "batch_norm", lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True, eps=0.1),
           fixed((4, 3)), variant="no-affine"),
    OpSpec(F + "batch_norm", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, _const(m, x, [0.5, -1.0]), _const(m, x, [2.0, 0.5]), w, b), fixed((2, 2, 3), (2,), (2,)),
        variant="running-stats"),
    OpSpec(F + "instance_norm", lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b),
           fixed((2, 2, 3), (2,), (2,))),
    OpSpec("layer_norm", lambda m, x, w, b: m.layer_norm(x, (3,), w, b), fixed((2, 3), (3,), (3,))),
    OpSpec("group_norm", lambda m, x, w, b: m.group_norm(x, 2, w, b), fixed((2, 4, 2), (4,), (4,))),
    OpSpec("rms_norm", lambda m, x, w: m.rms_norm(x, (3,), w), fixed((2, 3), (3,)), NONZERO),
    OpSpec(F + "local_response_norm", lambda m, x: m.nn.functional.local_response_norm(x, 3, 0.5, 0.75, 1.0),
           fixed((2, 4, 2))),
    OpSpec(F + "normalize", lambda m, x: m.nn.functional.normalize(x, dim=-1), fixed((2, 3)), NONZERO),
    OpSpec(F + "dropout1d", lambda m, a: m.nn.functional.dropout1d(a, 0.5, training=False), fixed((2, 3))),
    OpSpec(F + "dropout2d", lambda m, a: m.nn.functional.dropout2d(a, 1.0), fixed((2, 3, 2, 1)), variant="p1"),
    OpSpec(F + "dropout3d", lambda m, a: m.nn.functional.dropout3d(a, 0.0), fixed((2, 1, 2, 2))),
    OpSpec(F + "alpha_dropout", lambda m, a: m.nn.functional.alpha_dropout(a, 0.5)),
    OpSpec(F + "feature_alpha_dropout", lambda m, a: m.nn.functional.feature_alpha_dropout(a, 0.0, True),
           fixed((2, 3))),
    # ---- loss (autodiff/ops/loss.py) -------------------------------------------------------------
    OpSpec(F + "mse_loss", lambda m, a, b, reduction: m.nn.functional.mse_loss(a, b, reduction=reduction),
           same_shapes(2), params=reduction),
    OpSpec(F + "mse_loss", _mse_broadcast, TWO, variant="broadcast"),
    OpSpec(F + "l1_loss", lambda m, a, b, reduction: m.nn.functional.l1_loss(a, b, reduction=reduction),
           same_shapes(2), WIDE_DISTINCT, params=reduction),
    OpSpec(F + "nll_loss", lambda m, a, target, reduction: m.nn.functional.nll_loss(
        a, _idx(m, a, target), reduction=reduction), class_scores(), params=class_targets),
    OpSpec(F + "nll_loss", lambda m, a, target, reduction, weight: m.nn.functional.nll_loss(
        a, _idx(m, a, target), _const(m, a, weight), ignore_index=-1, reduction=reduction),
        class_scores(), params=lambda s: class_targets(s, weighted=True), variant="weight"),
    OpSpec(F + "cross_entropy", lambda m, a, target, reduction: m.nn.functional.cross_entropy(
        a, _idx(m, a, target), reduction=reduction), class_scores(), params=class_targets),
    OpSpec(F + "cross_entropy", lambda m, a, target, reduction, weight: m.nn.functional.cross_entropy(
        a, _idx(m, a, target), _const(m, a, weight), ignore_index=-1, reduction=reduction),
        class_scores(), params=lambda s: class_targets(s, weighted=True), variant="weight"),
    OpSpec(F + "cross_entropy", lambda m, a, target, reduction: m.nn.functional.cross_entropy(
        a, _idx(m, a, target), reduction=reduction, label_smoothing=0.2), class_scores(),
        params=class_targets, variant="smoothing"),
    OpSpec(F + "cross_entropy", lambda m, a, t, reduction: m.nn.functional.cross_entropy(
        a, t, reduction=reduction), class_scores().map(lambda s: s * 2), (REAL, UNIT), params=reduction,
        variant="probs"),
    # (targets inside (0, 1): gradcheck's nudges of a target of exactly 0 or 1 leave [0, 1],
    # which binary_cross_entropy refuses, as PyTorch does)
    OpSpec(F + "binary_cross_entropy", lambda m, x, t, reduction: m.nn.functional.binary_cross_entropy(
        x, t, reduction=reduction), same_shapes(2), (PROB, PROB), params=reduction),
    OpSpec(F + "binary_cross_entropy", lambda m, x, t, reduction, weight: m.nn.functional.binary_cross_entropy(
        x, t, _const(m, x, weight), reduction=reduction), same_shapes(2), (PROB, PROB),
        params=elementwise_weight, variant="weight"),
    OpSpec(F + "binary_cross_entropy_with_logits", lambda m, x, t, reduction:
           m.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction),
           same_shapes(2), (REAL, UNIT), params=reduction),
    OpSpec(F + "binary_cross_entropy_with_logits", lambda m, x, t, reduction, weight, pos_weight:
           m.nn.functional.binary_cross_entropy_with_logits(
               x, t, _const(m, x, weight), reduction=reduction, pos_weight=_const(m, x, pos_weight)),
           same_shapes(2), (REAL, UNIT), params=logit_weights, variant="weight"),
    OpSpec(F + "cross_entropy", lambda m, a, target, reduction, weight: m.nn.functional.cross_entropy(
        a, _idx(m, a, target), _const(m, a, weight), ignore_index=-1, reduction=reduction, label_smoothing=0.3),
        class_scores(), params=lambda s: class_targets(s, weighted=True), variant="weight-smoothing"),
    # ---- composite losses and distances (autodiff/ops/composite_loss.py) ---------------------------
    OpSpec(F + "smooth_l1_loss", lambda m, a, b, reduction: m.nn.functional.smooth_l1_loss(
        a, b, reduction=reduction, beta=0.37), same_shapes(2), WIDE_DISTINCT, params=reduction),
    OpSpec(F + "huber_loss", lambda m, a, b, reduction: m.nn.functional.huber_loss(
        a, b, reduction=reduction, delta=0.63), same_shapes(2), WIDE_DISTINCT, params=reduction),
    OpSpec(F + "kl_div", lambda m, a, t: m.nn.functional.kl_div(a, t, reduction="sum"), fixed((2, 3), (2, 3)),
           (REAL, POSITIVE)),
    OpSpec(F + "poisson_nll_loss", lambda m, a, t: m.nn.functional.poisson_nll_loss(a, t, reduction="none"),
           fixed((2, 3), (2, 3)), (REAL, POSITIVE)),
    OpSpec(F + "gaussian_nll_loss", lambda m, a, t, v: m.nn.functional.gaussian_nll_loss(a, t, v, full=True),
           fixed((2, 3), (2, 3), (2, 1)), (REAL, REAL, POSITIVE)),
    OpSpec(F + "soft_margin_loss", lambda m, a: m.nn.functional.soft_margin_loss(
        a, _const(m, a, [[1, -1, 1], [-1, -1, 1]])), fixed((2, 3))),
    OpSpec(F + "multilabel_soft_margin_loss", lambda m, a: m.nn.functional.multilabel_soft_margin_loss(
        a, _const(m, a, [[1, 0, 1], [0, 0, 1]]), weight=_const(m, a, [0.5, 1.0, 2.0])), fixed((2, 3))),
    # (*) PyTorch has no double backward for the margin losses: tests/nn/test_loss.py compares
    # values and first derivatives with it.
    OpSpec(F + "multi_margin_loss", lambda m, a: m.nn.functional.multi_margin_loss(
        a, _idx(m, a, [1, 0, 3]), margin=0.55), fixed((3, 4)), WIDE_DISTINCT, torch=False),  # (*)
    OpSpec(F + "multilabel_margin_loss", lambda m, a: m.nn.functional.multilabel_margin_loss(
        a, _idx(m, a, [[3, 0, -1, 1], [1, 2, 3, -1]])), fixed((2, 4)), WIDE_DISTINCT, torch=False),
    OpSpec(F + "hinge_embedding_loss", lambda m, a: m.nn.functional.hinge_embedding_loss(
        a, _const(m, a, [[1, -1, 1], [-1, -1, 1]]), margin=0.55), fixed((2, 3)),
        Domain(avoid=(0.55,), unbounded=True)),
    OpSpec(F + "margin_ranking_loss", lambda m, a, b: m.nn.functional.margin_ranking_loss(
        a, b, _const(m, a, [1, -1, 1])), fixed((3,), (3,)), DISTINCT),
    OpSpec("cosine_similarity", lambda m, a, b: m.cosine_similarity(a, b, dim=-1), fixed((2, 3), (2, 3)), NONZERO),
    OpSpec("cosine_similarity", lambda m, a, b: m.cosine_similarity(a, b), fixed((2, 3), (1, 3)), NONZERO,
           variant="broadcast"),
    OpSpec("pairwise_distance", lambda m, a, b: m.pairwise_distance(a, b), fixed((2, 3), (2, 3)), DISTINCT),
    OpSpec(F + "cosine_embedding_loss", lambda m, a, b: m.nn.functional.cosine_embedding_loss(
        a, b, _const(m, a, [1, -1]), margin=0.1, reduction="none"), fixed((2, 3), (2, 3)), NONZERO),
    OpSpec(F + "triplet_margin_loss", lambda m, a, p, n: m.nn.functional.triplet_margin_loss(a, p, n, margin=2.0),
           fixed((2, 3), (2, 3), (2, 3)), DISTINCT),
    OpSpec(F + "triplet_margin_with_distance_loss", lambda m, a, p, n:
           m.nn.functional.triplet_margin_with_distance_loss(
               a, p, n, distance_function=lambda x, y: 1 - m.nn.functional.cosine_similarity(x, y), margin=3.0),
           fixed((2, 3), (2, 3), (2, 3)), NONZERO),
    # ---- conv (autodiff/ops/conv.py) -------------------------------------------------------------
    OpSpec(F + "conv2d", lambda m, x, w, b, **p: m.nn.functional.conv2d(x, w, b, **p), conv_shapes(),
           params=conv_params),
    OpSpec(F + "conv2d", lambda m, x, w, **p: m.nn.functional.conv2d(x, w, **p),
           conv_shapes(batched=False).map(lambda s: s[:2]), params=conv_params, variant="unbatched"),
    OpSpec(F + "conv2d", lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2, dilation=1),
           fixed((1, 1, 4, 4), (1, 1, 2, 2)), variant="stride2"),
    OpSpec(F + "max_pool2d", lambda m, a, **p: m.nn.functional.max_pool2d(a, **p), pool_shapes(),
           WIDE_DISTINCT, params=lambda s: pool_params(s, dilate=True)),
    OpSpec(F + "avg_pool2d", lambda m, a, **p: m.nn.functional.avg_pool2d(a, **p), pool_shapes(),
           params=pool_params),
    OpSpec(F + "avg_pool2d", lambda m, a, **p: m.nn.functional.avg_pool2d(a, divisor_override=3, **p),
           pool_shapes(), params=pool_params, variant="divisor"),
    OpSpec(F + "max_pool2d", lambda m, a, **p: m.nn.functional.max_pool2d(a, return_indices=True, **p)[0],
           fixed((1, 2, 5, 4)), WIDE_DISTINCT, params=lambda s: st.sampled_from(
               [dict(kernel_size=2, stride=2, ceil_mode=True), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)]),
           variant="ceil"),
    OpSpec(F + "avg_pool2d", lambda m, a, **p: m.nn.functional.avg_pool2d(a, **p), fixed((1, 2, 5, 4)),
           params=lambda s: st.sampled_from([dict(kernel_size=2, stride=2, ceil_mode=True),
                                             dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                  count_include_pad=False)]), variant="ceil"),
    OpSpec(F + "conv1d", lambda m, x, w, b, **p: m.nn.functional.conv1d(x, w, b, **p),
           fixed((2, 2, 5), (4, 1, 3), (4,)), params=lambda s: st.sampled_from(
               [dict(groups=2), dict(stride=2, padding=1, groups=2), dict(padding="same", dilation=2, groups=2)])),
    OpSpec(F + "conv1d", lambda m, x, w: m.nn.functional.conv1d(x, w, padding="same"),
           fixed((2, 5), (3, 2, 2)), variant="unbatched_even_same"),
    OpSpec(F + "conv3d", lambda m, x, w, b, **p: m.nn.functional.conv3d(x, w, b, **p),
           fixed((1, 2, 3, 3, 2), (2, 1, 2, 2, 1), (2,)), params=lambda s: st.sampled_from(
               [dict(groups=2), dict(stride=(2, 1, 1), padding=1, groups=2), dict(padding="same", groups=2)])),
    OpSpec(F + "conv_transpose2d", lambda m, x, w, b, **p: m.nn.functional.conv_transpose2d(x, w, b, **p),
           fixed((1, 2, 3, 2), (2, 2, 2, 2), (2,)), params=lambda s: st.sampled_from(
               [dict(), dict(stride=2, padding=1, output_padding=1), dict(stride=(2, 1), dilation=2)])),
    OpSpec(F + "conv_transpose2d", lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, groups=2, stride=2),
           fixed((2, 3, 2), (2, 1, 2, 2), (2,)), variant="groups_unbatched"),
    OpSpec(F + "conv_transpose1d", lambda m, x, w, b, **p: m.nn.functional.conv_transpose1d(x, w, b, **p),
           fixed((2, 2, 3), (2, 3, 3), (3,)), params=lambda s: st.sampled_from(
               [dict(), dict(stride=2, padding=1, output_padding=1), dict(dilation=2, padding=2)])),
    OpSpec(F + "unfold", lambda m, a, **p: m.nn.functional.unfold(a, **p), fixed((1, 2, 4, 3)),
           params=lambda s: st.sampled_from([dict(kernel_size=2), dict(kernel_size=(2, 1), dilation=2, padding=1,
                                                                       stride=(1, 2))])),
    OpSpec(F + "fold", lambda m, a: m.nn.functional.fold(a, (3, 4), 2), fixed((1, 8, 6))),
    OpSpec(F + "fold", lambda m, a: m.nn.functional.fold(a, (3, 3), 2, dilation=1, padding=1, stride=2),
           fixed((4, 4)), variant="unbatched_strided"),
    # ---- pooling (autodiff/ops/pooling.py) -------------------------------------------------------
    OpSpec(F + "max_pool1d", lambda m, a, **p: m.nn.functional.max_pool1d(a, **p), fixed((2, 2, 6)),
           WIDE_DISTINCT, params=lambda s: st.sampled_from(
               [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                dict(kernel_size=2, dilation=2)])),
    OpSpec(F + "avg_pool1d", lambda m, a, **p: m.nn.functional.avg_pool1d(a, **p), fixed((2, 7)),
           params=lambda s: st.sampled_from(
               [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)])),
    OpSpec(F + "adaptive_avg_pool1d", lambda m, a, o: m.nn.functional.adaptive_avg_pool1d(a, o), fixed((2, 2, 5)),
           params=lambda s: st.fixed_dictionaries({"o": st.integers(1, 6)})),
    OpSpec(F + "adaptive_avg_pool2d", lambda m, a, o: m.nn.functional.adaptive_avg_pool2d(a, o), fixed((2, 5, 4)),
           params=lambda s: st.fixed_dictionaries({"o": st.sampled_from([1, 3, (2, 3), (None, 2)])})),
    OpSpec(F + "adaptive_max_pool1d", lambda m, a, o: m.nn.functional.adaptive_max_pool1d(a, o), fixed((2, 2, 5)),
           WIDE_DISTINCT, params=lambda s: st.fixed_dictionaries({"o": st.integers(1, 6)})),
    OpSpec(F + "adaptive_max_pool2d", lambda m, a, o: m.nn.functional.adaptive_max_pool2d(a, o),
           fixed((1, 2, 5, 4)), WIDE_DISTINCT,
           params=lambda s: st.fixed_dictionaries({"o": st.sampled_from([1, 3, (2, 3), (None, 2)])})),
    OpSpec(F + "lp_pool1d", lambda m, a, **p: m.nn.functional.lp_pool1d(a, **p), fixed((2, 2, 5)), POSITIVE,
           params=lambda s: st.sampled_from([dict(norm_type=2, kernel_size=2),
                                             dict(norm_type=3.0, kernel_size=3, stride=1, ceil_mode=True)])),
    OpSpec(F + "lp_pool2d", lambda m, a, **p: m.nn.functional.lp_pool2d(a, **p), fixed((1, 2, 4, 3)), POSITIVE,
           params=lambda s: st.sampled_from([dict(norm_type=2, kernel_size=2),
                                             dict(norm_type=1.5, kernel_size=(2, 3), stride=1)])),
    OpSpec(F + "max_pool3d", lambda m, a, **p: m.nn.functional.max_pool3d(a, **p), fixed((1, 3, 3, 2)),
           WIDE_DISTINCT, params=lambda s: st.sampled_from([dict(kernel_size=2, stride=1),
                                                           dict(kernel_size=(3, 2, 1), stride=2, padding=(1, 1, 0))])),
    OpSpec(F + "avg_pool3d", lambda m, a, **p: m.nn.functional.avg_pool3d(a, **p), fixed((1, 1, 3, 3, 2)),
           params=lambda s: st.sampled_from([dict(kernel_size=2, stride=1), dict(kernel_size=(3, 2, 1), padding=(1, 1, 0),
                                                                                 divisor_override=4)])),
    OpSpec(F + "max_unpool2d", lambda m, a: m.nn.functional.max_unpool2d(
        a, _idx(m, a, [[[[0, 3], [9, 14]]]]), 2, output_size=(4, 4)), fixed((1, 1, 2, 2))),
    OpSpec(F + "max_unpool1d", lambda m, a: m.nn.functional.max_unpool1d(a, _idx(m, a, [[1, 2, 5]]), 2),
           fixed((1, 3))),
    # ---- upsampling (autodiff/ops/upsampling.py) -------------------------------------------------
    OpSpec(F + "interpolate", lambda m, a, **p: m.nn.functional.interpolate(a, **p), fixed((1, 2, 3, 4)),
           params=lambda s: st.sampled_from(
               [dict(scale_factor=2), dict(size=(5, 3)), dict(size=(4, 7), mode="nearest-exact"),
                dict(scale_factor=1.5, mode="bilinear"), dict(size=(5, 2), mode="bilinear", align_corners=True)])),
    OpSpec(F + "interpolate", lambda m, a, **p: m.nn.functional.interpolate(a, **p), fixed((2, 2, 4)),
           params=lambda s: st.sampled_from([dict(size=7, mode="linear"), dict(scale_factor=0.6, mode="linear",
                                                                             align_corners=True)]),
           variant="linear"),
    OpSpec(F + "pixel_shuffle", lambda m, a: m.nn.functional.pixel_shuffle(a, 2), fixed((1, 8, 2, 3))),
    OpSpec(F + "pixel_unshuffle", lambda m, a: m.nn.functional.pixel_unshuffle(a, 2), fixed((2, 4, 2))),
    # ---- embedding (autodiff/ops/embedding.py) ---------------------------------------------------
    # padding_idx names a row that is not looked up: a looked-up padding row has no gradient
    # by design (not what finite differences see); tests/test_nn_conv_pool.py checks that
    OpSpec(F + "embedding", lambda m, w, **p: m.nn.functional.embedding(
        _idx(m, w, [[1, 0, 4], [4, 4, 3]]), w, **p), fixed((5, 3)),
        params=lambda s: st.sampled_from([dict(), dict(padding_idx=2), dict(padding_idx=-3)])),
    OpSpec(F + "embedding_bag", lambda m, w, **p: m.nn.functional.embedding_bag(
        _idx(m, w, [1, 0, 4, 4, 2, 3, 1]), w, _idx(m, w, [0, 2, 2, 5]), **p), fixed((5, 3)), WIDE_DISTINCT,
        params=lambda s: st.sampled_from([dict(mode="sum"), dict(mode="mean"), dict(mode="max"),
                                          dict(mode="mean", padding_idx=4)])),
    OpSpec(F + "embedding_bag", lambda m, w, psw: m.nn.functional.embedding_bag(
        _idx(m, w, [[1, 0, 4], [2, 2, 3]]), w, mode="sum", per_sample_weights=psw), fixed((5, 3), (2, 3)),
        variant="per_sample_weights", torch=False),  # PyTorch has no second derivative here
    OpSpec(F + "bilinear", lambda m, a, b, w, bias: m.nn.functional.bilinear(a, b, w, bias),
           fixed((2, 3), (2, 2), (4, 3, 2), (4,))),
    OpSpec(F + "bilinear", lambda m, a, b, w: m.nn.functional.bilinear(a, b, w),
           fixed((2, 1, 3), (2, 1, 2), (4, 3, 2)), variant="no_bias"),
    # ---- attention (autodiff/ops/attention.py) ---------------------------------------------------
    OpSpec(F + "scaled_dot_product_attention", lambda m, q, k, v, **p: m.nn.functional.scaled_dot_product_attention(
        q, k, v, **p), fixed((1, 3, 2), (1, 4, 2), (1, 4, 3)),
        params=lambda s: st.sampled_from([dict(), dict(is_causal=True), dict(scale=0.5)])),
    OpSpec(F + "scaled_dot_product_attention", lambda m, q, k, v, mask: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=mask), fixed((2, 3, 2), (2, 4, 2), (2, 4, 1), (3, 4)), variant="float_mask"),
    OpSpec(F + "multi_head_attention_forward", lambda m, q, k, w, b, ow, ob:
           m.nn.functional.multi_head_attention_forward(q, k, k, 4, 2, w, b, None, None, False, 0.0, ow, ob)[0],
           fixed((3, 1, 4), (2, 1, 4), (12, 4), (12,), (4, 4), (4,))),
    # ---- inplace (autodiff/ops/inplace.py) -------------------------------------------------------
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
    # remainder jumps where a / b crosses an integer: the domains keep a / b in (2, 3).
    OpSpec("Tensor.remainder_", lambda m, a, b: a.clone().remainder_(b), ONTO, (REM_A, REM_B)),
    OpSpec("Tensor.__imod__", _imod, ONTO, (REM_A, REM_B)),
    # ---- triangular (autodiff/ops/triangular.py) -----------------------------------------------
    OpSpec("tril", lambda m, a: m.tril(a), st.tuples(shapes(min_dims=2))),
    OpSpec("tril", lambda m, a: m.tril(a, -1), fixed((2, 3, 4)), variant="below"),
    OpSpec("triu", lambda m, a: m.triu(a, 1), st.tuples(shapes(min_dims=2))),
    OpSpec("Tensor.tril", lambda m, a: a.tril(1), fixed((3, 2))),
    OpSpec("Tensor.triu", lambda m, a: a.triu(-1), fixed((3, 2))),
    # ---- conversion (autodiff/ops/conversion.py) -------------------------------------------------
    OpSpec("to", lambda m, a: a.to(m.float32), gradcheck=LOW_PRECISION),
    OpSpec("Tensor.float", lambda m, a: a.float(), gradcheck=LOW_PRECISION),
    OpSpec("Tensor.type_as", lambda m, a: a.type_as(a.float()), gradcheck=LOW_PRECISION),
    OpSpec("Tensor.double", lambda m, a: a.float().double(), gradcheck=LOW_PRECISION),
    OpSpec("Tensor.half", lambda m, a: a.half(), gradcheck=HALF_PRECISION, tol32=2e-3),
    OpSpec("Tensor.cpu", lambda m, a: a.cpu() * 2),
)
# fmt: on


# ---- inplace twins (autodiff/ops/inplace_twins.py) -------------------------------------------
# ``x.clone().op_()`` on the domain of the out-of-place op's first row. A new unary twin
# ("asin_": "asin" in VALUE_TWINS) adds its name here; a twin with arguments adds a row below.
UNARY_TWINS = (
    "abs_", "absolute_", "neg_", "negative_", "exp_", "expm1_", "log_", "log1p_", "log2_", "sqrt_",
    "rsqrt_", "reciprocal_", "sin_", "cos_", "tan_", "tanh_", "sigmoid_", "relu_", "erf_", "floor_",
    "ceil_", "round_", "sign_", "asin_", "acos_", "atan_", "sinh_", "cosh_", "asinh_", "acosh_",
    "atanh_", "arcsin_", "arccos_", "arctan_", "arcsinh_", "arccosh_", "arctanh_", "exp2_", "log10_",
    "logit_", "trunc_", "fix_", "frac_", "sgn_", "deg2rad_", "rad2deg_", "nan_to_num_", "square_",
    "erfc_", "erfinv_", "lgamma_", "digamma_", "i0_", "sinc_",
)
_ALIASES = {"absolute": "abs", "negative": "neg", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
            "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "fix": "trunc"}
# PyTorch's relu_ saves its (in-place) output, so its gradient has a (zero) second
# derivative where ours has none: not compared with PyTorch (gradcheck still checks it).
_NOT_VS_TORCH = {"relu_", "atanh_", "arctanh_", "asinh_", "arcsinh_", "acosh_", "arccosh_"}  # (PyTorch: "the derivative for 'inplace
# version of atanh' is not implemented", and the same for asinh_ and acosh_)


def _twin_row(name: str) -> OpSpec:
    base = _ALIASES.get(name[:-1], name[:-1])
    like = next(s for s in ROWS if s.op in (base, "Tensor." + base) and not s.variant)
    return OpSpec("Tensor." + name, lambda m, a: getattr(a.clone(), name)(), fixed((2, 3)), like.domain,
                  gradcheck=like.gradcheck, tol32=like.tol32, torch=like.torch and name not in _NOT_VS_TORCH)


# fmt: off
ROWS = ROWS + tuple(_twin_row(n) for n in UNARY_TWINS) + (
    OpSpec("Tensor.multiply_", lambda m, a, b: a.clone().multiply_(b), ONTO),
    OpSpec("Tensor.divide_", lambda m, a, b: a.clone().divide_(b), ONTO, (REAL, NONZERO)),
    OpSpec("Tensor.true_divide_", lambda m, a, b: a.clone().true_divide_(b), fixed((2, 3), (3,)),
           (REAL, NONZERO)),
    OpSpec("Tensor.subtract_", lambda m, a, b: a.clone().subtract_(b), fixed((2, 3), (2, 1))),
    OpSpec("Tensor.lerp_", lambda m, a, b: a.clone().lerp_(b, 0.3), ONTO),
    OpSpec("Tensor.clamp_min_", lambda m, a: a.clone().clamp_min_(0.2), fixed((2, 3)),
           Domain(avoid=(0.2,), unbounded=True)),
    OpSpec("Tensor.clamp_max_", lambda m, a: a.clone().clamp_max_(0.2), fixed((2, 3)),
           Domain(avoid=(0.2,), unbounded=True)),
    OpSpec("Tensor.gt_", lambda m, a: a.clone().gt_(0.3) * a, fixed((2, 3)), Domain(avoid=(0.3,))),
    OpSpec("Tensor.eq_", lambda m, a: a.clone().eq_(a.detach()) + a, fixed((2, 3))),
    OpSpec("Tensor.ne_", lambda m, a: a.clone().ne_(a.detach() + 1.0) + a, fixed((2, 3))),
    OpSpec("Tensor.lt_", lambda m, a: a.clone().lt_(0.3) + a, fixed((2, 3)), Domain(avoid=(0.3,))),
    OpSpec("Tensor.le_", lambda m, a: a.clone().le_(0.3) + a, fixed((2, 3)), Domain(avoid=(0.3,))),
    OpSpec("Tensor.ge_", lambda m, a: a.clone().ge_(0.3) + a, fixed((2, 3)), Domain(avoid=(0.3,))),
    # PyTorch records nothing for in-place logical ops (the gradient flows on as if they had
    # not run); ours is zero, as for the comparisons: not compared with PyTorch.
    OpSpec("Tensor.logical_and_", lambda m, a: a.clone().logical_and_(a > 0) + a, fixed((2, 3)),
           Domain(avoid=(0.0,)), torch=False),
    OpSpec("Tensor.logical_or_", lambda m, a: a.clone().logical_or_(a > 0) + a, fixed((2, 3)),
           Domain(avoid=(0.0,)), torch=False),
    OpSpec("Tensor.logical_not_", lambda m, a: a.clone().logical_not_() + a, fixed((2, 3)),
           Domain(avoid=(0.0,)), torch=False),
    OpSpec("Tensor.cumsum_", lambda m, a: a.clone().cumsum_(1), fixed((2, 3))),
    OpSpec("Tensor.masked_fill_", lambda m, a, mask: a.clone().masked_fill_(_bool(m, a, mask), 0.5),
           params=broadcast_mask),
    OpSpec("Tensor.scatter_add_", lambda m, a, src, dim, index: a.clone().scatter_add_(dim, _idx(m, a, index), src),
           scatter_shapes(), params=scatter_index),
    OpSpec("Tensor.index_put_", lambda m, a, b: a.clone().index_put_((_idx(m, a, [0, 2]),), b),
           fixed((3, 2), (2, 2))),
    OpSpec("Tensor.index_put", lambda m, a, b: a.index_put((_idx(m, a, [2]),), b), fixed((3, 2), (2,))),
    OpSpec("index_put", lambda m, a, b: m.index_put(a, (_idx(m, a, [1]),), b), fixed((3,), ())),
    # accumulate=True: repeated indices add up (the value broadcasts to the indexed shape)
    OpSpec("Tensor.index_put_", lambda m, a, b: a.clone().index_put_((_idx(m, a, [0, 2, 0]),), b, accumulate=True),
           fixed((3, 2), (2,)), variant="accumulate"),
    OpSpec("index_put", lambda m, a, b: m.index_put(a, (_idx(m, a, [1, 1]), _idx(m, a, [0, 0])), b,
                                                    accumulate=True), fixed((2, 3), (2,)), variant="accumulate"),
    OpSpec("Tensor.tril_", lambda m, a: a.clone().tril_(), fixed((3, 3))),
    OpSpec("Tensor.triu_", lambda m, a: a.clone().triu_(1), fixed((2, 3))),
    OpSpec("Tensor.t_", lambda m, a: (a * 1).t_() * _const(m, a, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
           fixed((2, 3))),
    OpSpec("Tensor.transpose_", lambda m, a: (a * 1).transpose_(0, 2), fixed((2, 1, 3))),
    OpSpec("Tensor.swapaxes_", lambda m, a: (a * 1).swapaxes_(0, 1)[0], fixed((2, 3))),
    OpSpec("Tensor.swapdims_", lambda m, a: (a * 1).swapdims_(1, 0)[1], fixed((2, 3))),
    OpSpec("Tensor.unsqueeze_", lambda m, a: (a * 1).unsqueeze_(1) * _const(m, a, [[1.0], [2.0]]), fixed((2,))),
    OpSpec("Tensor.squeeze_", lambda m, a: (a * 1).squeeze_() * _const(m, a, [1.0, 2.0]), fixed((2, 1))),
    OpSpec("Tensor.exp_", lambda m, a: _exp_row_of_view(a), fixed((2, 3)), variant="view"),
    # twins of two- and three-operand ops, on their out-of-place rows' domains
    OpSpec("Tensor.atan2_", lambda m, a, b: a.clone().atan2_(b), ONTO, (NONZERO, REAL)),
    OpSpec("Tensor.arctan2_", lambda m, a, b: a.clone().arctan2_(b), ONTO, (NONZERO, REAL)),
    OpSpec("Tensor.hypot_", lambda m, a, b: a.clone().hypot_(b), ONTO, (NONZERO, REAL)),
    OpSpec("Tensor.copysign_", lambda m, a, b: a.clone().copysign_(b), ONTO, (NONZERO, NONZERO)),
    OpSpec("Tensor.fmod_", lambda m, a: a.clone().fmod_(1.5), fixed((2, 3)), Domain(avoid=(-1.5, 0.0, 1.5))),
    OpSpec("Tensor.xlogy_", lambda m, a, b: a.clone().xlogy_(b), ONTO, (REAL, POSITIVE)),
    OpSpec("Tensor.addcmul_", lambda m, a, b, c: a.clone().addcmul_(b, c, value=0.5), fixed((2, 3), (3,), (2, 1))),
    OpSpec("Tensor.addcdiv_", lambda m, a, b, c: a.clone().addcdiv_(b, c), fixed((2, 3), (3,), (2, 1)),
           (REAL, REAL, NONZERO)),
    OpSpec("Tensor.ldexp_", lambda m, a: a.clone().ldexp_(_idx(m, a, 3)), fixed((2, 3))),
    OpSpec("Tensor.polygamma_", lambda m, a: a.clone().polygamma_(1), fixed((2, 3)), Domain(0.2, 4.0), torch=False),
    OpSpec("Tensor.mvlgamma_", lambda m, a: a.clone().mvlgamma_(2), fixed((2, 3)), Domain(1.2, 4.0)),
    OpSpec("Tensor.nextafter_", lambda m, a, b: a.clone().nextafter_(b), ONTO, DISTINCT),
    OpSpec("Tensor.float_power_", lambda m, a: a.clone().float_power_(2), fixed((2, 3)),
           gradcheck=LOW_PRECISION, torch=False),
    OpSpec("Tensor.greater_", lambda m, a: a.clone().greater_(0.3) * a, fixed((2, 3)), Domain(avoid=(0.3,))),
    OpSpec("Tensor.greater_equal_", lambda m, a: a.clone().greater_equal_(0.3) + a, fixed((2, 3)), Domain(avoid=(0.3,))),
    OpSpec("Tensor.less_", lambda m, a: a.clone().less_(0.3) + a, fixed((2, 3)), Domain(avoid=(0.3,))),
    OpSpec("Tensor.less_equal_", lambda m, a: a.clone().less_equal_(0.3) + a, fixed((2, 3)), Domain(avoid=(0.3,))),
    OpSpec("Tensor.not_equal_", lambda m, a: a.clone().not_equal_(a.detach() + 1.0) + a, fixed((2, 3))),
    OpSpec("Tensor.logical_xor_", lambda m, a: a.clone().logical_xor_(a > 0) + a, fixed((2, 3)),
           Domain(avoid=(0.0,)), torch=False),
    OpSpec("Tensor.index_add_", lambda m, a, b: a.clone().index_add_(0, _idx(m, a, [2, 0]), b, alpha=2),
           fixed((3, 2), (2, 2))),
    OpSpec("Tensor.index_copy_", lambda m, a, b: a.clone().index_copy_(0, _idx(m, a, [2, 0]), b),
           fixed((3, 2), (2, 2))),
    OpSpec("Tensor.index_fill_", lambda m, a: a.clone().index_fill_(1, _idx(m, a, [1]), -1.0), fixed((3, 2))),
    OpSpec("Tensor.put_", lambda m, a, b: a.clone().put_(_idx(m, a, [5, 0]), b), fixed((2, 3), (2,))),
    OpSpec("Tensor.scatter_", lambda m, a, b: a.clone().scatter_(1, _idx(m, a, [[0], [2]]), b), fixed((2, 3), (2, 1))),
    OpSpec("Tensor.scatter_reduce_", lambda m, a, b: a.clone().scatter_reduce_(
        1, _idx(m, a, [[0, 0], [2, 1]]), b, "sum"), fixed((2, 3), (2, 2))),
    OpSpec("Tensor.index_reduce_", lambda m, a, b: _in_place_index_reduce(m, a, b), fixed((3, 2), (3, 2)),
           DISTINCT),
    OpSpec("Tensor.masked_scatter_", lambda m, a, b: a.clone().masked_scatter_(a > 0, b), fixed((2, 3), (2, 3)),
           Domain(avoid=(0.0,))),
    OpSpec("Tensor.addmm_", lambda m, a, b, c: a.clone().addmm_(b, c, beta=0.5), fixed((2, 3), (2, 4), (4, 3))),
    OpSpec("Tensor.addmv_", lambda m, a, b, c: a.clone().addmv_(b, c), fixed((2,), (2, 3), (3,))),
    OpSpec("Tensor.addr_", lambda m, a, b, c: a.clone().addr_(b, c), fixed((2, 3), (2,), (3,))),
    OpSpec("Tensor.addbmm_", lambda m, a, b, c: a.clone().addbmm_(b, c), fixed((2, 3), (2, 2, 4), (2, 4, 3))),
    OpSpec("Tensor.baddbmm_", lambda m, a, b, c: a.clone().baddbmm_(b, c), fixed((2, 2, 3), (2, 2, 4), (2, 4, 3))),
    OpSpec("Tensor.cumprod_", lambda m, a: a.clone().cumprod_(1), fixed((2, 3)), NEAR_ONE),
)
# fmt: on


def _in_place_index_reduce(m: Any, a: Any, b: Any) -> Any:
    with warnings.catch_warnings():  # PyTorch warns that index_reduce is in beta
        warnings.simplefilter("ignore", UserWarning)
        return a.clone().index_reduce_(0, _idx(m, a, [1, 0, 1]), b, "amax")


def _exp_row_of_view(a: Any) -> Any:
    """An in-place twin on a view: the base is rebased (CopySlices)."""
    y = a * 1
    y[1].exp_()
    return y




# Ops written as compositions of ops that have rows above (their gradients are those ops'
# own): their rows are compared with PyTorch (values, first and second derivatives) by
# tests/test_torch_oracle.py but skip the finite-difference and graph property tests, which
# would re-check the same nodes at a cost of about a second per row.
COMPOSITE_OPS = frozenset({
    "nansum", "nanmean", "var_mean", "std_mean", "aminmax", "dist", "trace", "logcumsumexp", "cov",
    "corrcoef", "msort", "quantile", "nanquantile", "movedim", "swapaxes", "swapdims", "adjoint", "rot90",
    "fliplr", "flipud", "tile", "ravel", "unflatten", "narrow", "unbind", "tensor_split", "hsplit", "vsplit",
    "dsplit", "split_with_sizes", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack",
    "column_stack", "diag", "diagflat", "diagonal_scatter", "block_diag", "broadcast_tensors", "meshgrid",
    "cartesian_prod", "combinations", "repeat_interleave", "diff", "index_fill", "take", "take_along_dim",
    "masked_select", "masked_scatter", "put", "index_reduce", "select", "select_scatter", "slice_scatter", "mv", "vdot", "inner",
    "tensordot", "kron", "cross", "chain_matmul", "matrix_power", "logdet", "pinverse",
})
SPECS: tuple[OpSpec, ...] = tuple(s for s in ROWS if s.op not in COMPOSITE_OPS)
COMPOSITE_SPECS: tuple[OpSpec, ...] = tuple(s for s in ROWS if s.op in COMPOSITE_OPS)
SPECS_BY_ID: dict[str, OpSpec] = {s.id: s for s in SPECS}
GRAPH_SPECS: tuple[OpSpec, ...] = tuple(s for s in SPECS if s.graph is not None)
