"""``autodiff.func``: composable function transforms, as PyTorch's ``torch.func``.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``,
``linearize`` and ``functional_call`` (transforms.py), and ``vmap`` (vmap.py, with the
batching rules in batching.py). They compose: ``vmap(grad(f))`` gives per-sample
gradients, ``jacfwd(jacrev(f))`` a Hessian. See docs/func.md.
"""

from autodiff.func import batching  # noqa: F401 (the rules vmap dispatches to)
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
           "functional_call", "vmap"]
