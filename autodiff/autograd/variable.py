"""``autograd.Variable``: PyTorch's legacy wrapper, today a plain function returning a Tensor."""

from __future__ import annotations

from autodiff.tensor import Tensor


def Variable(data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """A new leaf sharing ``data``'s memory (as ``data.detach()``), requiring grad when asked:
    what PyTorch's ``Variable`` has returned since Variable and Tensor merged (0.4)."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    out = data.detach()
    if requires_grad:
        out.requires_grad_(True)
    return out
