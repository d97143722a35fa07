"""Bad-input probing: calls of every exported op with wrong arguments, checked against PyTorch.

A ``Case`` is one call -- ``autodiff.<name>``, ``Tensor.<name>`` or
``nn.functional.<name>`` -- with arguments in which tensors are described (``T``: shape,
dtype, fill) and dtypes named (``D``), so that the same case is built in autodiff and in
torch. ``all_cases()`` starts from one or two valid calls per op (``BASE``) and mutates
one argument at a time: a tensor replaced by a number, ``None``, a string or a list; a
dim pushed out of range; shapes that do not broadcast; empty, 0-d, NaN/inf, integer and
bool tensors; bad dtypes. ``check(case, torch)`` runs a case and says what went wrong:

- ``internal``: an exception class that no PyTorch user should see (``AttributeError``,
  ``ZeroDivisionError``, NumPy's words, ...), whatever torch does;
- ``silent``: torch raises, autodiff returns a value;
- ``class``: both raise, with different exception classes;
- ``fails``: torch returns, autodiff raises;
- ``value``: both return, with different values, shapes or dtypes;
- ``mutated``: autodiff raised and left an input changed (data, shape, grad or version).

The differences from PyTorch that remain on purpose are ``KNOWN_DIFFERENCES``, each with
its reason. ``python -m autodiff.testing.bad_input --cases 5000 --seed 0`` prints the
figures (tests/test_bad_input.py draws the cases through hypothesis).
"""

from __future__ import annotations

import argparse
import math
import operator
import random
import warnings
from dataclasses import dataclass, field
from typing import Any

import autodiff

Outcome = str  # "", or one of the kinds in the module docstring


# ---- describing arguments -----------------------------------------------------------------
@dataclass(frozen=True)
class T:
    """A tensor argument: ``shape``, ``dtype`` name, ``fill`` ("normal", "unit" in (0, 1),
    "nan", "inf", "index" in [0, high)) and whether it requires grad."""

    shape: tuple
    dtype: str = "float32"
    fill: str = "normal"
    high: int = 2
    grad: bool = False

    def build(self, m: Any, rng: random.Random) -> Any:
        n = math.prod(self.shape)
        if self.fill == "index":
            flat = [rng.randrange(self.high) for _ in range(n)]
        elif self.dtype == "bool":
            flat = [rng.random() < 0.5 for _ in range(n)]
        elif self.fill == "unit":
            flat = [rng.uniform(0.1, 0.9) for _ in range(n)]
        else:
            flat = [round(rng.gauss(0, 1), 3) for _ in range(n)]
            if self.fill in ("nan", "inf") and flat:
                flat[0] = math.nan if self.fill == "nan" else -math.inf
                flat[-1] = math.inf
            if self.dtype.startswith("int"):
                flat = [int(v * 3) if math.isfinite(v) else 0 for v in flat]
        data: Any = _nest(flat, self.shape)
        t = m.tensor(data, dtype=getattr(m, self.dtype))
        if self.grad:
            t.requires_grad_(True)
        return t


@dataclass(frozen=True)
class D:
    """A dtype argument, by name (``D("float64")`` is ``m.float64``)."""

    name: str

    def build(self, m: Any, rng: random.Random) -> Any:
        return getattr(m, self.name)


def _nest(flat: list, shape: tuple) -> Any:
    if not shape:
        return flat[0]
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _build(v: Any, m: Any, rng: random.Random) -> Any:
    if isinstance(v, (T, D)):
        return v.build(m, rng)
    if isinstance(v, list):
        return [_build(x, m, rng) for x in v]
    if isinstance(v, tuple):
        return tuple(_build(x, m, rng) for x in v)
    return v


@dataclass(frozen=True)
class Case:
    """One call: ``kind`` is "fn" (``m.name``), "method" (``args[0].name``) or "F"
    (``m.nn.functional.name``)."""

    kind: str
    name: str
    args: tuple
    kwargs: tuple = ()  # (key, value) pairs
    note: str = ""
    random: bool = False  # the values are random (compare shape and dtype only)

    def __str__(self) -> str:
        args = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        prefix = {"fn": "", "method": "Tensor.", "F": "F."}[self.kind]
        return f"{prefix}{self.name}({', '.join(args)})" + (f"  [{self.note}]" if self.note else "")


