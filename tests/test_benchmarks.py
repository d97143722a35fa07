"""The benchmark suite computes what it claims to: every system agrees with the floor.

No timing is asserted here (speed is what ``python -m benchmarks`` reports); these tests
check that the systems being compared do the same work, so that a ratio means something.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

from benchmarks import run
from benchmarks.lean_engine import LeanTensor
from benchmarks.workloads import Ctx, seed_mlp


def _ctx() -> Ctx:
    try:
        import torch
    except ImportError:
        torch = None
    return Ctx(torch=torch)


def test_mlp_systems_agree_after_an_update() -> None:
    # The first step's loss comes before any update, so it says nothing about gradients;
    # the second one does: every system must have taken the same SGD step.
    steps = {system: make() for system, make in seed_mlp(_ctx()).items()}
    assert {"autodiff", "floor", "floor-grad", "lean"} <= set(steps)
    first = {system: step() for system, step in steps.items()}
    second = {system: step() for system, step in steps.items()}
    for system, value in second.items():
        assert value == pytest.approx(second["floor"], rel=1e-4), system
        assert value != pytest.approx(first[system], rel=1e-3), system  # it did move


@pytest.mark.parametrize("workload", ["seed-mlp", "op-chain"])
def test_compiled_systems_give_the_eager_bits(workload) -> None:
    from benchmarks.workloads import WORKLOADS

    systems = WORKLOADS[workload](_ctx())
    assert "compiled" in systems
    eager, compiled = systems["autodiff"](), systems["compiled"]()
    for _ in range(6):  # records (twice: .grad appears after the first step), replays twice, then runs its source
        b, a = compiled(), eager()  # (the compiled step first: it records before eager code cached its operands)
        if hasattr(a, "numpy"):
            a, b = a.numpy(), b.numpy()
        assert np.array_equal(a, b)


def test_lean_engine_gradients_match_autodiff() -> None:
    import autodiff

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    lw1, lw2 = LeanTensor(w1.copy(), requires_grad=True), LeanTensor(w2.copy(), requires_grad=True)
    loss = (LeanTensor(x).mm(lw1).relu().mm(lw2) - LeanTensor(y)).square().sum()
    loss.backward()
    aw1 = autodiff.tensor(w1, requires_grad=True)
    aw2 = autodiff.tensor(w2, requires_grad=True)
    (autodiff.tensor(x).mm(aw1).relu().mm(aw2) - autodiff.tensor(y)).pow(2).sum().backward()
    np.testing.assert_allclose(lw1.grad, aw1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lw2.grad, aw2.grad.numpy(), rtol=1e-12)
    loss = (LeanTensor(x).mm(lw1).relu().mm(lw2) - LeanTensor(y)).square().sum()
    loss.backward()  # a second backward adds into the same buffers
    np.testing.assert_allclose(lw1.grad, 2 * aw1.grad.numpy(), rtol=1e-12)


def test_time_systems_counts_page_faults_and_render_shows_the_references() -> None:
    faults: dict = {}
    times, inner = run.time_systems("seed-mlp", seed_mlp(_ctx()), 0.002, 2, lambda: None, 1e-4,
                                    faults)
    assert inner >= 1
    assert set(faults) == set(times)
    assert all(t > 0 for t in times.values()) and all(f >= 0 for f in faults.values())
    text = run.render({"machine": {"device": "cpu"}, "timed": {"seed-mlp": times},
                       "faults": {"seed-mlp": faults}})
    assert "floor with the `.grad` contract" in text and "lean engine" in text
    assert "Minor page faults per step" in text


def test_time_systems_runs_each_sample_for_the_calibrated_number_of_steps() -> None:
    calls = {"floor": 0, "autodiff": 0}

    def factory(system: str) -> Any:
        def step() -> float:
            calls[system] += 1
            return 1.0
        return lambda: step

    for sample_s, samples in ((0, 3), (1e-3, 4)):
        calls.update(floor=0, autodiff=0)
        times, inner = run.time_systems("t", {s: factory(s) for s in calls}, sample_s, samples,
                                        lambda: None, 1e-4)
        assert set(times) == set(calls)
        calibration = 1 if sample_s else 0  # one timed step per system to size the samples
        assert inner >= 1 and (sample_s or inner == 1)
        assert calls == dict.fromkeys(calls, 1 + 2 + calibration + samples * inner)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_pin_malloc_keeps_freed_arrays_on_warm_pages() -> None:
    # A fresh process without PyTorch: there, glibc's untouched thresholds make the
    # floor's `w -= lr * g` (two 400 kB temporaries) fault ~160 pages a step.
    code = textwrap.dedent("""
        import resource
        import numpy as np
        from benchmarks.run import pin_malloc
        print(pin_malloc())
        w = np.ones((1000, 100), np.float32)
        w - 1e-6 * w
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(50):
            w - 1e-6 * w
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=run.ROOT, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0].startswith("pinned")
    assert int(out[1]) < 50  # unpinned: ~8,000 here
    text = run.render({"machine": {"device": "cpu", "malloc": out[0]}})
    assert f"| malloc | {out[0]} |" in text


def test_deep_chain_benchmark_runs_in_its_own_process() -> None:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "benchmarks.deep_chain", "autodiff",
                           "--samples", "1"], cwd=root, capture_output=True, text=True, check=True)
    times = json.loads(proc.stdout)
    assert set(times) == {"10000", "100000"} and all(t > 0 for t in times.values())
