"""Process groups: who takes part in a collective, and the engine that runs it.

A ``ProcessGroup`` runs each collective on tensors in place and returns a ``Work``
handle. Three kinds exist: ``LocalGroup`` (one process, not launched: every collective is
the identity or a copy), ``MpiGroup`` (``mpi.py``: mpi4py on the NumPy buffer, CUDA tensors
staged through the host) and ``NcclGroup`` (``nccl.py``: NCCL through CuPy for CUDA tensors,
the MPI or local group for CPU tensors and Python objects). The argument checks are done
once, by the public functions in ``collectives.py``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from autodiff.tensor import Tensor


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce_scatter`` combine the ranks' values."""

    SUM = "sum"
    PRODUCT = "prod"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    AVG = "avg"

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {list(ReduceOp).index(self)}>"


class Work:
    """The handle an ``async_op=True`` collective returns: ``wait()`` blocks until the
    collective is done and its results are in the tensors; ``is_completed()`` asks without
    blocking. A handle of a collective that completed at once is done from the start."""

    def __init__(self, request: Any = None, finish: Callable[[], None] | None = None,
                 tensors: tuple = ()) -> None:
        self._request = request  # an MPI request (Wait, Test), or None when nothing is pending
        self._finish = finish  # what is left to do once the request is done (copies back)
        self._tensors = list(tensors)
        if request is None:
            self._complete()

    def _complete(self) -> None:
        self._request = None
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()

    def wait(self, timeout: Any = None) -> bool:
        """Block until the collective is done; True."""
        if self._request is not None:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        if self._request is not None and self._request.Test():
            self._request.Wait()  # returns at once; raises the error of a call that failed
            self._complete()
        return self._request is None

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self) -> None:
        return None

    def result(self) -> list[Tensor]:
        """The tensors the collective wrote."""
        self.wait()
        return self._tensors

    def __repr__(self) -> str:
        return f"<Work {'completed' if self._request is None else 'pending'}>"


class ProcessGroup:
    """The ranks of a job and the engine that runs their collectives."""

    backend_name = ""

    def rank(self) -> int:
        raise NotImplementedError

    def size(self) -> int:
        raise NotImplementedError

    def all_reduce(self, t: Tensor, op: ReduceOp, async_op: bool) -> Work:
        raise NotImplementedError

    def broadcast(self, t: Tensor, src: int, async_op: bool) -> Work:
        raise NotImplementedError

    def all_gather(self, outs: list[Tensor], t: Tensor, async_op: bool) -> Work:
        raise NotImplementedError

    def reduce_scatter(self, out: Tensor, ins: list[Tensor], op: ReduceOp, async_op: bool) -> Work:
        raise NotImplementedError

    def barrier(self, async_op: bool) -> Work:
        raise NotImplementedError

    def all_gather_object(self, obj: Any) -> list:
        raise NotImplementedError

    def broadcast_object(self, obj: Any, src: int) -> Any:
        raise NotImplementedError

    def shutdown(self) -> None:
        """Release what the group holds (communicators); the group is not used after."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} rank {self.rank()} of {self.size()}>"


def copy_into(dst: Tensor, src: Tensor) -> None:
    """``dst``'s values set to ``src``'s (same shape and dtype; any devices)."""
    if dst._be is src._be:
        dst._be.copyto(dst._data, src._data)
    else:
        dst._be.copy_from_host(dst._data, src._be.to_host(src._data))


class LocalGroup(ProcessGroup):
    """A job of one process that was not launched by MPI: every collective leaves its
    tensors as they are (or copies its one input to its one output)."""

    def __init__(self, backend_name: str) -> None:
        self.backend_name = backend_name

    def rank(self) -> int:
        return 0

    def size(self) -> int:
        return 1

    def all_reduce(self, t: Tensor, op: ReduceOp, async_op: bool) -> Work:
        return Work(tensors=(t,))

    def broadcast(self, t: Tensor, src: int, async_op: bool) -> Work:
        return Work(tensors=(t,))

    def all_gather(self, outs: list[Tensor], t: Tensor, async_op: bool) -> Work:
        copy_into(outs[0], t)
        return Work(tensors=outs)

    def reduce_scatter(self, out: Tensor, ins: list[Tensor], op: ReduceOp, async_op: bool) -> Work:
        copy_into(out, ins[0])
        return Work(tensors=(out,))

    def barrier(self, async_op: bool) -> Work:
        return Work()

    def all_gather_object(self, obj: Any) -> list:
        return [obj]

    def broadcast_object(self, obj: Any, src: int) -> Any:
        return obj