# ---- the valid calls mutations start from -----------------------------------------------------
X, Y = T((2, 3)), T((2, 3), fill="unit")
V, W = T((3,)), T((3,), fill="unit")
M34, B234, B245 = T((3, 4)), T((2, 3, 4)), T((2, 4, 5))
IDX = T((2, 3), "int64", "index", high=2)
SEL = T((2,), "int64", "index", high=2)
MASK = T((2, 3), "bool")
IMG, KER = T((1, 2, 5, 5)), T((3, 2, 3, 3))
LOGITS, TARGET = T((4, 3)), T((4,), "int64", "index", high=3)
PROB = T((2, 3), fill="unit")

UNARY = ("exp", "log", "sqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid", "rsqrt",
         "expm1", "log1p", "log2", "erf", "floor", "ceil", "round", "neg", "reciprocal", "relu",
         "logical_not", "isnan", "t", "clone")
BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "logaddexp", "eq", "ne", "lt",
          "le", "gt", "ge", "logical_and", "logical_or")
OPERATORS = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
             "__rtruediv__", "__pow__", "__rpow__", "__eq__", "__ne__", "__lt__", "__le__",
             "__gt__", "__ge__", "__and__", "__or__", "__matmul__", "__rmatmul__",
             "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__")
INPLACE = ("add_", "sub_", "mul_", "div_", "pow_", "__iadd__", "__isub__", "__imul__",
           "__itruediv__", "__ipow__", "__ifloordiv__", "__imod__", "copy_")
REDUCTIONS = ("sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var",
              "std", "norm")
CONVERSIONS = ("cpu", "float", "double", "half", "int", "long", "bool", "contiguous")


def _c(kind: str, name: str, *args: Any, **kwargs: Any) -> Case:
    return Case(kind, name, args, tuple(kwargs.items()))


