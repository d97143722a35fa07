"""``autodiff.compile``: compiled training steps give the bits of eager steps; every guard
re-records or runs eagerly; every capture break runs eagerly with its warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings

import autodiff
from autodiff import compiled_step, nn
from autodiff.compiled_step import RECOMPILE_LIMIT, CaptureBreak
from autodiff.testing import op_graphs
from tests.conftest import DEVICES

optim = autodiff.optim
# Every optimizer a compiled step captures (all but LBFGS, whose closure re-runs the forward),
# with settings that take their less common branches within five steps.
OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05),
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, maximize=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam-amsgrad": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
    "adamax": lambda ps: optim.Adamax(ps, lr=0.01, weight_decay=0.1),
    "nadam": lambda ps: optim.NAdam(ps, lr=0.01, decoupled_weight_decay=True, weight_decay=0.1),
    "radam": lambda ps: optim.RAdam(ps, lr=0.01, betas=(0.9, 0.75)),  # rectified from step 8
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.01, lr_decay=0.1),
    "adadelta": lambda ps: optim.Adadelta(ps, weight_decay=0.1),
    "asgd": lambda ps: optim.ASGD(ps, lr=0.01, t0=1),  # averaging weight below 1 from step 4
    "rprop": lambda ps: optim.Rprop(ps, lr=0.01),
}
# The few the random programs run with (each optimizer meets them on the MLP below).
RANDOM_PROGRAM_OPTIMIZERS = ("sgd", "sgd-momentum", "sgd-nesterov", "adam", "adam-amsgrad", "adamw", "asgd")


def _bits(t) -> bytes | None:
    return None if t is None else autodiff.Tensor.numpy(t.detach().cpu()).tobytes()


def _state_bits(opt) -> list:
    return [(k, _bits(v) if isinstance(v, autodiff.Tensor) else v)
            for group in opt.param_groups for p in group["params"]
            for k, v in sorted(opt.state.get(p, {}).items())]


def _assert_same(eager: tuple, compiled: tuple, what: str) -> None:
    (ps1, opt1), (ps2, opt2) = eager, compiled
    for i, (p, q) in enumerate(zip(ps1, ps2)):
        if not isinstance(p, autodiff.Tensor):
            continue
        assert _bits(p) == _bits(q), f"{what}: parameter {i}"
        assert _bits(p.grad) == _bits(q.grad), f"{what}: .grad of parameter {i}"
    assert _state_bits(opt1) == _state_bits(opt2), f"{what}: optimizer state"


def _training(make_params, make_opt, loss_fn):
    params = make_params()
    opt = make_opt(params)

    def step(*inputs):
        opt.zero_grad()
        loss = loss_fn(params, *inputs)
        loss.backward()
        opt.step()
        return loss

    return params, opt, step


def _run_both(make_params, make_opt, loss_fn, inputs_per_step, what, expect_replays=True):
    params1, opt1, eager = _training(make_params, make_opt, loss_fn)
    params2, opt2, step = _training(make_params, make_opt, loss_fn)
    compiled = autodiff.compile(step)
    for k, inputs in enumerate(inputs_per_step):
        l1, l2 = eager(*inputs), compiled(*inputs)
        assert _bits(l1) == _bits(l2), f"{what}: loss of step {k}"
        _assert_same((params1, opt1), (params2, opt2), f"{what}, step {k}")
    if expect_replays:
        assert compiled.stats["replayed"] > 0, (what, compiled.stats, compiled.programs)
    return compiled


def _optimizer_captured(compiled) -> None:
    """Every program replayed holds its optimizer's update: no step() called eagerly by a replay."""
    programs = [p for p in compiled.programs.values() if not isinstance(p, str) and p.replayed]
    assert programs and all(p.eager_steps == 0 for p in programs), compiled.programs


# ---- random programs: 5 compiled steps are 5 eager steps, bit for bit --------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opt_name", RANDOM_PROGRAM_OPTIMIZERS)
@settings(max_examples=4)
@given(program=op_graphs(max_steps=4))
def test_random_programs_compiled_equal_eager(program, opt_name, device) -> None:
    def make_params():
        return [x.detach().requires_grad_() for x in program.inputs.tensors(autodiff, device=device)]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CaptureBreak)  # (a program may hold an op that breaks capture)
        compiled = _run_both(make_params, OPTIMIZERS[opt_name], lambda ps: program.run(autodiff, ps), [()] * 5,
                             program.describe(), expect_replays=False)
    if not caught and compiled.stats["replayed"]:
        _optimizer_captured(compiled)


@pytest.fixture(autouse=True)
def small_arrays_get_buffers(monkeypatch):
    """The programs here work on tiny arrays, which a program leaves to NumPy to make
    (``_MIN_BUFFER_BYTES``): give them buffers, so that what is checked bit for bit is the
    replay with reused buffers (and their elided copies) that bigger arrays get."""
    monkeypatch.setattr(compiled_step, "_MIN_BUFFER_BYTES", 0)


