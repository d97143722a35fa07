"""Graph nodes: the ``grad_fn`` objects recorded by ops, and AccumulateGrad for leaves.

A node holds the edges to its inputs' nodes (``next_edges``; ``None`` for inputs that need
no gradient) and whatever its backward needs; never its outputs, so a graph dies by
reference counting as soon as its last tensor does. An edge to output 0 of a node (nearly
every edge) is the node itself; to another output, a ``(node, output_nr)`` tuple
(``split_edge`` reads both). One tuple fewer per recorded op is one object fewer for
CPython's cyclic collector to scan while a deep graph is alive. For the same reason the
hot scalar ops (``x * 2.0``, ``x + 1.0``) store a lone edge that is a node as
``next_edges`` itself, without the 1-tuple; ``edges_of`` reads either form.
"""

from __future__ import annotations

import itertools
import re
import weakref
from typing import Any

from autodiff.autograd.grad_mode import state as _grad_state

# Sequence numbers for nodes, in order of creation (``next`` on a count is atomic under the GIL).
next_seq = itertools.count().__next__


class _Freed(tuple):
    """Marks a node whose saved tensors were released by a backward without retain_graph."""


FREED = _Freed()

# Set (for good) the first time any thread turns anomaly mode on: until then a new node
# skips reading the thread-local flag, a measurable part of recording one op.
ANOMALY_USED = False

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


def _modified_message(t: Any, version: int, output_of: Any = None) -> str:
    """PyTorch's error for a saved tensor changed in place (names its producer: the node
    that saved it for a saved output, else the tensor's current grad_fn)."""
    producer = ""
    node, nr = (output_of, 0) if output_of is not None else (t.grad_fn, t._output_nr)
    if node is not None:
        name = re.sub(r"Backward\d*$", "", node.name())
        producer = f", which is output {nr} of {name},"
    hint = (
        "Hint: the backtrace further above can show the operation that failed to compute its "
        "gradient." if _grad_state.anomaly else
        "Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.type()} {list(t.shape)}]{producer} is at version {t._version[0]}; "
        f"expected version {version} instead. {hint}"
    )


class Node:
    """One recorded operation. Subclasses define ``backward(*grad_outputs)``.

    ``saved`` holds the tensors backward needs (set through ``save``), with the version
    each had when saved so that a later in-place change is caught instead of silently
    giving a wrong gradient.
    """

    __slots__ = (
        "next_edges", "seq", "saved", "saved_versions", "trace", "hooks", "tensor_hooks",
        "__weakref__",
    )
    num_outputs = 1
    # Indices (in ``saved``) of saved tensors that are this node's own outputs.
    saved_outputs: tuple = ()
    # False for nodes whose backward may hand back tensors that user code also holds
    # (custom Functions): the engine then never stores them as a leaf's .grad uncopied.
    fresh_grads = True

    def __init__(self, next_edges: Any = ()) -> None:  # a tuple, or a lone node (see above)
        self.next_edges = next_edges
        self.seq = next_seq()  # after the nodes in next_edges: the engine's order (engine.py)
        self.saved = None
        self.trace = None
        self.hooks = None
        self.tensor_hooks = None  # {output_nr: hooks.TensorHooks}: Tensor.register_hook
        if ANOMALY_USED and _grad_state.anomaly:
            from autodiff.autograd.anomaly import forward_trace

            self.trace = forward_trace()

    def save(self, *tensors: Any) -> None:
        self.saved = tensors
        self.saved_versions = tuple([0 if t is None else t._version[0] for t in tensors])

    def unpack(self) -> tuple:
        """The saved tensors, checked against release and in-place modification."""
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD)
        for i, (t, version) in enumerate(zip(saved, self.saved_versions)):
            if t is not None and t._version[0] != version:
                raise RuntimeError(
                    _modified_message(t, version, self if i in self.saved_outputs else None)
                )
        return saved

    def materialize(self, grads: list) -> list:
        """Fill the gradients of outputs that received none (multi-output nodes)."""
        return grads

    def backward(self, *grad_outputs: Any) -> Any:
        raise NotImplementedError(f"{self.name()} has no backward")

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return tuple((None, 0) if e is None else split_edge(e) for e in edges_of(self))

    @property
    def metadata(self) -> dict:
        return {}

    def register_hook(self, fn: Any) -> Any:
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward."""
        from autodiff.autograd.hooks import RemovableHandle

        if self.hooks is None:
            self.hooks = {}
        return RemovableHandle(self.hooks, fn)

    def __call__(self, *grad_outputs: Any) -> Any:
        return self.backward(*grad_outputs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The node a leaf's gradient flows into; adds it to ``leaf.grad``.

    It refers to its leaf weakly (the leaf holds it strongly): a gradient for a leaf that
    nobody can reach any more has nowhere to go, and no reference cycle is made.
    """

    __slots__ = ("leaf_ref",)

    def __init__(self, leaf: Any) -> None:
        super().__init__(())
        self.leaf_ref = weakref.ref(leaf)

    @property
    def variable(self) -> Any:
        return self.leaf_ref()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"


def edge_of(t: Any) -> Any:
    """The edge a new node records for input ``t``: its grad_fn or AccumulateGrad
    (``(grad_fn, output_nr)`` when ``t`` is not output 0 of its grad_fn)."""
    if not t._requires_grad:
        return None
    if t._base is not None and t._view_fn[1] is not t._base.grad_fn:
        from autodiff.ops.views import refresh_view

        refresh_view(t)
    fn = t.grad_fn
    if fn is not None:
        return fn if t._output_nr == 0 else (fn, t._output_nr)
    acc = t._accumulator
    if acc is None:
        acc = t._accumulator = AccumulateGrad(t)
    return acc


def edges_of(node: Node) -> tuple:
    """A node's edges as a tuple (``next_edges`` may be a lone node: see the module docstring)."""
    edges = node.next_edges
    return edges if edges.__class__ is tuple else (edges,)


def split_edge(edge: Any) -> tuple:
    """``(node, output_nr)`` of an edge (see the module docstring)."""
    return edge if edge.__class__ is tuple else (edge, 0)
