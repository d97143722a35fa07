"""``autodiff.save``/``load`` of ``.safetensors`` files: round trips of every dtype, weights
exchanged with PyTorch both ways (same outputs), and the errors for files autodiff cannot
read, a missing package and a failed save.
"""

from __future__ import annotations

import os
import sys
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
import autodiff.nn as nn

pytest.importorskip("safetensors", reason="pip install safetensors (the [safetensors] extra)")


def test_roundtrip_keeps_dtype_shape_and_values(tmp_path) -> None:
    sd = {
        "w": autodiff.arange(6.0).reshape(2, 3).t(),  # a strided view: saved in its logical order
        "scalar": autodiff.tensor(2.5),
        "empty": autodiff.zeros(0, 4),
    }
    for name, dtype in autodiff.dtypes.BY_NAME.items():
        sd[name] = (autodiff.arange(4) % 2).to(dtype)
    path = tmp_path / "m.safetensors"
    autodiff.save(sd, path)
    back = autodiff.load(path)
    assert set(back) == set(sd)
    for k, v in sd.items():
        assert back[k].dtype is v.dtype and back[k].shape == v.shape and back[k].tolist() == v.tolist(), k
        assert back[k].device.type == "cpu" and not back[k].requires_grad
    back["w"].add_(1)  # the loaded memory is the tensor's own (writable)
    assert back["scalar"].dim() == 0 and back["scalar"].item() == 2.5


def test_parameters_save_as_plain_tensors_and_map_location(tmp_path) -> None:
    model = nn.Linear(3, 2)
    path = tmp_path / "linear.safetensors"
    autodiff.save(model.state_dict(), path)
    back = autodiff.load(path, map_location=lambda t, loc: t * 0 if loc == "cpu" else None)
    assert back["weight"].tolist() == [[0.0] * 3] * 2
    model2 = nn.Linear(3, 2)
    model2.load_state_dict(autodiff.load(str(path), map_location="cpu"))
    assert model2.weight.tolist() == model.weight.tolist() and model2.weight.requires_grad


class _Net(nn.Module):
    """The same layers, named as in ``_torch_net``."""

    def __init__(self, torch_nn) -> None:
        super().__init__()
        self.body = torch_nn.Sequential(torch_nn.Linear(4, 8), torch_nn.LayerNorm(8), torch_nn.Tanh(),
                                        torch_nn.Linear(8, 3))

    def forward(self, x):
        return self.body(x)


def _torch_net(torch):
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Tanh(),
                                            torch.nn.Linear(8, 3))

        def forward(self, x):
            return self.body(x)

    return Net()


def _outputs(ours, theirs, torch) -> tuple[list, list]:
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    return ours(autodiff.from_numpy(x)).tolist(), theirs(torch.from_numpy(x)).detach().numpy().tolist()


def test_weights_saved_by_pytorch_load_into_the_matching_module(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    theirs = _torch_net(torch)
    torch.nn.init.normal_(theirs.body[1].weight)  # LayerNorm's weight away from its ones
    path = tmp_path / "from_torch.safetensors"
    save_file(theirs.state_dict(), str(path))
    ours = _Net(nn)
    ours.load_state_dict(autodiff.load(path))
    mine, reference = _outputs(ours, theirs, torch)
    np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


def test_weights_saved_by_autodiff_load_into_pytorch(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    ours = _Net(nn)
    path = tmp_path / "from_autodiff.safetensors"
    autodiff.save(ours.state_dict(), path)
    theirs = _torch_net(torch)
    theirs.load_state_dict(load_file(str(path)))
    mine, reference = _outputs(ours, theirs, torch)
    np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


def test_a_dtype_autodiff_lacks_is_named(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    path = tmp_path / "bf16.safetensors"
    save_file({"ok": torch.ones(2), "emb": torch.ones(2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(TypeError, match=r"bf16\.safetensors.*'emb' is bfloat16 \(BF16\).*v\.float\(\)"):
        autodiff.load(path)


def test_other_files_give_one_clear_error_naming_the_file(tmp_path) -> None:
    good = tmp_path / "good.safetensors"
    autodiff.save({"w": autodiff.ones(4)}, good)
    data = good.read_bytes()
    cases = {"text.safetensors": b"hello, not safetensors\n", "short.safetensors": b"\x01",
             "truncated.safetensors": data[:-5], "bigheader.safetensors": (10**9).to_bytes(8, "little") + data[8:],
             "badjson.safetensors": (4).to_bytes(8, "little") + b"{{{{"}
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with patch("pickle.load", side_effect=AssertionError("unpickled")), \
                patch("pickle.loads", side_effect=AssertionError("unpickled")), \
                pytest.raises(RuntimeError, match=rf"{name.split('.')[0]}\.safetensors.* not a valid safetensors file"):
            autodiff.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        autodiff.load(tmp_path / "missing.safetensors")


def test_only_flat_dicts_of_tensors(tmp_path) -> None:
    for obj in ({"w": autodiff.ones(1), "epoch": 3}, [autodiff.ones(1)], {"nested": {"w": autodiff.ones(1)}}):
        with pytest.raises(TypeError, match="flat dict of tensors"):
            autodiff.save(obj, tmp_path / "x.safetensors")
    assert not list(tmp_path.iterdir())


def test_failed_save_leaves_the_old_file(tmp_path) -> None:
    path = tmp_path / "ck.safetensors"
    autodiff.save({"w": autodiff.ones(3)}, path)
    with patch.object(os, "fsync", side_effect=OSError("disk full")), pytest.raises(OSError, match="disk full"):
        autodiff.save({"w": autodiff.zeros(3)}, path)
    assert autodiff.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]


def test_missing_package_names_the_extra(tmp_path) -> None:
    with patch.dict(sys.modules, {"safetensors": None, "safetensors.numpy": None}):
        with pytest.raises(ModuleNotFoundError, match=r"autodiff-tape\[safetensors\]"):
            autodiff.save({"w": autodiff.ones(1)}, tmp_path / "x.safetensors")
        with pytest.raises(ModuleNotFoundError, match=r"autodiff-tape\[safetensors\]"):
            autodiff.load(tmp_path / "x.safetensors")
    autodiff.save({"w": autodiff.ones(1)}, tmp_path / "x.npz")  # the .npz format needs no package


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_damaged_files_raise_one_error_naming_the_file(tmp_path_factory, data) -> None:
    """Truncated files and changed headers give one RuntimeError (or the TypeError of a
    dtype autodiff lacks), never a crash elsewhere. (The format has no checksum: a changed
    byte in the data itself loads as that value.)"""
    folder = tmp_path_factory.mktemp("damaged")
    good = folder / "good.safetensors"
    autodiff.save({"w": autodiff.arange(6.0).reshape(2, 3), "i": autodiff.tensor([1, 2])}, good)
    blob = bytearray(good.read_bytes())
    n = int.from_bytes(blob[:8], "little")
    kind = data.draw(st.sampled_from(["truncate", "header_byte", "length"]))
    if kind == "truncate":
        blob = blob[:data.draw(st.integers(0, len(blob) - 1))]
    elif kind == "header_byte":
        i = data.draw(st.integers(8, 8 + n - 1))
        blob[i] = data.draw(st.integers(0, 255))
    else:
        blob[:8] = data.draw(st.integers(0, 2**64 - 1)).to_bytes(8, "little")
    path = folder / "damaged.safetensors"
    path.write_bytes(bytes(blob))
    try:
        back = autodiff.load(path)
    except (RuntimeError, TypeError) as e:
        assert "damaged.safetensors" in str(e)
        return
    assert all(isinstance(v, autodiff.Tensor) for v in back.values())