# ---- a module and data, as a training loop runs them -------------------------------------------
def _mlp_case(device="cpu", opt_name="adam"):
    def make_params():
        autodiff.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).to(device)
        return list(model.parameters()) + [model]

    def loss_fn(ps, x, y):
        return nn.functional.cross_entropy(ps[-1](x), y)

    def make_opt(ps):
        return OPTIMIZERS[opt_name](ps[:-1])

    rng = np.random.default_rng(0)
    batches = [(autodiff.tensor(rng.standard_normal((5, 4)).astype("float32"), device=device),
                autodiff.tensor(rng.integers(0, 3, 5), device=device)) for _ in range(5)]
    return make_params, make_opt, loss_fn, batches


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_module_steps_replay_bit_identical(device, opt_name) -> None:
    make_params, make_opt, loss_fn, batches = _mlp_case(device, opt_name)
    if opt_name in ("radam", "asgd"):  # past the step where their host guard turns
        batches = batches * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        compiled = _run_both(make_params, make_opt, loss_fn, batches, f"mlp {opt_name} on {device}")
    assert compiled.stats["eager"] == 0
    _optimizer_captured(compiled)
    if opt_name in ("radam", "asgd"):  # the program recorded again when the guard turned
        assert compiled.host_changes == 1, compiled.stats


def test_returned_tensor_and_program_source() -> None:
    make_params, make_opt, loss_fn, batches = _mlp_case("cpu", "sgd")
    _params, _opt, step = _training(make_params, make_opt, loss_fn)
    compiled = autodiff.compile(step)
    for x, y in batches:
        loss = compiled(x, y)
    assert isinstance(loss, autodiff.Tensor) and loss.shape == () and loss.grad_fn is None
    programs = [p for p in compiled.programs.values() if not isinstance(p, str)]
    assert len(programs) == 2  # (.grad is None at the first step, set at the next ones)
    assert all(p.source.startswith("def _program(") for p in programs)


# ---- guards: a change re-records (or runs eagerly) and still equals eager -----------------------
def _guarded(change, what, expect_records=2):
    """Steps 0-2 as recorded, then ``change(params, opt, batches)`` and steps 3-5: all equal eager."""
    make_params, make_opt, loss_fn, batches = _mlp_case("cpu", "sgd-momentum")
    p1, o1, eager = _training(make_params, make_opt, loss_fn)
    p2, o2, step = _training(make_params, make_opt, loss_fn)
    compiled = autodiff.compile(step)
    batches = list(batches)
    for k in range(6):
        if k == 3:
            batches = change(p1, o1, batches) or batches
            change(p2, o2, batches)
        x, y = batches[k % len(batches)]
        assert _bits(eager(x, y)) == _bits(compiled(x, y)), f"{what}: loss of step {k}"
        _assert_same((p1, o1), (p2, o2), f"{what}, step {k}")
    assert compiled.stats["recorded"] >= expect_records, (what, compiled.stats)
    return compiled


def test_guard_input_shape() -> None:
    rng = np.random.default_rng(1)
    bigger = [(autodiff.tensor(rng.standard_normal((7, 4)).astype("float32")),
               autodiff.tensor(rng.integers(0, 3, 7)))] * 5
    _guarded(lambda ps, opt, b: bigger, "a new batch size", expect_records=3)


def test_guard_input_dtype() -> None:
    def to64(ps, opt, batches):
        for p in ps[:-1]:
            p.data = p.data.double()
            p.grad = None
        return [(x.double(), y) for x, y in batches]

    # float64 inputs on float32 weights fail eagerly: the weights change dtype with them
    _guarded(to64, "float64 inputs", expect_records=3)


def test_guard_requires_grad() -> None:
    def freeze(ps, opt, batches):
        ps[0].requires_grad_(False)
        ps[0].grad = None

    _guarded(freeze, "a frozen weight", expect_records=3)


def test_guard_eval_mode() -> None:
    def to_eval(ps, opt, batches):
        ps[-1].eval()

    _guarded(to_eval, "eval()", expect_records=3)


def test_guard_learning_rate() -> None:
    def lower(ps, opt, batches):
        for g in opt.param_groups:
            g["lr"] = 0.01

    _guarded(lower, "a new learning rate", expect_records=3)


def test_guard_replaced_parameter() -> None:
    def replace(ps, opt, batches):
        model = ps[-1]
        new = nn.Parameter(model[0].weight.detach().clone() * 0.5)
        model[0].weight = new
        opt.param_groups[0]["params"][0] = new
        ps[0] = new

    _guarded(replace, "a replaced parameter", expect_records=3)


def _sgd_step(params, loss_fn, **sgd):
    """``(optimizer, step)``: a step that clears ``.grad``, runs ``loss_fn()`` backward and
    takes an SGD step (lr 0.1)."""
    opt = autodiff.optim.SGD(params, lr=0.1, **sgd)

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss

    return opt, step


def _changed_between_calls(make, changes, steps=8):
    """Two systems from ``make()`` -> ``(params, optimizer, step, handle)``, one eager, one
    compiled; ``changes[k](handle)`` runs on both before step ``k``. Every step's loss,
    parameters, gradients and optimizer state are equal; returns the compiled function
    and the handles."""
    (p1, o1, eager, h1), (p2, o2, step, h2) = make(), make()
    compiled = autodiff.compile(step)
    for k in range(steps):
        if k in changes:
            changes[k](h1)
            changes[k](h2)
        assert _bits(eager()) == _bits(compiled()), f"loss of step {k}"
        _assert_same((p1, o1), (p2, o2), f"step {k}")
    return compiled, (h1, h2)


