"""How a ``DataLoader`` turns a list of samples into a batch (``default_collate``) and,
without batching, converts each sample (``default_convert``), as ``torch.utils.data``'s:
tensors are stacked, NumPy arrays and numbers become tensors, and dicts, named tuples,
tuples and lists are collated field by field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autodiff import dtypes
from autodiff.ops.creation import as_tensor, tensor
from autodiff.ops.shape import stack
from autodiff.tensor import Tensor

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _numpy_kind(obj: Any) -> str | None:
    """``"array"`` for a NumPy array of numbers, ``"scalar"`` for a NumPy number, ``"other"``
    for other NumPy objects (strings, object arrays); None for anything else. Read off the
    type, so NumPy is never imported here."""
    kind = type(obj)
    if kind.__module__ != "numpy":
        return None
    if kind.__name__ in ("ndarray", "memmap"):
        return "other" if obj.dtype.char in "SaUO" else "array"
    if kind.__name__ in ("str_", "bytes_", "string_"):
        return "other"
    return "scalar"


def _numpy_scalar(obj: Any) -> Tensor:
    # Its own dtype: a NumPy float64 is also a Python float, which alone would make float32.
    return as_tensor(obj, dtype=dtypes.BY_NAME.get(obj.dtype.name))


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def default_collate(batch: Sequence) -> Any:
    """Stack a list of samples into a batch: tensors with ``stack``; NumPy arrays and
    numbers into tensors (Python floats as float64, ints as int64, bools as bool); strings
    are kept as the sequence; a mapping, named tuple or sequence of these is collated per
    key or per position (a tuple of fields comes back as a list, as PyTorch's does)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    kind = _numpy_kind(elem)
    if kind == "other" and type(elem).__name__ in ("ndarray", "memmap"):
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    if kind == "array":
        return default_collate([as_tensor(b) for b in batch])
    if kind == "scalar":
        return stack([_numpy_scalar(b) for b in batch], 0)
    if isinstance(elem, bool):
        return tensor(list(batch), dtype=dtypes.bool)
    if isinstance(elem, float):
        return tensor(list(batch), dtype=dtypes.float64)
    if isinstance(elem, int):
        return tensor(list(batch))
    if isinstance(elem, (str, bytes)) or kind == "other":
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(fields)) for fields in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(fields)) for fields in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:  # a sequence type that cannot be built from a list
            return columns
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def default_convert(data: Any) -> Any:
    """A sample with its NumPy arrays and NumPy numbers made tensors (containers kept;
    tuples become lists, as PyTorch's); anything else unchanged."""
    kind = _numpy_kind(data)
    if kind == "array":
        return as_tensor(data)
    if kind == "scalar":
        return _numpy_scalar(data)
    if isinstance(data, (Tensor, str, bytes)) or kind == "other":
        return data
    if isinstance(data, Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


__all__ = ["default_collate", "default_convert"]
