"""``autodiff.func``: composable function transforms, as PyTorch's ``torch.func``.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``,
``linearize`` and ``functional_call`` (transforms.py), ``vmap`` (vmap.py, with the
batching rules in batching.py), and ``stack_module_state`` and
``replace_all_batch_norm_modules_`` for ensembles (module_state.py). They compose: ``vmap(grad(f))`` gives per-sample
gradients, ``jacfwd(jacrev(f))`` a Hessian. See docs/func.md.
"""

from autodiff.func import batching  # noqa: F401 (the rules vmap dispatches to)
from autodiff.func.module_state import replace_all_batch_norm_modules_, stack_module_state
from autodiff.func.transforms import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    vjp,
)
from autodiff.func.vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize",
           "functional_call", "vmap", "stack_module_state", "replace_all_batch_norm_modules_"]