def test_guard_data_of_a_parameter_no_module_holds() -> None:
    # A tensor optimized without a module: ``w.data = ...`` between calls is what the next
    # replay reads (it is an argument of the program, as a module's parameter is).
    def make():
        autodiff.manual_seed(0)
        w = autodiff.randn(4, 3, requires_grad=True)
        opt, step = _sgd_step([w], lambda: (w * w).sum(), momentum=0.5)
        return [w], opt, step, w

    def replace(w):
        w.data = autodiff.ones(4, 3)

    compiled, _ = _changed_between_calls(make, {5: replace})
    assert compiled.stats["replayed"] == 6


class _Settings:
    """An object the step reads a tensor from (``settings.scale``)."""


def test_guard_tensor_rebound_on_an_object_the_step_reaches() -> None:
    # ``settings.scale = ...`` between calls: the next call sees the new tensor (it records
    # again: what sits on the objects the recording looked into is guarded), as eager does.
    def make():
        autodiff.manual_seed(0)
        model = nn.Linear(3, 1)
        settings = _Settings()
        settings.scale = autodiff.tensor(2.0)
        x = autodiff.randn(4, 3)
        opt, step = _sgd_step(model.parameters(), lambda: (model(x) * settings.scale).sum())
        return list(model.parameters()), opt, step, settings

    def rebind(settings):
        settings.scale = autodiff.tensor(-3.0)

    compiled, _ = _changed_between_calls(make, {4: rebind})
    assert compiled.stats["recorded"] == 3 and compiled.stats["replayed"] == 5, compiled.stats


def test_guard_number_on_a_module_batchnorm_momentum() -> None:
    # BatchNorm's momentum is a Python number its forward reads: a constant of the program,
    # so changing it between calls records again (the running mean follows the new momentum).
    def make():
        autodiff.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
        x = autodiff.randn(6, 4)
        opt, step = _sgd_step(model.parameters(), lambda: model(x).pow(2).sum())
        return list(model.parameters()), opt, step, model

    def slower(model):
        model[1].momentum = 0.5

    compiled, (m1, m2) = _changed_between_calls(make, {4: slower})
    assert _bits(m1[1].running_mean) == _bits(m2[1].running_mean)
    assert compiled.stats["replayed"] == 5, compiled.stats


class _Trainer:
    """A step as a method that counts its calls in a Python attribute."""

    def __init__(self) -> None:
        autodiff.manual_seed(0)
        self.model = nn.Linear(3, 1)
        self.opt = autodiff.optim.SGD(self.model.parameters(), lr=0.1)
        self.x = autodiff.randn(4, 3)
        self.calls = 0

    def step(self):
        self.calls += 1
        self.opt.zero_grad()
        loss = self.model(self.x).sum()
        loss.backward()
        self.opt.step()
        return loss


def test_step_rebinding_a_number_of_its_own_object_counts_every_call() -> None:
    # A replay would not run ``self.calls += 1``: the guard on the object's attributes sees the
    # number change at every call, so no program is replayed, and the count is eager's.
    eager, compiled_trainer = _Trainer(), _Trainer()
    compiled = autodiff.compile(compiled_trainer.step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureBreak)  # (the recompile limit, reached)
        for k in range(12):
            assert _bits(eager.step()) == _bits(compiled()), f"loss of step {k}"
    assert compiled_trainer.calls == eager.calls == 12
    assert compiled.stats["replayed"] == 0, compiled.stats


def test_break_step_that_changes_python_state() -> None:
    # ``history.append(loss)`` is a Python effect a replay would not have: the step runs
    # eagerly, with the warning, and the list grows at every call as eagerly.
    history, eager_history = [], []
    autodiff.manual_seed(0)
    model = nn.Linear(3, 1)
    x = autodiff.randn(4, 3)

    @autodiff.compile
    def step():
        loss = model(x).sum()
        history.append(loss)
        return loss

    with pytest.warns(CaptureBreak, match="changes Python state"):
        for _ in range(6):
            eager_history.append(model(x).sum())
            step()
    assert [_bits(t) for t in history] == [_bits(t) for t in eager_history]
    assert step.stats["replayed"] == 0


