"""Graph nodes: the ``grad_fn`` objects recorded by ops, and AccumulateGrad for leaves.

A node holds the edges to its inputs' nodes and whatever its backward needs; never its
outputs, so a graph dies by reference counting as soon as its last tensor does. An edge
to output 0 of a node (nearly every edge) is the node itself; to another output, a
``(node, output_nr)`` tuple; ``None`` for an input that needs no gradient.

Edges are given to the constructor as a tuple and read back with ``edges_of`` (a tuple)
and ``split_edge`` (``(node, output_nr)``). Inside, a lone edge to output 0 of a node, as
every unary op and every op with a Python-number operand records, is stored without its
1-tuple: one GC-tracked object fewer per op while a deep graph is alive. Only the
constructor, the two readers and the engine's loop know this.
"""

from __future__ import annotations

import itertools
import re
import traceback
import weakref
from typing import Any

from autodiff.autograd.grad_mode import state as _grad_state
from autodiff.tensor import _make
from autodiff.utils.hooks import RemovableHandle

# Sequence numbers for nodes, in order of creation (``next`` on a count is atomic under the GIL).
next_seq = itertools.count().__next__


class _Freed(tuple):
    """Marks a node whose saved tensors were released by a backward without retain_graph."""


FREED = _Freed()

# Set (for good) by anomaly.py the first time any thread turns anomaly mode on: until
# then a new node skips reading the thread-local flag, a measurable part of recording one op.
ANOMALY_USED = False


def forward_trace() -> str:
    """The current stack, without autodiff's own frames (where the user called the op)."""
    frames = traceback.extract_stack()[:-1]
    user = [f for f in frames if "/autodiff/" not in f.filename.replace("\\", "/")]
    return "".join(traceback.format_list(user or frames))


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
    node, nr = (output_of, t._output_nr) if output_of is not None else (t.grad_fn, t._output_nr)
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

    A backward that needs the node's own output (``exp``, ``tanh``, a custom Function that
    saves its result) saves it like any tensor, listing its place in ``saved`` in
    ``saved_outputs``: it is kept as an alias without ``grad_fn`` (a node never holds its
    outputs) and ``unpack`` hands it back with this node as ``grad_fn`` while a graph is
    being built, so that double backward differentiates through it (PyTorch's saved
    variables). ``record(..., save_output=True)`` (record.py) does this for the ops.
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
    # PyTorch's name for nodes whose class is named otherwise: where two of our classes
    # stand for one PyTorch node (``CopySlices`` of a view and of ``t[i] = v``), each has
    # its own Python name and both print PyTorch's.
    torch_name: str | None = None

    def __init__(self, edges: tuple = ()) -> None:
        if len(edges) == 1:
            edge = edges[0]
            if edge is not None and edge.__class__ is not tuple:
                edges = edge  # a lone edge to output 0: stored without its tuple (see above)
        self.next_edges = edges  # read through edges_of (the engine reads it directly)
        self.seq = next_seq()  # after the nodes in edges: the engine's order (engine.py)
        self.saved = None
        self.trace = None
        self.hooks = None
        self.tensor_hooks = None  # {output_nr: hooks.TensorHooks}: Tensor.register_hook
        if ANOMALY_USED and _grad_state.anomaly:
            self.trace = forward_trace()

    def set_edges(self, edges: tuple) -> None:
        """Give a node made before its inputs' edges were known (a custom Function's ctx)
        its edges, and a sequence number after their nodes' (see engine.py)."""
        Node.__init__(self, edges)  # (all else it resets is still as __init__ left it)

    def save(self, *tensors: Any) -> None:
        self.saved = tensors
        self.saved_versions = tuple([0 if t is None else t._version[0] for t in tensors])

    def unpack(self) -> tuple:
        """The saved tensors, checked against release and in-place modification."""
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD)
        outputs = self.saved_outputs
        for i, (t, version) in enumerate(zip(saved, self.saved_versions)):
            if t is not None and t._version[0] != version:
                raise RuntimeError(_modified_message(t, version, self if i in outputs else None))
        if outputs and _grad_state.enabled:
            # Building a graph: a saved output is this node's output again (see the class).
            saved = list(saved)
            for i in outputs:
                alias = saved[i]
                out = saved[i] = _make(alias._data, alias._be, self)
                out._output_nr = alias._output_nr
                out._version = alias._version
            saved = tuple(saved)
        return saved

    def materialize(self, grads: list) -> list:
        """Fill the gradients of outputs that received none (multi-output nodes)."""
        return grads

    def backward(self, *grad_outputs: Any) -> Any:
        raise NotImplementedError(f"{self.name()} has no backward")

    def name(self) -> str:
        return self.torch_name or type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return tuple((None, 0) if e is None else split_edge(e) for e in edges_of(self))

    @property
    def metadata(self) -> dict:
        return {}

    def register_hook(self, fn: Any) -> Any:
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward."""
        if self.hooks is None:
            self.hooks = {}
        return RemovableHandle(self.hooks, fn)

    def __call__(self, *grad_outputs: Any) -> Any:
        return self.backward(*grad_outputs)

    def __repr__(self) -> str:
        return f"<{self.torch_name or type(self).__name__} object at {hex(id(self))}>"


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


def output_alias(out: Any) -> Any:
    """What a node saves of its own output ``out``: an alias sharing its storage, version
    counter and output number, without ``grad_fn`` (see ``Node``)."""
    alias = _make(out._data, out._be)
    alias._version = out._version
    alias._output_nr = out._output_nr
    return alias


def accumulator_of(leaf: Any) -> AccumulateGrad:
    """The AccumulateGrad of a leaf (made on first use, then kept by the leaf)."""
    acc = leaf._accumulator
    if acc is None:
        acc = leaf._accumulator = AccumulateGrad(leaf)
    return acc


def edges_of(node: Node) -> tuple:
    """A node's edges as a tuple (see the module docstring)."""
    edges = node.next_edges
    return edges if edges.__class__ is tuple else (edges,)


def split_edge(edge: Any) -> tuple:
    """``(node, output_nr)`` of an edge (see the module docstring)."""
    return edge if edge.__class__ is tuple else (edge, 0)
