"""Random op graphs: ``op_graphs`` draws a ``Program``, a random differentiable computation
made of the op-spec rows marked ``graph`` (op_specs.py), with fan-out.

A program runs in any library ``m`` (``autodiff`` or ``torch``): tests/test_torch_oracle.py
runs the same program in both and compares values and first and second derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autodiff.testing import needs_hypothesis

try:
    from hypothesis import strategies as st
except ImportError as exc:  # hypothesis comes with the [test] extra
    raise ImportError(needs_hypothesis("programs")) from exc

from autodiff.testing.op_specs import GRAPH_SPECS, SPECS_BY_ID
from autodiff.testing.strategies import REAL, Case, _numel, _values


@dataclass(frozen=True)
class Program:
    """A random differentiable computation: ``steps`` apply op specs to earlier values.

    Values 0..k-1 are the inputs; step j makes value k+j from ``args`` (indices of earlier
    values; repeats and reuse give fan-out). The result is the sum of every value made by
    a step, so each intermediate also feeds the output directly (more fan-out).
    """

    inputs: Case
    steps: tuple[tuple[str, tuple[int, ...]], ...]

    def run(self, m: Any, xs: tuple) -> Any:
        vals = list(xs)
        for spec_id, args in self.steps:
            spec = SPECS_BY_ID[spec_id]
            doms = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * len(args)
            vals.append(spec.fn(m, *[d.into(m, vals[a]) for d, a in zip(doms, args)]))
        out = vals[len(xs)].sum()
        for v in vals[len(xs) + 1:]:
            out = out + v.sum()
        return out

    def describe(self) -> str:
        names = [f"x{i}{list(s)}" for i, s in enumerate(self.inputs.shapes)]
        lines = []
        for j, (spec_id, args) in enumerate(self.steps):
            lines.append(f"v{len(names) + j} = {spec_id}({', '.join(f'v{a}' for a in args)})")
        return "; ".join([", ".join(names)] + lines)


@st.composite
def op_graphs(draw: Any, max_inputs: int = 3, max_steps: int = 6) -> Program:
    """A ``Program`` over the op specs marked ``graph``: inputs broadcast to a cube shape
    (so transposes and keepdim reductions keep every value broadcast-compatible)."""
    ndim = draw(st.integers(0, 3))
    side = draw(st.integers(1, 3))
    full = (side,) * ndim
    n_in = draw(st.integers(1, max_inputs))
    in_shapes = []
    for _ in range(n_in):
        drop = draw(st.integers(0, ndim))
        in_shapes.append(tuple(1 if draw(st.booleans()) else d for d in full[drop:]))
    values = tuple(draw(_values(_numel(s), REAL)) for s in in_shapes)
    steps = []
    n_vals = n_in
    for _ in range(draw(st.integers(1, max_steps))):
        spec = draw(st.sampled_from(GRAPH_SPECS))
        arity = 2 if spec.graph == "binary" else 1
        args = tuple(draw(st.integers(0, n_vals - 1)) for _ in range(arity))
        steps.append((spec.id, args))
        n_vals += 1
    return Program(Case(tuple(in_shapes), values), tuple(steps))