def base_cases() -> list[Case]:
    """One or two valid calls of every op, the starting points of ``all_cases``."""
    c: list[Case] = []
    c += [_c("fn", n, X) for n in UNARY]
    c += [_c("fn", "clamp", X, -0.5, 0.5), _c("fn", "clip", X, -0.5, 0.5), _c("method", "clamp_", X, -0.5)]
    c += [_c("fn", "round", X, decimals=1)]
    for n in BINARY:
        c += [_c("fn", n, X, Y), _c("fn", n, X, 2.0)]
    c += [_c("fn", "rsub", X, Y), _c("fn", "lerp", X, Y, 0.5), _c("fn", "where", MASK, X, Y)]
    c += [_c("fn", "floor_divide", X, Y), _c("fn", "remainder", X, Y)]
    c += [_c("method", n, X, Y) for n in OPERATORS if n not in ("__matmul__", "__rmatmul__")]
    c += [_c("method", "__matmul__", X, M34), _c("method", "__rmatmul__", M34, X)]
    c += [_c("method", n, X, Y) for n in INPLACE]
    c += [_c("method", "zero_", X), _c("method", "fill_", X, 1.5), _c("method", "__setitem__", X, 0, 1.5),
          _c("method", "__getitem__", X, 1), _c("method", "__getitem__", X, (0, 2))]
    c += [_c("fn", "broadcast_to", V, (2, 3)), _c("method", "sum_to_size", X, 1, 3),
          _c("method", "expand", V, 2, 3), _c("method", "expand_as", V, X)]
    for n in REDUCTIONS:
        c += [_c("fn", n, X), _c("fn", n, X, 1), _c("fn", n, X, 1, True)]
    c += [_c("fn", "logsumexp", X, 1), _c("fn", "cumsum", X, 1), _c("fn", "sum", X, dtype=D("float64"))]
    c += [_c("fn", "reshape", X, (3, 2)), _c("method", "view", X, 3, 2), _c("fn", "flatten", B234, 1),
          _c("fn", "permute", X, (1, 0)), _c("fn", "transpose", X, 0, 1), _c("fn", "unsqueeze", X, 1),
          _c("fn", "squeeze", T((2, 1, 3)), 1), _c("fn", "cat", [X, Y], 1), _c("fn", "concat", [X, Y], 0),
          _c("fn", "stack", [X, Y], 0), _c("fn", "split", X, 1, 1), _c("fn", "chunk", X, 2, 1),
          _c("fn", "flip", X, (0,)), _c("method", "view_as", X, T((3, 2))),
          _c("method", "reshape_as", X, T((3, 2))), _c("method", "repeat", X, 2, 1)]
    c += [_c("fn", "gather", X, 1, IDX), _c("fn", "scatter_add", X, 1, IDX, Y),
          _c("fn", "index_select", X, 0, SEL), _c("fn", "masked_fill", X, MASK, 0.5)]
    c += [_c("fn", "mm", X, M34), _c("fn", "matmul", X, M34), _c("fn", "dot", V, W),
          _c("fn", "bmm", B234, B245), _c("fn", "outer", V, W), _c("fn", "ger", V, W),
          _c("fn", "einsum", "ij,jk->ik", X, M34)]
    c += [_c("fn", "softmax", X, 1), _c("fn", "log_softmax", X, 1)]
    c += [_c("F", "linear", X, T((4, 3)), T((4,))), _c("F", "gelu", X), _c("F", "leaky_relu", X, 0.1),
          _c("F", "dropout", X, 0.5, False), _c("F", "mse_loss", X, Y), _c("F", "l1_loss", X, Y),
          _c("F", "cross_entropy", LOGITS, TARGET), _c("F", "nll_loss", LOGITS, TARGET),
          _c("F", "binary_cross_entropy", PROB, Y), _c("F", "binary_cross_entropy_with_logits", X, Y),
          _c("F", "conv2d", IMG, KER), _c("F", "conv2d", IMG, KER, None, 2, 1),
          _c("F", "max_pool2d", IMG, 2), _c("F", "avg_pool2d", IMG, 2), _c("F", "pad", X, (1, 1)),
          _c("F", "one_hot", TARGET, 3), _c("F", "softmax", X, 1), _c("F", "log_softmax", X, 1)]
    c += [_c("fn", n, X) for n in ("ones_like", "zeros_like")]
    c += [_c("fn", "full_like", X, 2.5), _c("fn", "tensor", [1.0, 2.0]), _c("fn", "as_tensor", [1.0, 2.0]),
          _c("fn", "ones", 2, 3), _c("fn", "zeros", (2, 3)), _c("fn", "full", (2, 3), 1.5),
          _c("fn", "arange", 0, 5, 1), _c("fn", "ones", 2, dtype=D("float64"))]
    c += [Case("fn", n, (2, 3), random=True) for n in ("randn", "rand", "empty")]
    c += [Case("fn", n, (X,), random=True) for n in ("randn_like", "rand_like", "empty_like")]
    c += [Case("fn", "randint", (0, 5, (2, 3)), random=True)]
    c += [_c("method", n, X) for n in CONVERSIONS]
    c += [_c("method", "to", X, D("float64")), _c("method", "type", X, D("float64"))]
    c += [_c("method", "__format__", T(()), ""), _c("method", "__format__", T(()), ".2f")]
    c += [_c("fn", "sum", X, ()), _c("method", "expand", V, -1, 2, 3)]
    return c


# ---- mutations ------------------------------------------------------------------------------
NOT_TENSORS = (2, 2.5, None, "a", [1.0, 2.0], (1.0,), True)
BAD_DIMS = (2, 3, -3, 10, -10, 1.5, "0", None)
BAD_TENSORS = (T(()), T((0,)), T((0, 3)), T((4,)), T((2, 4)), T((3, 2)), T((1, 2, 3)),
               T((2, 3), "int64"), T((2, 3), "bool"), T((2, 3), fill="nan"), T((2, 3), fill="inf"),
               T((2, 3), "float64"), T((2, 3), grad=True))
