"""autodiff.distributed and DistributedDataParallel.

In this process: a job of one (no launcher, no MPI needed), the NCCL path on simulated
CUDA (a one-rank communicator), the launcher's command line, and the error when MPI is
missing. Under MPI: the programs in tests/mpi_programs/ started through the launcher
(``python -m autodiff.distributed.run``) as subprocesses with a timeout -- the
collectives against NumPy and DDP against one process on 2 ranks (one job), the
collectives on 3 ranks, and a failing rank ending the job. Those skip when mpi4py or mpiexec is missing
(``pip install "autodiff-tape[distributed]"``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

import autodiff as torch
import autodiff.distributed as dist
import autodiff.nn as nn
from autodiff.distributed import run as launcher
from autodiff.distributed.collectives import default_group
from autodiff.distributed.mpi import import_mpi
from autodiff.distributed.nccl import NcclGroup
from autodiff.distributed.rank_entry import set_torchrun_env
from autodiff.nn.parallel import DistributedDataParallel
from autodiff.testing import simulate_cuda

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "tests" / "mpi_programs"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch):
    """A job of one process (the MPI launcher's variables removed), torn down after."""
    for var in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE"):
        monkeypatch.delenv(var, raising=False)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


# ---- one process ---------------------------------------------------------------------
def test_not_initialized_raises_pytorchs_error(world):
    assert dist.is_available() and not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.all_reduce(torch.ones(2))


def test_unlaunched_script_is_a_job_of_one(world):
    dist.init_process_group("gloo")  # PyTorch's CPU backend name runs on the MPI engine
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "gloo")
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("mpi")
    t = torch.arange(4.0)
    assert dist.all_reduce(t, op=dist.ReduceOp.AVG) is None
    assert t.tolist() == [0, 1, 2, 3]
    work = dist.all_reduce(t, async_op=True)
    assert work.is_completed() and work.wait() and work.result() == [t]
    outs = [torch.zeros(4)]
    dist.all_gather(outs, t)
    assert outs[0].tolist() == t.tolist()
    out = torch.zeros(4)
    dist.reduce_scatter(out, [t * 2])
    assert out.tolist() == [0, 2, 4, 6]
    objs = [None]
    dist.all_gather_object(objs, {"a": 1})
    assert objs == [{"a": 1}]
    dist.barrier()
    dist.destroy_process_group()
    dist.init_process_group()  # again, after destroy


def test_bad_arguments(world):
    dist.init_process_group()
    with pytest.raises(ValueError, match="contiguous"):
        dist.all_reduce(torch.zeros(3, 4).t())
    with pytest.raises(ValueError, match="one per rank"):
        dist.all_gather([torch.zeros(2), torch.zeros(2)], torch.zeros(2))
    with pytest.raises(TypeError, match="AVG needs a floating-point"):
        dist.all_reduce(torch.ones(2, dtype=torch.int64), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="src 1"):
        dist.broadcast(torch.zeros(2), src=1)
    with pytest.raises(TypeError, match="must be Tensor"):
        dist.all_reduce([1.0])
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.destroy_process_group()
        dist.init_process_group("smoke-signals")


def test_world_size_without_launcher_says_how_to_launch(world):
    with pytest.raises(ValueError, match="autodiff.distributed.run -n 4"):
        dist.init_process_group("mpi", world_size=4)


def test_missing_mpi_gives_an_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # not installed: ImportError
    with pytest.raises(RuntimeError, match=r"autodiff-tape\[distributed\]"):
        import_mpi()
    fake = types.ModuleType("mpi4py")  # installed, but no MPI library: RuntimeError

    def no_library(name: str):
        raise RuntimeError("cannot load MPI library")

    fake.__getattr__ = no_library
    monkeypatch.setitem(sys.modules, "mpi4py", fake)
    with pytest.raises(RuntimeError, match=r"autodiff-tape\[distributed\].*cannot load MPI library"):
        import_mpi()


def _train(model: nn.Module, steps: int = 5) -> list:
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = torch.tensor(rng.standard_normal((8, 4), dtype=np.float32))
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def _net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))


