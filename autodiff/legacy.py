"""PyTorch's legacy constructors and tensor types: ``Tensor(2, 3)``, ``FloatTensor``,
``LongTensor`` ... and the type names ``Tensor.type()`` speaks (``'torch.FloatTensor'``).

``Tensor(*args)`` (and each typed constructor) reads its arguments the old way:

- ints, or one ``Size``: an *uninitialised* tensor of that size (``Tensor(40, 1)``);
- a sequence or array: a copy of the data, converted to the type's dtype;
- a tensor: the tensor itself (``Tensor``) or, for a typed constructor, that tensor when
  its dtype matches (PyTorch raises otherwise);
- nothing: an empty 1-d tensor.

``Tensor`` follows the default dtype (``set_default_dtype``); ``FloatTensor`` is always
float32. ``isinstance(t, FloatTensor)`` is true for CPU float32 tensors, as in PyTorch;
the typed classes are not subclasses of ``Tensor`` (neither are PyTorch's).
"""

from __future__ import annotations

from typing import Any

from autodiff import dtypes
from autodiff.device import factory_backend
from autodiff.ops.creation import tensor
from autodiff.tensor import Size, Tensor, _make


def construct(cls: type, dtype: dtypes.dtype | None, args: tuple, kwargs: dict) -> Tensor:
    """A ``cls`` made by a legacy constructor (of the default dtype when ``dtype`` is None)."""
    dev = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got unexpected "
                        f"keyword argument '{next(iter(kwargs))}'; only device= is accepted")
    dt = dtype or dtypes.get_default_dtype()
    be = factory_backend(dev)
    if not args:
        return _make(be.empty((0,), dt.name), be, cls=cls)
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if dtype is not None and first.dtype is not dtype:
            raise TypeError(f"expected {dt.word} tensor (got {first.dtype.word} tensor)")
        return first
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and isinstance(first, Size)):
        shape = tuple(first) if isinstance(first, Size) else args
        for n in shape:
            if n < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(shape)}")
        return _make(be.empty(tuple(shape), dt.name), be, cls=cls)
    if len(args) > 1:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)})")
    if isinstance(first, (int, float, bool)):
        raise TypeError(f"new(): data must be a sequence (got {type(first).__name__})")
    src = tensor(first, dtype=dt, device=be.name)
    return _make(src._data, src._be, cls=cls)


class _TensorType(type):
    """The metaclass of ``FloatTensor`` and friends: calling one constructs a tensor of its
    dtype; ``isinstance`` checks dtype and device."""

    dtype: dtypes.dtype
    is_cuda = False

    def __call__(cls, *args: Any, **kwargs: Any) -> Tensor:
        if cls.is_cuda:
            kwargs.setdefault("device", "cuda")
        return construct(Tensor, cls.dtype, args, kwargs)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and (obj._be.type == "cuda") == cls.is_cuda

    def __repr__(cls) -> str:
        return f"<class 'torch.{'cuda.' if cls.is_cuda else ''}{cls.__name__}'>"


def _tensor_type(dt: dtypes.dtype, cuda: bool = False) -> type:
    return _TensorType(f"{dt.word}Tensor", (), {"dtype": dt, "is_cuda": cuda,
                                                "__module__": "autodiff.cuda" if cuda else "autodiff"})


FloatTensor = _tensor_type(dtypes.float32)
DoubleTensor = _tensor_type(dtypes.float64)
HalfTensor = _tensor_type(dtypes.float16)
LongTensor = _tensor_type(dtypes.int64)
IntTensor = _tensor_type(dtypes.int32)
ShortTensor = _tensor_type(dtypes.int16)
CharTensor = _tensor_type(dtypes.int8)
ByteTensor = _tensor_type(dtypes.uint8)
BoolTensor = _tensor_type(dtypes.bool)
TYPES = (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor,
         ByteTensor, BoolTensor)
_BY_NAME = {f"torch.{t.__name__}": t.dtype for t in TYPES}
# ``autodiff.cuda.FloatTensor`` ...: the same types on the GPU (``autodiff.cuda`` reads this).
CUDA_TYPES = {t.__name__: _tensor_type(t.dtype, cuda=True) for t in TYPES}


def type_name(t: Tensor) -> str:
    """``'torch.FloatTensor'`` (``'torch.cuda.FloatTensor'`` on a GPU)."""
    return ("torch.cuda." if t._be.type == "cuda" else "torch.") + t.dtype.word + "Tensor"


def convert_type(t: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """``t.type()``: the type name; ``t.type(dtype | 'torch.LongTensor' | LongTensor)``: ``t``
    converted to it (``t`` itself when it already is)."""
    if dtype is None:
        return type_name(t)
    if isinstance(dtype, dtypes.dtype):
        return t.to(dtype)
    if isinstance(dtype, str):
        name = dtype
        # A type name says the device too: 'torch.cuda.FloatTensor', or the CPU.
        dev = "cuda" if name.startswith("torch.cuda.") else "cpu"
        name = name.replace("torch.cuda.", "torch.", 1)
        if name not in _BY_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        target = _BY_NAME[name]
    elif isinstance(dtype, _TensorType):
        dev, target = ("cuda" if dtype.is_cuda else "cpu"), dtype.dtype
    else:
        raise TypeError(f"type() argument must be a dtype or a type name, not {type(dtype).__name__}")
    if t._be.type == dev or (dev == "cuda" and t._be.type == "cuda"):
        return t.to(target)
    return t.to(device=dev, dtype=target)


def new(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``t.new(...)``: the legacy constructor with ``t``'s dtype and device (``t.new(2, 3)`` is
    uninitialised, ``t.new([1, 2])`` holds data, ``t.new()`` is empty)."""
    kwargs.setdefault("device", self.device)
    return construct(Tensor, self.dtype, args, kwargs)


def set_default_tensor_type(t: Any) -> None:
    """Deprecated in PyTorch: set the default dtype from a type (``DoubleTensor``) or its
    name (``'torch.DoubleTensor'``)."""
    if isinstance(t, str):
        if t.replace("torch.cuda.", "torch.", 1) not in _BY_NAME:
            raise TypeError(f"invalid type: '{t}'")
        dt = _BY_NAME[t.replace("torch.cuda.", "torch.", 1)]
    elif isinstance(t, _TensorType):
        dt = t.dtype
    else:
        raise TypeError(f"invalid type: '{t!r}'")
    dtypes.set_default_dtype(dt)


def is_storage(obj: Any) -> bool:
    """Always False: autodiff has no storage objects."""
    return False


__all__ = ["construct", "type_name", "convert_type", "is_storage", "new", "set_default_tensor_type"] + [t.__name__ for t in TYPES]
