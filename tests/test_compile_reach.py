"""What an ``autodiff.compile``-d step reaches (docs/compile.md, "What the step can reach"):
state named through the user's own functions is found and replayed; state the step reaches
only further away makes it run eagerly with a warning, never a replay that would leave that
state behind (a silently wrong result)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff
from autodiff.compiled_step import CaptureBreak


def _pair():
    autodiff.manual_seed(0)
    model = autodiff.nn.Linear(3, 2)
    twin = autodiff.nn.Linear(3, 2)
    twin.load_state_dict(model.state_dict())
    return model, twin


def _eager_steps(model, n):
    opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(n):
        opt.zero_grad()
        loss = (model(autodiff.ones(4, 3)) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


STATE: dict = {}


def _train_one(x):  # names the model and the optimizer through a module global
    STATE["opt"].zero_grad()
    loss = (STATE["model"](x) ** 2).sum()
    loss.backward()
    STATE["opt"].step()
    return loss


def test_state_named_by_a_function_the_step_calls_is_replayed():
    model, twin = _pair()
    STATE.update(model=model, opt=autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))

    @autodiff.compile
    def step(x):
        return _train_one(x)

    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureBreak)
        losses = [step(autodiff.ones(4, 3)).item() for _ in range(5)]
    assert losses == _eager_steps(twin, 5)
    assert step.stats["replayed"] >= 2
    np.testing.assert_array_equal(model.weight.detach().numpy(), twin.weight.detach().numpy())


class _Trainer:
    def __init__(self, model, opt):
        self.parts = {"inner": {"deeper": [model, opt]}}


@pytest.mark.parametrize("optimizer_far", [True, False], ids=["model-and-optimizer-far", "optimizer-far"])
def test_state_reached_further_away_runs_eagerly_with_a_warning(optimizer_far):
    model, twin = _pair()
    opt = autodiff.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    box = [[[_Trainer(model, opt)]]]  # four levels down: further than the step looks
    named = model  # the second case names the model (so its leaves are known), not the optimizer

    @autodiff.compile
    def step(x):
        m, o = box[0][0][0].parts["inner"]["deeper"]
        o.zero_grad()
        loss = ((m if optimizer_far else named)(x) ** 2).sum()
        loss.backward()
        o.step()
        return loss

    with pytest.warns(CaptureBreak, match="does not name"):
        losses = [step(autodiff.ones(4, 3)).item() for _ in range(5)]
    assert losses == _eager_steps(twin, 5)  # eager every time: the momentum stays right
    assert step.stats["replayed"] == 0
