"""The "mpi" process group: collectives through mpi4py.

A CPU tensor's NumPy array is handed to MPI as it is (its buffer, no copy: the backend's
``host_buffer``); a CUDA tensor is copied to the host, reduced there and copied back (the
Open MPI and MPICH wheels on PyPI are not CUDA-aware). mpi4py is imported only when a
group is made: ``from mpi4py import MPI`` raises ``ImportError`` without mpi4py and
``RuntimeError`` without an MPI library, and either becomes one error naming the extra.
"""

from __future__ import annotations

from typing import Any

import backends
from autodiff.distributed.process_group import ProcessGroup, ReduceOp, Work
from autodiff.tensor import Tensor

INSTALL_HINT = ('autodiff.distributed needs mpi4py and an MPI library: pip install "autodiff[distributed]" '
                "(mpi4py and the Open MPI wheel), or mpi4py built against your cluster's MPI.")


def import_mpi() -> Any:
    """mpi4py's ``MPI`` module, or a RuntimeError saying what to install."""
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as exc:  # RuntimeError: mpi4py found no MPI library
        raise RuntimeError(f"{INSTALL_HINT} ({type(exc).__name__}: {exc})") from exc
    return MPI


def mpi_available() -> bool:
    try:
        import_mpi()
    except RuntimeError:
        return False
    return True


# ReduceOp -> MPI's operation, and for bool tensors (where MPI has only logical ones).
_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD", ReduceOp.MIN: "MIN",
        ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND", ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}
_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.BOR: "LOR", ReduceOp.PRODUCT: "LAND",
             ReduceOp.MIN: "LAND", ReduceOp.BAND: "LAND", ReduceOp.BXOR: "LXOR"}


class MpiGroup(ProcessGroup):
    """The processes of an MPI communicator (``MPI.COMM_WORLD`` for the default group)."""

    def __init__(self, backend_name: str = "mpi", comm: Any = None) -> None:
        self.MPI = import_mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.backend_name = backend_name
        self._rank, self._size = self.comm.Get_rank(), self.comm.Get_size()
        self._cpu = backends.get("cpu")

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def _op(self, op: ReduceOp, t: Tensor) -> Any:
        return getattr(self.MPI, (_BOOL_OPS if t.dtype.kind == "b" else _OPS)[op])

    def _run(self, blocking: Any, nonblocking: Any, args: tuple, async_op: bool, finish: Any,
             tensors: tuple, **kwargs: Any) -> Work:
        if async_op:
            return Work(nonblocking(*args, **kwargs), finish, tensors)
        blocking(*args, **kwargs)
        return Work(None, finish, tensors)

    def _average(self, t: Tensor) -> None:
        t._be.idiv(t._data, self._size)

    def all_reduce(self, t: Tensor, op: ReduceOp, async_op: bool) -> Work:
        be = t._be
        buf, staged = be.host_buffer(t._data)

        def finish() -> None:
            if staged:
                be.copy_from_host(t._data, buf)
            if op is ReduceOp.AVG:
                self._average(t)

        return self._run(self.comm.Allreduce, self.comm.Iallreduce, (self.MPI.IN_PLACE, buf, self._op(op, t)),
                         async_op, finish, (t,))

    def broadcast(self, t: Tensor, src: int, async_op: bool) -> Work:
        be = t._be
        buf, staged = be.host_buffer(t._data)

        def finish() -> None:
            if staged and self._rank != src:
                be.copy_from_host(t._data, buf)

        return self._run(self.comm.Bcast, self.comm.Ibcast, (buf,), async_op, finish, (t,), root=src)

    def all_gather(self, outs: list[Tensor], t: Tensor, async_op: bool) -> Work:
        send, _ = t._be.host_buffer(t._data)
        recv = self._cpu.empty((self._size, *t.shape), t.dtype.name)

        def finish() -> None:
            for i, out in enumerate(outs):
                out._be.copy_from_host(out._data, self._cpu.getitem(recv, i))

        return self._run(self.comm.Allgather, self.comm.Iallgather, (send, recv), async_op, finish, tuple(outs))

    def reduce_scatter(self, out: Tensor, ins: list[Tensor], op: ReduceOp, async_op: bool) -> Work:
        cpu = self._cpu
        send = cpu.concatenate([cpu.reshape(cpu.from_host(i._be.to_host(i._data)), (-1,)) for i in ins], 0)
        be = out._be
        recv, staged = be.host_buffer(out._data)

        def finish() -> None:
            if staged:
                be.copy_from_host(out._data, recv)
            if op is ReduceOp.AVG:
                self._average(out)

        return self._run(self.comm.Reduce_scatter_block, self.comm.Ireduce_scatter_block,
                         (send, recv, self._op(op, out)), async_op, finish, (out,))

    def barrier(self, async_op: bool) -> Work:
        return self._run(self.comm.Barrier, self.comm.Ibarrier, (), async_op, None, ())

    def all_gather_object(self, obj: Any) -> list:
        return self.comm.allgather(obj)

    def broadcast_object(self, obj: Any, src: int) -> Any:
        return self.comm.bcast(obj, root=src)
