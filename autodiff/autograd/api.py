"""``autograd.backward`` and ``autograd.grad``: the entry points into the engine."""

from __future__ import annotations

from typing import Any

from autodiff.autograd.engine import run_backward
from autodiff.ops.creation import zeros_like
from autodiff.tensor import Size, Tensor, _make


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs: tuple, grads: tuple, is_grads_batched: bool = False) -> list:
    """Check or create the gradient that starts backward at each output."""
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"grad requires one gradient per output: got {len(grads)} gradients for "
            f"{len(outputs)} outputs"
        )
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if o._requires_grad and o.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if o._data.dtype.kind != "f":
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {o.dtype}"
                )
            be = o._be  # ones_like(o), without its argument handling
            g = _make(be.ones(o._data.shape, be.dtype_name(o._data)), be)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(
                    f"gradients can be either Tensors or None, but got {type(g).__name__}"
                )
            if g._data.shape != o._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                    f"output[{i}] has a shape of {o.shape}."
                )
            if g._be is not o._be:
                raise RuntimeError(
                    f"invalid gradient at index {i} - expected device {o.device} but got {g.device}"
                )
            if g.dtype is not o.dtype:
                g = g.to(o.dtype)
        out.append(g)
    return out


def _check_outputs(outputs: tuple) -> None:
    for i, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(o).__name__}")
        if not o._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Any = None,
    inputs: Any = None,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph's leaves."""
    outputs = _as_tuple(tensors)
    if grad_variables is not None:
        grad_tensors = grad_variables
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(outputs)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    _check_outputs(outputs)
    grads = _make_grads(outputs, grads)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(list(outputs), grads, retain_graph, create_graph,
                 list(inputs) if inputs is not None else None, accumulate=True)


def tensor_backward(
    self: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """``Tensor.backward``: accumulate d(self)/d(leaf) into every leaf's ``.grad`` (weighted
    by ``gradient``)."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple (``.grad`` untouched)."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    _check_outputs(outs)
    for t in ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor in inputs, but got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    gos = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outs)
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _batched_grad(outs, ins, gos, retain_graph, create_graph, allow_unused, materialize_grads)
    grads = _make_grads(outs, gos)
    results = run_backward(list(outs), grads, retain_graph, create_graph, list(ins), accumulate=False)
    return _unused_checked(ins, results, allow_unused, materialize_grads)


def _unused_checked(ins: tuple, results: list, allow_unused: bool, materialize_grads: bool) -> tuple:
    """The gradients of ``ins``: PyTorch's error for an unused input unless ``allow_unused``,
    and zeros (unbatched, as PyTorch gives them) for one with ``materialize_grads``."""
    final = []
    for t, g in zip(ins, results):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                g = zeros_like(t)
        final.append(g)
    return tuple(final)


def _batched_grad(outs: tuple, ins: tuple, gos: tuple, retain_graph: bool, create_graph: bool,
                  allow_unused: bool, materialize_grads: bool) -> tuple:
    """``grad(..., is_grads_batched=True)``: dim 0 of every grad_output is a batch of
    gradients, and one backward runs for all of them, its gradients batched by
    ``autodiff.func.vmap`` (which supplies the function: it sits above this layer)."""
    from autodiff._vmap_state import state as vmap_state

    for i, (o, g) in enumerate(zip(outs, gos)):
        if not isinstance(g, Tensor) or tuple(g.shape[1:]) != tuple(o.shape) or g.ndim == 0:
            shape = Size(g.shape[1:]) if isinstance(g, Tensor) else None
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                "the batch dimension. The sizes of the remaining dimensions are expected to match the "
                f"shape of corresponding output, but a mismatch was detected: grad_output[{i}] has a "
                f"shape of {shape} and output[{i}] has a shape of {o.shape}. If you only want some "
                "tensors in `grad_output` to be considered batched, consider using vmap.")
    results = vmap_state.batched_grad(outs, ins, gos, retain_graph, create_graph)
    return _unused_checked(ins, results, allow_unused, materialize_grads)
