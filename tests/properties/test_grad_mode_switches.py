"""Every grad-mode switch (no_grad, enable_grad, set_grad_enabled(True/False), inference_mode,
inference_mode(False)), as a context manager and as a decorator, nested in each other, from
either outer mode: the mode inside is the switch's (or the outer one for inference_mode(False)),
a tensor made inside records a graph exactly when the mode is on, and the outer mode is back
afterwards. (tests/test_autograd_semantics.py raises inside the same switches.)"""

from __future__ import annotations

import pytest

import autodiff
from tests.test_autograd_semantics import _grad_mode_switches

# The mode each switch sets, given the outer one.
INSIDE = {
    "no_grad": lambda outer: False, "enable_grad": lambda outer: True,
    "set_grad_enabled(True)": lambda outer: True, "set_grad_enabled(False)": lambda outer: False,
    "inference_mode": lambda outer: False, "inference_mode(False)": lambda outer: outer,
}


def _records() -> bool:
    return (autodiff.ones(2, requires_grad=True) * 2).requires_grad


@pytest.mark.parametrize("outer", [True, False])
@pytest.mark.parametrize("name,make", _grad_mode_switches(), ids=[n for n, _ in _grad_mode_switches()])
def test_switch_sets_its_mode_inside_and_restores_the_outer_one(name, make, outer: bool) -> None:
    prev = autodiff.is_grad_enabled()
    try:
        autodiff.set_grad_enabled(outer)
        expected = INSIDE[name](outer)
        with make():
            assert autodiff.is_grad_enabled() is expected and _records() is expected, f"{name} as a context"
        assert autodiff.is_grad_enabled() is outer

        @make()
        def inside():
            return autodiff.is_grad_enabled(), _records()

        assert autodiff.is_grad_enabled() is outer, f"{name}: making the decorator changed the mode"
        assert inside() == (expected, expected), f"{name} as a decorator"
        assert inside() == (expected, expected), f"{name} as a decorator, called again"
        assert autodiff.is_grad_enabled() is outer
        for inner_name, inner in _grad_mode_switches():
            with make():
                with inner():
                    assert autodiff.is_grad_enabled() is INSIDE[inner_name](expected), f"{inner_name} in {name}"
                assert autodiff.is_grad_enabled() is expected, f"after {inner_name} in {name}"
            assert autodiff.is_grad_enabled() is outer
    finally:
        autodiff.set_grad_enabled(prev)