def test_ddp_in_a_job_of_one_trains_as_the_module(world):
    dist.init_process_group()
    expected = _train(_net())
    ddp = DistributedDataParallel(_net(), bucket_cap_mb=0.0001)  # a bucket per parameter
    assert len(ddp._buckets) == 4
    assert list(ddp.state_dict())[0] == "module.0.weight"
    for got, want in zip(_train(ddp), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_nccl_path_on_simulated_cuda(world):
    """backend="nccl" with one process: CUDA tensors through a one-rank NCCL communicator
    (the CuPy backend's NCCL calls on the simulated cupy.cuda.nccl), DDP included."""
    with simulate_cuda(1):
        dist.init_process_group("nccl")
        t = torch.arange(6.0, device="cuda").reshape(2, 3)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        dist.broadcast(t, src=0)
        pg = default_group()
        assert isinstance(pg, NcclGroup) and len(pg._comms) == 1
        outs = [torch.zeros(2, 3, device="cuda")]
        dist.all_gather(outs, t * 2)
        assert outs[0].cpu().tolist() == [[0, 2, 4], [6, 8, 10]]
        out = torch.zeros(2, 3, device="cuda")
        dist.reduce_scatter(out, [t + 1])
        assert out.cpu().tolist() == [[1, 2, 3], [4, 5, 6]]
        with pytest.raises(ValueError, match="Cannot use"):
            dist.all_reduce(torch.ones(2, dtype=torch.int64, device="cuda"), op=dist.ReduceOp.BAND)
        cpu = torch.ones(2)
        dist.all_reduce(cpu)  # CPU tensors: the host group
        model = DistributedDataParallel(_net().to("cuda"))
        model(torch.ones(3, 4, device="cuda")).sum().backward()
        assert all(p.grad is not None and p.grad.device.type == "cuda" for p in model.parameters())
        dist.destroy_process_group()
        assert not pg._comms


def test_importing_autodiff_does_not_load_mpi():
    code = "import sys, autodiff; autodiff.distributed.init_process_group(); assert 'mpi4py' not in sys.modules"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE"):
        env.pop(var, None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


# ---- the launcher --------------------------------------------------------------------
def test_launcher_command_line(monkeypatch: pytest.MonkeyPatch):
    args = launcher.parse_args(["-n", "64", "--mpiexec", "/opt/mpi/bin/mpiexec", "train.py", "--lr", "0.1"])
    cmd = launcher.build_command(args, open_mpi=True)
    assert cmd[:3] == ["/opt/mpi/bin/mpiexec", "-n", "64"]
    assert "--oversubscribe" in cmd  # more ranks than this machine has cores
    assert cmd[-7:] == ["-m", "mpi4py", "-m", "autodiff.distributed.rank_entry", "train.py", "--lr", "0.1"]
    args = launcher.parse_args(["-n", "1", "--mpiexec", "mpiexec", "--hostfile", "hosts", "-m", "pkg.train"])
    cmd = launcher.build_command(args, open_mpi=False)
    assert "--oversubscribe" not in cmd and cmd[3:5] == ["--hostfile", "hosts"] and cmd[-2:] == ["-m", "pkg.train"]
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    env = launcher.launch_env(open_mpi=True)
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == "1"
    assert env["OMPI_MCA_mpi_yield_when_idle"] == "1"
    assert launcher.launch_env(open_mpi=False, nproc=2)["OMP_NUM_THREADS"] == os.environ.get("OMP_NUM_THREADS", "1")


def test_rank_entry_sets_torchruns_variables():
    env = {"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
           "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}
    set_torchrun_env(env)
    assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"], env["LOCAL_WORLD_SIZE"]) == ("1", "2", "1", "2")
    env = {"PMI_RANK": "3", "PMI_SIZE": "4", "MPI_LOCALRANKID": "0"}  # MPICH
    set_torchrun_env(env)
    assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"]) == ("3", "4", "0")


# ---- under MPI -----------------------------------------------------------------------
def _mpi_missing() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'autodiff-tape[distributed]')"
    if shutil.which("mpiexec") is None and not os.access(Path(sys.executable).parent / "mpiexec", os.X_OK):
        return "no mpiexec (pip install 'autodiff-tape[distributed]' installs Open MPI's)"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def launch(n: int, program: str, *extra: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("AUTODIFF_SIMULATE_CUDA", None)  # the programs simulate CUDA themselves where they use it
    cmd = [sys.executable, "-m", "autodiff.distributed.run", "-n", str(n), *extra, str(PROGRAMS / program)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@needs_mpi
def test_collectives_and_ddp_on_two_ranks():
    """On 2 ranks, one job (tests/mpi_programs/two_ranks.py): every ReduceOp, broadcast,
    all_gather, reduce_scatter, barrier, the object collectives, async handles and
    host-staged CUDA tensors against NumPy; then DDP: 2 ranks x batch 32 = 1 process x
    batch 64 after 20 steps (1e-6), identical ranks, no_sync, find_unused_parameters,
    buckets launched during backward."""
    proc = launch(2, "two_ranks.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert {"collectives ok rank 0 of 2", "collectives ok rank 1 of 2", "ddp ok rank 0", "ddp ok rank 1"} <= set(lines)
    print(next(line for line in lines if line.startswith("ddp max diff")))


@needs_mpi
def test_collectives_on_three_ranks():
    extra = ("--oversubscribe",) if 3 > (os.cpu_count() or 1) else ()
    proc = launch(3, "collectives.py", *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {f"collectives ok rank {r} of 3" for r in range(3)} <= set(proc.stdout.splitlines())


@needs_mpi
def test_a_failing_rank_ends_the_job():
    start = time.perf_counter()
    proc = launch(2, "failing_rank.py", timeout=60)
    took = time.perf_counter() - start
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr and "should never get here" not in proc.stdout
    assert took < 45, f"the job took {took:.1f} s to end"
