"""CUDA graphs of ``autodiff.compile(fn, mode="reduce-overhead")`` (autodiff/compiled_cuda_graph.py),
and the stream capture of the simulated devices they run on here (backends/simulated_cuda.py).

Every test has ``cuda`` in its name, so the simulated-CUDA runs (``AUTODIFF_SIMULATE_CUDA=1 ... -k
cuda``; ``AUTODIFF_SIMULATE_CUDA=2 AUTODIFF_TEST_CUDA=cuda:1``) and a real GPU's run pick them up;
without any CUDA device they run on one simulated device of their own."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
from autodiff import compiled_cuda_graph, nn
from autodiff.compiled_cuda_graph import WARMUP_REPLAYS, CUDAGraphBreak
from autodiff.testing import simulate_cuda
from backends import simulated_cuda
from tests.conftest import CUDA, HAS_CUDA

# Calls before a graph launches: the first recording (no .grad yet), the second (with .grad
# and optimizer state), then the warm-up replays.
BEFORE_GRAPH = 2 + WARMUP_REPLAYS


@pytest.fixture
def cuda_device():
    """The CUDA device under test (real or simulated), or one simulated device of our own."""
    if HAS_CUDA:
        yield CUDA
    else:
        with simulate_cuda(1):
            yield "cuda"


@pytest.fixture
def sim_cuda(cuda_device):
    """The simulated stand-in's ``cupy`` (skipped on a real GPU), its device, and its index."""
    if not simulated_cuda.is_installed():
        pytest.skip("tests of the simulated devices' stream capture")
    import cupy

    index = autodiff.device(cuda_device).index or 0
    with cupy.cuda.Device(index):
        yield cupy


def _bits(t) -> bytes | None:
    return None if t is None else autodiff.Tensor.numpy(t.detach().cpu()).tobytes()


OPTIMIZERS = {
    "sgd": lambda ps: autodiff.optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: autodiff.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: autodiff.optim.Adam(ps, lr=0.01),
}


def _mlp_step(device, opt_name="sgd", loss=None):
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).to(device)
    opt = OPTIMIZERS[opt_name](list(model.parameters()))
    loss_fn = loss or (lambda out, y: nn.functional.mse_loss(out, y))

    def step(x, y):
        opt.zero_grad()
        value = loss_fn(model(x), y)
        value.backward()
        opt.step()
        return value

    return model, opt, step


def _batches(device, n, rows=8, seed=1):
    rng = np.random.default_rng(seed)
    return [(autodiff.tensor(rng.standard_normal((rows, 6), dtype=np.float32), device=device),
             autodiff.tensor(rng.standard_normal((rows, 3), dtype=np.float32), device=device))
            for _ in range(n)]


def _assert_same(m1, o1, m2, o2, what):
    for i, (p, q) in enumerate(zip(m1.parameters(), m2.parameters())):
        assert _bits(p) == _bits(q), f"{what}: parameter {i}"
        assert _bits(p.grad) == _bits(q.grad), f"{what}: .grad of parameter {i}"
    for p, q in zip(m1.parameters(), m2.parameters()):
        s1, s2 = o1.state.get(p, {}), o2.state.get(q, {})
        assert sorted(s1) == sorted(s2), what
        for k in s1:
            v1, v2 = s1[k], s2[k]
            same = _bits(v1) == _bits(v2) if isinstance(v1, autodiff.Tensor) else v1 == v2
            assert same, f"{what}: optimizer state {k}"


def _graph_states(compiled):
    return [p.cuda_graph for p in compiled.programs.values() if hasattr(p, "cuda_graph")]


def _launches(compiled) -> int:
    return sum(s.launches for s in _graph_states(compiled))


def _run_against_eager(device, opt_name, batches, mode="reduce-overhead", loss=None):
    m1, o1, eager = _mlp_step(device, opt_name, loss)
    m2, o2, step = _mlp_step(device, opt_name, loss)
    compiled = autodiff.compile(step, mode=mode)
    losses = []
    for k, (x, y) in enumerate(batches):
        l1, l2 = eager(x, y), compiled(x, y)
        losses.append((l1, l2))
        assert _bits(l1) == _bits(l2), f"loss of step {k}"
        _assert_same(m1, o1, m2, o2, f"step {k}")
    # The losses returned by earlier launches keep their values (copied out of the graph).
    for k, (l1, l2) in enumerate(losses):
        assert _bits(l1) == _bits(l2), f"loss of step {k}, read after the last step"
    return compiled, (m1, o1, eager), (m2, o2, step)


