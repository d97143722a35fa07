"""A minimal reverse-mode engine for the seed-mlp step only: the least any Python engine does.

It has what the step needs and nothing else: ``mm``, ``-``, square, ``sum``, a ReLU with a
hand-written backward (clone, then mask, as the example's ``MyReLU``), a topologically
sorted backward, and gradients added into ``.grad`` buffers that the step zeroes in
place, as PyTorch's contract asks. No grad modes, version counters, hooks, views, dtype
or device checks, error messages, ``Function``/ctx API or double backward. The benchmark
times it next to autodiff to show what the pure-Python floor of *any* engine is on this
step (see docs/benchmarks.md): it is not part of autodiff and is not used elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class LeanTensor:
    __slots__ = ("data", "grad", "backward_fn", "parents", "requires_grad")

    def __init__(self, data: Any, parents: tuple = (), backward_fn: Callable | None = None,
                 requires_grad: bool = False) -> None:
        self.data = data
        self.grad = None
        self.backward_fn = backward_fn  # gradient of the output -> gradients of the parents
        self.parents = parents
        self.requires_grad = requires_grad

    def mm(self, other: LeanTensor) -> LeanTensor:
        a, b = self.data, other.data

        def backward_fn(g: Any) -> tuple:
            return (g @ b.T if self.requires_grad else None,
                    a.T @ g if other.requires_grad else None)

        return LeanTensor(a @ b, (self, other), backward_fn,
                          self.requires_grad or other.requires_grad)

    def __sub__(self, other: LeanTensor) -> LeanTensor:
        def backward_fn(g: Any) -> tuple:
            return g, -g if other.requires_grad else None

        return LeanTensor(self.data - other.data, (self, other), backward_fn,
                          self.requires_grad or other.requires_grad)

    def square(self) -> LeanTensor:
        a = self.data
        return LeanTensor(a * a, (self,), lambda g: (g * (a + a),), self.requires_grad)

    def sum(self) -> LeanTensor:
        shape = self.data.shape
        return LeanTensor(self.data.sum(), (self,), lambda g: (np.broadcast_to(g, shape),),
                          self.requires_grad)

    def relu(self) -> LeanTensor:
        a = self.data

        def backward_fn(g: Any) -> tuple:
            g = g.copy()  # MyReLU's grad_output.clone()
            g[a < 0] = 0
            return (g,)

        return LeanTensor(np.maximum(a, 0), (self,), backward_fn, self.requires_grad)

    def backward(self) -> None:
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first search: parents before children in ``order``
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents if p.requires_grad)
        grads = {id(self): np.ones((), self.data.dtype)}
        for node in reversed(order):
            g = grads.pop(id(node))
            if node.backward_fn is None:  # a leaf: add into .grad
                if node.grad is None:
                    node.grad = g
                else:
                    node.grad += g
                continue
            for parent, pg in zip(node.parents, node.backward_fn(g)):
                if pg is not None and parent.requires_grad:
                    key = id(parent)
                    grads[key] = pg if key not in grads else grads[key] + pg
