"""Module state for the function transforms: ``stack_module_state`` (an ensemble's parameters
and buffers stacked for ``vmap``) and ``replace_all_batch_norm_modules_`` (batch norms that
keep no running statistics, so ``vmap`` over a model never writes to a shared buffer), as in
PyTorch's ``torch.func``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autodiff.autograd.grad_mode import no_grad
from autodiff.tensor import Tensor


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``(params, buffers)``: two dicts, by state-dict name, of the models' parameters and
    buffers stacked along a new first dim. The stacked parameters are new leaves (optimizable
    on their own, unrelated to the models' parameters) that require grad where the models'
    do; the buffers are plain stacks."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if any(m.training != models[0].training for m in models):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {name: _stacked_leaf([p[name] for p in all_params], name) for name in all_params[0]}
    with no_grad():
        buffers = {name: _stack([b[name] for b in all_buffers]) for name in all_buffers[0]}
    return params, buffers


def _stack(tensors: list[Tensor]) -> Tensor:
    import autodiff  # the op table's stack; this module loads before autodiff finishes

    return autodiff.stack(tensors)


def _stacked_leaf(tensors: list[Tensor], name: str) -> Tensor:
    wants_grad = tensors[0].requires_grad
    if any(t.requires_grad != wants_grad for t in tensors):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    with no_grad():
        stacked = _stack(tensors)
    return stacked.requires_grad_(wants_grad)


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Sets ``running_mean`` and ``running_var`` to None and ``track_running_stats`` to False
    on every batch norm module in ``root`` (in place), so batch statistics are always used;
    returns ``root``."""
    from autodiff.nn.normalization import _BatchNorm  # nn imports autodiff.func's users

    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
