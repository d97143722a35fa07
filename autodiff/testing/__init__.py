"""``autodiff.testing``: hypothesis strategies and the op-spec table used to verify autodiff.

Modules, each importing only the ones before it:

- ``strategies``: value domains, shapes, tensors, ``Case`` and ``op_inputs`` (the inputs of
  one call of an op spec);
- ``op_params``: the shape and parameter strategies of particular ops (dims, sizes,
  indices, class targets, conv configurations), grouped like ``autodiff/ops/``;
- ``op_specs``: ``OpSpec`` and the table ``SPECS``, one row per op or variant (and
  ``COMPOSITE_SPECS``, the rows of composite ops, which only the PyTorch oracle runs);
- ``programs``: ``op_graphs``, random differentiable ``Program``s made of the spec rows.

``api_coverage`` (docs/coverage.md: PyTorch's public names and which autodiff has),
``bad_input`` (calls of every exported op with bad arguments, checked against PyTorch:
``python -m autodiff.testing.bad_input``) and ``simulated_cuda``: simulated CUDA devices
(``simulate_cuda(2)``); these need no more than NumPy. The others need ``hypothesis``; they
are imported on first use, so that ``import autodiff.testing.simulated_cuda`` works without
it. See docs/testing.md.
"""

from importlib import import_module
from typing import Any

from autodiff.testing.simulated_cuda import simulate_cuda

_LAZY = {
    "OpSpec": "op_specs", "SPECS": "op_specs", "COMPOSITE_SPECS": "op_specs", "SPECS_BY_ID": "op_specs",
    "GRAPH_SPECS": "op_specs",
    "Program": "programs", "op_graphs": "programs",
    **{name: "strategies" for name in [
        "BOUNDED", "DISTINCT", "NONZERO", "POSITIVE", "REAL", "Case", "Domain",
        "broadcastable_shapes", "make_tensor", "op_inputs", "shapes", "tensors"]},
}


def needs_hypothesis(module: str) -> str:
    """The message of the ImportError a module needing hypothesis raises without it."""
    return (f"autodiff.testing.{module} needs the hypothesis package, which comes with the test extra: "
            'pip install "autodiff-tape[test]" (or pip install hypothesis)')


def __getattr__(name: str) -> Any:
    # A lazy load: hypothesis is imported only when a name that needs it is asked for.
    if name in _LAZY:
        value = getattr(import_module(f"autodiff.testing.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autodiff.testing' has no attribute {name!r}")


__all__ = ["simulate_cuda",
    "OpSpec", "SPECS", "COMPOSITE_SPECS", "SPECS_BY_ID", "GRAPH_SPECS", "Domain", "REAL", "BOUNDED", "POSITIVE",
    "NONZERO", "DISTINCT", "Case", "Program", "shapes", "broadcastable_shapes", "tensors",
    "op_inputs", "op_graphs", "make_tensor",
]
