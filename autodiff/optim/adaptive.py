"""Optimizers that scale each coordinate by a running gradient magnitude: ``RMSprop``
(``centered``, ``momentum``), ``Adagrad`` (``lr_decay``, ``initial_accumulator_value``) and
``Adadelta``, as PyTorch documents them."""

from __future__ import annotations

from functools import partial
from typing import Any

from autodiff.ops.creation import full_like, zeros_like
from autodiff.optim.optimizer import Optimizer, bump_step, check_params, host, scalar_state
from autodiff.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop: divide by the root of a running mean of squared gradients (minus the squared
    mean gradient when ``centered``), with optional momentum."""

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 foreach: bool | None = None, *, maximize: bool = False) -> None:
        check_params({"learning rate": (lr, lr >= 0), "epsilon value": (eps, eps >= 0),
                     "momentum value": (momentum, momentum >= 0),
                     "weight_decay value": (weight_decay, weight_decay >= 0), "alpha value": (alpha, alpha >= 0)})
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, foreach=foreach, maximize=maximize))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        alpha, eps, mom = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = scalar_state(0)
            state["square_avg"] = zeros_like(p)
            if mom > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        bump_step(state)
        if group["weight_decay"]:
            g = g + p * group["weight_decay"]
        sq = state["square_avg"] = state["square_avg"] * alpha + g * g * (1 - alpha)
        if group["centered"]:
            ga = state["grad_avg"] = state["grad_avg"] * alpha + g * (1 - alpha)
            avg = (sq - ga * ga).sqrt() + eps
        else:
            avg = sq.sqrt() + eps
        if mom > 0:
            buf = state["momentum_buffer"] = state["momentum_buffer"] * mom + g / avg
            p.sub_(buf * group["lr"])
        else:
            p.sub_(g / avg * group["lr"])


def _adagrad_lr(lr: float, lr_decay: float, step: float) -> float:
    return lr / (1 + (step - 1) * lr_decay)


class Adagrad(Optimizer):
    """Adagrad: divide by the root of the sum of all squared gradients so far."""

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        check_params({"learning rate": (lr, lr >= 0), "lr_decay value": (lr_decay, lr_decay >= 0),
                     "weight_decay value": (weight_decay, weight_decay >= 0),
                     "initial_accumulator_value value": (initial_accumulator_value, initial_accumulator_value >= 0),
                     "epsilon value": (eps, eps >= 0)})
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize))

    def _init_state(self, p: Tensor, group: dict) -> None:
        # PyTorch makes Adagrad's state when the parameter joins, not at the first step
        self.state[p] = {"step": scalar_state(0), "sum": full_like(p, group["initial_accumulator_value"])}

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        step = bump_step(state)
        if group["weight_decay"]:
            g = g + p * group["weight_decay"]
        clr = host(partial(_adagrad_lr, group["lr"], group["lr_decay"]), step)
        state["sum"] = state["sum"] + g * g
        p.sub_(g / (state["sum"].sqrt() + group["eps"]) * clr)


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of past updates to that of gradients."""

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False) -> None:
        check_params({"learning rate": (lr, lr >= 0), "rho value": (rho, 0 <= rho <= 1), "epsilon value": (eps, eps >= 0),
                     "weight_decay value": (weight_decay, weight_decay >= 0)})
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = scalar_state(0)
            state["square_avg"], state["acc_delta"] = zeros_like(p), zeros_like(p)
        bump_step(state)
        if group["weight_decay"]:
            g = g + p * group["weight_decay"]
        sq = state["square_avg"] = state["square_avg"] * rho + g * g * (1 - rho)
        delta = (state["acc_delta"] + eps).sqrt() / (sq + eps).sqrt() * g
        state["acc_delta"] = state["acc_delta"] * rho + delta * delta * (1 - rho)
        p.sub_(delta * group["lr"])
