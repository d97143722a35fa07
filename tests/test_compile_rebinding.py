"""What an ``autodiff.compile``-d step names, rebound between calls (docs/compile.md,
"Guards": the objects the step names). A replayed call checks a cached plan of where it
found each object (a closure cell, a global name, a bound object, the functions it
calls) instead of walking them again; every rebinding below must still be seen, and each
step's results equal those of an eager twin. Also the replay path's generated functions:
the guard gives the signature exactly, and the return expression rebuilds every kind of
return value."""

from __future__ import annotations

import functools

import numpy as np

import autodiff
from autodiff import nn


def _model(seed):
    autodiff.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _twin(model):
    twin = _model(0)
    twin.load_state_dict(model.state_dict())
    return twin


def _sgd(model):
    return autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _eager_step(model, opt, x):
    opt.zero_grad()
    loss = (model(x) ** 2).sum()
    loss.backward()
    opt.step()
    return loss.item()


def _same_weights(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


X = autodiff.ones(5, 3)

MODEL = None
OPT = None


def _global_step(x):
    OPT.zero_grad()
    loss = (MODEL(x) ** 2).sum()
    loss.backward()
    OPT.step()
    return loss


def test_rebinding_the_global_model_and_optimizer_is_seen():
    global MODEL, OPT
    first, second = _model(0), _model(1)
    twins = {id(first): _twin(first), id(second): _twin(second)}
    twin_opts = {k: _sgd(m) for k, m in twins.items()}
    opts = {id(first): _sgd(first), id(second): _sgd(second)}
    step = autodiff.compile(_global_step)
    for k in range(8):
        model = first if k < 3 or k == 6 else second  # back and forth: each opt keeps its state
        MODEL, OPT = model, opts[id(model)]
        assert step(X).item() == _eager_step(twins[id(model)], twin_opts[id(model)], X), k
    _same_weights(first, twins[id(first)])
    _same_weights(second, twins[id(second)])
    assert step.stats["replayed"] >= 3, step.stats


def test_rebinding_a_closure_tensor_is_seen():
    w = autodiff.ones(3)

    @autodiff.compile
    def f(x):
        return (w * x).sum()

    for k in range(6):
        w = autodiff.full((3,), float(k))  # a new tensor in the same cell
        assert f(autodiff.ones(3)).item() == 3.0 * k
    assert f.stats["replayed"] == 0  # (each new tensor is a new world: recorded again)


def test_a_closure_variable_bound_after_the_first_calls_is_seen():
    @autodiff.compile
    def f(x):
        try:
            scale = w
        except NameError:  # (its cell is empty until w is assigned below)
            scale = 1.0
        return (x * scale).sum()

    assert [f(autodiff.ones(3)).item() for _ in range(4)] == [3.0] * 4
    assert f.stats["replayed"] > 0
    w = autodiff.full((3,), 2.0)
    assert [f(autodiff.ones(3)).item() for _ in range(4)] == [6.0] * 4
    w = autodiff.full((3,), 3.0)
    assert f(autodiff.ones(3)).item() == 9.0


def test_rebinding_a_closure_number_is_seen():
    scale = 2.0
    w = autodiff.ones(3)

    @autodiff.compile
    def f(x):
        return (w * x * scale).sum()

    for _ in range(4):
        assert f(autodiff.ones(3)).item() == 6.0
    scale = 5.0  # a constant of the program: a new one records again
    assert f(autodiff.ones(3)).item() == 15.0


def _late_scaled(x):
    try:
        scale = LATE_SCALE  # noqa: F821 - a global defined only by the test below
    except NameError:
        scale = 1.0
    return (x * scale).sum()


def test_a_global_defined_after_the_first_calls_is_seen():
    f = autodiff.compile(_late_scaled)
    assert [f(autodiff.ones(3)).item() for _ in range(4)] == [3.0] * 4
    assert f.stats["replayed"] > 0
    globals()["LATE_SCALE"] = autodiff.full((3,), 2.0)
    try:
        assert [f(autodiff.ones(3)).item() for _ in range(4)] == [6.0] * 4
    finally:
        del globals()["LATE_SCALE"]
    assert f(autodiff.ones(3)).item() == 3.0  # and deleted again


HELPER_MODEL = None


def _helper_loss(x):
    return (HELPER_MODEL(x) ** 2).sum()


def _other_helper_loss(x):
    return (HELPER_MODEL(x) ** 2).sum() * 2.0


HELPER = _helper_loss


def test_rebinding_what_a_called_function_names_is_seen():
    global HELPER_MODEL, HELPER
    first, second = _model(0), _model(1)

    @autodiff.compile
    def f(x):
        with autodiff.no_grad():
            return HELPER(x)

    def eager(model, scale):
        with autodiff.no_grad():
            return (model(X) ** 2).sum().item() * scale

    HELPER, HELPER_MODEL = _helper_loss, first
    for _ in range(3):
        assert f(X).item() == eager(first, 1.0)
    HELPER_MODEL = second  # a global of the function the step calls
    for _ in range(3):
        assert f(X).item() == eager(second, 1.0)
    HELPER = _other_helper_loss  # the function itself
    for _ in range(3):
        assert f(X).item() == eager(second, 2.0)
    assert f.stats["replayed"] >= 6, f.stats


def test_rebinding_a_closure_of_a_called_function_is_seen():
    model = _model(0)

    def loss_of(x):
        return (model(x) ** 2).sum()

    @autodiff.compile
    def f(x):
        with autodiff.no_grad():
            return loss_of(x)

    for _ in range(3):
        assert f(X).item() == loss_of(X).item()
    model = _model(1)  # the nested function's cell, not the step's
    for _ in range(3):
        with autodiff.no_grad():
            assert f(X).item() == (model(X) ** 2).sum().item()


def test_a_partial_whose_keywords_change_is_seen():
    first, second = _model(0), _model(1)

    def loss(x, model):
        with autodiff.no_grad():
            return (model(x) ** 2).sum()

    bound = functools.partial(loss, model=first)
    f = autodiff.compile(bound)
    for _ in range(3):
        assert f(X).item() == loss(X, first).item()
    bound.keywords["model"] = second  # (the partial's keyword dict is mutable)
    for _ in range(3):
        assert f(X).item() == loss(X, second).item()


def test_switching_train_and_eval_replays_both_programs():
    model = _model(0)
    twin = _twin(model)

    @autodiff.compile
    def f(x):
        with autodiff.no_grad():
            return model(x).sum()

    for k in range(10):
        model.train(k % 2 == 0)
        twin.train(k % 2 == 0)
        with autodiff.no_grad():
            assert f(X).item() == twin(X).sum().item()
    # one program per mode: a world looked at again after a miss that reaches the same
    # objects is the same world, so the programs keyed by it still replay
    assert f.stats == {"recorded": 2, "replayed": 8, "eager": 0}


def test_which_tensor_has_a_grad_is_guarded():
    # Two closure tensors of one shape, one not requiring grad: ``.grad`` on the one that
    # does and not the other is another step than the other way round (accumulate into
    # its .grad, or make it), though the four tensors' metadata is the same.
    b = autodiff.ones(3, requires_grad=True)
    a = autodiff.ones(3)

    @autodiff.compile
    def f():
        loss = (b * 2.0 + a * 3.0).sum()
        loss.backward()
        return loss

    for k in range(8):
        first = k < 4
        b.grad = autodiff.ones(3) if first else None
        a.grad = None if first else autodiff.ones(3)
        f()
        assert b.grad.tolist() == ([3.0] * 3 if first else [2.0] * 3), k
    assert f.stats["replayed"] >= 4, f.stats
    # (the order in which the tensors' metadata is guarded, which makes the case above
    # ambiguous if a missing .grad left no mark in the flat signature)
    assert [id(t) for t in f._world().watched] == [id(b), id(a)]


def test_the_generated_guard_gives_the_signature():
    # After a few calls whose roots held, a generated function replaces the loops of
    # _plan_holds and signature(): it must give their tuple exactly (a difference would make
    # every call miss its program, or worse, hit one it should not).
    from autodiff.compiled_step import GUARD_LOOP_CALLS, _compile_guard, _plan_holds

    model = _model(0)
    opt = autodiff.optim.Adam(model.parameters(), lr=0.01)
    extra = autodiff.ones(3, requires_grad=True)
    frozen = autodiff.ones(2)
    frozen.grad = autodiff.zeros(2)

    def loss_of(x):
        return (model(x) ** 2).sum() + (extra * frozen.sum()).sum()

    scale = 2.0

    def step(x):
        opt.zero_grad()
        loss = loss_of(x) * scale
        loss.backward()
        opt.step()
        return loss

    f = autodiff.compile(step)
    twin = _twin(model)
    twin_opt = autodiff.optim.Adam(twin.parameters(), lr=0.01)
    for k in range(GUARD_LOOP_CALLS + 4):
        got = f(X).item()
        twin_opt.zero_grad()
        want = ((twin(X) ** 2).sum() + (autodiff.ones(3) * 2.0).sum()) * 2.0
        want.backward()
        twin_opt.step()
        assert got == want.item(), k
        plan, world = f._last
        assert _plan_holds(plan) and plan[1] is None and plan[3] and plan[8]  # (cells and a called function, unrolled)
        assert _compile_guard(plan, world)() == world.signature()
    assert f._guard is not None and f._guard[0]() == f._guard[1].signature()
    assert len(f._guard[1].modules) == 4 and len(f._guard[1].optimizers) == 1
    assert f.stats["replayed"] >= 3, f.stats


def test_replayed_returns_of_every_kind():
    # A replay's return value is written as one expression per program (_ReplayPlan):
    # tensors it made, a tensor of the state, numbers, strings, None, nested containers.
    w = autodiff.ones(3, requires_grad=True)

    @autodiff.compile
    def f(x):
        w.grad = None
        loss = (w * x).sum()
        loss.backward()
        return loss, {"grad": w.grad, "w": w, 7: [None, "s", 3]}, [x * 2.0, (True,)]

    for k in range(5):
        x = autodiff.full((3,), float(k))
        loss, info, rest = f(x)
        assert loss.item() == 3.0 * k
        assert info["grad"].tolist() == [float(k)] * 3 and info["w"] is w
        assert info[7] == [None, "s", 3] and rest[1] == (True,)
        assert rest[0].tolist() == [2.0 * k] * 3
    assert f.stats["replayed"] >= 3, f.stats
