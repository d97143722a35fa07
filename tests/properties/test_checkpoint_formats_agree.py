"""A state_dict saved as a ``.pt`` checkpoint and as a ``.safetensors`` file loads back the
same from both, whatever the dtype, and whatever the ``map_location`` (none, a device, a
dict, a callable that replaces the tensors): the file's name alone chooses the format."""

from __future__ import annotations

import pytest

import autodiff

safetensors = pytest.importorskip("safetensors", reason="pip install safetensors (the [safetensors] extra)")

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]

MAP_LOCATIONS = {
    "none": None,
    "device": "cpu",
    "dict": {"cpu": "cpu"},
    "callable-replacing": lambda t, loc: t.clone().zero_() if loc == "cpu" else None,
    "callable-keeping": lambda t, loc: None,
}


def _state_dict(dtype: str) -> dict:
    dt = autodiff.dtypes.BY_NAME[dtype]
    return {
        "weight": (autodiff.arange(6) % 3).reshape(2, 3).t().to(dt),  # a strided view
        "scalar": autodiff.tensor(1).to(dt),
        "empty": autodiff.zeros(0, 2).to(dt),
    }


def _described(sd: dict) -> dict:
    return {k: (v.dtype.name, tuple(v.shape), v.device.type, v.tolist()) for k, v in sd.items()}


@pytest.mark.parametrize("map_location", sorted(MAP_LOCATIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_pt_and_safetensors_load_back_the_same(tmp_path, dtype: str, map_location: str) -> None:
    sd = _state_dict(dtype)
    loaded = {}
    for suffix in ("pt", "safetensors", "SAFETENSORS"):
        path = tmp_path / f"weights.{suffix}"
        autodiff.save(sd, path if suffix == "pt" else str(path))
        loaded[suffix] = _described(autodiff.load(path, map_location=MAP_LOCATIONS[map_location]))
    assert loaded["pt"] == loaded["safetensors"] == loaded["SAFETENSORS"]
    expected = _described(sd)
    if map_location == "callable-replacing":
        expected = _described({k: v.clone().zero_() for k, v in sd.items()})
    assert loaded["pt"] == expected


def test_safetensors_is_chosen_by_the_name_alone(tmp_path) -> None:
    """A .safetensors file is one safetensors reads; any other name gets autodiff's format."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    sd = _state_dict("float32")
    autodiff.save(sd, tmp_path / "w.safetensors")
    assert set(safetensors_numpy.load_file(str(tmp_path / "w.safetensors"))) == set(sd)
    autodiff.save(sd, tmp_path / "w.bin")
    with pytest.raises(safetensors.SafetensorError):
        safetensors_numpy.load_file(str(tmp_path / "w.bin"))
