"""``autodiff.save``/``autodiff.load``: round trips of models and optimizer state without
pickle, checkpoints saved on CUDA loaded on the CPU, and objects refused.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import autodiff
import autodiff.nn as nn


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
    import json

    import backends.npz

    path = tmp_path / "cuda.npz"
    autodiff.save({"w": autodiff.tensor([1.0, 2.0])}, path)
    arrays, meta = backends.npz.read(path)  # rewrite it as if saved from cuda:0
    doc = json.loads(meta)
    doc["tree"]["__dict__"][0][1]["device"] = "cuda:0"
    backends.npz.write(path, arrays, json.dumps(doc))
    loaded = autodiff.load(path, map_location="cpu")
    assert loaded["w"].device.type == "cpu" and loaded["w"].tolist() == [1.0, 2.0]
    if not autodiff.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            autodiff.load(path)


def test_save_refuses_objects():
    with pytest.raises(TypeError, match="cannot store"):
        autodiff.save({"m": nn.Linear(2, 2)}, io.BytesIO())
