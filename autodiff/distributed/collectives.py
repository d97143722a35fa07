"""``torch.distributed``'s functions: the default process group and the collectives.

Each collective checks its arguments here (PyTorch's rules: contiguous tensors, one
device and dtype, a list of one tensor per rank), writes its result into the given
tensors in place (bumping their version counters, as any in-place op), and with
``async_op=True`` returns a ``Work`` handle instead of waiting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from autodiff import cuda
from autodiff.distributed.mpi import MpiGroup, import_mpi, mpi_available
from autodiff.distributed.nccl import NcclGroup
from autodiff.distributed.process_group import LocalGroup, ProcessGroup, ReduceOp, Work
from autodiff.tensor import Tensor

_state: dict[str, ProcessGroup | None] = {"world": None}

NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                   "init_process_group.")

# Environment variables an MPI launcher sets in every rank: the job's size.
_MPI_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE")


def launched_size() -> int | None:
    """The number of ranks an MPI launcher started, or None when this process was not
    started by one."""
    for var in _MPI_SIZE_VARS:
        value = os.environ.get(var)
        if value and value.isdigit():
            return int(value)
    return None


def _engine(backend: str | None) -> str:
    """"mpi" or "nccl" for a backend string (PyTorch's names, "cpu:gloo,cuda:nccl" too)."""
    if backend is None:
        return "mpi"
    name = str(backend).lower()
    if "nccl" in name:
        return "nccl"
    if name in ("mpi", "gloo", "cpu:gloo", "cpu:mpi"):
        return "mpi"  # gloo's scripts run on MPI: autodiff has one CPU engine
    raise ValueError(f"Invalid backend: '{backend}' (autodiff.distributed runs 'mpi' and 'nccl')")


def is_available() -> bool:
    """True: the package is there (whether MPI is installed: ``is_mpi_available``)."""
    return True


def is_mpi_available() -> bool:
    return mpi_available()


def is_nccl_available() -> bool:
    return cuda.is_available()


def is_initialized() -> bool:
    return _state["world"] is not None


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the job's default process group.

    Under an MPI launcher (``python -m autodiff.distributed.run -n N script.py``, or
    ``mpiexec -n N python -m mpi4py script.py``) the group is MPI's world; a process that
    no launcher started is a job of one (no MPI needed), so the same script runs alone.
    ``backend="nccl"`` runs CUDA tensors through NCCL; "mpi" (also "gloo", the default)
    runs every tensor through MPI, CUDA tensors staged through the host.
    """
    if _state["world"] is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    engine = _engine(backend)
    size = launched_size()
    if size is None and world_size not in (-1, 1):
        raise ValueError(
            f"init_process_group(world_size={world_size}) in a process no MPI launcher started: start the "
            f"job with python -m autodiff.distributed.run -n {world_size} script.py"
        )
    name = engine if engine == "nccl" or backend is None else str(backend)  # get_backend() answers it
    host: ProcessGroup = LocalGroup(name) if size is None else MpiGroup(name)
    for given, actual, what in ((world_size, host.size(), "world_size"), (rank, host.rank(), "rank")):
        if given != -1 and given != actual:
            raise ValueError(f"init_process_group({what}={given}) but the MPI launcher made it {actual}")
    _state["world"] = NcclGroup(host) if engine == "nccl" else host


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default group (its NCCL communicators are freed); it can be made again."""
    world = _state["world"]
    if world is None:
        raise ValueError(NOT_INITIALIZED)
    world.shutdown()
    _state["world"] = None


def _group(group: ProcessGroup | None) -> ProcessGroup:
    world = _state["world"]
    if world is None:
        raise ValueError(NOT_INITIALIZED)
    return world if group is None else group


def get_rank(group: ProcessGroup | None = None) -> int:
    return _group(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    return _group(group).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    return _group(group).backend_name


def _check_tensor(t: Any, op: str, name: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if not t.is_contiguous():
        raise ValueError(f"{op}(): Tensors must be contiguous")


def _check_list(ts: Any, like: Tensor, op: str, name: str, size: int) -> list[Tensor]:
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"{op}(): argument '{name}' must be a list of tensors, not {type(ts).__name__}")
    ts = list(ts)
    if len(ts) != size:
        raise ValueError(f"{op}(): {name} has {len(ts)} tensors; it must have one per rank ({size})")
    for t in ts:
        _check_tensor(t, op, name)
        if t.shape != like.shape or t.dtype != like.dtype:
            raise ValueError(f"{op}(): every tensor of {name} must have shape {tuple(like.shape)} and dtype "
                             f"{like.dtype}, got {tuple(t.shape)} and {t.dtype}")
    return ts


def _check_op(op: Any, t: Tensor, fn: str) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{fn}(): op must be a ReduceOp, not {type(op).__name__}")
    if op is ReduceOp.AVG and not t.dtype.is_floating_point:
        raise TypeError(f"{fn}(): ReduceOp.AVG needs a floating-point tensor, got {t.dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and t.dtype.is_floating_point:
        raise TypeError(f"{fn}(): {op!r} needs an integer or bool tensor, got {t.dtype}")
    return op


def _check_src(src: int, size: int, fn: str) -> int:
    if not isinstance(src, int) or not 0 <= src < size:
        raise ValueError(f"{fn}(): src {src} is not a rank of a group of {size}")
    return src


def _written(ts: Iterable[Tensor]) -> None:
    for t in ts:
        t._version[0] += 1


def _done(work: Work, async_op: bool) -> Work | None:
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """``tensor`` replaced, on every rank, by the ``op`` of all ranks' ``tensor``."""
    pg = _group(group)
    _check_tensor(tensor, "all_reduce")
    _check_op(op, tensor, "all_reduce")
    _written((tensor,))
    return _done(pg.all_reduce(tensor, op, async_op), async_op)


def broadcast(tensor: Tensor, src: int = 0, group: ProcessGroup | None = None,
              async_op: bool = False) -> Work | None:
    """``tensor`` replaced, on every rank, by rank ``src``'s."""
    pg = _group(group)
    _check_tensor(tensor, "broadcast")
    _check_src(src, pg.size(), "broadcast")
    _written((tensor,))
    return _done(pg.broadcast(tensor, src, async_op), async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """``tensor_list[i]`` set to rank ``i``'s ``tensor``, on every rank."""
    pg = _group(group)
    _check_tensor(tensor, "all_gather")
    outs = _check_list(tensor_list, tensor, "all_gather", "tensor_list", pg.size())
    _written(outs)
    return _done(pg.all_gather(outs, tensor, async_op), async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """``output_tensor`` (``world_size`` times ``input_tensor``'s numel, along dim 0) set to
    every rank's ``input_tensor``, in rank order."""
    pg = _group(group)
    _check_tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    _check_tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    if output_tensor.numel() != pg.size() * input_tensor.numel() or output_tensor.dtype != input_tensor.dtype:
        raise ValueError("all_gather_into_tensor(): output_tensor must have world_size times the elements of "
                         "input_tensor, and its dtype")
    outs = list(output_tensor.view(pg.size(), -1).unbind(0))
    _written((output_tensor,))
    return _done(pg.all_gather(outs, input_tensor.view(-1), async_op), async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """``output`` on rank ``r`` set to the ``op`` over all ranks of their ``input_list[r]``."""
    pg = _group(group)
    _check_tensor(output, "reduce_scatter", "output")
    ins = _check_list(input_list, output, "reduce_scatter", "input_list", pg.size())
    _check_op(op, output, "reduce_scatter")
    _written((output,))
    return _done(pg.reduce_scatter(output, ins, op, async_op), async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """``reduce_scatter`` with the inputs as one tensor of ``world_size`` blocks along dim 0."""
    pg = _group(group)
    _check_tensor(input, "reduce_scatter_tensor", "input")
    if input.numel() != pg.size() * output.numel():
        raise ValueError("reduce_scatter_tensor(): input must have world_size times the elements of output")
    blocks = [b.view(output.shape) for b in input.view(pg.size(), -1).unbind(0)]
    return reduce_scatter(output, blocks, op, group, async_op)


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank has reached the barrier."""
    return _done(_group(group).barrier(async_op), async_op)


def all_gather_object(object_list: list, obj: Any, group: ProcessGroup | None = None) -> None:
    """``object_list[i]`` set to rank ``i``'s ``obj`` (any picklable object)."""
    pg = _group(group)
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object(): object_list has {len(object_list)} entries; it must have one "
                         f"per rank ({pg.size()})")
    object_list[:] = pg.all_gather_object(obj)


def broadcast_object_list(object_list: list, src: int = 0, group: ProcessGroup | None = None,
                          device: Any = None) -> None:
    """``object_list``'s entries replaced, on every rank, by rank ``src``'s."""
    pg = _group(group)
    _check_src(src, pg.size(), "broadcast_object_list")
    got = pg.broadcast_object(list(object_list) if pg.rank() == src else None, src)
    if len(got) != len(object_list):
        raise ValueError(f"broadcast_object_list(): rank {src} sent {len(got)} objects into a list of "
                         f"{len(object_list)}")
    object_list[:] = got


def default_group() -> ProcessGroup:
    """The default process group (``group=None``), for autodiff's own users of it."""
    return _group(None)


__all__ = [
    "ReduceOp", "Work", "ProcessGroup", "is_available", "is_mpi_available", "is_nccl_available", "is_initialized",
    "init_process_group", "destroy_process_group", "get_rank", "get_world_size", "get_backend", "all_reduce",
    "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "barrier",
    "all_gather_object", "broadcast_object_list", "import_mpi", "launched_size",
]
