"""``autodiff.multiprocessing``: Python's ``multiprocessing``, with tensors that travel.

Importing it (``import autodiff`` does) teaches the pickler that multiprocessing uses
(``ForkingPickler``: queues, pipes, pools, process arguments) to carry tensors: a tensor
goes as a host copy of its values with its dtype, device and ``requires_grad``, and comes
back on the same device in the receiving process. Unlike ``torch.multiprocessing`` no
memory is shared: the receiver gets a copy (CUDA tensors are staged through the host).
As in PyTorch, a non-leaf tensor that requires grad is refused (autograd graphs do not
cross processes): send ``t.detach()``. Parameters travel as parameters.
"""

from __future__ import annotations

from multiprocessing import (  # noqa: F401 - re-exported, as torch.multiprocessing does
    Pool,
    Process,
    Queue,
    cpu_count,
    get_all_start_methods,
    get_context,
    get_start_method,
    set_start_method,
)
from multiprocessing.reduction import ForkingPickler
from typing import Any

import backends
from autodiff.nn.parameter import Parameter
from autodiff.tensor import Tensor, _make


def _rebuild_tensor(host: Any, device: str, requires_grad: bool) -> Tensor:
    be = backends.get(device)
    t = _make(be.from_host(host), be)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(host: Any, device: str, requires_grad: bool) -> Parameter:
    return Parameter(_rebuild_tensor(host, device, False), requires_grad)


def _reduce_tensor(t: Tensor) -> tuple:
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
            "does not support crossing process boundaries.  If you just want to transfer the data, "
            "call detach() on the tensor before serializing (e.g., putting it on the queue)."
        )
    rebuild = _rebuild_parameter if isinstance(t, Parameter) else _rebuild_tensor
    return rebuild, (t._be.to_host(t._data), str(t.device), t.requires_grad)


ForkingPickler.register(Tensor, _reduce_tensor)
ForkingPickler.register(Parameter, _reduce_tensor)

__all__ = ["Pool", "Process", "Queue", "cpu_count", "get_all_start_methods", "get_context",
           "get_start_method", "set_start_method"]