# ---- graph-launched steps are the eager steps, bit for bit -----------------------------------
@pytest.mark.parametrize("opt_name", ["sgd", "sgd-momentum"])
def test_cuda_graph_steps_equal_eager(cuda_device, opt_name) -> None:
    """An MLP's training step: five steps launched as a CUDA graph, each with new batch
    values, give eager's losses, parameters, gradients and optimizer state bit for bit."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CUDAGraphBreak)
        compiled, _e, _c = _run_against_eager(cuda_device, opt_name, _batches(cuda_device, BEFORE_GRAPH + 5))
    assert _launches(compiled) == 5, (compiled.stats, [vars(s) for s in _graph_states(compiled)])
    (state,) = [s for s in _graph_states(compiled) if s.graph is not None]
    assert state.captures == 1


def test_cuda_graph_reads_inputs_changed_in_place(cuda_device) -> None:
    """The same input tensors refilled in place before each call: every launch reads the new
    values (they are copied into the graph's static input buffers)."""
    m1, o1, eager = _mlp_step(cuda_device)
    m2, o2, step = _mlp_step(cuda_device)
    compiled = autodiff.compile(step, mode="reduce-overhead")
    x, y = (autodiff.zeros(8, 6, device=cuda_device), autodiff.zeros(8, 3, device=cuda_device))
    losses = set()
    for k, (bx, by) in enumerate(_batches(cuda_device, BEFORE_GRAPH + 4, seed=2)):
        with autodiff.no_grad():
            x.copy_(bx)
            y.copy_(by)
        l1, l2 = eager(x, y), compiled(x, y)
        assert _bits(l1) == _bits(l2), f"step {k}"
        losses.add(_bits(l2))
    _assert_same(m1, o1, m2, o2, "after the steps")
    assert _launches(compiled) == 4
    assert len(losses) == BEFORE_GRAPH + 4  # (a launch that ignored its inputs would repeat a loss)


def test_cuda_graph_adam_equals_eager(cuda_device) -> None:
    """Adam: a program with an eager optimizer step stays a plain replay, with the warning that
    says why; one whose update is in the program is launched as a graph. Eager's bits either way."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled, _e, _c = _run_against_eager(cuda_device, "adam", _batches(cuda_device, BEFORE_GRAPH + 3))
    programs = [p for p in compiled.programs.values() if hasattr(p, "ops")]
    regions = [p for p in programs if any(op[0] == "region" for op in p.ops)]
    host = [p for p in programs if any(op[0] == "call" and op[4] is not None and op[4][0] == "host" for op in p.ops)]
    breaks = [str(w.message) for w in caught if w.category is CUDAGraphBreak]
    if host:  # Adam's step counter, read at every replay: a graph would freeze it
        assert any("computes host values at every step" in m for m in breaks), breaks
        assert _launches(compiled) == 0
    elif regions:
        assert any("optimizer step inside it runs eagerly" in m for m in breaks), breaks
    else:
        assert _launches(compiled) == 3


def _classifier_step(device):
    autodiff.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).to(device)
    opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        value = nn.functional.cross_entropy(model(x), y)
        value.backward()
        opt.step()
        return value

    return model, opt, step


def test_cuda_graph_value_checks_run_before_each_launch(cuda_device) -> None:
    """cross_entropy checks its targets are in range (``any`` read on the host): the check runs
    before each launch, outside the graph. A bad target makes that call eager -- it raises
    eager's error before anything is written -- and the next good call launches again."""
    m1, o1, eager = _classifier_step(cuda_device)
    m2, o2, step = _classifier_step(cuda_device)
    compiled = autodiff.compile(step, mode="reduce-overhead")
    rng = np.random.default_rng(8)

    def batch(high=3):
        return (autodiff.tensor(rng.standard_normal((8, 6), dtype=np.float32), device=cuda_device),
                autodiff.tensor(rng.integers(0, high, 8), device=cuda_device))

    with warnings.catch_warnings():
        warnings.simplefilter("error", CUDAGraphBreak)
        for k in range(BEFORE_GRAPH + 3):
            x, y = batch()
            assert _bits(eager(x, y)) == _bits(compiled(x, y)), f"step {k}"
            _assert_same(m1, o1, m2, o2, f"step {k}")
    assert _launches(compiled) == 3
    x, y = batch(high=3)
    y = y + 5  # out of range
    errors = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fn in (eager, compiled):
            with pytest.raises(Exception) as info:  # noqa: PT011 - whatever eager raises
                fn(x, y)
            errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]
    assert any("a check of values answered otherwise" in str(w.message) for w in caught)
    _assert_same(m1, o1, m2, o2, "after the bad targets")
    # (the failed call's zero_grad() left no .grad: the next calls record again, warm up and
    # are captured again)
    for k in range(BEFORE_GRAPH + 1):
        x, y = batch()
        assert _bits(eager(x, y)) == _bits(compiled(x, y))
        _assert_same(m1, o1, m2, o2, f"step {k} after")
    assert _launches(compiled) > 3


