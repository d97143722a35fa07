"""``SGD`` with momentum, dampening, Nesterov momentum, weight decay and ``maximize``
(PyTorch's algorithm: the first step's momentum buffer is the gradient itself)."""

from __future__ import annotations

from typing import Any

from autodiff.optim.optimizer import Optimizer, check_params
from autodiff.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent: ``buf = momentum * buf + (1 - dampening) * g``, ``p -= lr * buf``
    (``g + momentum * buf`` with ``nesterov``)."""

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None) -> None:
        check_params({"learning rate": (lr, lr >= 0), "momentum value": (momentum, momentum >= 0),
                     "weight_decay value": (weight_decay, weight_decay >= 0)})
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        mom = group["momentum"]
        if group["weight_decay"]:
            g = g + p * group["weight_decay"]
        if mom:
            buf = state.get("momentum_buffer")
            buf = g.clone() if buf is None else buf * mom + g * (1 - group["dampening"])
            state["momentum_buffer"] = buf
            g = g + buf * mom if group["nesterov"] else buf
        p.sub_(g * group["lr"])
