"""``autograd.Variable``: PyTorch's legacy wrapper, today a class whose call returns a Tensor;
and ``Variable._execution_engine``, through which PyTorch code (DDP-like hooks) queues a
callback to run when the backward pass ends."""

from __future__ import annotations

from typing import Any

from autodiff.autograd import engine
from autodiff.tensor import Tensor


class _ExecutionEngine:
    """``Variable._execution_engine``: the engine's entry point PyTorch code reaches for."""

    @staticmethod
    def queue_callback(callback: Any) -> None:
        """Run ``callback()`` when the backward pass running in this thread has finished
        (RuntimeError when none is running)."""
        engine.queue_callback(callback)


class _VariableMeta(type):
    # ``isinstance(t, Variable)`` is ``isinstance(t, Tensor)``, as in PyTorch (old code and
    # tools such as torchviz still check it).
    def __instancecheck__(cls, other: Any) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: a new leaf sharing ``data``'s memory (as
    ``data.detach()``), requiring grad when asked -- what PyTorch's ``Variable`` has returned
    since Variable and Tensor merged (0.4). Every tensor is an instance of ``Variable``."""

    _execution_engine = _ExecutionEngine()

    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
