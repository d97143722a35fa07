"""``parameters_to_vector`` (one flat tensor, in the graph) and ``vector_to_parameters``
(the parameters' data taken from slices of a vector)."""

from __future__ import annotations

from typing import Any

from autodiff.ops.shape import cat
from autodiff.tensor import Tensor


def parameters_to_vector(parameters: Any) -> Tensor:
    """The parameters flattened and concatenated (on the first one's device)."""
    params = list(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of parameters")
    device = params[0].device
    for p in params:
        if p.device != device:
            raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Any) -> None:
    """Set each parameter's data to the next slice of ``vec`` (the inverse of parameters_to_vector)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: expected a vector of {total} elements, got shape {list(vec.shape)}")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer:pointer + n].detach().reshape(p.shape)  # shares vec's storage, as in PyTorch
        pointer += n
