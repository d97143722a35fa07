"""``save`` / ``load``: state dicts (nested dicts, lists, tuples, numbers, strings, tensors)
as ``.npz`` files: one array per tensor plus a JSON description of the structure.

No pickle is involved either way, so loading an untrusted file cannot run code. Tensors
remember the device they were saved from; ``map_location`` sends them elsewhere (a
CUDA-saved checkpoint loads on a CPU-only machine with ``map_location="cpu"``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import backends.npz
from autodiff import cuda, dtypes
from autodiff.device import backend_for
from autodiff.device import device as _device
from autodiff.nn.parameter import Parameter
from autodiff.tensor import Tensor, _make

_FORMAT = "autodiff.state/1"


def _encode(obj: Any, arrays: dict) -> Any:
    if isinstance(obj, Tensor):
        key = f"t{len(arrays)}"
        arrays[key] = obj._be.to_host(obj._data)
        return {"__tensor__": key, "dtype": obj.dtype.name, "device": str(obj.device),
                "requires_grad": obj.requires_grad, "parameter": type(obj).__name__ == "Parameter"}
    if isinstance(obj, dict):
        return {"__dict__": [[_key(k), _encode(v, arrays)] for k, v in obj.items()],
                "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dtypes.dtype):
        return {"__dtype__": obj.name}
    raise TypeError(
        f"autodiff.save: cannot store an object of type {type(obj).__name__} (only tensors, numbers, "
        "strings, None and dicts/lists/tuples of them: save state_dict(), not the module)"
    )


def _key(k: Any) -> Any:
    if not isinstance(k, (str, int)) or isinstance(k, bool):
        raise TypeError(f"autodiff.save: dict keys must be str or int, got {type(k).__name__}")
    return k


def save(obj: Any, f: Any) -> None:
    """Write ``obj`` (typically a ``state_dict()``) to the path or file object ``f``."""
    arrays: dict = {}
    tree = _encode(obj, arrays)
    backends.npz.write(f, arrays, json.dumps({"format": _FORMAT, "tree": tree}))


def _target(saved: str, map_location: Any) -> str:
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        return str(map_location.get(saved, saved))
    if callable(map_location) and not isinstance(map_location, (str, _device)):
        raise TypeError("autodiff.load: map_location must be a device, a string or a dict")
    return str(_device(map_location))


def _decode(node: Any, arrays: dict, map_location: Any) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays, map_location) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        dev = _target(node["device"], map_location)
        if dev.startswith("cuda") and not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
                "False. If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU."
            )
        be = backend_for(dev)
        arr = arrays[node["__tensor__"]]
        if be.dtype_name(arr) != node["dtype"]:
            raise RuntimeError(f"autodiff.load: corrupt file (tensor {node['__tensor__']} has dtype "
                               f"{be.dtype_name(arr)}, expected {node['dtype']})")
        t = _make(be.from_host(arr), be)
        if node.get("parameter"):
            return Parameter(t, node["requires_grad"])
        if node["requires_grad"]:
            t.requires_grad_(True)
        return t
    if "__dict__" in node:
        items = [(k, _decode(v, arrays, map_location)) for k, v in node["__dict__"]]
        return OrderedDict(items) if node.get("ordered") else dict(items)
    if "__tuple__" in node:
        return tuple(_decode(v, arrays, map_location) for v in node["__tuple__"])
    if "__dtype__" in node:
        return dtypes.BY_NAME[node["__dtype__"]]
    raise RuntimeError("autodiff.load: corrupt file (unknown entry in the structure)")


def load(f: Any, map_location: Any = None, weights_only: bool = True, **kwargs: Any) -> Any:
    """Read what ``save`` wrote; ``map_location`` ("cpu", a device or a dict) moves tensors."""
    arrays, meta = backends.npz.read(f)
    doc = json.loads(meta)
    if doc.get("format") != _FORMAT:
        raise RuntimeError(f"autodiff.load: unknown checkpoint format {doc.get('format')!r}")
    return _decode(doc["tree"], arrays, map_location)
