"""``autodiff.testing``: hypothesis strategies and the op-spec table used to verify autodiff.

Needs ``hypothesis``. See docs/testing.md.
"""

from autodiff.testing.op_specs import GRAPH_SPECS, SPECS, SPECS_BY_ID, OpSpec
from autodiff.testing.strategies import (
    BOUNDED,
    DISTINCT,
    NONZERO,
    POSITIVE,
    REAL,
    Case,
    Domain,
    Program,
    broadcastable_shapes,
    make_tensor,
    op_graphs,
    op_inputs,
    shapes,
    tensors,
)

__all__ = [
    "OpSpec", "SPECS", "SPECS_BY_ID", "GRAPH_SPECS", "Domain", "REAL", "BOUNDED", "POSITIVE",
    "NONZERO", "DISTINCT", "Case", "Program", "shapes", "broadcastable_shapes", "tensors",
    "op_inputs", "op_graphs", "make_tensor",
]
