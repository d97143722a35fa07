"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and state dicts.

A subclass gives its defaults and ``_update(p, grad, state, group)``, the update of one
parameter from its gradient (already negated when the group has ``maximize``); ``step``
runs the closure, turns grad mode off and calls ``_update`` for every parameter that has a
gradient. Updates are Tensor ops, so state lives on the parameter's device; scalar
bookkeeping (``step``, ASGD's ``eta``, NAdam's ``mu_product``) is a CPU tensor of the
default float dtype, as in PyTorch, so the arithmetic (and its rounding) is the same.

The Python arithmetic on such values (bias corrections from the step count, decayed step
sizes) goes through ``host(fn, *values)``: eagerly it is ``fn`` of the values, and a step
recorded by ``autodiff.compile`` keeps the call as one op of its program, rerun at every
replay, so the program follows the counters instead of baking in the recorded numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from autodiff import dtypes
from autodiff.autograd.grad_mode import enable_grad, no_grad
from autodiff.ops.creation import tensor
from autodiff.tensor import Tensor


class _Required:
    """The default of a hyperparameter a group must give (``lr`` of some optimizers)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def scalar_state(value: float) -> Tensor:
    """A 0-d CPU tensor for step counters and similar (float64 when that is the default)."""
    return tensor(float(value), dtype=_scalar_dtype())


def _scalar_dtype() -> dtypes.dtype:
    return dtypes.float64 if dtypes.get_default_dtype() is dtypes.float64 else dtypes.float32


# Set by autodiff.compile while it records a step (autodiff/compiled_step.py): records a
# host() call as an op of the program and returns its results. None otherwise.
host_recorder: Callable | None = None


def host(fn: Callable, *values: Any) -> Any:
    """``fn`` applied to ``values`` (0-d tensors read as Python numbers, or numbers): an
    optimizer's arithmetic on host values. ``fn`` must be a pure function of its arguments
    (hyper-parameters bound in it are constants) returning a float or a tuple of floats
    and bools; a compiled step reruns it at every replay (a bool it returns is a guard)."""
    if host_recorder is not None:
        return host_recorder(fn, values)
    return fn(*[v.item() if isinstance(v, Tensor) else v for v in values])


def _next_step(step: float) -> float:
    return step + 1


def bump_step(state: dict) -> float:
    """Add one to ``state["step"]`` and return the new count as a Python float."""
    step = host(_next_step, state["step"])
    state["step"] = tensor(step, dtype=state["step"].dtype)
    return step


class Optimizer:
    """Base class: ``step()`` updates every parameter of every group from its ``.grad``."""

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)  # (``opt.state[p]`` is {} before p's first step)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got {params.type()}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group (``{"params": [...], **hyperparameters}``); missing settings take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        for p in group["params"]:
            self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict) -> None:
        """State made when a parameter joins (most optimizers make it at the first step)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to ``None`` (the default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad = p.grad.detach().zero_()

    def step(self, closure: Any = None) -> Any:
        """One update of every parameter with a gradient; returns ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = -p.grad if group.get("maximize") else p.grad
                    state = self.state.get(p, {})
                    self._update(p, g, state, group)
                    if state:  # (plain SGD keeps no state, and shows none, as in PyTorch)
                        self.state[p] = state
        return loss

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict`` returned, matching parameters by position.

        Floating state tensors take their parameter's dtype and device; ``step`` is kept as
        saved (PyTorch's policy).
        """
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match "
                                 "the size of optimizer's group")
        self.state = defaultdict(dict)
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = v
            for i, p in zip(saved["params"], group["params"]):
                s = state_dict["state"].get(i, state_dict["state"].get(str(i)))
                if s is not None:
                    self.state[p] = {k: _cast_state(k, v, p) for k, v in s.items()}

    def __repr__(self) -> str:
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}"
            for k in sorted(group):
                if k != "params":
                    s += f"\n    {k}: {group[k]}"
        return s + "\n)"


def _cast_state(key: str, value: Any, p: Tensor) -> Any:
    if not isinstance(value, Tensor) or key == "step":
        return value
    if p.is_floating_point() and value.is_floating_point():
        return value.to(device=p.device, dtype=p.dtype)
    return value.to(p.device)


def check_params(checks: dict[str, tuple[Any, bool]]) -> None:
    """Raise PyTorch's ``ValueError`` for the first hyperparameter out of range.

    ``checks`` maps a label ("learning rate", "epsilon value", ...) to ``(value, ok)``.
    """
    for label, (value, ok) in checks.items():
        if not ok:
            raise ValueError(f"Invalid {label}: {value}")
