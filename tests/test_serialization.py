"""``autodiff.save``/``autodiff.load``: round trips of models and optimizer state without
pickle, checkpoints saved on CUDA loaded on the CPU, and objects refused.
"""

from __future__ import annotations

import io
import json
import zipfile
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff
import autodiff.nn as nn
from tests.conftest import cuda_only


def test_save_load_roundtrip_without_pickle(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = autodiff.optim.Adam(model.parameters(), lr=0.01)
    model(autodiff.randn(2, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.npz"
    autodiff.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3}, path)
    ck = autodiff.load(path)
    assert ck["epoch"] == 3 and list(ck["model"]) == list(model.state_dict())
    assert ck["model"]["0.weight"].tolist() == model[0].weight.tolist()
    assert ck["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)
    opt2 = autodiff.optim.Adam(model.parameters(), lr=0.5)
    opt2.load_state_dict(ck["opt"])
    assert opt2.param_groups[0]["lr"] == 0.01
    assert opt2.state[model[0].weight]["exp_avg"].tolist() == opt.state[model[0].weight]["exp_avg"].tolist()
    with np.load(path, allow_pickle=False) as z:  # plain arrays: nothing needs pickle
        assert all(z[k].dtype != object for k in z.files)
    buf = io.BytesIO()
    autodiff.save(model.state_dict(), buf)
    buf.seek(0)
    assert list(autodiff.load(buf)) == list(model.state_dict())


def test_cuda_saved_checkpoint_loads_on_cpu(tmp_path):
    import backends.npz

    path = tmp_path / "cuda.npz"
    autodiff.save({"w": autodiff.tensor([1.0, 2.0])}, path)
    arrays, doc = backends.npz.read(path)  # rewrite it as if saved from cuda:0
    doc["tree"]["__dict__"][0][1]["device"] = "cuda:0"
    backends.npz.write(path, arrays, doc)
    loaded = autodiff.load(path, map_location="cpu")
    assert loaded["w"].device.type == "cpu" and loaded["w"].tolist() == [1.0, 2.0]
    if not autodiff.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            autodiff.load(path)


def test_save_refuses_objects():
    with pytest.raises(TypeError, match="cannot store"):
        autodiff.save({"m": nn.Linear(2, 2)}, io.BytesIO())


# ---------------------------------------------------------------- round trips

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    autodiff.save(obj, buf)
    buf.seek(0)
    return autodiff.load(buf, **load_kwargs)


def _same_tensor(a, b):
    assert type(a) is type(b)
    assert (a.dtype, a.shape, a.device, a.requires_grad) == (b.dtype, b.shape, b.device, b.requires_grad)
    np.testing.assert_array_equal(np.asarray(a.detach().cpu().numpy()), np.asarray(b.detach().cpu().numpy()))


def test_zero_dim_tensor_keeps_its_shape():
    t = _roundtrip(autodiff.tensor(3.5))
    assert t.shape == () and t.item() == 3.5


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # `device` is a plain string
@given(dtype=st.sampled_from(DTYPES),
       shape=st.lists(st.integers(0, 4), min_size=0, max_size=4),
       view=st.sampled_from(["plain", "transposed", "strided"]),
       requires_grad=st.booleans(), seed=st.integers(0, 2**16))
def test_roundtrip_keeps_dtype_shape_values_device(dtype, shape, view, requires_grad, device, seed):
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(shape) * 50).astype(dtype)
    t = autodiff.tensor(data, device=device)
    if view == "transposed" and t.dim() >= 2:
        t = t.transpose(0, -1)
    elif view == "strided" and t.dim() >= 1:
        t = t[::2]
    if requires_grad and dtype.startswith("float"):
        t = t.detach().requires_grad_(True)
    back = _roundtrip({"t": t})["t"]
    _same_tensor(back, t)
    assert back.is_leaf


def test_large_tensor_roundtrip(tmp_path):
    t = autodiff.randn(1024, 1100, dtype=autodiff.float64)
    autodiff.save(t, tmp_path / "big.pt")
    _same_tensor(autodiff.load(tmp_path / "big.pt"), t)


def test_requires_grad_and_parameters_as_torch_keeps_them():
    torch = pytest.importorskip("torch")
    x = autodiff.ones(2, requires_grad=True)
    p = nn.Parameter(autodiff.ones(2), requires_grad=False)
    back = _roundtrip({"nonleaf": x * 2, "leaf": x, "detached": x.detach(), "param": p})
    tx = torch.ones(2, requires_grad=True)
    tbuf = io.BytesIO()
    torch.save({"nonleaf": tx * 2, "leaf": tx, "detached": tx.detach(),
                "param": torch.nn.Parameter(torch.ones(2), requires_grad=False)}, tbuf)
    tbuf.seek(0)
    tback = torch.load(tbuf)
    for k in tback:
        assert back[k].requires_grad == tback[k].requires_grad, k
        assert back[k].is_leaf and isinstance(back[k], nn.Parameter) == isinstance(tback[k], torch.nn.Parameter)


def test_training_checkpoint_with_python_and_numpy_values():
    model = nn.Linear(3, 2)
    opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(autodiff.randn(4, 3)).sum().backward()
    opt.step()
    shared = autodiff.arange(3)
    ck = {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(), "losses": [0.5, 0.25],
          "best": None, "done": False, "name": "run-é", "sizes": (1, (2, 3)), "rng": np.arange(4, dtype=np.int16),
          "lr": np.float32(0.5), "ids": {1: "a", 2.5: "b", None: "c"}, "same": [shared, shared],
          "dtype": autodiff.float64, "where": autodiff.device("cpu"), "nan": float("nan")}
    back = _roundtrip(ck)
    assert back["epoch"] == 3 and back["losses"] == [0.5, 0.25] and back["best"] is None
    assert back["done"] is False and back["name"] == "run-é" and back["sizes"] == (1, (2, 3))
    assert back["rng"].dtype == np.int16 and back["rng"].tolist() == [0, 1, 2, 3]
    assert type(back["lr"]) is np.float32 and back["lr"] == 0.5
    assert back["ids"] == {1: "a", 2.5: "b", None: "c"}
    assert back["same"][0] is back["same"][1]
    assert back["dtype"] is autodiff.float64 and back["where"] == autodiff.device("cpu")
    assert back["nan"] != back["nan"]
    assert list(back["model"]) == ["weight", "bias"] and type(back["model"]) is type(model.state_dict())
    _same_tensor(back["model"]["weight"], model.state_dict()["weight"])
    opt2 = autodiff.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    opt2.load_state_dict(back["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.1


def test_saving_a_module_says_to_save_its_state_dict():
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)"):
        autodiff.save(nn.Linear(2, 2), io.BytesIO())
    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        autodiff.save({"opt": autodiff.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)}, io.BytesIO())
    with pytest.raises(TypeError, match="cannot store an object of type object"):
        autodiff.save([object()], io.BytesIO())
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="cycle"):
        autodiff.save(cyclic, io.BytesIO())


