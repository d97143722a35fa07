"""``autodiff.distributed``: ``torch.distributed``'s collectives on MPI and NCCL.

CPU tensors go through MPI (mpi4py) on their NumPy buffers, without copies; CUDA tensors
through NCCL (CuPy) with ``backend="nccl"``, or staged through the host with "mpi". Start
a job with ``python -m autodiff.distributed.run -n 2 train.py``; the same script run
plainly is a job of one process. Needs ``pip install "autodiff-tape[distributed]"`` for more
than one process. See docs/distributed.md.
"""

from autodiff.distributed.collectives import (
    ProcessGroup,
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    reduce_scatter,
    reduce_scatter_tensor,
)

__all__ = [
    "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce",
    "barrier", "broadcast", "broadcast_object_list", "destroy_process_group", "get_backend", "get_rank",
    "get_world_size", "init_process_group", "is_available", "is_initialized", "is_mpi_available",
    "is_nccl_available", "reduce_scatter", "reduce_scatter_tensor",
]
