"""``DistributedDataParallel``: data-parallel training over an ``autodiff.distributed`` group.

At construction the parameters and buffers are broadcast from rank 0, and the parameters
are put in buckets: in reverse order of ``module.parameters()`` (about the order backward
produces their gradients), one device and dtype per bucket, the first up to 1 MiB (less if
``bucket_cap_mb`` is less) and the others up to ``bucket_cap_mb``. During backward each parameter's post-accumulate-grad hook
copies its gradient into its bucket's flat buffer; a bucket whose parameters are all
ready is divided by the world size and all-reduced asynchronously, while backward goes on.
Buckets are launched in bucket order on every rank (MPI and NCCL need the same order
everywhere). The hook of the last parameter waits for the reductions and makes each
``param.grad`` a view of the averaged buffer, so ``loss.backward()`` returns with the
gradients averaged over the ranks, and any optimizer works unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Iterator
from typing import Any

import autodiff.distributed as dist
from autodiff.autograd.grad_mode import is_grad_enabled, no_grad
from autodiff.autograd.node import AccumulateGrad
from autodiff.distributed.collectives import default_group
from autodiff.nn.module import Module
from autodiff.ops.creation import empty, zeros
from autodiff.tensor import Tensor, _make

FIRST_BUCKET_BYTES = 1024 * 1024  # a small first bucket starts communication early (as PyTorch)
DEFAULT_BUCKET_MB = 25

UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error "
    "indicates that your module has parameters that were not used in producing loss. You can enable unused "
    "parameter detection by passing the keyword argument `find_unused_parameters=True` to "
    "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
    "participate in calculating loss."
)


class _Bucket:
    """Parameters whose gradients are all-reduced together, through one flat buffer."""

    __slots__ = ("members", "offsets", "numel", "device", "dtype", "buffer", "pending", "work")

    def __init__(self, device: Any, dtype: Any) -> None:
        self.members: list[int] = []  # indices into DistributedDataParallel._params
        self.offsets: list[int] = []
        self.numel = 0
        self.device, self.dtype = device, dtype
        self.buffer: Tensor | None = None
        self.pending = 0
        self.work: Any = None

    def add(self, index: int, numel: int) -> None:
        self.members.append(index)
        self.offsets.append(self.numel)
        self.numel += numel


def _grad_ready(ddp_ref: weakref.ref, index: int, param: Tensor) -> None:
    ddp = ddp_ref()
    if ddp is not None:
        ddp._on_grad_ready(index)


def _tensors_in(obj: Any) -> Iterator[Tensor]:
    """The tensors in a forward's output (nested in tuples, lists and dicts)."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors_in(item)


