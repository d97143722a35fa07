"""The launcher: ``python -m autodiff.distributed.run -n 2 train.py [args...]``.

It runs ``mpiexec -n 2 python -m mpi4py -m autodiff.distributed.rank_entry train.py args``:
``python -m mpi4py`` aborts the whole job when a rank raises (instead of leaving the
others waiting in a collective forever), and ``rank_entry`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` as torchrun does before running the script. For
containers it allows Open MPI to run as root, and it lets Open MPI start more ranks than
there are cores (``--oversubscribe``) when asked for more than ``os.cpu_count()`` on one
machine. ``--hostfile`` spreads the ranks over machines (docs/distributed.md). As torchrun,
it sets ``OMP_NUM_THREADS=1`` for jobs of more than one rank unless it is set already, and
makes Open MPI's waiting ranks yield their core (``mpi_yield_when_idle``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys

from autodiff.distributed.mpi import INSTALL_HINT


def find_mpiexec(given: str | None = None) -> str:
    """The ``mpiexec`` to use: the given one, the one next to this Python (a virtual
    environment's, where the Open MPI wheel puts it), or the first on PATH."""
    if given:
        return given
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise SystemExit(f"autodiff.distributed.run: no mpiexec found. {INSTALL_HINT}")
    return found


def is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m autodiff.distributed.run",
        description="Run a training script on N processes with MPI (mpiexec ... python -m mpi4py).")
    p.add_argument("-n", "--nproc", type=int, default=2, help="number of processes (default 2)")
    p.add_argument("--hostfile", help="MPI hostfile: the machines to run on (docs/distributed.md)")
    p.add_argument("--host", help="comma-separated hosts (host:slots), passed to mpiexec")
    p.add_argument("--oversubscribe", action="store_true", default=None,
                   help="allow more ranks than cores (Open MPI; the default on one machine when -n > cores)")
    p.add_argument("--mpiexec", help="the mpiexec to run (default: next to python, else on PATH)")
    p.add_argument("--mpi-arg", action="append", default=[], help="one more argument for mpiexec (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    p.add_argument("-m", dest="module", help="run a module (as python -m) instead of a script")
    p.add_argument("script_and_args", nargs=argparse.REMAINDER, help="the script and its arguments")
    args = p.parse_args(argv)
    if args.module is None and not args.script_and_args:
        p.error("give a script to run (or -m module)")
    if args.nproc < 1:
        p.error("-n must be at least 1")
    return args


def build_command(args: argparse.Namespace, open_mpi: bool) -> list[str]:
    """The ``mpiexec`` command line for ``args``."""
    cmd = [find_mpiexec(args.mpiexec), "-n", str(args.nproc)]
    if args.hostfile:
        cmd += ["--hostfile", args.hostfile]
    if args.host:
        cmd += ["--host", args.host]
    oversubscribe = args.oversubscribe
    if oversubscribe is None:
        oversubscribe = not (args.hostfile or args.host) and args.nproc > (os.cpu_count() or 1)
    if oversubscribe and open_mpi:
        cmd.append("--oversubscribe")
    cmd += args.mpi_arg
    cmd += [sys.executable, "-m", "mpi4py", "-m", "autodiff.distributed.rank_entry"]
    cmd += ["-m", args.module] if args.module else []
    return cmd + args.script_and_args


def launch_env(open_mpi: bool, nproc: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    if nproc > 1:
        # As torchrun: one BLAS thread per rank, or N ranks' thread pools fight over the cores.
        env.setdefault("OMP_NUM_THREADS", "1")
    if open_mpi:
        # A rank waiting in a collective yields its core instead of spinning on it: when the
        # cores are shared (other ranks, other work) the spinning starves the rank it waits
        # for. On a machine shared with other work, a 2-rank DDP step of the digits CNN took
        # 47 ms with it and 86 ms without (the step alone: 43 ms); with the core to itself,
        # a yield returns at once.
        env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")
    if open_mpi and hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers run as root; Open MPI refuses root unless both are set.
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if importlib.util.find_spec("mpi4py") is None:
        raise SystemExit(f"autodiff.distributed.run: mpi4py is not installed. {INSTALL_HINT}")
    mpiexec = find_mpiexec(args.mpiexec)
    open_mpi = is_open_mpi(mpiexec)
    cmd = build_command(args, open_mpi)
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    try:
        return subprocess.call(cmd, env=launch_env(open_mpi, args.nproc))
    except KeyboardInterrupt:  # mpiexec got the signal too and stops the ranks
        return 130


if __name__ == "__main__":
    sys.exit(main())
