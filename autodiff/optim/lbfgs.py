"""``LBFGS``: limited-memory BFGS over all parameters as one flat vector, with a fixed step
or a strong-Wolfe line search (``line_search_fn="strong_wolfe"``), following PyTorch's
algorithm (and its stopping rules) so the iterates agree.

Its state (history of steps and gradient changes, last direction and step length) is kept
under the first parameter, as PyTorch does, so ``state_dict()`` carries it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autodiff.autograd.grad_mode import enable_grad, no_grad
from autodiff.ops.creation import zeros_like
from autodiff.ops.shape import cat
from autodiff.optim.optimizer import Optimizer
from autodiff.tensor import Tensor


def _cubic_min(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
               bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to ``bounds``
    (default: the interval between the points); the midpoint when the cubic has none."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = disc ** 0.5
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


class _Point:
    """One trial step of the line search: step length, loss, flat gradient, slope along d."""

    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t: float, f: float, g: Tensor, gtd: float) -> None:
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def _strong_wolfe(evaluate: Callable, t: float, d: Tensor, f: float, g: Tensor, gtd: float, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """Find a step length ``t`` along ``d`` meeting the strong Wolfe conditions (Nocedal &
    Wright, algorithms 3.5 and 3.6). ``evaluate(t)`` returns (loss, flat gradient) at ``x + t d``.
    Returns (loss, gradient, t, evaluations)."""
    d_norm = d.abs().max().item()

    def trial(step: float) -> _Point:
        f_new, g_new = evaluate(step)
        return _Point(step, f_new, g_new, g_new.dot(d).item())

    start = _Point(0.0, f, g.clone(), gtd)
    prev, cur = start, trial(t)
    evals, it = 1, 0
    bracket: list[_Point] | None = None
    # 1. bracketing: grow the step until an interval surely holds an acceptable point
    while it < max_ls:
        if cur.f > f + c1 * cur.t * gtd or (it > 1 and cur.f >= prev.f):
            bracket = [prev, cur]
            break
        if abs(cur.gtd) <= -c2 * gtd:
            return cur.f, cur.g, cur.t, evals
        if cur.gtd >= 0:
            bracket = [prev, cur]
            break
        step = _cubic_min(prev.t, prev.f, prev.gtd, cur.t, cur.f, cur.gtd,
                          bounds=(cur.t + 0.01 * (cur.t - prev.t), cur.t * 10))
        prev, cur = cur, trial(step)
        evals += 1
        it += 1
    if bracket is None:  # the search ran out of evaluations while growing
        best = start if f <= cur.f else cur
        return best.f, best.g, best.t, evals
    # 2. zoom: shrink the bracket, keeping the lower end the best point seen
    low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
    insufficient = False
    while it < max_ls:
        a, b = bracket[0].t, bracket[1].t
        if abs(b - a) * d_norm < tolerance_change:
            break
        step = _cubic_min(a, bracket[0].f, bracket[0].gtd, b, bracket[1].f, bracket[1].gtd)
        lo_t, hi_t = min(a, b), max(a, b)
        margin = 0.1 * (hi_t - lo_t)
        # a trial hugging an end of the bracket makes little progress: move it inside
        if min(hi_t - step, step - lo_t) < margin:
            if insufficient or step >= hi_t or step <= lo_t:
                step = hi_t - margin if abs(step - hi_t) < abs(step - lo_t) else lo_t + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        new = trial(step)
        evals += 1
        it += 1
        if new.f > f + c1 * new.t * gtd or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
            continue
        if abs(new.gtd) <= -c2 * gtd:
            bracket[low] = new
            break
        if new.gtd * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = new
    best = bracket[low]
    return best.f, best.g, best.t, evals


class LBFGS(Optimizer):
    """L-BFGS: quasi-Newton steps from the last ``history_size`` updates; ``step(closure)``."""

    def __init__(self, params: Any, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_iter * 5 // 4 if max_eval is None
                                      else max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    @property
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def _flat_grad(self) -> Tensor:
        return cat([(p.grad if p.grad is not None else zeros_like(p)).reshape(-1) for p in self._params])

    def _move(self, t: float, d: Tensor) -> None:
        """``x += t * d`` over the flattened parameters."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(d[offset:offset + n].view_as(p) * t)
            offset += n

    def _evaluate_at(self, closure: Callable, t: float, d: Tensor) -> tuple[float, Tensor]:
        saved = [p.clone() for p in self._params]
        self._move(t, d)
        with enable_grad():
            loss = float(closure())
        g = self._flat_grad()
        for p, x in zip(self._params, saved):
            p.copy_(x)
        return loss, g

    def step(self, closure: Any = None) -> Any:
        """Up to ``max_iter`` L-BFGS iterations; ``closure`` recomputes the loss and gradients."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that reevaluates the model and returns the loss")
        with no_grad():
            return self._run(closure)

    def _run(self, closure: Callable) -> Any:
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change, history = group["tolerance_grad"], group["tolerance_change"], group["history_size"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if g.abs().max().item() <= tol_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        dirs, steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_g, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, dirs, steps, ro, h_diag = -g, [], [], [], 1.0
            else:
                y, s = g - prev_g, d * t
                ys = y.dot(s).item()
                if ys > 1e-10:  # keep the pair only when the curvature condition holds
                    if len(dirs) == history:
                        dirs.pop(0), steps.pop(0), ro.pop(0)
                    dirs.append(y), steps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y).item()
                # two-loop recursion: d = -H g
                alphas = [0.0] * len(dirs)
                q = -g
                for i in range(len(dirs) - 1, -1, -1):
                    alphas[i] = steps[i].dot(q).item() * ro[i]
                    q = q - dirs[i] * alphas[i]
                d = q * h_diag
                for i in range(len(dirs)):
                    beta = dirs[i].dot(d).item() * ro[i]
                    d = d + steps[i] * (alphas[i] - beta)
            prev_g = g.clone()
            prev_loss = loss
            t = min(1.0, 1.0 / g.abs().sum().item()) * lr if state["n_iter"] == 1 else lr
            gtd = g.dot(d).item()
            if gtd > -tol_change:  # not a descent direction any more
                break
            ls_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                loss, g, t, ls_evals = _strong_wolfe(lambda step, d=d: self._evaluate_at(closure, step, d),
                                                     t, d, loss, g, gtd)
                self._move(t, d)
                converged = g.abs().max().item() <= tol_grad
            else:
                self._move(t, d)
                converged = False
                if n_iter != max_iter:  # the last iteration's loss would not be used
                    with enable_grad():
                        loss = float(closure())
                    g = self._flat_grad()
                    converged = g.abs().max().item() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if (n_iter == max_iter or evals >= max_eval or converged
                    or (d * t).abs().max().item() <= tol_change or abs(loss - prev_loss) < tol_change):
                break
        state.update(d=d, t=t, old_dirs=dirs, old_stps=steps, ro=ro, H_diag=h_diag, prev_flat_grad=prev_g,
                     prev_loss=prev_loss)
        return orig_loss
