"""``SGD`` with momentum, dampening, Nesterov momentum and weight decay (PyTorch's algorithm)."""

from __future__ import annotations

from typing import Any

from autodiff.autograd.grad_mode import enable_grad, no_grad
from autodiff.optim.optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def step(self, closure: Any = None) -> Any:
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
                wd, nesterov = group["weight_decay"], group["nesterov"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if group["maximize"] else p.grad
                    if wd:
                        g = g + p * wd
                    if mom:
                        state = self.state.setdefault(p, {})
                        buf = state.get("momentum_buffer")
                        buf = g.clone() if buf is None else buf * mom + g * (1 - damp)
                        state["momentum_buffer"] = buf
                        g = g + buf * mom if nesterov else buf
                    p.sub_(g * lr)
        return loss
