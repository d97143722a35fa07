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

from autodiff.autograd.forward_state import set_tangent as _fw_set
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import state as _grad_state
from autodiff.tensor import Tensor, _make
from autodiff.utils.hooks import RemovableHandle

# Sequence numbers for nodes, in order of creation (``next`` on a count is atomic under the GIL).
next_seq = itertools.count().__next__


class _Freed(tuple):
    """Marks a node whose saved tensors were released by a backward without retain_graph."""


FREED = _Freed()

# Set (for good) the first time saved_tensors_hooks is entered (graph.py): until then
# ``Node.save`` skips reading the thread-local hook stack.
SAVED_HOOKS_USED = False

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
        "next_edges", "seq", "saved", "saved_versions", "trace", "hooks", "pre_hooks",
        "tensor_hooks", "__weakref__",
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
        self.hooks = None  # {id: fn(grad_inputs, grad_outputs)}: register_hook
        self.pre_hooks = None  # {id: fn(grad_outputs)}: register_prehook
        self.tensor_hooks = None  # {output_nr: hooks.TensorHooks}: Tensor.register_hook
        if ANOMALY_USED and _grad_state.anomaly:
            self.trace = forward_trace()

    def set_edges(self, edges: tuple) -> None:
        """Give a node made before its inputs' edges were known (a custom Function's ctx)
        its edges, and a sequence number after their nodes' (see engine.py)."""
        Node.__init__(self, edges)  # (all else it resets is still as __init__ left it)

    def save(self, *tensors: Any) -> None:
        if SAVED_HOOKS_USED and _grad_state.saved_hooks:
            self.saved = _pack(tensors)
            self.saved_versions = ()
            return
        self.saved = tensors
        self.saved_versions = tuple([0 if t is None else t._version[0] for t in tensors])

    def unpack(self) -> tuple:
        """The saved tensors, checked against release and in-place modification."""
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD)
        if saved.__class__ is Packed:
            return self._unpack_packed(saved)
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
                if _fw.active:  # forward-over-reverse: the saved output keeps its tangent
                    _fw_set(out, getattr(alias, "_fw_grad", None))
            saved = tuple(saved)
        return saved

    def _unpack_packed(self, saved: Packed) -> tuple:
        """Saved tensors packed by ``saved_tensors_hooks``: each unpack hook's result,
        joined to the graph where the original was (its grad_fn, or its leaf's
        AccumulateGrad), as PyTorch's saved variables do."""
        out = []
        for i, entry in enumerate(saved):
            if entry.__class__ is not PackedTensor:  # None, or left unpacked (SavedTensor)
                out.append(entry)
                continue
            data = entry.unpack_hook(entry.packed)
            if not isinstance(data, Tensor):
                raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but "
                                f"got result of type {type(data).__name__}")
            t = _make(data._data, data._be)
            if i in self.saved_outputs:
                if _grad_state.enabled:
                    t.grad_fn = self
                    t._requires_grad = True
                t._output_nr = entry.output_nr
            elif entry.grad_fn is not None:
                t.grad_fn = entry.grad_fn
                t._output_nr = entry.output_nr
                t._requires_grad = True
            elif entry.accumulator is not None:
                t._accumulator = entry.accumulator
                t._requires_grad = True
            out.append(t)
        return tuple(out)

    def materialize(self, grads: list) -> list:
        """Fill the gradients of outputs that received none (multi-output nodes)."""
        return grads

    def backward(self, *grad_outputs: Any) -> Any:
        raise NotImplementedError(f"{self.name()} has no backward")

    def name(self) -> str:
        return self.torch_name or type(self).__name__

    # How many Python-number operands the op had (``x * 2``): PyTorch lists each as a
    # ``(None, 0)`` entry of ``next_functions`` after the tensor inputs' edges.
    number_operands = 0

    @property
    def next_functions(self) -> tuple:
        edges = tuple((None, 0) if e is None else split_edge(e) for e in edges_of(self))
        return edges + ((None, 0),) * self.number_operands

    @property
    def metadata(self) -> dict:
        return {}

    def register_hook(self, fn: Any) -> Any:
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; a tuple it
        returns replaces ``grad_inputs``."""
        if self.hooks is None:
            self.hooks = {}
        return RemovableHandle(self.hooks, fn)

    def register_prehook(self, fn: Any) -> Any:
        """``fn(grad_outputs)`` runs before this node's backward (after the tensor hooks);
        a tuple it returns replaces ``grad_outputs``."""
        if self.pre_hooks is None:
            self.pre_hooks = {}
        return RemovableHandle(self.pre_hooks, fn)

    def __call__(self, *grad_outputs: Any) -> Any:
        return self.backward(*grad_outputs)

    # Names of the saved tensors, in ``saved`` order, for ``_saved_<name>`` (PyTorch's
    # names: ``self``/``other`` for the inputs, ``result`` for the node's own output); a
    # class whose backward saves something else names its own.
    saved_names: tuple | None = None

    def __getattr__(self, name: str) -> Any:
        # Only for attributes not found otherwise: PyTorch's ``grad_fn._saved_self``,
        # ``_saved_result``, ``_saved_dim``... and ``_raw_saved_self`` (a SavedTensor).
        raw = name.startswith("_raw_saved_")
        if raw or name.startswith("_saved_"):
            key = name[len("_raw_saved_" if raw else "_saved_"):]
            names = self._names_of_saved()
            if key in names:
                i = names.index(key)
                return SavedTensor(self, i) if raw else self.unpack()[i]
            if not raw and key != name and key in _slot_names(type(self)):
                return getattr(self, key)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self) -> list:
        # PyTorch lists a node's saved values among its attributes (``_saved_self``,
        # ``_saved_dim``...), and graph tools (torchviz) find them there: the saved tensors
        # (a custom Function's are ``ctx.saved_tensors`` instead, as in PyTorch) and the
        # fields backward reads, those that are set and immutable as PyTorch's are.
        names = set(super().__dir__())
        if type(self) is AccumulateGrad:  # (it saves nothing; its slots are its own)
            return sorted(names)
        if self.saved is not FREED and not hasattr(type(self), "saved_tensors"):
            names.update(f"_saved_{n}" for n in self._names_of_saved())
        for slot in _slot_names(type(self)) - _slot_names(Node):
            value = getattr(self, slot, _UNSET)
            if value is _UNSET or isinstance(value, (Tensor, Node)):
                continue
            try:
                hash(value)
            except TypeError:
                continue
            names.add(f"_saved_{slot}")
        return sorted(names)

    def _names_of_saved(self) -> tuple:
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD)
        if not saved:
            return ()
        if self.saved_names is not None:
            return self.saved_names
        inputs = iter(("self", "other", "input2", "input3", "input4"))
        outputs = self.saved_outputs
        return tuple(("result" if len(outputs) == 1 else f"result{outputs.index(i)}")
                     if i in outputs else next(inputs) for i in range(len(saved)))

    def __repr__(self) -> str:
        return f"<{self.torch_name or type(self).__name__} object at {hex(id(self))}>"


_UNSET = object()


def _slot_names(cls: type) -> set:
    return {n for c in cls.__mro__ for n in getattr(c, "__slots__", ())}


class SavedTensor:
    """``grad_fn._raw_saved_<name>``: one saved tensor of a node, whose pack and unpack
    hooks can be set (``register_hooks``) while the graph is alive."""

    def __init__(self, node: Node, index: int) -> None:
        self.node, self.index = node, index

    def register_hooks(self, pack_hook: Any, unpack_hook: Any) -> None:
        node, i = self.node, self.index
        saved = list(node.saved)
        t = saved[i]
        if t is None or t.__class__ is PackedTensor:
            raise RuntimeError("Calling register_hooks on a saved tensor that is undefined or "
                               "already has hooks is not supported")
        entry = PackedTensor()
        entry.unpack_hook = unpack_hook
        entry.grad_fn, entry.output_nr = t.grad_fn, t._output_nr
        entry.accumulator = accumulator_of(t) if t._requires_grad and t.grad_fn is None else None
        entry.packed = pack_hook(t)
        saved[i] = entry
        node.saved = Packed(saved)


class Packed(tuple):
    """A node's saved tensors as ``saved_tensors_hooks`` packed them (``PackedTensor``s)."""