# ---------------------------------------------------------------- map_location

def test_map_location_forms():
    t = autodiff.tensor([1.0, 2.0])
    for loc in ("cpu", autodiff.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage,
                lambda storage, loc: None):
        back = _roundtrip({"t": t}, map_location=loc)["t"]
        _same_tensor(back, t)
    seen = []
    _roundtrip(t, map_location=lambda s, loc: seen.append((s.device.type, loc)))
    assert seen == [("cpu", "cpu")]
    with pytest.raises(TypeError, match="map_location"):
        _roundtrip(t, map_location=3)


@cuda_only
def test_map_location_to_and_from_cuda():
    t = autodiff.tensor([1.0, 2.0])
    assert _roundtrip(t, map_location="cuda").device.type == "cuda"
    assert _roundtrip(t, map_location={"cpu": "cuda:0"}).device.type == "cuda"
    assert _roundtrip(t, map_location=lambda s, loc: s.cuda()).device.type == "cuda"
    back = _roundtrip(t.cuda(), map_location=lambda s, loc: None)
    assert back.device.type == "cuda" and back.tolist() == [1.0, 2.0]
    assert _roundtrip(t.cuda()).device.type == "cuda"


# ---------------------------------------------------------------- damaged and crafted files

def _checkpoint_bytes(obj=None):
    buf = io.BytesIO()
    autodiff.save({"w": autodiff.arange(6.0).reshape(2, 3), "n": [1, "x", None]} if obj is None else obj, buf)
    return buf.getvalue()