class _ScaledLinear(nn.Module):
    """A module keeping a tensor as a plain attribute (not a registered buffer)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)
        self.scale = autodiff.tensor(2.0)

    def forward(self, x):
        return self.lin(x) * self.scale


def test_guard_tensor_rebound_as_a_module_attribute() -> None:
    def make():
        autodiff.manual_seed(0)
        model = _ScaledLinear()
        x = autodiff.randn(4, 3)
        opt, step = _sgd_step(model.parameters(), lambda: model(x).sum())
        return list(model.parameters()), opt, step, model

    def rebind(model):
        model.scale = autodiff.tensor(-3.0)

    def in_place(model):  # (the same tensor, changed in place: read at each replay)
        model.scale.data.fill_(0.5)

    compiled, _ = _changed_between_calls(make, {4: rebind, 6: in_place})
    assert compiled.stats["recorded"] == 3 and compiled.stats["replayed"] == 5, compiled.stats


def test_break_tensor_further_than_the_step_looks() -> None:
    # ``a.b.c.t``: not found by the recording, it would be a constant that a replay could not
    # see rebound; the step runs eagerly instead, with the warning.
    holder = _Settings()
    holder.inner = _Settings()
    holder.inner.deeper = _Settings()
    holder.inner.deeper.scale = autodiff.tensor(2.0)
    model = nn.Linear(3, 1)
    x = autodiff.randn(4, 3)

    @autodiff.compile
    def step():
        return (model(x) * holder.inner.deeper.scale).sum()

    with pytest.warns(CaptureBreak, match="reads a tensor that it does not name"):
        step()
    holder.inner.deeper.scale = autodiff.tensor(-1.0)
    assert step().item() == (model(x) * holder.inner.deeper.scale).sum().item()
    assert step.stats["replayed"] == 0


def test_guard_layout_of_an_argument() -> None:
    # An argument of the recorded shape in another layout (a transpose) records again: eager
    # code takes other paths on it (``view`` refuses it, as here, with PyTorch's error).
    w = autodiff.randn(16, requires_grad=True)
    opt = autodiff.optim.SGD([w], lr=0.1)

    def train(x):
        opt.zero_grad()
        loss = (x.view(16) * w).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = autodiff.compile(train)
    base = autodiff.randn(4, 4)
    for _ in range(4):
        compiled(base)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        train(base.t())
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        compiled(base.t())
    assert compiled.stats["replayed"] == 2


def test_guard_grad_mode_and_recompile_limit() -> None:
    w = autodiff.ones(3, requires_grad=True)

    @autodiff.compile
    def f(x):
        return (w.sum() * x).sum()

    with autodiff.no_grad():
        a = f(autodiff.ones(3))
    assert a.item() == 9.0
    with pytest.warns(CaptureBreak, match="recompile limit"):
        for n in range(1, RECOMPILE_LIMIT + 3):  # a new shape each time
            assert f(autodiff.ones(n)).item() == 3.0 * n


def test_outside_in_place_change_is_seen() -> None:
    # The program reads the live arrays: a weight changed in place between calls is used.
    w = autodiff.ones(3)

    @autodiff.compile
    def f(x):
        return (w * x).sum()

    for k in range(4):
        with autodiff.no_grad():
            w.add_(1.0)
        assert f(autodiff.ones(3)).item() == 3.0 * (k + 2)
    w.data = autodiff.zeros(3)  # a new array under the same tensor
    assert f(autodiff.ones(3)).item() == 0.0


# ---- capture breaks: eager results and the warning ---------------------------------------------
def _break_case(body, match):
    make_params, make_opt, loss_fn, batches = _mlp_case("cpu", "sgd")

    def broken_loss(ps, x, y):
        loss = loss_fn(ps, x, y)
        return body(loss, ps)

    with pytest.warns(CaptureBreak, match=match):
        compiled = _run_both(make_params, make_opt, broken_loss, batches, match, expect_replays=False)
    assert compiled.stats["replayed"] == 0 and compiled.stats["eager"] > 0


def test_break_item() -> None:
    seen = []
    _break_case(lambda loss, ps: (seen.append(loss.item()), loss)[1], "value read in Python")


def test_break_bool() -> None:
    _break_case(lambda loss, ps: loss * 2 if loss > 0 else loss, "value read in Python")


def test_break_printing() -> None:
    _break_case(lambda loss, ps: (repr(loss), loss)[1], "value")


def test_break_hook() -> None:
    calls = []

    def body(loss, ps):
        h = ps[0].register_hook(lambda g: calls.append(1))
        out = loss * 1.0
        h.remove() if False else None
        return out

    _break_case(body, "hook")
    assert len(calls) >= 5  # the hook ran at every step


def test_break_argument_that_requires_grad() -> None:
    w = autodiff.ones(3, requires_grad=True)
    step = autodiff.compile(lambda x: (w * x).sum().backward())
    with pytest.warns(CaptureBreak, match="argument that requires grad"):
        for _ in range(3):
            x = autodiff.ones(3, requires_grad=True)
            step(x)
            assert x.grad.tolist() == [1.0, 1.0, 1.0]
    assert step.stats["eager"] == 3


def test_break_random_op_with_a_generator_of_its_own() -> None:
    g = autodiff.Generator().manual_seed(0)
    _break_case(lambda loss, ps: loss + autodiff.randn((), generator=g) * 0.0, "generator of its own")


@pytest.mark.parametrize("device", DEVICES)
def test_random_ops_of_the_default_generator_replay_its_draws(device) -> None:
    # Dropout and randn inside the step draw from the device's generator at each replay:
    # five compiled steps from a seed are five eager steps from that seed (losses, parameters,
    # and where the generator is left), and a seed set between calls is followed.
    def make():
        autodiff.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.ReLU(), nn.Linear(8, 2)).to(device)
        opt = autodiff.optim.Adam(model.parameters(), lr=0.01)
        x = autodiff.randn(6, 4, device=device)

        def step():
            opt.zero_grad()
            noise = autodiff.randn(6, 2, device=device) * 0.1
            loss = (model(x) + noise).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    (m1, o1, eager), (m2, o2, step) = make(), make()
    compiled = autodiff.compile(step)
    states = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        for run in (eager, compiled):
            autodiff.manual_seed(7)
            losses = [_bits(run()) for _ in range(5)]
            autodiff.manual_seed(11)  # (a seed set between calls)
            losses += [_bits(run()) for _ in range(2)]
            states.append((losses, _bits(autodiff.randn(3, device=device))))
    assert states[0] == states[1]
    _assert_same((list(m1.parameters()), o1), (list(m2.parameters()), o2), "after 7 steps")
    assert compiled.stats["replayed"] == 5, compiled.stats


def test_adam_step_counter_is_a_host_op_of_the_program() -> None:
    # Adam's bias corrections are Python arithmetic on the step count: the program reruns it
    # (a host op per parameter) instead of baking in the recorded step's numbers.
    make_params, make_opt, loss_fn, batches = _mlp_case("cpu", "adam")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        compiled = _run_both(make_params, make_opt, loss_fn, batches, "adam")
    assert compiled.stats == {"recorded": 2, "replayed": 3, "eager": 0}
    _optimizer_captured(compiled)
    program = [p for p in compiled.programs.values() if not isinstance(p, str)][-1]
    host_ops = [op for op in program.ops if op[0] == "call" and op[4] is not None and op[4][0] == "host"]
    assert len(host_ops) == 8  # 4 parameters, each with its step's bias corrections
    assert "R" not in program.source.split("):", 1)[1]


def test_optimizer_reading_a_value_python_cannot_follow_runs_its_step_eagerly() -> None:
    # An optimizer whose step reads a tensor's value with .item() itself (not through
    # optim.optimizer.host) still gives eager values: its step() runs eagerly in the replay.
    class SignSGD(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.01})

        def _update(self, p, g, state, group):
            p.sub_(g.sign() * (group["lr"] * (1.0 + abs(g.sum().item()))))

    make_params, _make_opt, loss_fn, batches = _mlp_case("cpu", "sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        compiled = _run_both(make_params, lambda ps: SignSGD(ps[:-1]), loss_fn, batches, "sign sgd")
    assert compiled.stats["replayed"] == 3
    assert all(p.eager_steps == 1 for p in compiled.programs.values() if not isinstance(p, str) and p.replayed)


def _inverse(step: float) -> float:
    return 1.0 / step


class _InverseStepSGD(optim.Optimizer):
    """SGD with the learning rate 1 / step, a host value: 0.5 at the second step."""

    def __init__(self, params):
        super().__init__(params, {"lr": 1.0})

    def _init_state(self, p, group):
        self.state[p] = {"step": optim.optimizer.scalar_state(0)}

    def _update(self, p, g, state, group):
        p.sub_(g * optim.optimizer.host(_inverse, optim.optimizer.bump_step(state)))


@pytest.mark.parametrize("cached", [True, False], ids=["literal-cached-before", "literal-cached-while-recording"])
def test_host_value_equal_to_a_literal_of_the_step_stays_a_host_value(cached) -> None:
    # The second recording's learning rate (1 / 2) equals the loss's literal 0.5: its replays
    # must still compute 1 / step, not reuse the literal's operand (cached by the eager run
    # before, or made during the recording).
    from autodiff.ops import _prep

    def make_params():
        autodiff.manual_seed(0)
        return [autodiff.randn(4, 3, requires_grad=True)]

    def loss_fn(params, x):
        if not cached:
            _prep.OPERANDS.clear()
        return ((x @ params[0]) * 0.5).pow(2).sum()

    x = autodiff.randn(5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        compiled = _run_both(make_params, _InverseStepSGD, loss_fn, [(x,)] * 6, "1 / step")
    assert compiled.stats == {"recorded": 2, "replayed": 4, "eager": 0}


def test_literal_float_operand_is_one_constant_of_the_program() -> None:
    # The same float object (a literal of the loop) met by every iteration is one constant of
    # the program, also when no operand for it was cached before the recording.
    from autodiff.ops import _prep

    x = autodiff.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)

    def chain():
        v = x
        for _ in range(50):
            v = v * 1.0001 + 0.001
        v.sum().backward()
        g = x.grad
        x.grad = None
        return g

    compiled = autodiff.compile(chain)
    expected = _bits(chain())
    for _ in range(4):
        _prep.OPERANDS.clear()
        assert _bits(compiled()) == expected
    (program,) = compiled.programs.values()
    assert compiled.stats == {"recorded": 1, "replayed": 3, "eager": 0}
    assert len(program.consts) <= 12, len(program.consts)  # (one per value: 158 when one per call)


@pytest.mark.parametrize("where", ["instance", "class"])
def test_backend_method_replaced_after_a_recording_is_the_one_recorded(monkeypatch, where) -> None:
    # The wrappers a recording installs are kept for the next ones: one made for a method
    # replaced since (on the backend or on its class) must not be used again.
    import backends

    be = backends.get("cpu")
    x = autodiff.tensor([-1.0, 2.0])
    first = autodiff.compile(lambda: x.abs())
    first()  # (the wrappers of this backend's methods, made and kept)
    seen = []
    original = type(be).abs

    def abs_(*args):
        seen.append(1)
        return original(be, args[-1])

    if where == "instance":
        monkeypatch.setitem(vars(be), "abs", abs_)  # (undone by deleting it: abs is the class's)
    else:
        monkeypatch.setattr(type(be), "abs", abs_)
    second = autodiff.compile(lambda: x.abs())
    for n in range(1, 4):
        assert _bits(second()) == _bits(x.abs())
        assert len(seen) == 2 * n  # the recording (or the replay) and the eager call
    assert second.stats == {"recorded": 1, "replayed": 2, "eager": 0}


def test_recording_keeps_no_array_of_the_step_alive() -> None:
    # The kept wrappers of the backend methods must not keep the last recording (its
    # arrays: a step's activations) alive after it.
    import gc
    import weakref

    x = autodiff.tensor(np.ones((64, 64), dtype=np.float32))
    refs = []

    def step():
        y = (x * 2.0).exp()
        refs.append(weakref.ref(y._data))
        return y.sum()

    compiled = autodiff.compile(step)
    compiled()
    gc.collect()
    assert refs and refs[0]() is None


# ---- the examples ------------------------------------------------------------------------------
def test_examples_compile_flag_gives_the_same_losses() -> None:
    from examples import myrelu_two_layer

    assert myrelu_two_layer.train(steps=6, log_every=0) == myrelu_two_layer.train(
        steps=6, log_every=0, compile=True)
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    from examples import digits

    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        eager = digits.train(epochs=2, progress=False, max_batches=5)
        compiled = digits.train(epochs=2, progress=False, max_batches=5, compile=True)
    for key in ("losses", "test_accuracy", "train_accuracy"):
        assert eager[key] == compiled[key], key


def test_buffers_in_place_grads_and_version_counters() -> None:
    # BatchNorm's running statistics, zero_grad(set_to_none=False) (grads zeroed and
    # accumulated in place), Nesterov momentum: state, grads and version counters as eager.
    def make():
        autodiff.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3), nn.LayerNorm(3))
        opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.5, nesterov=True)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss, model[1].running_mean

        return model, step

    (m1, eager), (m2, step) = make(), make()
    compiled = autodiff.compile(step)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        for _ in range(6):
            x = autodiff.tensor(rng.standard_normal((5, 4)).astype("float32"))
            y = autodiff.tensor(rng.standard_normal((5, 3)).astype("float32"))
            (l1, r1), (l2, r2) = eager(x, y), compiled(x, y)
            assert _bits(l1) == _bits(l2) and _bits(r1) == _bits(r2)
            for (name, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
                assert _bits(a) == _bits(b), name
            for p, q in zip(m1.parameters(), m2.parameters()):
                assert _bits(p.grad) == _bits(q.grad)
                assert p._version[0] == q._version[0]
    assert compiled.stats["replayed"] == 4


# ---- memory: a replay holds no more at its peak than an eager step ------------------------------
_PEAKS = """
import autodiff
from benchmarks.run import step_peak_bytes
from benchmarks.workloads import Ctx, seed_mlp

