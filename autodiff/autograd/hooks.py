"""Tensor hooks (``Tensor.register_hook``) and ``retain_grad``.

As in PyTorch, a tensor's hooks live on the node that computes its gradient: its
``grad_fn`` (keyed by the tensor's output number) or, for a leaf, its AccumulateGrad.
The engine runs them on that gradient before the node itself runs; ``retain_grad``
is one more such hook, always run last, that stores the gradient in ``.grad``.
"""

from __future__ import annotations

import weakref
from typing import Any

from autodiff.autograd.node import accumulator_of
from autodiff.utils.hooks import RemovableHandle


class TensorHooks:
    """The hooks of one output of a node: user hooks in order, then the retain_grad target."""

    __slots__ = ("hooks", "retain")

    def __init__(self) -> None:
        self.hooks: dict = {}
        self.retain: Any = None  # weakref to the tensor whose .grad is retained


def _slot(t: Any) -> TensorHooks:
    node = t.grad_fn
    nr = t._output_nr
    if node is None:
        node = accumulator_of(t)
        nr = 0
    table = node.tensor_hooks
    if table is None:
        table = node.tensor_hooks = {}
    entry = table.get(nr)
    if entry is None:
        entry = table[nr] = TensorHooks()
    return entry


def register_tensor_hook(t: Any, hook: Any) -> RemovableHandle:
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    return RemovableHandle(_slot(t).hooks, hook)


def register_post_accumulate_grad_hook(t: Any, hook: Any) -> RemovableHandle:
    """``hook(t)`` runs after the leaf ``t``'s ``.grad`` was accumulated in a backward."""
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    acc = accumulator_of(t)
    if acc.post_accumulate_hooks is None:
        acc.post_accumulate_hooks = {}
    return RemovableHandle(acc.post_accumulate_hooks, hook)


def retain_grad(t: Any) -> None:
    if t.grad_fn is None:
        if not t._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        return
    if t._retains_grad:
        return
    _slot(t).retain = weakref.ref(t)
    t._retains_grad = True


def move_retain(t: Any, old_node: Any, old_nr: int) -> None:
    """After an in-place op rebased ``t``: its retained grad now comes from the new node."""
    table = old_node.tensor_hooks if old_node is not None else None
    entry = table.get(old_nr) if table else None
    if entry is not None:
        entry.retain = None
    t._retains_grad = False
    retain_grad(t)


def run_tensor_hooks(table: dict, grads: list, node: Any) -> None:
    """Apply the hooks in ``table`` to ``grads`` (in place), then store retained grads."""
    for nr, entry in table.items():
        g = grads[nr]
        if g is None:
            continue
        for hook in list(entry.hooks.values()):
            new = hook(g)
            if new is not None:
                if new._data.shape != g._data.shape:
                    name = getattr(hook, "__name__", type(hook).__name__)
                    raise RuntimeError(f"hook '{name}' has changed the size of value")
                g = new
        grads[nr] = g
        ref = entry.retain
        t = ref() if ref is not None else None
        if t is not None:
            old = t._grad
            if old is None:
                t._grad = g.detach().clone() if not g._requires_grad else g.clone()
            else:
                t._grad = old + g
