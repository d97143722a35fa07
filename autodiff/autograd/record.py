"""How an op adds itself to the graph: ``edge_of`` an input, and ``record`` a node.

Every op computes its result on the backend, wraps it, and hands it to ``record``::

    def log(input):
        a = float_result(input)
        return record(_make(a._be.log(a._data), a._be), LogBackward0, (a,), saved=(a,))

``record`` does nothing unless grad mode is on and an input requires grad; then it makes
the node (edges to the inputs' nodes, the tensors backward needs, the node's fields) and
makes it the result's ``grad_fn``. A handful of the hottest ops write the same steps
inline (docs/architecture.md names them); nothing else does.

A view whose base was changed in place since the view was made gets its ``grad_fn``
rebuilt from the base's new one before anything records an edge to it (``refresh_view``,
the second half of PyTorch's ``CopySlices`` rebasing: see ops/inplace.py).
"""

from __future__ import annotations

from typing import Any

from autodiff.autograd.forward_state import set_tangent
from autodiff.autograd.forward_state import state as _fw
from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.hooks import move_retain
from autodiff.autograd.node import AccumulateGrad, Node, edges_of, output_alias, split_edge
from autodiff.tensor import Tensor, _make


def edge_of(t: Tensor) -> Any:
    """The edge a new node records for input ``t``: its grad_fn or AccumulateGrad
    (``(grad_fn, output_nr)`` when ``t`` is not output 0 of its grad_fn); None when ``t``
    needs no gradient."""
    if not t._requires_grad:
        return None
    if t._base is not None and t._view_fn[1] is not t._base.grad_fn:
        refresh_view(t)
    fn = t.grad_fn
    if fn is not None:
        return fn if t._output_nr == 0 else (fn, t._output_nr)
    acc = t._accumulator
    if acc is None:
        acc = t._accumulator = AccumulateGrad(t)
    return acc


class _Sink(Node):
    """The edge a rule's node gets for an input that has a tangent but needs no gradient:
    an op's backward computes only the gradients whose edges are set."""

    __slots__ = ()

    def backward(self, *grads: Any) -> tuple:
        return ()


_SINK = _Sink()


def forward_record(out: Tensor, node_cls: type[Node], inputs: tuple, saved: tuple | None,
                   save_output: bool, fields: dict) -> None:
    """Give ``out`` its tangent when an input has one: ``node_cls.jvp`` on a node holding
    the op's fields and saved tensors (see the module docstring)."""
    tangents = tuple([None if t is None else getattr(t, "_fw_grad", None) for t in inputs])
    for tan in tangents:
        if tan is not None:
            break
    else:
        return
    if out._data.dtype.kind != "f":
        return  # an integer or bool result has no tangent
    rule = getattr(node_cls, "jvp", None)
    if rule is None:
        raise NotImplementedError(
            f"Trying to use forward AD with {node_cls.__name__.removesuffix('Backward0')} that does not "
            "support it: its node has no JVP rule")
    grad_state = _grad
    node = node_cls(tuple([
        None if t is None
        else edge_of(t) if grad_state.enabled and t._requires_grad
        else _SINK if tan is not None else None
        for t, tan in zip(inputs, tangents)]))
    for name, value in fields.items():
        setattr(node, name, value)
    if save_output:
        node.save(*(saved or ()), output_alias(out))
    elif saved is not None:
        node.save(*saved)
    # The rule is recorded for backward only when something in it needs a gradient (a
    # tangent is then differentiable with respect to the primals, as in PyTorch).
    grad_was = grad_state.enabled
    grad_state.enabled = grad_was and (
        any(t is not None and t._requires_grad for t in inputs)
        or any(t is not None and t._requires_grad for t in tangents))
    _fw.active = False
    try:
        tangent = rule(node, out, inputs, tangents)
    finally:
        _fw.active = True
        grad_state.enabled = grad_was
    set_tangent(out, tangent)


def record(out: Tensor, node_cls: type[Node], inputs: tuple, /, saved: tuple | None = None,
           save_output: bool = False, **fields: Any) -> Tensor:
    """Make a ``node_cls`` node the ``grad_fn`` of ``out``, computed from ``inputs``, when
    grad mode is on and an input requires grad; return ``out``.

    ``inputs`` are the tensors that get an edge (``None`` for an operand that never gets
    one, such as a condition); ``saved`` the tensors backward reads through ``unpack()``;
    with ``save_output`` the output is saved after them (see ``Node.saved_outputs``);
    ``fields`` become attributes of the node. Inside a forward AD level (``_fw.active``, the
    one check forward mode costs elsewhere) ``out`` also gets its tangent (forward_ad.py).
    """
    if _fw.active:
        forward_record(out, node_cls, inputs, saved, save_output, fields)
    if not _grad.enabled:
        return out
    for t in inputs:
        if t is not None and t._requires_grad:
            break
    else:
        return out
    node = node_cls(tuple([None if t is None else edge_of(t) for t in inputs]))
    for name, value in fields.items():
        setattr(node, name, value)
    if save_output:
        node.save(*(saved or ()), output_alias(out))
    elif saved is not None:
        node.save(*saved)
    out.grad_fn = node
    out._requires_grad = True
    return out