def test_cuda_graph_state_replaced_outside_the_step_recaptures(cuda_device) -> None:
    """A parameter given a new array between calls (``p.data = ...``): that call replays, the
    next captures a new graph, and the values stay eager's."""
    m1, o1, eager = _mlp_step(cuda_device, "sgd-momentum")
    m2, o2, step = _mlp_step(cuda_device, "sgd-momentum")
    compiled = autodiff.compile(step, mode="reduce-overhead")
    for k, (x, y) in enumerate(_batches(cuda_device, BEFORE_GRAPH + 6, seed=3)):
        if k == BEFORE_GRAPH + 2:
            for m in (m1, m2):
                w = m[0].weight
                w.data = w.detach() * 0.5
        l1, l2 = eager(x, y), compiled(x, y)
        assert _bits(l1) == _bits(l2), f"step {k}"
        _assert_same(m1, o1, m2, o2, f"step {k}")
    (state,) = [s for s in _graph_states(compiled) if s.graph is not None]
    assert state.captures == 2 and state.launches == 5


def test_cuda_graph_state_replaced_before_every_call_stops_capturing(cuda_device) -> None:
    """A parameter given a new array before every call: after MAX_CAPTURES captures the
    program stays a plain replay, with the warning; the values stay eager's."""
    m1, o1, eager = _mlp_step(cuda_device)
    m2, o2, step = _mlp_step(cuda_device)
    compiled = autodiff.compile(step, mode="reduce-overhead")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k, (x, y) in enumerate(_batches(cuda_device, BEFORE_GRAPH + 2 * compiled_cuda_graph.MAX_CAPTURES + 2)):
            if k >= BEFORE_GRAPH + 1:
                for m in (m1, m2):
                    m[2].bias.data = m[2].bias.detach() + 0.0
            assert _bits(eager(x, y)) == _bits(compiled(x, y)), f"step {k}"
            _assert_same(m1, o1, m2, o2, f"step {k}")
    breaks = [str(w.message) for w in caught if w.category is CUDAGraphBreak]
    assert breaks == [f"autodiff.compile: {step.__qualname__} replays without a CUDA graph: the arrays of the "
                      "step's state keep being replaced between calls"], breaks
    (state,) = _graph_states(compiled)
    assert state.captures == compiled_cuda_graph.MAX_CAPTURES and state.off


# ---- what keeps the plain replay, and says why ------------------------------------------------
def test_cuda_graph_capture_break_falls_back_with_warning(cuda_device) -> None:
    """A tensor made from host data inside the step: the capture refuses the host-to-device
    copy, the program replays without a graph, with one warning naming the cause."""
    scale = 0.5

    def loss(out, y):
        weights = autodiff.tensor([scale, scale, scale], device=cuda_device)  # a copy from the host
        return ((out - y) ** 2 * weights).mean()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled, _e, _c = _run_against_eager(cuda_device, "sgd", _batches(cuda_device, BEFORE_GRAPH + 4), loss=loss)
    breaks = [str(w.message) for w in caught if w.category is CUDAGraphBreak]
    assert len(breaks) == 1, breaks
    assert "replays without a CUDA graph: capturing it failed" in breaks[0], breaks
    assert "StreamCapture" in breaks[0] or "capturing" in breaks[0], breaks
    assert _launches(compiled) == 0
    assert compiled.stats["replayed"] == BEFORE_GRAPH + 4 - 2