w = autodiff.ones(3, requires_grad=True)  # (the recording's own first-use growth, outside the
warm = autodiff.compile(lambda: (w * 2).sum().backward())  # measures: each backend's dict of
warm(), warm()  # methods grows once, when its methods are first wrapped)
systems = seed_mlp(Ctx())
for system in ("autodiff", "compiled"):  # (imports and first-use caches, outside the measures)
    systems[system]()()
print(step_peak_bytes(systems["autodiff"]), step_peak_bytes(systems["compiled"]))
"""


def test_replay_peak_memory_is_eager_peak_plus_the_program_objects() -> None:
    # The seed MLP (64x1000 -> 100 -> 10, benchmarks/workloads.py): tracemalloc's peak during
    # one warm step, counting all that the step's system allocated since before it was built
    # (data, weights, .grad, the program's block of temporaries, its Python objects);
    # deterministic, unlike a timing, in a fresh process (in this one, what earlier tests
    # left in global caches can grow during the measures). The block holds the largest set
    # of temporaries alive at one time, which the eager step allocates too: the replay's peak
    # is the eager peak and the program's own objects (its code, constants, guards, and the
    # generated functions that check the guards and fetch and write back its arrays: ~70 KB).
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _PEAKS], capture_output=True, text=True, env=env, check=True)
    eager, compiled = map(int, out.stdout.split())
    assert compiled <= eager + 80 * 1024, (compiled, eager)


# ---- the block of temporaries: one per compiled function, its programs' buffers carved from it --
def _buffers(program) -> list:
    return [v for k, v in program.namespace.items() if k.startswith("b")]


def test_programs_of_one_function_share_one_block_that_grows() -> None:
    # Two batch sizes (two programs, the second needing more temporaries) and two ways to
    # clear .grad (two programs of one size), called in turns: one block, carved again for
    # all when it grows, and every step equal to eager.
    make_params, make_opt, _loss_fn, _batches = _mlp_case("cpu", "sgd-momentum")
    rng = np.random.default_rng(1)

    def loss_fn(ps, x, y):  # (cross_entropy's check of its targets would follow zero_grad's writes)
        return nn.functional.mse_loss(ps[-1](x), y)

    def batch(n):
        return (autodiff.tensor(rng.standard_normal((n, 4)).astype("float32")),
                autodiff.tensor(rng.standard_normal((n, 3)).astype("float32")))

    def training():
        params = make_params()
        opt = make_opt(params)

        def step(x, y, set_to_none):
            opt.zero_grad(set_to_none=set_to_none)
            loss = loss_fn(params, x, y)
            loss.backward()
            opt.step()
            return loss

        return params, opt, step

    p1, o1, eager = training()
    p2, o2, step = training()
    compiled = autodiff.compile(step)
    schedule = [(5, True), (5, False)] * 6 + [(40, True)] * 4 + [(5, True), (5, False)] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        _run_schedule(schedule, batch, eager, compiled, (p1, o1), (p2, o2))
    (arena,) = compiled.arenas.values()
    programs = [p for p in compiled.programs.values() if not isinstance(p, str) and p.namespace]
    assert len(programs) == 3
    assert all(np.shares_memory(b, arena.block) for p in programs for b in _buffers(p))  # (carved again)
    assert arena.size > compiled.small_block_size  # (batch 40's program needs more)
    # Called in turns, the programs are found again (none is recorded twice): the first
    # step's (.grad None), one per way to clear .grad, one for batch 40.
    assert compiled.stats["recorded"] == 4, compiled.stats


def _run_schedule(schedule, batch, eager, compiled, state1, state2) -> None:
    for k, (n, set_to_none) in enumerate(schedule):
        x, y = batch(n)
        assert _bits(eager(x, y, set_to_none)) == _bits(compiled(x, y, set_to_none)), f"loss of step {k}"
        _assert_same(state1, state2, f"step {k}")
        if k == 11:  # the two programs of batch 5 compiled: one block holds both
            (arena,) = compiled.arenas.values()
            compiled.small_block_size = arena.size
            programs = [p for p in compiled.programs.values() if not isinstance(p, str) and p.namespace]
            assert len(programs) == 2
            assert all(np.shares_memory(b, arena.block) for p in programs for b in _buffers(p))


def test_a_cuda_graph_program_keeps_a_block_of_its_own() -> None:
    step = autodiff.compile(lambda: None, mode="reduce-overhead")
    plain = autodiff.compile(lambda: None)
    assert step.arenas is not plain.arenas
    # (a graph holds the addresses it was captured with: carving its buffers again would
    # leave it writing into freed memory; _record gives such programs an arena dict of their own)
    assert step._graph_run is not None and plain._graph_run is None


# ---- copies the program elides: a clone or a product with ones of a temporary read no more -----
def _program_lines(compiled) -> list:
    (program,) = [p for p in compiled.programs.values() if not isinstance(p, str) and p.namespace]
    return program.source.splitlines()


def _alias_lines(lines) -> list:
    return [ln for ln in lines if ln.strip().startswith("v") and ln.split(" = ")[-1].startswith("v")]


def test_clone_of_a_dead_temporary_and_product_with_ones_are_elided() -> None:
    # MyReLU's backward clones its incoming gradient (read no more) and sum()'s gradient is
    # a product with ones: both are the earlier array itself, with no call; values as eager.
    from examples.myrelu_two_layer import MyReLU

    def make():
        autodiff.manual_seed(0)
        x, y = autodiff.randn(8, 6), autodiff.randn(8, 2)
        w1, w2 = autodiff.randn(6, 5, requires_grad=True), autodiff.randn(5, 2, requires_grad=True)

        def step():
            loss = (MyReLU.apply(x.mm(w1)).mm(w2) - y).pow(2).sum()
            loss.backward()
            with autodiff.no_grad():
                w1.sub_(1e-3 * w1.grad)
                w2.sub_(1e-3 * w2.grad)
                w1.grad.zero_()
                w2.grad.zero_()
            return loss

        return (w1, w2), step

    (ws1, eager), (ws2, step) = make(), make()
    compiled = autodiff.compile(step)
    for k in range(6):
        assert _bits(eager()) == _bits(compiled()), f"loss of step {k}"
        for a, b in zip(ws1, ws2):
            assert _bits(a) == _bits(b) and _bits(a.grad) == _bits(b.grad), f"step {k}"
    lines = _program_lines(compiled)
    assert len(_alias_lines(lines)) == 2, lines  # the clone, and the product with ones


def test_clone_of_a_temporary_read_afterwards_is_kept() -> None:
    # The clone is written in place while its source is still read: it stays a copy.
    def make():
        autodiff.manual_seed(0)
        w = autodiff.randn(4, 3, requires_grad=True)
        opt = autodiff.optim.SGD([w], lr=0.1)

        def step():
            opt.zero_grad()
            y = w * 2
            z = y.clone()
            z.mul_(3)
            loss = (y * z).sum()
            loss.backward()
            opt.step()
            return loss

        return w, step

    (w1, eager), (w2, step) = make(), make()
    compiled = autodiff.compile(step)
    for k in range(6):
        assert _bits(eager()) == _bits(compiled()), f"loss of step {k}"
        assert _bits(w1) == _bits(w2), f"step {k}"
    (program,) = [p for p in compiled.programs.values() if not isinstance(p, str) and p.namespace]
    clone = next(op[4][1] for op in program.ops if op[0] == "call" and op[5] == "copy")  # (the first: y.clone())
    (line,) = [ln for ln in program.source.splitlines() if ln.startswith(f"    v{clone} = ")]
    assert "out=" in line, line  # a call, writing into its own buffer


# ---- a value check after the step's first write: moved before the writes ----------------------
def _bn_classifier_case(device="cpu"):
    def make_params():
        autodiff.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).to(device)
        return list(model.parameters()) + [model]

    def loss_fn(ps, x, y):  # BatchNorm writes its running statistics, then cross_entropy checks y
        return nn.functional.cross_entropy(ps[-1](x), y)

    def make_opt(ps):
        return OPTIMIZERS["sgd-momentum"](ps[:-1])

    rng = np.random.default_rng(0)
    batches = [(autodiff.tensor(rng.standard_normal((6, 4)).astype("float32"), device=device),
                autodiff.tensor(rng.integers(0, 3, 6), device=device)) for _ in range(6)]
    return make_params, make_opt, loss_fn, batches


@pytest.mark.parametrize("device", DEVICES)
def test_check_after_a_write_is_moved_before_the_writes(device) -> None:
    make_params, make_opt, loss_fn, batches = _bn_classifier_case(device)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        compiled = _run_both(make_params, make_opt, loss_fn, batches, "batchnorm then cross_entropy")
    assert compiled.stats == {"recorded": 2, "replayed": 4, "eager": 0}
    # At a replay, a target out of range fails the moved check before anything is written:
    # that call runs eagerly and raises as eager does (after BatchNorm's update, as eager).
    p1, o1, eager = _training(make_params, make_opt, loss_fn)
    p2, o2, step = _training(make_params, make_opt, loss_fn)
    compiled = autodiff.compile(step)
    for x, y in batches[:4]:
        eager(x, y), compiled(x, y)
    bad = autodiff.tensor([0, 1, 2, 3, 0, 1], device=device)
    for run in (eager, compiled):
        with pytest.raises(IndexError, match="out of bounds"):
            run(batches[4][0], bad)
    _assert_same((p1, o1), (p2, o2), "after the failed check")
    assert _bits(p1[-1][1].running_mean) == _bits(p2[-1][1].running_mean)


def test_moved_check_refuses_arguments_that_share_memory_with_what_the_step_writes() -> None:
    # The check reads an argument that is a view of a buffer the step writes before it: moved
    # to the start it would read the buffer before the write. The program's first check (the
    # arrays share no memory) fails at such a call, which runs eagerly, as eager.
    def make():
        autodiff.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
        opt = autodiff.optim.SGD(model.parameters(), lr=0.1)
        table = autodiff.randn(10, 3)

        def step(x, idx):
            opt.zero_grad()
            out = model(x)  # (writes num_batches_tracked)
            loss = (out + table[idx]).pow(2).sum()  # (checks idx: in range)
            loss.backward()
            opt.step()
            return loss

        return model, step

    (m1, eager), (m2, step) = make(), make()
    compiled = autodiff.compile(step)
    x = autodiff.randn(5, 4)
    for k in range(6):
        idx = autodiff.tensor([k])
        assert _bits(eager(x, idx)) == _bits(compiled(x, idx)), f"step {k}"
    assert compiled.stats["replayed"] == 4
    for k in range(3):  # the index a view of the counter BatchNorm adds one to (same layout)
        i1 = m1[1].num_batches_tracked.view(1)
        i2 = m2[1].num_batches_tracked.view(1)
        assert _bits(eager(x, i1)) == _bits(compiled(x, i2)), f"aliased step {k}"
    assert compiled.stats["replayed"] == 4 and compiled.stats["eager"] == 3
    assert _bits(m1[1].running_mean) == _bits(m2[1].running_mean)


def test_powers_written_into_buffers_are_eager_powers() -> None:
    # ``pow`` writes into a buffer (x ** 2 as NumPy's square, other exponents copied in): the
    # bits of eager's powers, overflow to inf included.
    def make():
        w = autodiff.tensor([[1e20, -2.0, 0.5], [3.0, 7.0, 1e-3]], requires_grad=True)

        def step():
            loss = (w.pow(2) + w.abs().pow(0.5) + w.pow(3) * 1e-90 + (w * 1e-20).pow(-1)).sum()
            loss.backward()
            g = w.grad
            w.grad = None
            return loss, g

        return step

    eager, compiled = make(), autodiff.compile(make())
    for k in range(5):
        (l1, g1), (l2, g2) = eager(), compiled()
        assert _bits(l1) == _bits(l2) and _bits(g1) == _bits(g2), f"step {k}"
    assert compiled.stats["replayed"] == 4
    (program,) = [p for p in compiled.programs.values() if not isinstance(p, str) and p.namespace]
    powers = [op[4][1] for op in program.ops if op[0] == "call" and op[5] == "pow"]
    lines = [ln for ln in program.source.splitlines() for k in powers if ln.startswith(f"    v{k} = ")]
    assert len(powers) >= 4 and all("out=" in ln for ln in lines), lines