class GradientLink(Node):
    """Base of the ``...BackwardBackward0`` nodes: a first derivative that is linear in the
    incoming gradient ``g`` alone (a mask, a scatter, a sum), recorded under ``create_graph``
    as PyTorch records it -- with edges to the op's inputs as well, whose derivative is zero.

    Without them the derivative is a constant whenever ``g`` is (``relu(x).sum()``), and
    ``requires_grad`` is False where PyTorch's is True. Edge 0 is the derivative's own graph
    (passed through); ``zeros`` holds the (shape, dtype name) of each other edge's input.
    """

    __slots__ = ("zeros",)

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0]  # (the identity on the derivative, which is edge 0)

    def backward(self, gg: Tensor) -> tuple:
        be = gg._be
        return (gg,) + tuple(_make(be.zeros(shape, dt), be) for shape, dt in self.zeros)


def link_gradient(grad: Tensor, node_cls: type[GradientLink], inputs: tuple) -> Tensor:
    """``grad`` recorded as ``node_cls`` of itself and ``inputs`` (the tensors its op was
    computed from), when grad mode is on -- in backward, that is under ``create_graph``."""
    if not _grad.enabled or not any(t._requires_grad for t in inputs):
        return grad
    node = node_cls((edge_of(grad),) + tuple(edge_of(t) for t in inputs))
    node.zeros = tuple((t._data.shape, t.dtype.name) for t in inputs)
    out = _make(grad._data, grad._be, node)
    if _fw.active:  # forward-over-reverse: the identity keeps the derivative's tangent
        set_tangent(out, getattr(grad, "_fw_grad", None))
    return out


class LinkedOutput(Node):
    """Base of the forward nodes of composite ops whose gradient is linear in ``g`` alone
    (pooling, the bias of a convolution): an identity on the composite's result, saving the
    op's inputs so that its backward can ``link_gradient`` to them (``backward_cls``)."""

    __slots__ = ()
    backward_cls: type[GradientLink]

    def jvp(self, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
        return tangents[0]  # an identity

    def backward(self, g: Tensor) -> Tensor:
        return link_gradient(g, self.backward_cls, self.unpack())


def link_output(out: Tensor, node_cls: type[LinkedOutput], inputs: tuple) -> Tensor:
    """``out`` behind a ``node_cls`` identity node (see LinkedOutput), when it is recorded."""
    if not out._requires_grad:
        return out
    return record(_make(out._data, out._be), node_cls, (out,), saved=inputs)


def replay(t: Tensor, steps: tuple) -> Tensor:
    """Apply the recorded view ops ``steps`` (``Tensor._view_fn``) to ``t``."""
    for fn, args in steps:
        t = fn(t, *args)
    return t


class AsStridedBackward0(Node):
    """The grad_fn of a view rebuilt from its base: the view ops' backwards, chained."""

    __slots__ = ("chain",)

    def backward(self, g: Tensor) -> Tensor:
        for node in self.chain:
            g = node.backward(g)
        return g


def refresh_view(t: Tensor) -> None:
    """Rebuild a view's ``grad_fn`` from its base's current ``grad_fn``."""
    root = t._base
    steps = t._view_fn[0]
    t._view_fn = (steps, root.grad_fn)
    root_edge = edge_of(root)
    old_node, old_nr = t.grad_fn, t._output_nr
    if root_edge is None:
        t.grad_fn = None
        t._requires_grad = False
        return
    prev = _grad.enabled
    _grad.enabled = True
    try:
        r = replay(root, steps)
    finally:
        _grad.enabled = prev
    chain = []
    node = r.grad_fn
    root_node = split_edge(root_edge)[0]
    while node is not None and node is not root_node:
        chain.append(node)
        node = split_edge(edges_of(node)[0])[0]
    new = AsStridedBackward0((root_edge,))
    new.chain = chain
    t.grad_fn = new
    t._output_nr = 0
    t._requires_grad = True
    if t._retains_grad:
        move_retain(t, old_node, old_nr)
