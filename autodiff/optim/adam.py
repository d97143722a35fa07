"""``Adam`` and ``AdamW`` (decoupled weight decay), following PyTorch's update order."""

from __future__ import annotations

import math
from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import enable_grad, no_grad
from autodiff.ops.arithmetic import maximum
from autodiff.ops.creation import tensor, zeros_like
from autodiff.optim.optimizer import Optimizer


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameters: {betas}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def step(self, closure: Any = None) -> Any:
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if group["maximize"] else p.grad
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = tensor(0.0, dtype=dtypes.float32)
                        state["exp_avg"] = zeros_like(p)
                        state["exp_avg_sq"] = zeros_like(p)
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = zeros_like(p)
                    step = state["step"].item() + 1
                    state["step"] = tensor(float(step), dtype=dtypes.float32)
                    if wd:
                        if self._decoupled:
                            p.mul_(1 - lr * wd)
                        else:
                            g = g + p * wd
                    m = state["exp_avg"] * b1 + g * (1 - b1)
                    v = state["exp_avg_sq"] * b2 + g * g * (1 - b2)
                    state["exp_avg"], state["exp_avg_sq"] = m, v
                    if group["amsgrad"]:
                        v = state["max_exp_avg_sq"] = maximum(state["max_exp_avg_sq"], v)
                    bc1 = 1 - b1 ** step
                    bc2 = 1 - b2 ** step
                    denom = v.sqrt() / math.sqrt(bc2) + eps
                    p.sub_(m / denom * (lr / bc1))
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    _decoupled = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
