"""In-place ops on views: PyTorch's ``CopySlices`` rebasing.

Every view remembers how to replay itself from its root base (``Tensor._view_fn``: the
view ops and their arguments, set by ``tensor.as_view``). An in-place op on a view
``v`` of ``base`` then

1. computes the new values of ``v`` out of place (recorded as usual),
2. writes them into the shared storage,
3. rebases ``base`` onto a ``CopySlices`` node: ``base`` now equals its old value with the
   view's region replaced by the new values, and
4. regenerates ``v``'s own ``grad_fn`` from the new ``base`` (``AsStridedBackward0``).

Other views of the same base see a new base ``grad_fn``; ``edge_of`` notices it (the
view's recorded stamp differs) and regenerates theirs the same way before use.
"""

from __future__ import annotations

from collections.abc import Callable

from autodiff.autograd.grad_mode import state as _grad
from autodiff.autograd.node import Node, edge_of, edges_of, split_edge
from autodiff.tensor import Tensor, _make

VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def replay(t: Tensor, steps: tuple) -> Tensor:
    """Apply the recorded view ops ``steps`` to ``t`` (a base-shaped tensor)."""
    for fn, args in steps:
        t = fn(t, *args)
    return t


class AsStridedBackward0(Node):
    """The grad_fn of a view regenerated from its base: the view ops' backwards, chained."""

    __slots__ = ("chain",)

    def backward(self, g: Tensor) -> Tensor:
        for node in self.chain:
            g = node.backward(g)
        return g


class CopySlices(Node):
    """``base`` with the region of a view replaced by new values (edges: old base, values)."""

    __slots__ = ("steps", "base_shape", "value_dtype")

    def backward(self, g: Tensor) -> tuple:
        from autodiff.autograd.grad_mode import no_grad
        from autodiff.ops.elementwise import where

        eb, ev = self.next_edges
        gb = gv = None
        if ev is not None:
            gv = replay(g, self.steps)
            if gv.dtype is not self.value_dtype:
                gv = gv.to(self.value_dtype)
        if eb is not None:
            be = g._be
            keep = _make(be.ones(self.base_shape, "bool"), be)
            with no_grad():
                region = replay(keep, self.steps)
            be.fill(region._data, False)
            gb = where(keep, g, 0.0)
        return gb, gv


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
        from autodiff.autograd.hooks import move_retain

        move_retain(t, old_node, old_nr)


def inplace_on_view(t: Tensor, compute: Callable[[Tensor], Tensor], write: Callable) -> Tensor:
    """Tracked in-place op on the view ``t``: compute, write, rebase base and view."""
    root = t._base
    if root._requires_grad and root.grad_fn is None:
        raise RuntimeError(VIEW_OF_LEAF)
    if t._view_fn[1] is not root.grad_fn:
        refresh_view(t)
    base_edge = edge_of(root)
    be = t._be
    snapshot = _make(be.copy(t._data), be, t.grad_fn)
    snapshot._requires_grad = t._requires_grad
    snapshot._output_nr = t._output_nr
    result = compute(snapshot)
    write(t, result)
    if not result._requires_grad and base_edge is None:
        return t
    node = CopySlices((base_edge, edge_of(result) if isinstance(result, Tensor) else None))
    node.steps = t._view_fn[0]
    node.base_shape = root._data.shape
    node.value_dtype = result.dtype
    old_node, old_nr = root.grad_fn, root._output_nr
    root.grad_fn = node
    root._output_nr = 0
    root._requires_grad = True
    if root._retains_grad:
        from autodiff.autograd.hooks import move_retain

        move_retain(root, old_node, old_nr)
    refresh_view(t)
    return t