BAD_SEQUENCES = ((), (10,), (-1, -1), (0, 0), (1.5,), ("a",), None, (2, -2), (1, 2, 3, 4, 5))
BAD_SCALARS = (None, "a", math.nan, math.inf, -1, 0, 10**30, [1.0], True)
BAD_DTYPES = ("float32", 3, D("int64"), D("bool"), D("float16"))


def _replace(case: Case, i: int, value: Any, note: str) -> Case:
    args = list(case.args)
    args[i] = value
    return Case(case.kind, case.name, tuple(args), case.kwargs, note, case.random)


def _mutations(case: Case) -> list[Case]:
    out = []
    for i, a in enumerate(case.args):
        self_arg = case.kind == "method" and i == 0
        if isinstance(a, T):
            if not self_arg:
                out += [_replace(case, i, v, f"arg {i} not a tensor") for v in NOT_TENSORS]
            out += [_replace(case, i, v, f"arg {i} {v.shape} {v.dtype} {v.fill}") for v in BAD_TENSORS]
        elif isinstance(a, list) and a and isinstance(a[0], T):  # cat/stack
            out += [_replace(case, i, v, "bad list") for v in
                    ([], [a[0], None], [a[0], T((2, 4))], [T(()), T(())], a[0], None)]
        elif isinstance(a, bool):
            out += [_replace(case, i, v, "bad bool") for v in (None, "yes", 2)]
        elif isinstance(a, int):
            out += [_replace(case, i, v, f"bad int {v!r}") for v in BAD_DIMS]
            # the same dim on a 0-d tensor (PyTorch's range for it is [-1, 0])
            if isinstance(case.args[0], T) and i > 0:
                zero_d = _replace(case, 0, T(()), "")
                out += [_replace(zero_d, i, v, f"0-d, dim {v}") for v in (0, -1, 1, -2, 10)]
        elif isinstance(a, float):
            out += [_replace(case, i, v, f"bad scalar {v!r}") for v in BAD_SCALARS]
        elif isinstance(a, tuple):
            out += [_replace(case, i, v, f"bad sequence {v!r}") for v in BAD_SEQUENCES]
        elif isinstance(a, D):
            out += [_replace(case, i, v, f"bad dtype {v!r}") for v in BAD_DTYPES]
        elif isinstance(a, str):
            out += [_replace(case, i, v, "bad string") for v in ("ij,jk", "ij->", "", 2)]
    for j, (k, v) in enumerate(case.kwargs):
        if isinstance(v, D) or k == "dtype":
            for bad in BAD_DTYPES:
                kwargs = case.kwargs[:j] + ((k, bad),) + case.kwargs[j + 1:]
                out.append(Case(case.kind, case.name, case.args, kwargs, f"bad {k} {bad!r}", case.random))
    if case.kind != "method" or case.name in ("sum", "mean", "softmax"):
        # a dtype keyword where the op takes one
        if case.name in ("sum", "mean", "prod", "cumsum", "softmax", "log_softmax", "ones", "zeros",
                         "full", "arange", "tensor", "ones_like", "zeros_like", "full_like"):
            for bad in BAD_DTYPES:
                out.append(Case(case.kind, case.name, case.args, case.kwargs + (("dtype", bad),),
                                f"bad dtype {bad!r}", case.random))
    return out


def all_cases() -> list[Case]:
    """Every base call and every one-argument mutation of it (deterministic order)."""
    cases = []
    for base in base_cases():
        cases.append(base)
        cases += _mutations(base)
    return cases


# ---- the differences from PyTorch that remain ------------------------------------------------
# The cases whose outcome still differs from PyTorch's, each group with the reason: a case
# is known when ``str(case)`` starts with one of the call prefixes and contains the text.
# Anything not listed must match PyTorch.
KNOWN_DIFFERENCES: list[tuple[tuple[str, ...], str, str]] = [
    (("Tensor.expand(",), "0-d, dim 0",
     "PyTorch 2.13 returns a tensor of shape (-1, 0, 3) for tensor(1.).expand(-1, 0, 3) (-1 in a new "
     "leading dim slips past its check when another size is 0); its numel is 0 but .tolist() crashes "
     "with SystemError. No array can have a negative size, so autodiff raises PyTorch's own error for "
     "the same call on a 1-d tensor (RuntimeError: -1 isn't allowed in a leading, non-existing dimension)"),
]


