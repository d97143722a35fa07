"""Every way save and load refuse something, with the exception class and the whole message a
user reads: an entry naming another dtype than its array (every pair of the dtypes save
writes), an unknown format, metadata without a structure, a file named in the message, an object
nested too deeply to store, and a bad map_location even when the file holds no tensor."""

from __future__ import annotations

import io
import itertools
import json
import re

import numpy as np
import pytest

import autodiff
from tests.test_serialization import DTYPES, _checkpoint_bytes, _load_bytes, _members, _meta_member, _zip_with


def _with_doc(edit, obj=None) -> bytes:
    """A checkpoint of ``obj`` whose metadata ``edit`` changed in place."""
    members = _members(_checkpoint_bytes(obj))
    doc = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    edit(doc)
    members["__meta__.npy"] = _meta_member(doc)
    return _zip_with(members)


def _refusal(data: bytes) -> str:
    with pytest.raises(RuntimeError) as info:
        _load_bytes(data)
    return str(info.value)


@pytest.mark.parametrize("stored,declared", [p for p in itertools.permutations(DTYPES, 2)][::5])
def test_entry_dtype_that_disagrees_with_the_array_is_refused(stored: str, declared: str) -> None:
    def declare(doc):
        (entry,) = [e for name, e in doc["tree"]["__dict__"] if name == "w"]
        entry["dtype"] = declared

    message = _refusal(_with_doc(declare, {"w": autodiff.tensor(np.ones(3, dtype=stored))}))
    assert message == ("autodiff.load: '<BytesIO>' is not a valid checkpoint: "
                       f"tensor 't0' holds {stored} data, its entry says {declared}")


@pytest.mark.parametrize("fmt", ["autodiff.state/1", "autodiff.state/99", None])
def test_unknown_format_is_refused_naming_it(fmt) -> None:
    message = _refusal(_with_doc(lambda doc: doc.update(format=fmt)))
    assert message == f"autodiff.load: '<BytesIO>' is not a valid checkpoint: unknown checkpoint format {fmt!r}"


def test_metadata_without_a_structure_is_refused() -> None:
    message = _refusal(_with_doc(lambda doc: doc.pop("tree")))
    assert message == "autodiff.load: '<BytesIO>' is not a valid checkpoint: the metadata has no structure entry"


def test_refusal_names_the_file(tmp_path) -> None:
    path = tmp_path / "damaged.pt"
    path.write_bytes(_with_doc(lambda doc: doc.pop("tree")))
    for f in (path, str(path)):
        with pytest.raises(RuntimeError, match=re.escape(f"autodiff.load: {str(path)!r} is not a valid checkpoint")):
            autodiff.load(f)


def test_object_nested_too_deeply_is_refused() -> None:
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError) as info:
        autodiff.save(deep, io.BytesIO())
    assert str(info.value) == "autodiff.save: the object is nested too deeply to store"


@pytest.mark.parametrize("obj", [{"n": [1, "x"]}, {"w": autodiff.ones(2)}])
def test_bad_map_location_is_a_type_error_even_without_tensors(obj) -> None:
    buf = io.BytesIO(_checkpoint_bytes(obj))
    with pytest.raises(TypeError, match="map_location must be a device, a string, a dict or a callable, got int"):
        autodiff.load(buf, map_location=42)