def test_cuda_graph_random_draws_fall_back_with_warning(cuda_device) -> None:
    """A step drawing random numbers (from the device's generator, which a plain replay
    threads through): a graph would launch the draws of its capture again, so the program
    replays without one, with the warning; each step equals eager from the same seed."""
    def loss(out, y):
        return ((out - y + autodiff.randn(*y.shape, device=cuda_device) * 0.1) ** 2).mean()

    m1, o1, eager = _mlp_step(cuda_device, "sgd", loss)
    m2, o2, step = _mlp_step(cuda_device, "sgd", loss)
    compiled = autodiff.compile(step, mode="reduce-overhead")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k, (x, y) in enumerate(_batches(cuda_device, BEFORE_GRAPH + 3)):
            autodiff.manual_seed(k)
            l1 = eager(x, y)
            autodiff.manual_seed(k)
            assert _bits(l1) == _bits(compiled(x, y)), f"step {k}"
            _assert_same(m1, o1, m2, o2, f"step {k}")
    breaks = [str(w.message) for w in caught if w.category is CUDAGraphBreak]
    assert len(breaks) == 1 and "draws random numbers" in breaks[0], breaks
    assert _launches(compiled) == 0 and compiled.stats["replayed"] == BEFORE_GRAPH + 1


def test_cuda_graph_cpu_calls_in_the_step_fall_back_with_warning(cuda_device) -> None:
    """A step that also computes on the CPU (a decay of a CPU tensor it names): a graph holds
    one device's kernels, so the program replays as it is, with the warning."""
    def make():
        model, opt, _step = _mlp_step(cuda_device)
        counter = autodiff.ones(3)  # on the CPU

        def both(x, y):  # (names the model and the optimizer: the state a replay writes back)
            with autodiff.no_grad():
                counter.mul_(0.5)
            opt.zero_grad()
            value = nn.functional.mse_loss(model(x), y)
            value.backward()
            opt.step()
            return value

        return model, opt, both, counter

    m1, o1, eager, c1 = make()
    m2, o2, step, c2 = make()
    compiled = autodiff.compile(step, mode="reduce-overhead")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k, (x, y) in enumerate(_batches(cuda_device, BEFORE_GRAPH + 2)):
            assert _bits(eager(x, y)) == _bits(compiled(x, y)), f"step {k}"
            _assert_same(m1, o1, m2, o2, f"step {k}")
            assert _bits(c1) == _bits(c2)
    breaks = [str(w.message) for w in caught if w.category is CUDAGraphBreak]
    assert len(breaks) == 1 and "calls the cpu device as well" in breaks[0], breaks
    assert _launches(compiled) == 0 and compiled.stats["replayed"] == BEFORE_GRAPH


def test_cuda_graph_default_mode_and_cpu_programs_replay_plainly(cuda_device) -> None:
    """Without mode="reduce-overhead" nothing is captured; a CPU program under it replays
    plainly and says nothing (there is no CUDA call to capture)."""
    compiled, _e, _c = _run_against_eager(cuda_device, "sgd", _batches(cuda_device, BEFORE_GRAPH + 2), mode="default")
    assert _graph_states(compiled) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", CUDAGraphBreak)
        compiled, _e, _c = _run_against_eager("cpu", "sgd", _batches("cpu", BEFORE_GRAPH + 2))
    assert _launches(compiled) == 0 and all(s.off == "" for s in _graph_states(compiled))


def test_cuda_graph_guards_still_re_record(cuda_device) -> None:
    """After the graph runs: a new batch size, eval(), a new learning rate each record a new
    program (which warms up and is captured in its turn); every step stays eager's."""
    m1, o1, eager = _mlp_step(cuda_device, "sgd-momentum")
    m2, o2, step = _mlp_step(cuda_device, "sgd-momentum")
    compiled = autodiff.compile(step, mode="reduce-overhead")

    def run(batches, what):
        for k, (x, y) in enumerate(batches):
            l1, l2 = eager(x, y), compiled(x, y)
            assert _bits(l1) == _bits(l2), f"{what}, step {k}"
            _assert_same(m1, o1, m2, o2, f"{what}, step {k}")

    run(_batches(cuda_device, BEFORE_GRAPH + 2, seed=4), "first shape")
    assert _launches(compiled) == 2
    recorded = compiled.stats["recorded"]
    run(_batches(cuda_device, WARMUP_REPLAYS + 3, rows=5, seed=5), "a new batch size")
    assert compiled.stats["recorded"] == recorded + 1 and _launches(compiled) == 4
    for m in (m1, m2):
        m.eval()
    run(_batches(cuda_device, 2, seed=6), "eval()")
    for o in (o1, o2):
        o.param_groups[0]["lr"] = 0.01
    run(_batches(cuda_device, WARMUP_REPLAYS + 3, seed=7), "a new learning rate")
    assert compiled.stats["recorded"] == recorded + 3
    assert _launches(compiled) == 6