def is_known(case: Case) -> bool:
    """Whether ``case`` is one of ``KNOWN_DIFFERENCES``."""
    text = str(case)
    return any(text.startswith(prefixes) and note in text for prefixes, note, _why in KNOWN_DIFFERENCES)



# ---- running a case --------------------------------------------------------------------------
INTERNAL = (AttributeError, KeyError, ZeroDivisionError, UnboundLocalError, NameError, AssertionError,
            RecursionError, OverflowError)
NUMPY_WORDS = ("axis", "broadcast together", "ndarray", "numpy", "ufunc", "object arrays")


def is_internal(exc: BaseException, torch_exc: BaseException | None) -> bool:
    """An exception no user should meet: an internal class, or NumPy's words leaking out."""
    if isinstance(exc, INTERNAL) and not (torch_exc is not None and type(torch_exc) is type(exc)):
        return True
    if type(exc).__module__.startswith(("numpy", "cupy")):
        return True
    text = str(exc).lower()
    return any(w in text for w in NUMPY_WORDS) and "dimension out of range" not in text


# Operators are called as Python calls them (``a + b``), so that an operand the operator
# does not take gets Python's TypeError rather than NotImplemented.
OPERATOR_FUNCTIONS = {
    "__add__": operator.add, "__sub__": operator.sub, "__mul__": operator.mul,
    "__truediv__": operator.truediv, "__floordiv__": operator.floordiv, "__mod__": operator.mod,
    "__pow__": operator.pow, "__matmul__": operator.matmul, "__eq__": operator.eq,
    "__ne__": operator.ne, "__lt__": operator.lt, "__le__": operator.le, "__gt__": operator.gt,
    "__ge__": operator.ge, "__and__": operator.and_, "__or__": operator.or_,
    "__iadd__": operator.iadd, "__isub__": operator.isub, "__imul__": operator.imul,
    "__itruediv__": operator.itruediv, "__ifloordiv__": operator.ifloordiv,
    "__imod__": operator.imod, "__ipow__": operator.ipow,
}


def _target(m: Any, case: Case, args: list) -> Any:
    if case.kind == "method":
        name = case.name
        if name in OPERATOR_FUNCTIONS:
            return OPERATOR_FUNCTIONS[name], args
        if name.startswith("__r") and "__" + name[3:] in OPERATOR_FUNCTIONS:  # reflected
            return OPERATOR_FUNCTIONS["__" + name[3:]], args[::-1]
        return getattr(args[0], name), args[1:]
    owner = m.nn.functional if case.kind == "F" else m
    return getattr(owner, case.name), args


def run(m: Any, case: Case, seed: int = 0) -> tuple[Any, BaseException | None, list]:
    """Call ``case`` in library ``m``: (result, exception, the built arguments)."""
    rng = random.Random(seed)
    args = [_build(a, m, rng) for a in case.args]
    kwargs = {k: _build(v, m, rng) for k, v in case.kwargs}
    try:
        fn, rest = _target(m, case, args)
    except AttributeError as e:  # the library lacks the op
        return None, e, args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*rest, **kwargs), None, args
        except Exception as e:  # noqa: BLE001 (classifying exceptions is the point)
            return None, e, args


def _snapshot(args: list) -> list:
    out = []
    for a in args:
        for t in (a if isinstance(a, list) else [a]):
            if isinstance(t, autodiff.Tensor):
                out.append((repr(t.tolist()), tuple(t.shape), t.grad, t._version[0]))
    return out


def _host(v: Any) -> Any:
    if hasattr(v, "detach") and hasattr(v, "tolist"):
        try:
            return ("tensor", str(v.dtype).replace("torch.", ""), tuple(v.shape), v.detach().tolist())
        except Exception as e:  # noqa: BLE001 (a broken result is a value mismatch)
            return ("broken tensor", repr(e))
    if isinstance(v, (list, tuple)):
        return tuple(_host(x) for x in v)
    if hasattr(v, "is_floating_point"):  # a dtype
        return str(v).replace("torch.", "")
    return v


