"""The machinery behind ``Module``'s backward hooks (``register_full_backward_hook`` and
``register_full_backward_pre_hook``), as PyTorch defines them: the module's tensor inputs
and outputs pass through an identity node (``BackwardHookFunctionBackward``); the one on
the outputs sees ``grad_output`` (and runs the pre-hooks, which may replace it), the one
on the inputs sees ``grad_input`` and runs the full hooks (which may replace it)."""

from __future__ import annotations

import warnings
from typing import Any

from autodiff.autograd.function import Function
from autodiff.autograd.grad_mode import is_grad_enabled
from autodiff.tensor import Tensor, _make


class BackwardHookFunction(Function):
    """Identity on its tensors; backward hands the gradients to ``callback`` first."""

    @staticmethod
    def forward(ctx: Any, callback: Any, *tensors: Tensor) -> Any:
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        outs = tuple(_make(t._data, t._be) for t in tensors)
        return outs if len(outs) != 1 else outs[0]

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        return (None, *ctx.callback(grads))


def _tensors(value: Any) -> tuple[list, Any]:
    """The tensors in ``value`` (a tensor, or a tuple/list holding some), and a function that
    puts replacements back in their places."""
    if isinstance(value, Tensor):
        return [value], lambda new: new[0]
    if isinstance(value, (tuple, list)):
        idx = [i for i, v in enumerate(value) if isinstance(v, Tensor)]

        def rebuild(new: list) -> Any:
            out = list(value)
            for i, t in zip(idx, new):
                out[i] = t
            return type(value)(out) if isinstance(value, tuple) else out
        return [value[i] for i in idx], rebuild
    return [], lambda new: value


def _wrap(tensors: list, callback: Any) -> list:
    new = BackwardHookFunction.apply(callback, *tensors)
    return list(new) if isinstance(new, tuple) else [new]


def _check(result: Any, expected: int, what: str) -> tuple:
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != expected:
        raise RuntimeError(f"Backward hook returned an invalid number of {what} (got {len(result)}, "
                           f"but expected {expected})")
    return result


class BackwardHookState:
    """One forward call's link between its grad_output and grad_input."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.grad_outputs: tuple | None = None
        self.n_inputs = 0
        self.inputs_wrapped = False

    def setup_input(self, args: tuple) -> tuple:
        tensors, rebuild = _tensors(args)
        self.n_inputs = len(tensors)
        if not is_grad_enabled() or not any(t.requires_grad for t in tensors):
            return args
        self.inputs_wrapped = True
        return rebuild(_wrap(tensors, self._on_grad_input))

    def setup_output(self, result: Any) -> Any:
        tensors, rebuild = _tensors(result)
        if not is_grad_enabled() or not any(t.requires_grad for t in tensors):
            return result
        return rebuild(_wrap(tensors, self._on_grad_output))

    def _on_grad_output(self, grads: tuple) -> tuple:
        m = self.module
        for hook in list(m._backward_pre_hooks.values()):
            r = hook(m, grads)
            if r is not None:
                grads = _check(r, len(grads), "grad_output")
        self.grad_outputs = grads
        if not self.inputs_wrapped:  # no input needs a gradient: the hooks run now, grad_input all None
            if m._backward_hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                              "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/main/"
                              "generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more "
                              "details.", UserWarning, stacklevel=2)
            self._run_full_hooks((None,) * max(self.n_inputs, 1))
        return grads

    def _on_grad_input(self, grads: tuple) -> tuple:
        return self._run_full_hooks(grads)

    def _run_full_hooks(self, grad_input: tuple) -> tuple:
        m = self.module
        for hook in list(m._backward_hooks.values()):
            r = hook(m, grad_input, self.grad_outputs)
            if r is not None:
                grad_input = _check(r, len(grad_input), "grad_input")
        return grad_input
