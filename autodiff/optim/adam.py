"""``Adam`` (with ``amsgrad`` and ``decoupled_weight_decay``) and ``AdamW``, following
PyTorch's update order."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from autodiff.ops.arithmetic import maximum
from autodiff.ops.creation import zeros_like
from autodiff.optim.optimizer import Optimizer, bump_step, check_params, host, scalar_state
from autodiff.tensor import Tensor


def check_adam_params(lr: float, betas: tuple, eps: float, weight_decay: float) -> None:
    check_params({"learning rate": (lr, lr >= 0), "epsilon value": (eps, eps >= 0),
                 "beta parameter at index 0": (betas[0], 0 <= betas[0] < 1),
                 "beta parameter at index 1": (betas[1], 0 <= betas[1] < 1),
                 "weight_decay value": (weight_decay, weight_decay >= 0)})


def moments(state: dict, p: Tensor, g: Tensor, b1: float, b2: float) -> tuple[Tensor, Tensor]:
    """Update and return Adam's first and second moment estimates."""
    state["exp_avg"] = state["exp_avg"] * b1 + g * (1 - b1)
    state["exp_avg_sq"] = state["exp_avg_sq"] * b2 + g * g * (1 - b2)
    return state["exp_avg"], state["exp_avg_sq"]


def bias_corrections(lr: float, b1: float, b2: float, step: float) -> tuple[float, float]:
    """Adam's host arithmetic: ``sqrt(1 - b2^t)`` and ``lr / (1 - b1^t)``."""
    return math.sqrt(1 - b2 ** step), lr / (1 - b1 ** step)


class Adam(Optimizer):
    """Adam: bias-corrected moment estimates, ``p -= lr * m_hat / (sqrt(v_hat) + eps)``; ``amsgrad``
    uses the running maximum of ``v``."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        check_adam_params(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = scalar_state(0)
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(p), zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(p)
        step = bump_step(state)
        if wd:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * wd)
            else:
                g = g + p * wd
        m, v = moments(state, p, g, b1, b2)
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = maximum(state["max_exp_avg_sq"], v)
        root_bc2, step_size = host(partial(bias_corrections, lr, b1, b2), step)
        denom = v.sqrt() / root_bc2 + eps
        p.sub_(m / denom * step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         decoupled_weight_decay=True)
