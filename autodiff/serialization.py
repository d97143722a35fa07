"""``save`` / ``load``: checkpoints (nested dicts, lists, tuples, numbers, strings, None,
tensors, NumPy arrays) as ``.npz`` files: one array per tensor plus a JSON description of
the structure. What PyTorch programs usually save works, e.g.
``save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict()}, path)``.

No pickle is involved either way, so loading an untrusted file cannot run code; objects
that only pickle could store (a whole ``nn.Module``, an optimizer) are refused at save time
with a pointer to ``state_dict()``. Tensors keep their dtype, shape, device,
``requires_grad`` and ``Parameter``-ness, as ``torch.load`` does; the same tensor saved
twice loads as one object. ``map_location`` moves tensors elsewhere (a CUDA-saved
checkpoint loads on a CPU-only machine with ``map_location="cpu"``).

A path ending in ``.safetensors`` is read and written in Hugging Face's safetensors format
instead (``pip install "autodiff-tape[safetensors]"``): a flat dict of named tensors, as
``safetensors.torch.save_file`` writes a PyTorch ``state_dict()``, so weights go both ways
between autodiff and PyTorch (``model.load_state_dict(autodiff.load("m.safetensors"))``).
It stores dtypes, shapes and values only: loaded tensors are plain CPU tensors (or on
``map_location``), as ``safetensors.torch.load_file`` gives them.

A file that is not a well-formed checkpoint (truncated, damaged, crafted) raises one
``RuntimeError`` naming the file and the problem, as ``torch.load`` does for a damaged
archive; ``backends.npz`` checks sizes before allocating and checksums every array.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import backends.npz
import backends.safetensors_file
from autodiff import cuda, dtypes
from autodiff.device import backend_for
from autodiff.device import device as _device
from autodiff.nn.parameter import Parameter
from autodiff.tensor import Tensor, _make
from backends.npz import CorruptArchiveError

_FORMAT = "autodiff.state/2"
_KEY_TYPES = (str, int, float, bool, type(None))


def _refuse(obj: Any) -> TypeError:
    kind = type(obj).__name__
    hint = "only tensors, NumPy arrays, numbers, strings, None and dicts/lists/tuples of them"
    for base in type(obj).__mro__:
        if base.__name__ == "Module" and base.__module__.startswith("autodiff.nn"):
            hint = "save model.state_dict() instead and restore it with model.load_state_dict()"
        elif base.__name__ in ("Optimizer", "LRScheduler", "ReduceLROnPlateau") \
                and base.__module__.startswith("autodiff.optim"):
            hint = "save its state_dict() instead and restore it with load_state_dict()"
    return TypeError(f"autodiff.save: cannot store an object of type {kind} (autodiff never pickles): {hint}")


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, Any] = {}
        self._tensors: dict[int, str] = {}  # id(tensor) -> array key: a tensor saved twice is stored once
        self._keep: list = []  # keeps encoded objects alive so their ids stay unique
        self._path: set[int] = set()  # containers being encoded (a cycle cannot be stored)

    def _new_key(self, arr: Any) -> str:
        key = f"t{len(self.arrays)}"
        self.arrays[key] = arr
        return key

    def encode(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            if id(obj) not in self._tensors:
                self._keep.append(obj)
                self._tensors[id(obj)] = self._new_key(obj._be.to_host(obj._data))
            return {"__tensor__": self._tensors[id(obj)], "dtype": obj.dtype.name, "device": str(obj.device),
                    "requires_grad": obj.requires_grad, "parameter": isinstance(obj, Parameter)}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dtypes.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, _device):
            return {"__device__": str(obj)}
        host = backends.npz.host_array(obj)
        if host is not None:
            return {"__ndarray__": self._new_key(host), "scalar": backends.npz.is_host_scalar(obj)}
        if not isinstance(obj, (dict, list, tuple)):
            raise _refuse(obj)
        if id(obj) in self._path:
            raise ValueError("autodiff.save: the object contains a reference cycle, which cannot be stored")
        self._path.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = []
                for k, v in obj.items():
                    if not isinstance(k, _KEY_TYPES):
                        raise TypeError(f"autodiff.save: dict keys must be str, int, float, bool or None, "
                                        f"got {type(k).__name__}")
                    items.append([k, self.encode(v)])
                return {"__dict__": items, "ordered": isinstance(obj, OrderedDict)}
            if isinstance(obj, tuple):
                return {"__tuple__": [self.encode(v) for v in obj]}
            return [self.encode(v) for v in obj]
        finally:
            self._path.discard(id(obj))


def save(obj: Any, f: Any, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Write ``obj`` (typically a ``state_dict()`` or a dict holding some) to a path or file.

    Writing to a path goes through a temporary file, so a failed save leaves the old file.
    The pickle arguments are accepted for ``torch.save`` compatibility and unused.
    """
    if _is_safetensors(f):
        _save_safetensors(obj, f)
        return
    enc = _Encoder()
    try:
        tree = enc.encode(obj)
    except RecursionError:
        raise ValueError("autodiff.save: the object is nested too deeply to store") from None
    backends.npz.write(f, enc.arrays, {"format": _FORMAT, "tree": tree})