def _close(a: Any, b: Any, shapes_only: bool, tol: float = 1e-4) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            return False
        if len(a) == 4 and a[0] == "tensor" and b[0] == "tensor":
            tol = 2e-3 if a[1] == "float16" else 1e-4
            return a[1:3] == b[1:3] and (shapes_only or _close(a[3], b[3], False, tol))
        return all(_close(x, y, shapes_only) for x, y in zip(a, b, strict=True))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, shapes_only, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= tol * max(1.0, abs(a), abs(b))
    return a == b


@dataclass
class Report:
    tried: int = 0
    kinds: dict = field(default_factory=dict)  # kind -> list of (case, detail)

    def add(self, case: Case, kind: str, detail: str) -> None:
        self.kinds.setdefault(kind, []).append((case, detail))

    def count(self, kind: str) -> int:
        return len(self.kinds.get(kind, []))


def check(case: Case, torch: Any | None, seed: int = 0) -> list[tuple[str, str]]:
    """What is wrong with autodiff on ``case``: a list of (kind, detail), empty when nothing."""
    problems = []
    got, exc, args = run(autodiff, case, seed)
    rng = random.Random(seed)
    before = _snapshot([_build(a, autodiff, rng) for a in case.args])
    if exc is not None and _snapshot(args) != before:
        problems.append(("mutated", f"{type(exc).__name__}: {exc}"))
    want, texc = (None, None)
    if torch is not None:
        want, texc, _ = run(torch, case, seed)
    if exc is not None and is_internal(exc, texc):
        problems.append(("internal", f"{type(exc).__name__}: {exc}"))
    if torch is None:
        return problems
    if exc is None and texc is not None:
        problems.append(("silent", f"torch: {type(texc).__name__}: {texc}"))
    elif exc is not None and texc is not None and type(exc) is not type(texc) and not (
        isinstance(texc, AttributeError) and isinstance(exc, TypeError)  # torch's own leak
    ):
        problems.append(("class", f"{type(exc).__name__}: {exc} / torch {type(texc).__name__}: {texc}"))
    elif exc is not None and texc is None and not problems:
        problems.append(("fails", f"{type(exc).__name__}: {exc}"))
    elif exc is None and texc is None:
        a, b = _host(got), _host(want)
        if not _close(a, b, case.random):
            problems.append(("value", f"{str(a)[:200]} / torch {str(b)[:200]}"))
    return problems


def probe(cases: list[Case], torch: Any | None) -> Report:
    report = Report()
    for case in cases:
        report.tried += 1
        for kind, detail in check(case, torch):
            report.add(case, kind, detail)
    return report


KINDS = (("internal", "internal errors"), ("silent", "silent acceptances where PyTorch raises"),
         ("class", "exception class mismatches"), ("fails", "failures where PyTorch succeeds"),
         ("value", "value mismatches"), ("mutated", "inputs changed by a failed call"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=0, help="how many cases to draw (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=5, help="examples to print per kind")
    parser.add_argument("--kind", default="", help="print every case of this kind")
    parser.add_argument("--known", action="store_true", help="print KNOWN_DIFFERENCES cases too")
    opts = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: only internal errors and changed inputs are checked")
    cases = all_cases()
    if opts.cases and opts.cases < len(cases):
        cases = random.Random(opts.seed).sample(cases, opts.cases)
    report = probe(cases, torch)
    print(f"cases tried: {report.tried}")
    for kind, label in KINDS:
        known = sum(is_known(case) for case, _ in report.kinds.get(kind, []))
        print(f"{label}: {report.count(kind)}" + (f" ({known} of them in KNOWN_DIFFERENCES)" if known else ""))
    for kind, _ in KINDS:
        items = [item for item in report.kinds.get(kind, []) if opts.known or not is_known(item[0])]
        shown = items if kind == opts.kind else items[:opts.show]
        for case, detail in shown:
            print(f"  {kind}: {case}\n      {detail[:300]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
