"""The "nccl" process group: CUDA tensors through NCCL (CuPy's ``cupy.cuda.nccl``).

NCCL needs every rank to hold the same unique id before it makes a communicator; the id
travels over the job's host group (MPI when launched, nothing for one process). One
communicator is made per GPU, on the first collective with a tensor there. CPU tensors
and Python objects go through the host group, as PyTorch's "cpu:gloo,cuda:nccl" does.
The CuPy backend enqueues each NCCL call on the device's current stream, so the kernels
that follow see its result: the work handle has nothing to wait for.
"""

from __future__ import annotations

from typing import Any

from autodiff.distributed.process_group import ProcessGroup, ReduceOp, Work
from autodiff.tensor import Tensor


class NcclGroup(ProcessGroup):
    """CUDA tensors through NCCL; everything else through ``host`` (an MPI or local group)."""

    backend_name = "nccl"

    def __init__(self, host: ProcessGroup) -> None:
        self.host = host
        self._comms: dict[Any, Any] = {}  # backend (one per GPU) -> NCCL communicator

    def rank(self) -> int:
        return self.host.rank()

    def size(self) -> int:
        return self.host.size()

    def _comm(self, be: Any) -> Any:
        comm = self._comms.get(be)
        if comm is None:
            uid = be.nccl_unique_id() if self.rank() == 0 else None
            uid = self.host.broadcast_object(uid, 0)
            comm = self._comms[be] = be.nccl_communicator(self.size(), uid, self.rank())
        return comm

    @staticmethod
    def _op(op: ReduceOp) -> str:
        if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
            raise ValueError(f"Cannot use {op!r} with NCCL")
        return op.value

    def all_reduce(self, t: Tensor, op: ReduceOp, async_op: bool) -> Work:
        if t._be.type != "cuda":
            return self.host.all_reduce(t, op, async_op)
        t._be.nccl_all_reduce(self._comm(t._be), t._data, self._op(op))
        return Work(tensors=(t,))

    def broadcast(self, t: Tensor, src: int, async_op: bool) -> Work:
        if t._be.type != "cuda":
            return self.host.broadcast(t, src, async_op)
        t._be.nccl_broadcast(self._comm(t._be), t._data, src)
        return Work(tensors=(t,))

    def all_gather(self, outs: list[Tensor], t: Tensor, async_op: bool) -> Work:
        be = t._be
        if be.type != "cuda":
            return self.host.all_gather(outs, t, async_op)
        recv = be.empty((self.size(), *t.shape), t.dtype.name)
        be.nccl_all_gather(self._comm(be), t._data, recv)
        for i, out in enumerate(outs):
            if out._be is be:
                be.copyto(out._data, be.getitem(recv, i))
            else:
                out._be.copy_from_host(out._data, be.to_host(be.getitem(recv, i)))
        return Work(tensors=outs)

    def reduce_scatter(self, out: Tensor, ins: list[Tensor], op: ReduceOp, async_op: bool) -> Work:
        be = out._be
        if be.type != "cuda":
            return self.host.reduce_scatter(out, ins, op, async_op)
        send = be.concatenate([be.reshape(be.contiguous(i._data), (-1,)) for i in ins], 0)
        be.nccl_reduce_scatter(self._comm(be), send, out._data, self._op(op))
        return Work(tensors=(out,))

    def barrier(self, async_op: bool) -> Work:
        return self.host.barrier(async_op)

    def all_gather_object(self, obj: Any) -> list:
        return self.host.all_gather_object(obj)

    def broadcast_object(self, obj: Any, src: int) -> Any:
        return self.host.broadcast_object(obj, src)

    def shutdown(self) -> None:
        for comm in self._comms.values():
            comm.destroy()
        self._comms.clear()
        self.host.shutdown()
