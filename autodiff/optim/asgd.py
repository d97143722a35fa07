"""``ASGD``: averaged SGD (Polyak-Ruppert averaging from step ``t0``), as PyTorch documents it.

The running average is ``state["ax"]``; ``eta`` (the decayed step size) and ``mu`` (the
averaging weight) are scalar tensors, as in PyTorch.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from autodiff.ops.creation import zeros_like
from autodiff.optim.optimizer import Optimizer, bump_step, check_params, host, scalar_state
from autodiff.tensor import Tensor


def _asgd_scalars(lr: float, lambd: float, alpha: float, t0: float, eta: float, mu: float,
                  step: float) -> tuple:
    """The decay factor and step size of this step, whether the average starts now, the
    averaging weight, and the next ``eta`` and ``mu``."""
    return (1 - lambd * eta, eta, mu == 1, mu, lr / (1 + lambd * lr * step) ** alpha, 1 / max(1, step - t0))


class ASGD(Optimizer):
    """Averaged SGD: decayed SGD steps, with the parameters averaged from step ``t0`` on."""

    def __init__(self, params: Any, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False) -> None:
        check_params({"learning rate": (lr, lr >= 0), "weight_decay value": (weight_decay, weight_decay >= 0)})
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            state["step"] = scalar_state(0)
            state["eta"] = scalar_state(lr)
            state["mu"] = scalar_state(1)
            state["ax"] = zeros_like(p)
        step = bump_step(state)
        if group["weight_decay"]:
            g = g + p * group["weight_decay"]
        decay, eta, first, mu, next_eta, next_mu = host(
            partial(_asgd_scalars, lr, lambd, group["alpha"], group["t0"]), state["eta"], state["mu"], step)
        p.mul_(decay)
        p.sub_(g * eta)
        state["ax"] = p.clone() if first else state["ax"] + (p - state["ax"]) * mu
        state["eta"] = scalar_state(next_eta)
        state["mu"] = scalar_state(next_mu)