def _location(saved: str, map_location: Any) -> str | None:
    """Where a tensor saved on ``saved`` goes (None: let a callable ``map_location`` decide)."""
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        return str(map_location.get(saved, saved))
    if isinstance(map_location, (str, _device)):
        return str(_device(map_location))
    if callable(map_location):
        return None
    raise TypeError("autodiff.load: map_location must be a device, a string, a dict or a callable, "
                    f"got {type(map_location).__name__}")


def _check_device(dev: str) -> None:
    if dev.startswith("cuda") and not cuda.is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
            "False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU."
        )


class _Decoder:
    def __init__(self, reader: backends.npz.Reader, map_location: Any) -> None:
        self.reader = reader
        self.map_location = map_location
        self._tensors: dict[str, Tensor] = {}

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise CorruptArchiveError(f"unexpected {type(node).__name__} in the structure")
        if "__tensor__" in node:
            return self._tensor(node)
        if "__dict__" in node:
            items = node["__dict__"]
            if not isinstance(items, list) or not all(
                    isinstance(kv, list) and len(kv) == 2 and isinstance(kv[0], _KEY_TYPES) for kv in items):
                raise CorruptArchiveError("a dict entry is malformed")
            pairs = [(k, self.decode(v)) for k, v in items]
            return OrderedDict(pairs) if node.get("ordered") is True else dict(pairs)
        if "__tuple__" in node:
            if not isinstance(node["__tuple__"], list):
                raise CorruptArchiveError("a tuple entry is malformed")
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__ndarray__" in node:
            arr = self.reader.array(node["__ndarray__"])
            return backends.npz.host_scalar(arr) if node.get("scalar") is True else arr
        if "__dtype__" in node:
            if not isinstance(node["__dtype__"], str) or node["__dtype__"] not in dtypes.BY_NAME:
                raise CorruptArchiveError(f"unknown dtype {node['__dtype__']!r}")
            return dtypes.BY_NAME[node["__dtype__"]]
        if "__device__" in node:
            try:
                return _device(node["__device__"])
            except (TypeError, ValueError, RuntimeError) as e:
                raise CorruptArchiveError(f"bad device entry ({e})") from None
        raise CorruptArchiveError("unknown entry in the structure")

    def _tensor(self, node: dict) -> Tensor:
        key, dtype, saved = node["__tensor__"], node.get("dtype"), node.get("device")
        requires_grad, parameter = node.get("requires_grad"), node.get("parameter")
        if (not isinstance(key, str) or not isinstance(dtype, str) or dtype not in dtypes.BY_NAME or not isinstance(saved, str)
                or not isinstance(requires_grad, bool) or not isinstance(parameter, bool)):
            raise CorruptArchiveError("a tensor entry is malformed")
        if requires_grad and dtypes.BY_NAME[dtype].kind not in "f":
            raise CorruptArchiveError("a tensor entry asks for gradients on an integer tensor")
        if key in self._tensors:
            return self._tensors[key]
        arr = self.reader.array(key)
        try:
            _device(saved)
        except (TypeError, ValueError, RuntimeError) as e:
            raise CorruptArchiveError(f"tensor {key!r} has a bad device ({e})") from None
        dev = _location(saved, self.map_location)
        if dev is None:  # a callable map_location gets a CPU tensor and the saved location, like torch's
            t = self._make(arr, "cpu", dtype, key)
            moved = self.map_location(t, saved)
            if moved is None:
                _check_device(saved)
                t = t.to(saved)
            elif not isinstance(moved, Tensor) or moved.shape != t.shape or moved.dtype != t.dtype:
                raise TypeError("autodiff.load: a callable map_location must return the tensor it was given "
                                "(possibly moved to another device) or None")
            else:
                t = moved.detach()
        else:
            _check_device(dev)
            t = self._make(arr, dev, dtype, key)
        if parameter:
            t = Parameter(t, requires_grad)
        elif requires_grad:
            t.requires_grad_(True)
        self._tensors[key] = t
        return t

    @staticmethod
    def _make(arr: Any, dev: str, dtype: str, key: str) -> Tensor:
        be = backend_for(dev)
        try:
            got = backends.npz.dtype_name(arr)
        except KeyError:
            got = None
        if got != dtype:
            raise CorruptArchiveError(f"tensor {key!r} holds {got} data, its entry says {dtype}")
        return _make(be.from_host(arr), be)