class PackedTensor:
    """One saved tensor after its pack hook: what the hook returned, the unpack hook, and
    where the tensor sat in the graph (to join the unpacked tensor to it again)."""

    __slots__ = ("packed", "unpack_hook", "grad_fn", "output_nr", "accumulator")


def _pack(tensors: tuple) -> Packed:
    """Apply the innermost ``saved_tensors_hooks`` pack hook to each saved tensor."""
    pack_hook, unpack_hook = _grad_state.saved_hooks[-1]
    out = []
    for t in tensors:
        if t is None:
            out.append(None)
            continue
        entry = PackedTensor()
        entry.unpack_hook = unpack_hook
        entry.grad_fn, entry.output_nr = t.grad_fn, t._output_nr
        entry.accumulator = accumulator_of(t) if t._requires_grad and t.grad_fn is None else None
        entry.packed = pack_hook(t)
        out.append(entry)
    return Packed(out)


class AccumulateGrad(Node):
    """The node a leaf's gradient flows into; adds it to ``leaf.grad``.

    It refers to its leaf weakly (the leaf holds it strongly): a gradient for a leaf that
    nobody can reach any more has nowhere to go, and no reference cycle is made.
    """

    __slots__ = ("leaf_ref", "post_accumulate_hooks")

    def __init__(self, leaf: Any) -> None:
        super().__init__(())
        self.leaf_ref = weakref.ref(leaf)
        # {id: fn(leaf)}: Tensor.register_post_accumulate_grad_hook
        self.post_accumulate_hooks = None

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
    if _fw.active:
        _fw_set(alias, getattr(out, "_fw_grad", None))
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
