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
- (autograd/forward_rules.py) ``symmetric_jvp``: for ops of one input whose Jacobian is its own transpose (elementwise
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
be open at a time (``autodiff.func`` nests forward-mode transforms all the same: an inner
``jvp`` runs in reverse mode under the open level, by the double-vjp trick -- see
func/transforms.py).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager

from autodiff.autograd.forward_state import set_tangent, state, tangent_of  # noqa: F401 (tangent_of: public helper)
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
__all__ = ["dual_level", "make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level",
           "UnpackedDualTensor"]
