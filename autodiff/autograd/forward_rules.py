"""How forward-mode AD (autograd/forward_ad.py) computes an op's tangent: the kinds of JVP
rule a node class may name instead of writing its own ``jvp`` method.

``jvp(node, out, inputs, tangents)``: ``node`` holds the op's fields and saved tensors,
``tangents[i]`` is None for an input without a tangent; the result is the output's tangent
(None: zero). Rules run with forward mode off and are recorded for backward only when
something in them needs a gradient (``record.forward_record``).
"""

from __future__ import annotations

from typing import Any

from autodiff.autograd.node import Node
from autodiff.tensor import Tensor


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