def _leaves_reached(outputs: Any) -> set[int]:
    """``id`` of every leaf tensor the outputs' graph leads to."""
    seen: set[int] = set()
    leaves: set[int] = set()
    stack = []
    for t in _tensors_in(outputs):
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            if leaf is not None:
                leaves.add(id(leaf))
            continue
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
    return leaves


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training: each rank runs its own batch, and
    ``backward`` leaves every parameter's ``.grad`` averaged over the ranks.

    ``no_sync()`` skips the averaging (gradients accumulate locally until the next
    synchronized backward); ``find_unused_parameters=True`` allows parameters that some
    forward passes do not use. ``gradient_as_bucket_view`` is always the case here, and
    ``device_ids``/``output_device`` are accepted for PyTorch's scripts: the module must
    already be on its device.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, init_sync: bool = True) -> None:
        super().__init__()
        self.module = module
        self.process_group = default_group() if process_group is None else process_group
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((DEFAULT_BUCKET_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._params = [p for p in module.parameters() if p.requires_grad]
        if init_sync:
            self._sync_module_states()
        self._buckets, self._slot = self._make_buckets()
        self._expect_hooks = False  # a synchronized forward ran: its backward reduces
        self._reducing = False  # the current backward started filling buckets
        self._ready = [False] * len(self._params)
        self._used = [False] * len(self._params)
        self._unused: list[int] = []
        self._next_launch = 0
        me = weakref.ref(self)
        self._hook_handles = [p.register_post_accumulate_grad_hook(functools.partial(_grad_ready, me, i))
                              for i, p in enumerate(self._params)]

    # ---- construction --------------------------------------------------------------
    def _sync_module_states(self) -> None:
        """Every rank starts from rank 0's parameters and buffers."""
        if self.process_group.size() == 1:
            return
        with no_grad():
            for t in [*self.module.parameters(), *self.module.buffers()]:
                dist.broadcast(t, src=0, group=self.process_group)

    def _make_buckets(self) -> tuple[list[_Bucket], list[tuple[_Bucket, int]]]:
        buckets: list[_Bucket] = []
        open_: dict[tuple, _Bucket] = {}  # the bucket being filled, per (device, dtype)
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            key = (str(p.device), p.dtype)
            bucket = open_.get(key)
            cap = self.bucket_bytes_cap
            if not buckets or bucket is buckets[0]:
                cap = min(cap, FIRST_BUCKET_BYTES)
            nbytes = p.numel() * p.dtype.itemsize
            if bucket is None or (bucket.members and (bucket.numel * p.dtype.itemsize + nbytes) > cap):
                bucket = open_[key] = _Bucket(p.device, p.dtype)
                buckets.append(bucket)
            bucket.add(i, p.numel())
        slot: list[Any] = [None] * len(self._params)
        for bucket in buckets:
            for k, i in enumerate(bucket.members):
                slot[i] = (bucket, k)
        return buckets, slot

    # ---- forward ---------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._reducing:
            raise RuntimeError(UNFINISHED)
        if self.broadcast_buffers and self.process_group.size() > 1:
            with no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, src=0, group=self.process_group)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._expect_hooks = True
            if self.find_unused_parameters:
                reached = _leaves_reached(out)
                self._unused = [i for i, p in enumerate(self._params) if id(p) not in reached]
        else:
            self._expect_hooks = False
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward accumulates gradients locally without averaging them; the first
        synchronized backward after averages everything accumulated."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ---- backward: the hooks ------------------------------------------------------------
    def _start_reduction(self) -> None:
        self._reducing = True
        self._next_launch = 0
        self._ready = [False] * len(self._params)
        self._used = [False] * len(self._params)
        for bucket in self._buckets:
            # A fresh buffer each time: the previous one now holds the parameters' .grad.
            # Every slot is written by its gradient, except those of unused parameters.
            make = zeros if self.find_unused_parameters else empty
            bucket.buffer = make(bucket.numel, dtype=bucket.dtype, device=bucket.device)
            bucket.pending = len(bucket.members)
            bucket.work = None
        for i in self._unused:
            self._mark_ready(i, None)

    def _on_grad_ready(self, index: int) -> None:
        if not self._expect_hooks:
            return
        if not self._reducing:
            self._start_reduction()
        self._used[index] = True
        self._mark_ready(index, self._params[index].grad)

    def _mark_ready(self, index: int, grad: Tensor | None) -> None:
        if self._ready[index]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter at index {index} has been marked as "
                "ready twice: it was used in more than one backward of this iteration (or is shared by "
                "DistributedDataParallel modules)."
            )
        self._ready[index] = True
        bucket, k = self._slot[index]
        if grad is not None:
            # On the arrays: this runs once per parameter per step, and Tensor ops (slice,
            # reshape, copy_) would cost several times the copy on small parameters.
            be, start, n = grad._be, bucket.offsets[k], grad.numel()
            be.copyto(be.getitem(bucket.buffer._data, slice(start, start + n)), be.reshape(grad._data, (n,)))
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self) -> None:
        buckets = self._buckets
        while self._next_launch < len(buckets) and buckets[self._next_launch].pending == 0:
            bucket = buckets[self._next_launch]
            bucket.buffer._be.idiv(bucket.buffer._data, self.process_group.size())
            bucket.work = dist.all_reduce(bucket.buffer, group=self.process_group, async_op=True)
            self._next_launch += 1
        if self._next_launch == len(buckets):
            self._finish_reduction()

    def _finish_reduction(self) -> None:
        used = None
        if self.find_unused_parameters:  # which parameters some rank used
            flags = Tensor([float(u) for u in self._used])
            dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.process_group)
            used = flags.tolist()
        for bucket in self._buckets:
            bucket.work.wait()
            flat, be = bucket.buffer._data, bucket.buffer._be
            for k, i in enumerate(bucket.members):
                if used is not None and not used[i]:
                    continue  # no rank used it: its .grad stays as it was
                p = self._params[i]
                start = bucket.offsets[k]
                p.grad = _make(be.reshape(be.getitem(flat, slice(start, start + p.numel())), tuple(p.shape)), be)
            bucket.buffer = bucket.work = None
        self._reducing = False
        self._expect_hooks = False
