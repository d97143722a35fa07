"""A checkpoint whose tensor entry names another dtype than the array it points to holds, for
every pair of the dtypes save writes: load refuses it with one RuntimeError that names the
array and both dtypes (never a tensor of either dtype)."""

from __future__ import annotations

import io
import itertools
import json

import numpy as np
import pytest

import autodiff
from tests.test_serialization import DTYPES, _checkpoint_bytes, _load_bytes, _members, _meta_member, _zip_with


@pytest.mark.parametrize("stored,declared", [p for p in itertools.permutations(DTYPES, 2)][::5])
def test_entry_dtype_that_disagrees_with_the_array_is_refused(stored: str, declared: str) -> None:
    members = _members(_checkpoint_bytes({"w": autodiff.tensor(np.ones(3, dtype=stored))}))
    doc = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    (entry,) = [e for name, e in doc["tree"]["__dict__"] if name == "w"]
    entry["dtype"] = declared
    members["__meta__.npy"] = _meta_member(doc)
    with pytest.raises(RuntimeError) as info:
        _load_bytes(_zip_with(members))
    message = str(info.value)
    assert "not a valid checkpoint" in message
    assert f"tensor {entry['__tensor__']!r} holds {stored} data, its entry says {declared}" in message
