"""The state of ``autodiff.func.vmap``, in a module of its own so that the lowest layer (the
argument-checking wrapper every op goes through, ops/_prep.py ``checked``) can read it.

``state.active`` is True while a vmap is running: the one check every op call pays.
``state.dispatch(name, fn, args, kwargs)`` (set by autodiff/func/vmap.py) then runs the op
on batched tensors through its batching rule, or returns ``NOT_BATCHED`` for the op to run
as usual.
"""

from __future__ import annotations

from typing import Any

NOT_BATCHED = object()


class _State:
    """``levels``: the running vmaps, outermost first, as ``(level, batch size, randomness)``."""

    active = False
    levels: list = []
    dispatch: Any = None
    # ``backward_loop(node, grads)`` (set by autodiff/func/transforms.py): a node's backward
    # run sample by sample, for the backward engine when batched gradients (``vmap`` of a
    # ``vjp_fn``) reach a backward that has no batched form.
    backward_loop: Any = None
    # ``batched_grad(outputs, inputs, grad_outputs, retain, create)`` (transforms.py): the
    # engine run once with each grad_output's dim 0 as a vmap batch (``autograd.grad(...,
    # is_grads_batched=True)``); None for an input the outputs do not depend on.
    batched_grad: Any = None


state = _State()
