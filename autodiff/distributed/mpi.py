"""The "mpi" process group: collectives through mpi4py.

A CPU tensor's NumPy array is handed to MPI as it is (its buffer, no copy: the backend's
``host_buffer``); a CUDA tensor is copied to the host, reduced there and copied back (the
Open MPI and MPICH wheels on PyPI are not CUDA-aware).

Every MPI call of a group is made by one thread of its own (``CommThread``), in the order
the program asked for them, so the order is the same on every rank as MPI requires. An
``async_op=True`` collective is a blocking MPI call running on that thread while the
program goes on (DDP's buckets are reduced while backward runs); it is not MPI's
nonblocking ``Iallreduce``, which Open MPI runs about 2.5x slower than ``Allreduce`` at
16 MiB and advances only inside MPI calls. Where the MPI library does not allow calls
from a second thread, the nonblocking calls are used instead. mpi4py is imported only when a
group is made: ``from mpi4py import MPI`` raises ``ImportError`` without mpi4py and
``RuntimeError`` without an MPI library, and either becomes one error naming the extra.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import backends
from autodiff.distributed.process_group import ProcessGroup, ReduceOp, Work
from autodiff.tensor import Tensor

INSTALL_HINT = ('autodiff.distributed needs mpi4py and an MPI library: pip install "autodiff-tape[distributed]" '
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


class _Pending:
    """A call handed to the ``CommThread``: ``Wait()`` for its result, ``Test()`` if it is done
    (the two methods an MPI request has, so ``Work`` waits on either)."""

    __slots__ = ("done", "result", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def Wait(self) -> Any:  # noqa: N802 - MPI's name
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result

    def Test(self) -> bool:  # noqa: N802
        return self.done.is_set()


class CommThread:
    """One thread that makes a group's MPI calls one after another, in submission order."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="autodiff-mpi", daemon=True)
        self._thread.start()

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> _Pending:
        pending = _Pending()
        self._queue.put((pending, fn, args, kwargs))
        return pending

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            pending, fn, args, kwargs = item
            try:
                pending.result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever waits for the call
                pending.error = exc
            pending.done.set()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()


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
        threads_ok = self.MPI.Query_thread() >= self.MPI.THREAD_SERIALIZED
        self._thread = CommThread() if threads_ok else None

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def _op(self, op: ReduceOp, t: Tensor) -> Any:
        return getattr(self.MPI, (_BOOL_OPS if t.dtype.kind == "b" else _OPS)[op])

    def _run(self, blocking: Any, nonblocking: Any, args: tuple, async_op: bool, finish: Any,
             tensors: tuple, **kwargs: Any) -> Work:
        if self._thread is not None:
            return Work(self._thread.submit(blocking, *args, **kwargs), finish, tensors)
        if async_op:
            return Work(nonblocking(*args, **kwargs), finish, tensors)
        blocking(*args, **kwargs)
        return Work(None, finish, tensors)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._thread is None:
            return fn(*args, **kwargs)
        return self._thread.submit(fn, *args, **kwargs).Wait()

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
        return self._call(self.comm.allgather, obj)

    def broadcast_object(self, obj: Any, src: int) -> Any:
        return self._call(self.comm.bcast, obj, root=src)

    def shutdown(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