def _name(f: Any) -> str:
    if isinstance(f, (str, os.PathLike)):
        return repr(os.fspath(f))
    return repr(getattr(f, "name", f"<{type(f).__name__}>"))


def load(f: Any, map_location: str | Any | dict | Callable | None = None, weights_only: bool = True,
         **kwargs: Any) -> Any:
    """Read what ``save`` wrote.

    ``map_location`` is, as for ``torch.load``: a device or device string (everything goes
    there), a dict mapping saved locations to new ones (``{"cuda:1": "cuda:0"}``), or a
    callable ``(tensor_on_cpu, saved_location) -> tensor or None``. ``weights_only`` is
    accepted for compatibility: loading never unpickles, whatever its value.
    """
    _location("cpu", map_location)  # a bad map_location is the caller's error, not the file's
    if _is_safetensors(f):
        return _load_safetensors(f, map_location)
    try:
        reader = backends.npz.Reader(f)
    except CorruptArchiveError as e:
        raise RuntimeError(f"autodiff.load: {_name(f)} is not a valid checkpoint: {e}") from None
    with reader:
        try:
            doc = reader.doc
            if doc.get("format") != _FORMAT:
                raise CorruptArchiveError(f"unknown checkpoint format {doc.get('format')!r}")
            if "tree" not in doc:
                raise CorruptArchiveError("the metadata has no structure entry")
            return _Decoder(reader, map_location).decode(doc["tree"])
        except CorruptArchiveError as e:
            raise RuntimeError(f"autodiff.load: {_name(f)} is not a valid checkpoint: {e}") from None
        except RecursionError:
            raise RuntimeError(f"autodiff.load: {_name(f)} is not a valid checkpoint: "
                               "its structure is nested too deeply") from None


# ---- safetensors ---------------------------------------------------------------------------
def _is_safetensors(f: Any) -> bool:
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).lower().endswith(".safetensors")


def _save_safetensors(obj: Any, f: Any) -> None:
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()):
        raise TypeError(f"autodiff.save: a .safetensors file holds a flat dict of tensors keyed by strings "
                        f"(a state_dict()), got {type(obj).__name__}{' with other keys or values' if isinstance(obj, dict) else ''}; "
                        "save other objects to a .pt or .npz path")
    arrays = {k: v._be.to_host(v.detach()._data) for k, v in obj.items()}
    # "pt": the layout and names are PyTorch's (what Hugging Face's loaders check for).
    backends.safetensors_file.write(f, arrays, {"format": "pt"})


def _load_safetensors(f: Any, map_location: Any) -> dict[str, Tensor]:
    try:
        arrays, _ = backends.safetensors_file.read(f)
    except backends.safetensors_file.SafetensorsFileError as e:
        raise RuntimeError(f"autodiff.load: {_name(f)} is not a valid safetensors file: {e}") from None
    except backends.safetensors_file.UnsupportedDtypeError as e:
        raise TypeError(f"autodiff.load: {_name(f)}: {e}") from None
    cpu = backend_for("cpu")
    dev = _location("cpu", map_location)
    out = {}
    for key, arr in arrays.items():
        t = _make(cpu.from_host(arr), cpu)
        if dev is None:  # a callable map_location: (cpu tensor, "cpu") -> tensor or None
            moved = map_location(t, "cpu")
            t = t if moved is None else moved
        elif dev != "cpu":
            _check_device(dev)
            t = t.to(dev)
        out[key] = t
    return out
