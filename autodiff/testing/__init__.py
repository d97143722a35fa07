"""``autodiff.testing``: hypothesis strategies and the op-spec table used to verify autodiff.

Modules, each importing only the ones before it:

- ``strategies``: value domains, shapes, tensors, ``Case`` and ``op_inputs`` (the inputs of
  one call of an op spec);
- ``op_params``: the shape and parameter strategies of particular ops (dims, sizes,
  indices, class targets, conv configurations), grouped like ``autodiff/ops/``;
- ``op_specs``: ``OpSpec`` and the table ``SPECS``, one row per op or variant;
- ``programs``: ``op_graphs``, random differentiable ``Program``s made of the spec rows.

Needs ``hypothesis``. See docs/testing.md.
"""

from autodiff.testing.op_specs import GRAPH_SPECS, SPECS, SPECS_BY_ID, OpSpec
from autodiff.testing.programs import Program, op_graphs
from autodiff.testing.strategies import (
    BOUNDED,
    DISTINCT,
    NONZERO,
    POSITIVE,
    REAL,
    Case,
    Domain,
    broadcastable_shapes,
    make_tensor,
    op_inputs,
    shapes,
    tensors,
)

__all__ = [
    "OpSpec", "SPECS", "SPECS_BY_ID", "GRAPH_SPECS", "Domain", "REAL", "BOUNDED", "POSITIVE",
    "NONZERO", "DISTINCT", "Case", "Program", "shapes", "broadcastable_shapes", "tensors",
    "op_inputs", "op_graphs", "make_tensor",
]
