"""Everything ``Tensor`` gets from the layers above it, attached once at import.

The op methods and operators come from each ops file's ``METHODS`` table; the rest here
are the entry points that live in ``autodiff.autograd`` (``backward``, hooks) and the
``Tensor(data)`` constructor, which needs ``ops.creation``.
"""

from __future__ import annotations

from typing import Any

from autodiff.autograd.api import tensor_backward
from autodiff.autograd.hooks import register_post_accumulate_grad_hook, register_tensor_hook, retain_grad
from autodiff.legacy import construct, convert_type, new
from autodiff.ops import OP_MODULES
from autodiff.ops._prep import UNCHECKED, checked, placed
from autodiff.ops.shape import permute, transpose
from autodiff.tensor import Tensor

# The op methods and operators: every ops file's METHODS table, merged.
METHODS: dict[str, Any] = {}
for _module in OP_MODULES:
    METHODS.update(_module.METHODS)


def _new(cls: type, *args: Any, **kwargs: Any) -> Tensor:
    """``autodiff.Tensor(...)``, PyTorch's legacy constructor: ``Tensor(2, 3)`` is uninitialised,
    ``Tensor([1, 2])`` holds data of the default float dtype (see autodiff/legacy.py)."""
    return construct(cls, None, args, kwargs)


def _retain_grad(self: Tensor) -> None:
    """Keep this non-leaf tensor's gradient in ``.grad`` during backward (no-op on leaves)."""
    retain_grad(self)


def _register_hook(self: Tensor, hook: Any) -> Any:
    """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return
    value replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
    return register_tensor_hook(self, hook)


def _register_post_accumulate_grad_hook(self: Tensor, hook: Any) -> Any:
    """Call ``hook(self)`` after a backward has accumulated into this leaf's ``.grad``
    (where an optimizer step per parameter, or a gradient all-reduce, can start)."""
    return register_post_accumulate_grad_hook(self, hook)


OTHER_METHODS: dict[str, Any] = {
    "__new__": staticmethod(_new),
    "backward": tensor_backward,
    "retain_grad": _retain_grad,
    "register_hook": _register_hook,
    "register_post_accumulate_grad_hook": _register_post_accumulate_grad_hook,
    "type": convert_type,
    "new": new,
    "T": property(lambda self: permute(self, tuple(reversed(range(self.ndim))))),
    "mT": property(lambda self: transpose(self, -2, -1)),
}


def _op_name(name: str) -> str:
    """The op's name in error messages: ``add`` for ``__add__``, ``add_`` for ``add_``."""
    return name[2:-2] if name.startswith("__") and name.endswith("__") else name


def attach() -> None:
    for name, fn in METHODS.items():
        # Bad arguments raise PyTorch's exception classes (ops/_prep.py, ``checked``); the
        # hottest operators check their own; properties have no arguments to check.
        plain = name in UNCHECKED or not callable(fn)
        if not plain:
            fn = placed(checked(_op_name(name), fn, method=True), Tensor.__module__, f"Tensor.{name}")
        setattr(Tensor, name, fn)
    for name, fn in OTHER_METHODS.items():
        setattr(Tensor, name, fn)
