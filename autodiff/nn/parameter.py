"""``Parameter``: a Tensor that a ``Module`` registers as one of its trainable weights."""

from __future__ import annotations

from typing import Any

from autodiff.ops.creation import empty
from autodiff.ops.shape import clone
from autodiff.tensor import Tensor, _make


class Parameter(Tensor):
    """A leaf tensor that requires grad (by default) and is registered by ``Module.__setattr__``.

    It shares storage (and the version counter) with the tensor it is made from.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        p = _make(data._data, data._be, cls=cls)
        p._version = data._version
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # everything is done in __new__

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo: dict) -> Parameter:
        # PyTorch's rule: a deep-copied Parameter has no .grad (a plain tensor keeps its copy).
        return Parameter(clone(self.detach()), self._requires_grad)


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (a lazy module's); ``materialize(shape)``
    gives it storage, after which it behaves as an (uninitialized) ``Parameter``."""

    __slots__ = ()

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> UninitializedParameter:
        p = Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)
        return p

    def materialize(self, shape: tuple, device: Any = None, dtype: Any = None) -> None:
        """Give it (uninitialized) storage of ``shape``; it becomes a plain ``Parameter``, in
        place, so optimizers and modules holding it keep holding it."""
        self.data = empty(*shape, device=device or self.device, dtype=dtype or self.dtype)
        self.__class__ = Parameter

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__
