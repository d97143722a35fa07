"""What each rank runs under ``autodiff.distributed.run``: ``python -m mpi4py -m
autodiff.distributed.rank_entry script.py args`` (or ``-m module args``).

It sets the variables torchrun sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``LOCAL_WORLD_SIZE``) from MPI's, so a script can pick its GPU before
``init_process_group``, then runs the script as ``__main__``. An exception leaves through
mpi4py's runner, which aborts every rank of the job.
"""

from __future__ import annotations

import os
import runpy
import sys

# (torchrun's name, the names Open MPI, MPICH / Intel MPI and PMIx give it)
_VARS = (
    ("RANK", ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")),
    ("WORLD_SIZE", ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")),
    ("LOCAL_RANK", ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")),
    ("LOCAL_WORLD_SIZE", ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS")),
)


def set_torchrun_env(env: dict = os.environ) -> None:  # noqa: B006 - the process's own environment
    for name, sources in _VARS:
        for source in sources:
            if source in env:
                env.setdefault(name, env[source])
                break


def main(argv: list[str]) -> None:
    set_torchrun_env()
    if not argv:
        raise SystemExit("usage: python -m mpi4py -m autodiff.distributed.rank_entry script.py [args]")
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
