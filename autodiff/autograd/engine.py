"""The backward engine: walks the graph from the outputs, iteratively, in sequence order.

Every node carries the sequence number it was made with (``Node.seq``), and a node is
always made after the nodes its edges point to, so the nodes that feed a node its gradient
all have larger numbers. Running the waiting node with the largest number first therefore
runs a node only once all of its gradient has arrived, summed -- with no counting pass over
the graph beforehand (PyTorch orders its ready queue the same way). No recursion anywhere:
a chain of 100,000 ops is as safe as a chain of ten.
"""

from __future__ import annotations

import threading
from heapq import heappop, heappush
from typing import Any

from autodiff._vmap_state import state as _vmap
from autodiff.autograd import grad_mode
from autodiff.autograd.anomaly import check_nan
from autodiff.autograd.hooks import run_tensor_hooks
from autodiff.autograd.node import (
    FREED,
    SECOND_BACKWARD,
    AccumulateGrad,
    Node,
    accumulator_of,
    edges_of,
    split_edge,
)
from autodiff.tensor import Tensor as _Tensor
from backends import restore_float_errors, silence_float_errors


def _next_nodes(node: Node) -> list[Node]:
    return [split_edge(e)[0] for e in edges_of(node) if e is not None]


def _needed(roots: list[Node], targets: set[Node]) -> set[Node]:
    """The nodes from which some target can be reached (the only ones worth running)."""
    needed: set[Node] = set()
    done: set[Node] = set()
    stack: list[tuple[Node, bool]] = [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if node in targets or any(n in needed for n in _next_nodes(node)):
                needed.add(node)
            continue
        if node in done:
            continue
        done.add(node)
        stack.append((node, True))
        for nxt in _next_nodes(node):
            if nxt not in done:
                stack.append((nxt, False))
    return needed


# Backward calls running in several threads may reach the same leaf: its read of
# ``leaf._grad`` and the write (or the in-place add, which NumPy runs without the GIL on
# large arrays) must not interleave, or contributions are lost. One lock for all leaves:
# taken once per leaf per backward, uncontended it costs ~0.1 us.
_ACCUMULATE_LOCK = threading.Lock()


def _accumulate(leaf: Any, grad: Any, create_graph: bool, shared: set) -> None:
    """Add ``grad`` into ``leaf.grad`` as PyTorch's AccumulateGrad does (under a lock:
    concurrent backward calls may reach the same leaf).

    ``shared`` holds the ids of gradient tensors other code can still see (the caller's
    ``gradient``, grads already stored in a leaf, what custom Functions return).
    """
    with _ACCUMULATE_LOCK:
        _accumulate_locked(leaf, grad, create_graph, shared)


def _accumulate_locked(leaf: Any, grad: Any, create_graph: bool, shared: set) -> None:
    old = leaf._grad
    if old is None:
        # Keep the incoming array when nobody else can see it; copy it when it may be a
        # view of (or the same array as) another tensor, so later in-place updates of
        # .grad (zero_, +=) cannot leak into that tensor.
        if not create_graph:
            if id(grad) in shared or grad._be.is_view(grad._data):
                grad = grad.detach().clone()
            elif grad._requires_grad:
                grad = grad.detach()
            shared.add(id(grad))
        leaf._grad = grad
    elif create_graph:
        leaf._grad = old + grad
    else:
        # In place, with no temporary: the engine's gradients have the leaf's dtype and shape.
        # Also into a .grad that has a graph of its own (a create_graph backward made it), as
        # PyTorch's AccumulateGrad adds in place whenever grad mode is off; that is a write
        # to a tensor of a graph, so its version moves.
        old._be.iadd(old._data, grad._data)
        if old._requires_grad:
            old._version[0] += 1


class _Runs(threading.local):
    # The callback lists of the backward passes running in this thread, innermost last
    # (a hook or a custom Function may run a backward of its own).
    stack: tuple = ()


_runs = _Runs()


def current_backward() -> list:
    """The backward pass running in this thread (an object unique to it)."""
    if not _runs.stack:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    return _runs.stack[-1]


def queue_callback(fn: Any) -> None:
    """Run ``fn()`` when the backward pass running in this thread has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``)."""
    current_backward().append(fn)


def run_backward(
    outputs: list[Any],
    grad_outputs: list[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: list[Any] | None = None,
    accumulate: bool = True,
) -> list[Any] | None:
    """Backpropagate ``grad_outputs`` from ``outputs``.

    With ``accumulate`` the gradients land in the leaves' ``.grad`` (all leaves, or only
    ``inputs``); without it (``autograd.grad``) the gradients of ``inputs`` are returned.
    """
    buffers, waiting = _start(outputs, grad_outputs)
    # Where the requested gradients are taken: the input's own node and output slot; only
    # the nodes from which one of them can be reached are worth running.
    captures: dict[tuple[Node, int], int] = {}
    results: list[Any] = []
    needed = None
    if inputs is not None:
        for i, t in enumerate(inputs):
            node = t.grad_fn if t.grad_fn is not None else accumulator_of(t)
            captures[(node, t._output_nr)] = i
        results = [None] * len(inputs)
        needed = _needed([n for _, n in waiting], {key[0] for key in captures})
        waiting = [item for item in waiting if item[1] in needed]  # still a heap
    shared = set(map(id, grad_outputs))

    state = grad_mode.state
    prev_mode = state.enabled
    state.enabled = create_graph
    # (The cyclic gc stays as it is: switching it off here would switch it off for every
    # thread, and undo a gc.disable() made meanwhile; docs/architecture.md has the cost.)
    # NumPy's floating-point warnings are off in this thread while backward runs: PyTorch's
    # gradients become inf/nan silently (inf - inf in a gradient's sum, say).
    quiet = silence_float_errors()
    callbacks: list = []
    _runs.stack = (*_runs.stack, callbacks)
    try:
        _run(buffers, waiting, needed, captures, results, inputs, retain_graph, create_graph,
             accumulate, shared, state.anomaly)
        for fn in callbacks:  # (a callback may queue another: it runs too)
            fn()
    finally:
        _runs.stack = _runs.stack[:-1]
        state.enabled = prev_mode
        restore_float_errors(quiet)
    return results if inputs is not None and not accumulate else None


def _start(outputs: list[Any], grad_outputs: list[Any]) -> tuple[dict, list]:
    """The gradients handed to the outputs' nodes: ``buffers`` (node -> the gradient of
    each of its outputs, summed) and ``waiting``, the same nodes as a heap of
    ``(-seq, node)``, so that the largest sequence number comes out first."""
    buffers: dict[Node, list] = {}
    waiting: list[tuple[int, Node]] = []
    for out, g in zip(outputs, grad_outputs):
        node = out.grad_fn
        if node is None:
            node = accumulator_of(out)
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
            heappush(waiting, (-node.seq, node))
        nr = out._output_nr
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    return buffers, waiting


def _run(buffers: dict, waiting: list, needed: set | None, captures: dict, results: list,
         inputs: list | None, retain_graph: bool, create_graph: bool, accumulate: bool,
         shared: set, anomaly: bool) -> None:
    """The loop: run the waiting nodes in sequence order until none is left.

    It runs once per node and once per edge: bound methods and flags are looked up once
    here rather than on every pass, and the representation of a node's edges (see
    node.py) is read directly -- the one place outside node.py that does.
    """
    get_buffer, pop_buffer = buffers.get, buffers.pop
    filtered = needed is not None
    acc_cls, freed = AccumulateGrad, FREED  # (locals: read on every pass)
    # ``node`` is the next node to run: the one its predecessor just handed its first
    # gradient to when no waiting node outranks it (the usual case in a chain), else
    # the top of ``waiting``.
    node = grads = None
    while True:
        if node is None:
            if not waiting:
                break
            node = heappop(waiting)[1]
            grads = pop_buffer(node)
        if node.tensor_hooks:
            run_tensor_hooks(node.tensor_hooks, grads, node)
        if node.pre_hooks:
            grads = _run_pre_hooks(node, grads)
        if captures:
            for nr, g in enumerate(grads):
                i = captures.get((node, nr))
                if i is not None:
                    results[i] = g
                    if accumulate and g is not None and node.__class__ is not AccumulateGrad:
                        # backward(inputs=[non_leaf]) fills the non-leaf's .grad
                        _accumulate(inputs[i], g, create_graph, shared)
        if node.__class__ is acc_cls:
            if accumulate and grads[0] is not None:
                leaf = node.leaf_ref()
                if leaf is not None and (inputs is None or (node, 0) in captures):
                    _accumulate(leaf, grads[0], create_graph, shared)
                    if node.hooks or node.post_accumulate_hooks:
                        _after_accumulate(node, leaf, grads[0])
            node = None
            continue

        # Run the node: its backward, then release what it saved, anomaly checks, hooks.
        if node.saved is freed:
            raise RuntimeError(SECOND_BACKWARD)
        try:
            if node.num_outputs == 1:
                in_grads = node.backward(grads[0])  # (cheaper than unpacking the list)
            else:
                grads = node.materialize(grads)
                in_grads = node.backward(*grads)
        except Exception as exc:
            # A gradient batched by a vmap (``vmap(vjp_fn)``, autodiff/func) reached a
            # backward that reads arrays directly: vmap runs it sample by sample.
            if not (_vmap.active and _vmap.backward_loop is not None
                    and any(g.__class__ is not _Tensor and isinstance(g, _Tensor) for g in grads)):
                _add_forward_trace(node, exc)
                raise
            in_grads = _vmap.backward_loop(node, grads)
        if not retain_graph and node.saved:
            node.saved = freed
        if anomaly or node.hooks or not node.fresh_grads:
            in_grads = _after_node(node, in_grads, grads, anomaly, shared)
        edges = node.next_edges
        if edges.__class__ is not tuple:
            # A lone edge to output 0 of one node (see Node), the commonest case, as in
            # a chain of ops: handed over without the tuples and the loop below.
            g = in_grads if in_grads.__class__ is not tuple else in_grads[0]
            node = None
            if g is None or (filtered and edges not in needed):
                continue
            buf = get_buffer(edges)
            if buf is not None:  # already waiting: add to its sum
                old = buf[0]
                buf[0] = g if old is None else old + g
            elif edges.num_outputs == 1 and (not waiting or -edges.seq < waiting[0][0]):
                node, grads = edges, [g]  # nothing waiting can still feed it: run it now
            else:
                _wait(buffers, waiting, edges, 0, g)
            continue
        if in_grads.__class__ is not tuple:
            in_grads = (in_grads,)

        # Hand each input its gradient; the next node is the top of ``waiting``.
        # (enumerate and indexing: measurably cheaper than zip here)
        node = None
        for i, edge in enumerate(edges):
            if edge is None:
                continue
            g = in_grads[i]
            if g is None:
                continue
            if edge.__class__ is tuple:  # an output other than 0 (see node.py)
                nxt, nr = edge
            else:
                nxt, nr = edge, 0
            if filtered and nxt not in needed:
                continue
            buf = get_buffer(nxt)
            if buf is None:
                _wait(buffers, waiting, nxt, nr, g)
            else:
                old = buf[nr]
                buf[nr] = g if old is None else old + g


def _wait(buffers: dict, waiting: list, node: Node, nr: int, g: Any) -> None:
    """``node`` got its first gradient (for output ``nr``): it waits for the rest."""
    buf = buffers[node] = [None] * node.num_outputs
    buf[nr] = g
    heappush(waiting, (-node.seq, node))


def _after_node(node: Node, in_grads: Any, grads: list, anomaly: bool, shared: set) -> tuple:
    """The rarer steps after a node ran: anomaly checks, node hooks, and noting gradients
    that user code may hold (custom Functions). Returns the gradients as a tuple."""
    if in_grads.__class__ is not tuple:
        in_grads = (in_grads,)
    if anomaly:
        check_nan(node, in_grads)
    if node.hooks:
        for hook in list(node.hooks.values()):
            new = hook(in_grads, tuple(grads))
            if new is not None:
                in_grads = _replaced(node, "hook", in_grads, new)
    if not node.fresh_grads:
        shared.update(map(id, in_grads))
    return in_grads


def _replaced(node: Node, kind: str, old: tuple, new: Any) -> tuple:
    """What a node hook returned in place of ``old``: a tuple of as many gradients."""
    new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
    if len(new) != len(old):
        raise RuntimeError(f"{node.name()}: a {kind} returned {len(new)} gradients, expected {len(old)}")
    return new


def _run_pre_hooks(node: Node, grads: list) -> list:
    """``Node.register_prehook`` hooks: each may replace the node's incoming gradients."""
    for hook in list(node.pre_hooks.values()):
        new = hook(tuple(grads))
        if new is not None:
            grads = list(_replaced(node, "pre-hook", tuple(grads), new))
    return grads


def _after_accumulate(node: AccumulateGrad, leaf: Any, grad: Any) -> None:
    """A leaf's ``.grad`` was just updated: ``Tensor.register_post_accumulate_grad_hook``
    hooks, then its AccumulateGrad's own post hooks (no grad_inputs), in PyTorch's order."""
    if node.post_accumulate_hooks:
        for hook in list(node.post_accumulate_hooks.values()):
            hook(leaf)
    if node.hooks:
        for hook in list(node.hooks.values()):
            hook((), (grad,))


def _add_forward_trace(node: Node, exc: Exception) -> None:
    """Anomaly mode: say where in the forward pass the failing node was recorded."""
    trace = node.trace
    if trace is not None and hasattr(exc, "add_note"):  # add_note: Python 3.11+
        exc.add_note(f"Traceback of forward call that caused the error:\n{trace}")