def _zip_with(members, compression=zipfile.ZIP_STORED):
    """An archive with the given members ({name: bytes}), written as is."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _meta_member(doc):
    return _npy(np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8))


def _load_bytes(data):
    return autodiff.load(io.BytesIO(data))


def test_unreferenced_members_are_never_read():
    members = _members(_checkpoint_bytes())
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        z.writestr("unused.npy", b"\0" * (16 << 20))  # 16 MiB of zeros in ~16 KiB
    with patch.object(zipfile.ZipFile, "open", wraps_open := _recording_open()):
        back = _load_bytes(bomb.getvalue())
    assert back["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert "unused.npy" not in wraps_open.names


def _recording_open():
    real = zipfile.ZipFile.open

    def opener(self, name, *args, **kwargs):
        opener.names.append(getattr(name, "filename", name))
        return real(self, name, *args, **kwargs)

    opener.names = []
    return opener


def test_sizes_that_disagree_with_the_metadata_are_refused_before_allocating():
    members = _members(_checkpoint_bytes())
    meta = json.loads(bytes(np.load(io.BytesIO(members["__meta__.npy"]))).decode())
    key = meta["tree"]["__dict__"][0][1]["__tensor__"]
    # the index claims a 8 TB tensor: refused from the member's size, nothing allocated
    meta["arrays"][key]["shape"] = [10**6, 10**6]
    with pytest.raises(RuntimeError, match=r"has shape \(2, 3\), the index says \(1000000, 1000000\)"):
        _load_bytes(_zip_with({**members, "__meta__.npy": _meta_member(meta)}))
    # header and index agree on a huge shape, but the member holds a few bytes
    meta["arrays"][key]["shape"] = [10**6, 10**6]
    huge = np.lib.format.header_data_from_array_1_0(np.zeros(0, dtype=np.float32))
    huge["shape"] = (10**6, 10**6)
    hbuf = io.BytesIO()
    np.lib.format.write_array_header_1_0(hbuf, huge)
    with pytest.raises(RuntimeError, match="holds .* bytes, its header declares"):
        _load_bytes(_zip_with({**members, key + ".npy": hbuf.getvalue() + b"\0" * 48,
                               "__meta__.npy": _meta_member(meta)}))
    # a compressed member could expand without bound: refused
    with pytest.raises(RuntimeError, match="compressed"):
        _load_bytes(_zip_with(members, compression=zipfile.ZIP_DEFLATED))


def test_pickled_members_are_refused():
    members = _members(_checkpoint_bytes())
    meta = json.loads(bytes(np.load(io.BytesIO(members["__meta__.npy"]))).decode())
    key = meta["tree"]["__dict__"][0][1]["__tensor__"]
    meta["arrays"][key]["dtype"] = "|O"
    evil = _npy(np.array([{"x": 1}], dtype=object))
    with patch("pickle.load", side_effect=AssertionError("unpickled")), \
            pytest.raises(RuntimeError, match="not a valid checkpoint"):
        _load_bytes(_zip_with({**members, key + ".npy": evil, "__meta__.npy": _meta_member(meta)}))


def test_other_files_give_one_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, not a checkpoint\n")
    with pytest.raises(RuntimeError, match=r"notes\.txt.*not a valid checkpoint"):
        autodiff.load(path)
    with pytest.raises(FileNotFoundError):
        autodiff.load(tmp_path / "missing.pt")
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.arange(3))
    with pytest.raises(RuntimeError, match="missing"):
        autodiff.load(path)
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")
    with pytest.raises(RuntimeError, match="PyTorch checkpoint .*never loads"):
        autodiff.load(tmp_path / "torch.pt")


def test_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "ck.pt"
    autodiff.save({"w": autodiff.ones(3)}, path)
    import backends.npz

    def broken(f, arrays, meta):
        f.write(b"partial")
        raise OSError("disk full")

    with patch.object(backends.npz, "_write_zip", broken), pytest.raises(OSError, match="disk full"):
        autodiff.save({"w": autodiff.zeros(3)}, path)
    assert autodiff.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.sampled_from(["__tensor__", "__dict__", "__tuple__", "__ndarray__", "t0", "t1", "float32", "cpu"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["__tensor__", "__dict__", "__tuple__", "__ndarray__", "__dtype__", "__device__",
                         "dtype", "device", "requires_grad", "parameter", "scalar", "ordered", "x"]),
        inner, max_size=4),
    max_leaves=12)

_ORIGINAL = {"w": autodiff.arange(6.0).reshape(2, 3), "i": autodiff.tensor([1, 2], dtype=autodiff.int32),
             "a": np.arange(3.0), "n": [1, "x", None, (2.5,)]}


def _corrupt(draw, data: bytes) -> tuple[bytes, bool]:
    """A damaged copy of ``data``; the flag says whether only the exact original may load."""
    kind = draw(st.sampled_from(["truncate", "flip", "flips", "replace_meta", "replace_array", "deep",
                                 "bad_name", "bad_json"]))
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data) - 1))], True
    if kind in ("flip", "flips"):
        out = bytearray(data)
        for _ in range(1 if kind == "flip" else draw(st.integers(2, 8))):
            i = draw(st.integers(0, len(out) - 1))
            out[i] ^= draw(st.integers(1, 255))
        return bytes(out), True
    members = _members(data)
    meta = json.loads(bytes(np.load(io.BytesIO(members["__meta__.npy"]))).decode())
    if kind == "replace_meta":
        if draw(st.booleans()):
            meta["tree"] = draw(_JSON)
        else:
            meta["arrays"] = draw(st.dictionaries(st.sampled_from(["t0", "t1", "t2"]), _JSON, max_size=3))
        members["__meta__.npy"] = _meta_member(meta)
    elif kind == "replace_array":
        name = draw(st.sampled_from(sorted(m for m in members if m != "__meta__.npy")))
        members[name] = draw(st.sampled_from([
            _npy(np.zeros(3)), _npy(np.zeros((2, 3), dtype=np.float32)), _npy(np.array([{}], dtype=object)),
            b"", b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 100, draw(st.binary(max_size=200))]))
    elif kind == "deep":
        depth = draw(st.integers(500, 50_000))
        members["__meta__.npy"] = _npy(np.frombuffer(
            b'{"format": "autodiff.state/2", "arrays": {}, "tree": ' + b"[" * depth + b"]" * depth + b"}",
            dtype=np.uint8))
    elif kind == "bad_name":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, blob in members.items():
                z.writestr(name, blob)
        raw = buf.getvalue()
        target = draw(st.sampled_from(sorted(members))).encode()
        return raw.replace(target, b"\xff\xfe" + target[2:]), False
    else:
        members["__meta__.npy"] = _npy(np.frombuffer(draw(st.binary(max_size=60)) + b"\xff", dtype=np.uint8))
    return _zip_with(members), False


@settings(max_examples=100)
@given(st.data())
def test_damaged_or_crafted_files_raise_one_error_or_load_exactly(data):
    """Whatever is done to a checkpoint, load gives the exact original or one RuntimeError."""
    original = _checkpoint_bytes(_ORIGINAL)
    damaged, exact_only = data.draw(st.builds(lambda: None).flatmap(
        lambda _: st.composite(lambda draw: _corrupt(draw, original))()))
    with patch("pickle.load", side_effect=AssertionError("unpickled")), \
            patch("pickle.loads", side_effect=AssertionError("unpickled")):
        try:
            back = _load_bytes(damaged)
        except RuntimeError as e:
            assert "not a valid checkpoint" in str(e)
            return
    if exact_only:
        assert set(back) == set(_ORIGINAL)
        _same_tensor(back["w"], _ORIGINAL["w"])
        _same_tensor(back["i"], _ORIGINAL["i"])
        assert back["a"].dtype == np.float64 and back["a"].tolist() == [0.0, 1.0, 2.0]
        assert back["n"] == _ORIGINAL["n"]
