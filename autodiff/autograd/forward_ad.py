"""Forward-mode AD, ``autodiff.autograd.forward_ad``, as PyTorch's ``torch.autograd.forward_ad``.

Inside ``with dual_level():`` a tensor made by ``make_dual(primal, tangent)`` carries its
tangent, and every op computes the tangent of its result from its inputs' tangents: the
Jacobian-vector product, without building or running a backward graph. ``unpack_dual``
reads it back; leaving the level drops every tangent::

    with dual_level():
        x = make_dual(primal, tangent)
        y = f(x)
        jvp = unpack_dual(y).tangent

How ops do it. Every op goes through ``record`` (autograd/record.py; the hot ops check the
same flag inline), which calls ``forward_record`` when ``state.active`` is set -- one
attribute read on every op, the whole cost of forward mode when it is not in use. Each
node class says how its tangent is computed, next to its backward, in a ``jvp`` method
``jvp(self, out, inputs, tangents)`` (``tangents[i]`` is None for an input without one);
the node it is called on has the op's fields and saved tensors. Three kinds:

- a rule of its own, written with Tensor ops (the common ops);
- ``symmetric_jvp``: for ops of one input whose Jacobian is its own transpose (elementwise
  ops, whose Jacobian is diagonal; softmax; masks such as ``tril``) -- the tangent is the
  backward applied to the input's tangent;
- ``derived_jvp``: the Jacobian-vector product derived from the op's backward by linearity
  (the backward is linear in the incoming gradient ``u``; differentiating
  ``<backward(u), t>`` with respect to ``u`` gives ``J t``). Valid for any op whose
  backward is differentiable; about three backwards' cost.

A node class without ``jvp`` (``no_jvp``) raises, naming the op. tests/test_forward_ad.py
fails for a node class of ``autodiff.ops`` that has neither.

Rules run with forward mode switched off (their own ops see plain tensors) and with the
grad mode as it is, so a tangent is recorded for backward like any result, and tangents
flow through backward's own ops: ``jvp`` of a ``grad`` computed with ``create_graph``
(forward-over-reverse) gives Hessian-vector products. As in PyTorch, only one level may
be open at a time.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from autodiff.autograd.forward_state import set_tangent, state, tangent_of
from autodiff.autograd.node import Node
from autodiff.tensor import Tensor

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "``unpack_dual``'s result: the primal and the tangent (None without one)."

NO_LEVEL = (
    "To create a dual Tensor, you must be inside a forward AD level: use "
    "`with torch.autograd.forward_ad.dual_level():`"
)


# ---- the public API -------------------------------------------------------------------------
def enter_dual_level() -> int:
    """Open a new forward AD level and return its index (only one may be open)."""
    if state.level is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    state.level = 0
    state.duals = []
    state.active = True
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the current level: every tangent made inside it is dropped."""
    if state.level is None or (level is not None and level != state.level):
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    for ref in state.duals:
        t = ref()
        if t is not None and hasattr(t, "_fw_grad"):
            del t._fw_grad
    state.duals = []
    state.level = None
    state.active = False


@contextmanager
def dual_level() -> Iterator[int]:
    """Context manager of a forward AD level: tangents live inside it and vanish after."""
    level = enter_dual_level()
    try:
        yield level
    finally:
        exit_dual_level(level=level)


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` whose tangent is ``tangent`` (same shape, floating point),
    differentiable with respect to ``tensor`` as any view is."""
    if state.level is None:
        raise RuntimeError(NO_LEVEL)
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual(): expected Tensor arguments for tensor and tangent")
    if not tensor.dtype.is_floating_point or not tangent.dtype.is_floating_point:
        raise ValueError("Expected primal and tangent to be floating point tensors, but got "
                         f"{tensor.dtype} and {tangent.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of "
                           f"the original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
                           f"while the given forward gradient is of size {list(tangent.shape)}.")
    if tangent._be is not tensor._be:
        raise RuntimeError("Expected tangent to be on the same device as the primal, "
                           f"got {tangent.device} and {tensor.device}")
    state.active = False
    try:
        out = tensor.view_as(tensor)
    finally:
        state.active = True
    if tangent.dtype is not tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    set_tangent(out, tangent)
    return out


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: a view of it without tangent, and its tangent
    (None when it has none, or outside a level)."""
    tangent = tangent_of(tensor) if state.level is not None else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    state.active = False
    try:
        primal = tensor.view_as(tensor)
    finally:
        state.active = True
    return UnpackedDualTensor(primal, tangent)


# ---- the machinery record calls -----------------------------------------------------------
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
    from autodiff.autograd.grad_mode import state as grad_state
    from autodiff.autograd.record import edge_of

    node = node_cls(tuple([
        None if t is None
        else edge_of(t) if grad_state.enabled and t._requires_grad
        else _SINK if tan is not None else None
        for t, tan in zip(inputs, tangents)]))
    for name, value in fields.items():
        setattr(node, name, value)
    if save_output:
        from autodiff.autograd.node import output_alias
        node.save(*(saved or ()), output_alias(out))
    elif saved is not None:
        node.save(*saved)
    # The rule is recorded for backward only when something in it needs a gradient (a
    # tangent is then differentiable with respect to the primals, as in PyTorch).
    grad_was = grad_state.enabled
    grad_state.enabled = grad_was and (
        any(t is not None and t._requires_grad for t in inputs)
        or any(t is not None and t._requires_grad for t in tangents))
    state.active = False
    try:
        tangent = rule(node, out, inputs, tangents)
    finally:
        state.active = True
        grad_state.enabled = grad_was
    set_tangent(out, tangent)


def no_jvp(node: Node, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
    """The rule of an op that forward mode does not support (its backward is not
    differentiable, or it has none): a clear error naming it."""
    raise NotImplementedError(
        f"Trying to use forward AD with {node.name().removesuffix('Backward0')} that does not support it")


def symmetric_jvp(node: Node, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
    """An op of one input whose Jacobian is its own transpose (elementwise: diagonal): the
    tangent is its backward applied to the input's tangent."""
    return node.backward(tangents[0])


def linear_sum(terms: Any) -> Tensor | None:
    """The sum of the terms that are not None (None when all are): rules add the
    contributions of the inputs that have tangents."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def derived_jvp(node: Node, out: Tensor, inputs: tuple, tangents: tuple) -> Tensor:
    """``J t`` from the op's backward ``u -> J^T u`` by linearity: the gradient of
    ``sum_i <backward(u)_i, t_i>`` with respect to ``u`` (the "double-vjp trick")."""
    from autodiff.autograd.api import grad
    from autodiff.autograd.grad_mode import enable_grad
    from autodiff.autograd.grad_mode import state as grad_state
    from autodiff.tensor import _make

    be = out._be
    u = _make(be.zeros(out._data.shape, be.dtype_name(out._data)), be)
    u.requires_grad_(True)
    create = grad_state.enabled and any(t is not None and t._requires_grad for t in tangents)
    with enable_grad():
        grads = node.backward(u)
        if not isinstance(grads, tuple):
            grads = (grads,)
        pairs = [(g, t) for g, t in zip(grads, tangents)
                 if g is not None and t is not None and g._requires_grad]
        if not pairs:
            return None
        (jvp,) = grad([g for g, _ in pairs], (u,), grad_outputs=[t for _, t in pairs],
                      allow_unused=True, create_graph=create)
    return jvp


__all__ = ["dual_level", "make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level",
           "UnpackedDualTensor"]