# ---- the simulated devices' stream capture ---------------------------------------------------
def test_simulated_cuda_graph_launch_reruns_kernels_into_the_same_arrays(sim_cuda) -> None:
    cp = sim_cuda
    x = cp.arange(6, dtype="float32").reshape(2, 3)
    w = cp.ones((3, 2), dtype="float32")
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        assert stream.is_capturing()
        y = cp.exp(x @ w) + 1
        w -= 0.5  # an in-place kernel on an array made before the capture
        graph = stream.end_capture()
    assert not stream.is_capturing()
    # Nothing ran: w is as before, y holds garbage until a launch.
    assert (w.get() == 1).all() and np.isnan(y.get()).all()
    graph.launch()
    assert (w.get() == 0.5).all()
    np.testing.assert_array_equal(y.get(), np.exp(np.arange(6, dtype="float32").reshape(2, 3) @ np.ones((3, 2), "float32")) + 1)
    x.fill(0)  # new input values, written where the graph reads them
    out = y
    graph.launch()
    assert y is out and (y.get() == 2).all() and (w.get() == 0).all()


def test_simulated_cuda_graph_capture_refuses_host_reads(sim_cuda) -> None:
    cp = sim_cuda
    x = cp.ones(4, dtype="float32")
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        total = x.sum()
        with pytest.raises(simulated_cuda.CUDARuntimeError, match="cudaErrorStreamCaptureUnsupported"):
            float(total)
        with pytest.raises(simulated_cuda.CUDARuntimeError, match="cudaErrorStreamCaptureInvalidated"):
            stream.end_capture()
        for refused in (lambda: cp.asarray(np.ones(2)), lambda: stream.synchronize(), lambda: cp.random.default_rng(0).random(2)):
            stream.begin_capture()
            with pytest.raises(simulated_cuda.CUDARuntimeError, match="cudaErrorStreamCaptureUnsupported"):
                refused()
            with pytest.raises(simulated_cuda.CUDARuntimeError):
                stream.end_capture()
    with pytest.raises(simulated_cuda.CUDARuntimeError, match="null stream"):
        cp.cuda.Stream.null.begin_capture()
    assert float(total) == 4.0 or np.isnan(float(total))  # (outside the capture: readable again)


def test_simulated_cuda_graph_memory_comes_from_its_own_pool(sim_cuda) -> None:
    cp = sim_cuda
    default = cp.get_default_memory_pool()
    x = cp.ones((16, 16), dtype="float32")
    before = default.used_bytes()
    pool = cp.cuda.MemoryPool()
    stream = cp.cuda.Stream(non_blocking=True)
    with cp.cuda.using_allocator(pool.malloc), stream:
        stream.begin_capture()
        y = (x * 2).sum(axis=0)
        graph = stream.end_capture()
    assert pool.used_bytes() >= 16 * 16 * 4 and default.used_bytes() == before
    del y
    assert pool.used_bytes() >= 16 * 16 * 4  # (the graph holds its memory)
    del graph


def test_cuda_graph_backend_capture_and_launch(cuda_device) -> None:
    """``capture_graph``/``launch_graph`` of the CUDA backend (real or simulated): the kernels
    run only at the launch; NumPy's backend has no graphs."""
    import backends
    from backends.array_backend import GraphCaptureError

    be = backends.get(str(autodiff.device(cuda_device)))
    a = be.asarray(np.arange(4, dtype=np.float32))
    b = be.copy(a)
    graph, (out,) = be.capture_graph(lambda u, v: (be.add(be.mul(u, v), v),), [a, b])
    be.launch_graph(graph)
    np.testing.assert_array_equal(be.to_host(out), np.arange(4) ** 2 + np.arange(4))
    be.copyto(a, be.asarray(np.ones(4, dtype=np.float32)))
    be.launch_graph(graph)
    np.testing.assert_array_equal(be.to_host(out), 2 * np.arange(4))
    with pytest.raises(GraphCaptureError):
        be.capture_graph(lambda u: be.item(be.sum(u)), [a])
    cpu = backends.get("cpu")
    assert not cpu.supports_graphs and be.supports_graphs
    with pytest.raises(GraphCaptureError):
        cpu.capture_graph(lambda: None, [])
    assert compiled_cuda_graph.MODES == {"reduce-overhead", "max-autotune"}
