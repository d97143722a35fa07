"""``autodiff.autograd.graph``: the graph's nodes and hooks on what the graph saves.

- ``Node``: the base class of every ``grad_fn`` (``isinstance(y.grad_fn, Node)``).
- ``saved_tensors_hooks(pack_hook, unpack_hook)``: while active, every tensor an op saves
  for backward is replaced by ``pack_hook(tensor)``, and ``unpack_hook(packed)`` gives it
  back when backward needs it (to offload, compress or recompute saved activations).
- ``save_on_cpu()``: the hooks that keep saved tensors in host memory.
- ``disable_saved_tensors_hooks(message)``: refuses ``saved_tensors_hooks`` inside it.
- ``register_multi_grad_hook(tensors, fn, mode="all"|"any")``: one hook over several
  tensors' gradients.
- ``allow_mutation_on_saved_tensors()``: tensors saved inside it may be changed in place
  afterwards; backward uses the values they had when saved.
- ``increment_version(tensor)``: mark a tensor as changed in place (for changes made
  behind autodiff's back, e.g. through ``.numpy()``).
- ``GradientEdge`` / ``get_gradient_edge(tensor)``: the (node, output number) a tensor's
  gradient flows into.

All the state is per thread, like grad mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from autodiff.autograd import engine
from autodiff.autograd import node as _node
from autodiff.autograd.grad_mode import state as _state
from autodiff.autograd.hooks import register_tensor_hook
from autodiff.autograd.node import Node, accumulator_of
from autodiff.tensor import Tensor
from autodiff.utils.hooks import RemovableHandle

__all__ = [
    "Node", "GradientEdge", "get_gradient_edge", "saved_tensors_hooks", "save_on_cpu",
    "disable_saved_tensors_hooks", "register_multi_grad_hook", "allow_mutation_on_saved_tensors",
    "increment_version",
]


class GradientEdge(NamedTuple):
    """Where a tensor's gradient goes: a node and which of its outputs."""

    node: Node
    output_nr: int


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The edge of ``tensor``: its grad_fn (or its AccumulateGrad, for a leaf)."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    if tensor.grad_fn is None:
        return GradientEdge(accumulator_of(tensor), 0)
    return GradientEdge(tensor.grad_fn, tensor._output_nr)


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager: pack each tensor saved for backward with ``pack_hook`` and unpack
    it with ``unpack_hook`` when backward uses it.

    ``unpack_hook(pack_hook(t))`` must return a tensor with ``t``'s values (not
    necessarily the same object). Nested contexts: the innermost pair applies.
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _state.saved_hooks_disabled is not None:
            raise RuntimeError(_state.saved_hooks_disabled)
        _node.SAVED_HOOKS_USED = True
        _state.saved_hooks = (*_state.saved_hooks, (self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.saved_hooks = _state.saved_hooks[:-1]


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Keep the tensors saved for backward in host memory; backward copies each back to
    its device. ``pin_memory`` is accepted for PyTorch's signature (host memory is not
    pinned: the CuPy backend copies synchronously)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Tensor) -> tuple:
            return t.device, t.detach().cpu()

        def unpack(packed: tuple) -> Tensor:
            device, host = packed
            return host.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) under which entering ``saved_tensors_hooks``
    raises ``RuntimeError(error_message)``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        self.prev = _state.saved_hooks_disabled
        _state.saved_hooks_disabled = self.error_message

    def __exit__(self, *exc: Any) -> None:
        _state.saved_hooks_disabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)

        return wrapper


class allow_mutation_on_saved_tensors(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Context manager: tensors saved for backward inside it may be changed in place later;
    backward sees the values they had when saved.

    PyTorch clones a saved tensor when it is first mutated; autodiff clones it when it is
    saved (simpler, and the same gradients; it costs the memory of the saved tensors).
    """

    def __init__(self) -> None:
        super().__init__(lambda t: t.detach().clone(), lambda saved: saved)


def increment_version(tensor: Tensor | Sequence[Tensor]) -> None:
    """Bump the version counter of ``tensor`` (or of each tensor of a sequence), so that a
    saved copy of it is refused by backward as modified in place."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._version[0] += 1


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable, *, mode: str = "all") -> RemovableHandle:
    """One hook over the gradients of several tensors, once per backward.

    ``mode="all"``: ``fn(grads)`` after the backward, with the gradient of each tensor (None
    for those the backward did not reach). ``mode="any"``: ``fn(grad)`` with the first of
    those gradients to be computed.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    handles: list = []
    if mode == "any":
        fired: dict = {}

        def any_hook(grad: Tensor) -> None:
            run = engine.current_backward()
            if fired.get("run") is not run:
                fired["run"] = run
                fn(grad)

        handles = [register_tensor_hook(t, any_hook) for t in tensors if t.requires_grad]
    else:
        calls: dict = {}

        def make_hook(i: int) -> Callable:
            def hook(grad: Tensor) -> None:
                run = engine.current_backward()
                grads = calls.get(id(run))
                if grads is None:
                    grads = calls[id(run)] = [None] * len(tensors)

                    def finish() -> None:
                        fn(tuple(calls.pop(id(run))))

                    engine.queue_callback(finish)
                grads[i] = grad

            return hook

        handles = [register_tensor_hook(t, make_hook(i)) for i, t in enumerate(tensors) if t.requires_grad]
    return _MultiHandle(handles)


class _MultiHandle(RemovableHandle):
    """The handle of a multi-grad hook: removes the hook from every tensor."""

    def __init__(self, handles: list) -> None:
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
