"""Hypothesis strategies for testing autodiff (and code built on it).

- ``shapes``: tensor shapes; ``broadcastable_shapes``: pairs/triples that broadcast together.
- ``tensors``: autodiff tensors of a dtype, device, value ``Domain`` and ``requires_grad``.
- ``op_inputs``: a ``Case`` (input values, shapes, keyword parameters) for one op spec.

The shape and parameter strategies of particular ops are in op_params.py; the random op
graphs (``op_graphs``, ``Program``), which need the spec table, in programs.py.

Values are drawn as Python floats and built with ``m.tensor`` where ``m`` is ``autodiff``
(or ``torch``, for differential tests), so the same draw runs on every device and library.
Needs ``hypothesis`` (``pip install "autodiff-tape[test]"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from autodiff.testing import needs_hypothesis

try:
    from hypothesis import strategies as st
except ImportError as exc:  # hypothesis comes with the [test] extra
    raise ImportError(needs_hypothesis("strategies")) from exc

import autodiff

Shape = tuple[int, ...]


# ---- value domains ------------------------------------------------------------------
@dataclass(frozen=True)
class Domain:
    """Where an op's inputs are drawn: ``[low, high]``, at least ``margin`` away from the
    points in ``avoid`` (kinks such as 0 for ``abs``, poles such as 0 for ``1/x``); with
    ``distinct`` all values of one op call are pairwise ``>= margin`` apart (no ties for
    ``max``-like ops). ``unbounded``: any real input is valid (op graphs feed it values
    of any size; other domains get their inputs squashed into ``[low, high]`` there)."""

    low: float = -2.0
    high: float = 2.0
    avoid: tuple[float, ...] = ()
    margin: float = 0.1
    distinct: bool = False
    unbounded: bool = False

    def fix(self, v: float) -> float:
        """``v`` pushed out of every avoided neighbourhood."""
        for p in self.avoid:
            if abs(v - p) < self.margin:
                v = p + self.margin if v >= p else p - self.margin
        return v

    def into(self, m: Any, x: Any) -> Any:
        """A map from any real tensor into this domain, made of ops (used in op graphs)."""
        y = x if self.unbounded else self.low + (self.high - self.low) * (x / (x.abs() + 1) + 1) / 2
        for p in self.avoid:
            y = y + ((y >= p).to(y.dtype) * 2 - 1) * self.margin
        return y


REAL = Domain(unbounded=True)
BOUNDED = Domain()  # exp-like ops: op graphs would overflow on unbounded inputs
POSITIVE = Domain(0.1, 2.0)
NONZERO = Domain(avoid=(0.0,), margin=0.5)
DISTINCT = Domain(distinct=True, unbounded=True)


# ---- shapes -----------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 3) -> st.SearchStrategy[Shape]:
    """Tensor shapes (small by default: gradcheck costs two calls per element)."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw: Any, n: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 3) -> tuple[Shape, ...]:
    """``n`` shapes that broadcast together: each drops leading dims of a common shape
    and turns some of the rest into 1."""
    full = draw(shapes(min_dims, max_dims, 1, max_side))
    out = []
    for _ in range(n):
        drop = draw(st.integers(0, len(full) - min_dims))
        kept = full[drop:]
        out.append(tuple(1 if draw(st.booleans()) else d for d in kept))
    return tuple(out)


def same_shapes(n: int, min_dims: int = 0) -> st.SearchStrategy[tuple[Shape, ...]]:
    return shapes(min_dims).map(lambda s: (s,) * n)


def one(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy[tuple[Shape]]:
    """A single input's shape, as a 1-tuple (what a unary op spec takes)."""
    return shapes(min_dims, max_dims).map(lambda s: (s,))


# ---- values and tensors --------------------------------------------------------------
def _values(n: int, domain: Domain) -> st.SearchStrategy[list[float]]:
    if domain.distinct:
        step = domain.margin
        grid = int((domain.high - domain.low) / step)
        points = [domain.low + (k + 0.5) * step for k in range(grid)]
        points = [p for p in points if domain.fix(p) == p]
        return st.lists(st.sampled_from(points), min_size=n, max_size=n, unique=True)
    floats = st.floats(domain.low, domain.high, allow_nan=False, allow_infinity=False)
    return st.lists(floats.map(domain.fix), min_size=n, max_size=n)


def _nest(flat: list[float], shape: Shape) -> Any:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _numel(shape: Shape) -> int:
    return math.prod(shape)


def make_tensor(m: Any, flat: list[float], shape: Shape, dtype: str = "float64",
                device: str = "cpu", requires_grad: bool = True) -> Any:
    """A leaf tensor of library ``m`` (autodiff or torch) from flat values."""
    t = m.tensor(flat, dtype=getattr(m, dtype), device=device).reshape(shape)
    return t.detach().requires_grad_(requires_grad)  # reshape, not nesting: shapes with a 0


@st.composite
def tensors(draw: Any, shape: Any = None, dtype: str = "float64", device: str = "cpu",
            domain: Domain = REAL, requires_grad: bool = True) -> Any:
    """An autodiff tensor; ``shape`` is a shape, a strategy of shapes, or None (any)."""
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    flat = draw(_values(_numel(shape), domain))
    return make_tensor(autodiff, flat, tuple(shape), dtype, device, requires_grad)


@dataclass(frozen=True)
class Case:
    """One drawn call of an op: its inputs' shapes and values, and keyword parameters."""

    shapes: tuple[Shape, ...]
    values: tuple[list[float], ...]
    params: dict = field(default_factory=dict)

    def tensors(self, m: Any, dtype: str = "float64", device: str = "cpu",
                requires_grad: bool = True) -> tuple:
        return tuple(make_tensor(m, v, s, dtype, device, requires_grad)
                     for v, s in zip(self.values, self.shapes))


@st.composite
def op_inputs(draw: Any, spec: Any) -> Case:
    """A ``Case`` for ``spec`` (an ``OpSpec``): shapes, values in its domain, parameters."""
    shp = draw(spec.shapes)
    domains = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * len(shp)
    if any(d.distinct for d in domains):
        # Ties are avoided across all the inputs of the call: draw them together.
        sizes = [_numel(s) for s in shp]
        flat = draw(_values(sum(sizes), domains[0]))
        values, start = [], 0
        for n in sizes:
            values.append(flat[start:start + n])
            start += n
    else:
        values = [draw(_values(_numel(s), d)) for s, d in zip(shp, domains)]
    params = draw(spec.params(shp)) if spec.params is not None else {}
    return Case(tuple(shp), tuple(values), params)
