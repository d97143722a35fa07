"""Adam's relatives: ``Adamax`` (infinity norm), ``NAdam`` (Nesterov momentum with
``momentum_decay``) and ``RAdam`` (rectified variance), as PyTorch documents them."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from autodiff.ops.arithmetic import maximum
from autodiff.ops.creation import zeros_like
from autodiff.optim.adam import check_adam_params, moments
from autodiff.optim.optimizer import Optimizer, bump_step, check_params, host, scalar_state
from autodiff.tensor import Tensor


def _weight_decay(p: Tensor, g: Tensor, group: dict) -> Tensor:
    """L2 penalty added to the gradient, or (``decoupled_weight_decay``) applied to ``p``."""
    wd = group["weight_decay"]
    if not wd:
        return g
    if group.get("decoupled_weight_decay"):
        p.mul_(1 - group["lr"] * wd)
        return g
    return g + p * wd


def _step_size(lr: float, b1: float, step: float) -> float:
    return lr / (1 - b1 ** step)


def _nadam_momenta(b1: float, b2: float, psi: float, step: float) -> tuple[float, float, float]:
    """NAdam's momentum coefficients of this step and the next, and ``1 - b2^t``."""
    return b1 * (1 - 0.5 * 0.96 ** (step * psi)), b1 * (1 - 0.5 * 0.96 ** ((step + 1) * psi)), 1 - b2 ** step


def _nadam_step_sizes(lr: float, mu: float, mu_next: float, mu_product: float) -> tuple[float, float]:
    return lr * (1 - mu) / (1 - mu_product), lr * mu_next / (1 - mu_product * mu_next)


def _radam_scalars(b1: float, b2: float, step: float) -> tuple[float, bool, float, float]:
    """``1 - b1^t``; whether the variance estimate is tractable (its length ``rho_t`` > 5),
    and then ``sqrt(1 - b2^t)`` and the rectification factor (else zeros)."""
    bc2 = 1 - b2 ** step
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * step * b2 ** step / bc2
    if rho_t <= 5:
        return 1 - b1 ** step, False, 0.0, 0.0
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return 1 - b1 ** step, True, math.sqrt(bc2), rect


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm, ``u = max(beta2 * u, |g| + eps)``."""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False) -> None:
        check_adam_params(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        (b1, b2), eps = group["betas"], group["eps"]
        if not state:
            state["step"] = scalar_state(0)
            state["exp_avg"], state["exp_inf"] = zeros_like(p), zeros_like(p)
        step = bump_step(state)
        g = _weight_decay(p, g, group)
        state["exp_avg"] = state["exp_avg"] * b1 + g * (1 - b1)
        state["exp_inf"] = maximum(state["exp_inf"] * b2, g.abs() + eps)
        p.sub_(state["exp_avg"] / state["exp_inf"] * host(partial(_step_size, group["lr"], b1), step))


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum whose coefficient warms up with ``momentum_decay``."""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False,
                 *, foreach: bool | None = None, maximize: bool = False) -> None:
        check_adam_params(lr, betas, eps, weight_decay)
        check_params({"momentum_decay value": (momentum_decay, momentum_decay >= 0)})
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        lr, (b1, b2), eps, psi = group["lr"], group["betas"], group["eps"], group["momentum_decay"]
        if not state:
            state["step"] = scalar_state(0)
            state["mu_product"] = scalar_state(1)
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(p), zeros_like(p)
        step = bump_step(state)
        g = _weight_decay(p, g, group)
        mu, mu_next, bc2 = host(partial(_nadam_momenta, b1, b2, psi), step)
        # the product is kept in a scalar tensor (rounded like PyTorch's) across steps
        state["mu_product"] = state["mu_product"] * mu
        size_g, size_m = host(partial(_nadam_step_sizes, lr), mu, mu_next, state["mu_product"])
        m, v = moments(state, p, g, b1, b2)
        denom = (v / bc2).sqrt() + eps
        p.sub_(g / denom * size_g)
        p.sub_(m / denom * size_m)


class RAdam(Optimizer):
    """RAdam: Adam whose adaptive step is rectified once the variance estimate is tractable."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        check_adam_params(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            state["step"] = scalar_state(0)
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(p), zeros_like(p)
        step = bump_step(state)
        g = _weight_decay(p, g, group)
        m, v = moments(state, p, g, b1, b2)
        bc1, rectified, root_bc2, rect = host(partial(_radam_scalars, b1, b2), step)
        corrected = m / bc1
        if rectified:  # the variance is tractable: rectified adaptive step
            adaptive = root_bc2 / (v.sqrt() + eps)
            p.sub_(corrected * lr * adaptive * rect)
        else:  # early steps: plain momentum SGD
            p.sub_(corrected * lr)
