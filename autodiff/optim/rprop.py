"""``Rprop``: resilient backpropagation, per-coordinate step sizes grown or shrunk by the
sign agreement of successive gradients (PyTorch's variant, without weight backtracking)."""

from __future__ import annotations

from typing import Any

from autodiff.ops.comparison import where
from autodiff.ops.creation import full_like, zeros_like
from autodiff.optim.optimizer import Optimizer, bump_step, check_params, scalar_state
from autodiff.tensor import Tensor


class Rprop(Optimizer):
    """Rprop: move each coordinate by its own step size against the gradient sign."""

    def __init__(self, params: Any, lr: float = 1e-2, etas: tuple = (0.5, 1.2), step_sizes: tuple = (1e-6, 50), *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        check_params({"learning rate": (lr, lr >= 0), "eta values": (f"{etas[0]}, {etas[1]}", 0 < etas[0] < 1 < etas[1])})
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=maximize))

    def _update(self, p: Tensor, g: Tensor, state: dict, group: dict) -> None:
        (eta_minus, eta_plus), (lo, hi) = group["etas"], group["step_sizes"]
        if not state:
            state["step"] = scalar_state(0)
            state["prev"] = zeros_like(p)
            state["step_size"] = full_like(g, group["lr"])
        bump_step(state)
        agree = (g * state["prev"]).sign()
        # (the tensor branch keeps the parameter's dtype: no float32 rounding of the etas)
        factor = where(agree > 0, eta_plus, where(agree < 0, eta_minus, full_like(g, 1.0)))
        state["step_size"] = (state["step_size"] * factor).clamp(lo, hi)
        g = where(agree < 0, 0.0, g)  # a sign change: no move now, and no comparison next step
        p.sub_(g.sign() * state["step_size"])
        state["prev"] = g.clone()
