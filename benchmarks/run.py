"""Run the benchmark workloads side by side and print (or write) the table.

``python -m benchmarks`` (or ``python benchmarks/run.py``) runs every workload in this
process: autodiff, the hand-written floor (NumPy, or CuPy with ``--device cuda``) and
PyTorch when it imports, interleaved (A B C A B C ...) after a warm-up, and reports
medians and ratios. Single-threaded by default: BLAS/OpenMP worker threads keep spinning
after a call and slow whichever system runs next, which skews side-by-side ratios.
``--write-docs`` regenerates docs/benchmarks.md from the run.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

# Samples per system for each timed workload, and how long one sample runs (seconds): a
# sample repeats one system's step back to back, so that it measures that system's steady
# state rather than the caches the previous system left (see DOC_HEAD).
PLAN = {"seed-mlp": 21, "big-mlp": 21, "op-chain": 21, "hvp": 15}
QUICK_PLAN = {"seed-mlp": 7, "big-mlp": 3, "op-chain": 7, "hvp": 5}
SAMPLE_S, QUICK_SAMPLE_S = 0.03, 0.005
UNITS = {"seed-mlp": ("ms/step", 1e3), "big-mlp": ("ms/step", 1e3),
         "op-chain": ("us/op", 1e6 / 1000), "hvp": ("ms/hvp", 1e3)}
SYSTEMS = ("autodiff", "floor", "torch")


def set_threads(n: int) -> None:
    """Pin BLAS/OpenMP pools to ``n`` threads (env for libraries not loaded yet, then live)."""
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass


# mallopt(3) parameters: glibc's malloc.h values.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MALLOC_MODES = ("pinned", "as-is")


def set_malloc(mode: str) -> str:
    """Apply ``--malloc`` (one of MALLOC_MODES); returns what the machine table says."""
    return pin_malloc() if mode == "pinned" else "as is"


def pin_malloc() -> str:
    """Keep freed memory in the process (glibc): every system then reuses warm pages.

    Left to itself glibc serves arrays above a threshold with fresh mmap pages and gives
    the top of its heap back to the kernel, and it moves both thresholds up the first time
    it frees a large block. Which arrays page-fault on every step then depends on what the
    process freed before (importing PyTorch is enough), not on the code measured.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return "as is (no glibc mallopt)"
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    if mallopt(M_MMAP_THRESHOLD, 32 << 20) and mallopt(M_TRIM_THRESHOLD, 1 << 30):
        return "pinned (glibc: mmap threshold 32 MiB, trim threshold 1 GiB)"
    return "as is (mallopt failed)"


def make_ctx(device: str, threads: int) -> Any:
    from benchmarks.workloads import Ctx

    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    if device == "cuda":
        import cupy

        return Ctx(device="cuda", xp=cupy, torch=torch)
    return Ctx(device="cpu", torch=torch)


def make_sync(ctx: Any) -> Any:
    """What to call before reading the clock: GPU work is asynchronous."""
    if ctx.device != "cuda":
        return lambda: None
    import cupy

    dev = cupy.cuda.Device()
    torch = ctx.torch

    def sync() -> None:
        dev.synchronize()
        if torch is not None:
            torch.cuda.synchronize()

    return sync


def check_agree(name: str, results: dict, rtol: float) -> None:
    """Every system must compute the floor's answer before its speed means anything."""
    import numpy as np

    from benchmarks.workloads import host_result

    ref = host_result(results["floor"])
    for system, res in results.items():
        got = host_result(res)
        pairs = zip(got, ref) if isinstance(ref, list) else [(got, ref)]
        for a, b in pairs:
            if not np.allclose(a, b, rtol=rtol, atol=rtol * 1e-2 * (1 + np.abs(b).max())):
                raise AssertionError(f"{name}: {system} disagrees with the floor")


try:
    from resource import RUSAGE_SELF, getrusage
except ImportError:  # (not on Windows)
    getrusage = None


def _minor_faults() -> int:
    """Pages this process has taken from the kernel so far (0 where it cannot tell)."""
    return getrusage(RUSAGE_SELF).ru_minflt if getrusage is not None else 0


STAT = {"median": statistics.median, "min": min}
# deep-chain is run three ways (see DOC_HEAD): each system alone in a fresh process, then
# side by side in this process as it is, then with the objects alive before it frozen.
DEEP_VARIANTS = (("deep-chain-own", "own process"), ("deep-chain", "as is"),
                 ("deep-chain-frozen", "imports frozen"))
_stat = statistics.median


def time_systems(name: str, factories: dict, sample_s: float, samples: int, sync: Any,
                 rtol: float, faults: dict | None = None) -> tuple[dict, int]:
    """Median (or ``--stat min``) seconds per step for each system, sampled interleaved,
    and the steps per sample: as many as make the fastest system's sample last ``sample_s``.

    ``faults``, when given, receives each system's minor page faults per step: a step whose
    arrays come from fresh pages (memory the allocator gave back to the kernel between
    steps) pays for every page, which can double its time without changing its code.
    """
    steps = {system: make() for system, make in factories.items()}
    check_agree(name, {system: step() for system, step in steps.items()}, rtol)
    for _ in range(2):  # warm-up: caches, allocator pools, lazily built code paths
        for step in steps.values():
            step()
    inner = 1
    if sample_s:
        inner = max(1, math.ceil(sample_s / min(_once(step, sync) for step in steps.values())))
    times: dict = {system: [] for system in steps}
    pages = dict.fromkeys(steps, 0)
    gc.collect()
    for _ in range(samples):
        for system, step in steps.items():
            sync()
            f0 = _minor_faults()
            t0 = time.perf_counter()
            for _ in range(inner):
                step()
            sync()
            times[system].append((time.perf_counter() - t0) / inner)
            pages[system] += _minor_faults() - f0
    if faults is not None:
        faults.update({system: n / (samples * inner) for system, n in pages.items()})
    return {system: _stat(ts) for system, ts in times.items()}, inner


def _once(step: Any, sync: Any) -> float:
    sync()
    t0 = time.perf_counter()
    step()
    sync()
    return time.perf_counter() - t0


def run_timed(ctx: Any, names: list, quick: bool, faults: dict, inner: dict) -> dict:
    """Seconds per step of each timed workload; ``faults[name]``: page faults per step,
    ``inner[name]``: steps per sample."""
    from benchmarks.workloads import WORKLOADS

    sync = make_sync(ctx)
    plan = QUICK_PLAN if quick else PLAN
    out = {}
    for name in names:
        rtol = 1e-6 if name == "hvp" else 1e-4
        faults[name] = {}
        out[name], inner[name] = time_systems(name, WORKLOADS[name](ctx),
                                              QUICK_SAMPLE_S if quick else SAMPLE_S,
                                              plan[name], sync, rtol, faults[name])
        print(f"  {name}: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in out[name].items()),
              file=sys.stderr)
    return out


def run_record_cost(ctx: Any, names: list, repeats: int = 5) -> dict:
    """For each workload with a ``compiled`` system: its first call (the eager run that
    records the program) and a warm eager step, in seconds; each the statistic over
    ``repeats`` fresh pairs of systems (a first call also meets cold memory and caches)."""
    from benchmarks.workloads import WORKLOADS

    sync = make_sync(ctx)
    out = {}
    for name in names:
        record, eager = [], []
        for _ in range(repeats):
            factories = WORKLOADS[name](ctx)  # (fresh systems: nothing recorded yet)
            if "compiled" not in factories:
                break
            step = factories["autodiff"]()
            step()
            eager.append(_once(step, sync))
            record.append(_once(factories["compiled"](), sync))
        if record:
            out[name] = {"record": _stat(record), "eager": _stat(eager)}
    return out


def step_peak_bytes(make: Any, warmup: int = 5) -> int:
    """tracemalloc's peak during one warm step of the system ``make()`` sets up, counting
    everything the system allocated since before ``make``: its data, parameters, gradients,
    optimizer state, a compiled program's buffers, and the step's temporaries. NumPy reports
    its buffers to tracemalloc, so array data is counted with Python objects."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        step = make()
        for _ in range(warmup):  # (a compiled step records, then compiles its program)
            step()
        gc.collect()
        tracemalloc.reset_peak()
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_step_peak(ctx: Any, names: list) -> dict:
    """For each workload with a ``compiled`` system: the peak memory of a warm eager step
    and of a warm compiled (replayed) step (``step_peak_bytes``)."""
    from benchmarks.workloads import WORKLOADS

    out = {}
    for name in names:
        factories = WORKLOADS[name](ctx)
        if "compiled" in factories:
            out[name] = {system: step_peak_bytes(factories[system]) for system in ("autodiff", "compiled")}
    return out


def run_deep_chain(ctx: Any, quick: bool, freeze: bool = False) -> dict:
    """Forward + backward through 10,000 and 100,000 ops: time must grow linearly.

    With ``freeze``, the objects alive before the run (the imported modules: PyTorch's
    alone are ~170k) go to ``gc.freeze()``'s permanent generation for its duration, so
    CPython's full collections, triggered as the graph grows, scan the graph only.
    """
    from benchmarks.workloads import chain

    sync = make_sync(ctx)
    out: dict = {}
    if freeze:
        gc.collect()
        gc.freeze()
    try:
        for n in (10_000, 100_000):
            samples = 3 if quick or n == 100_000 else 5
            try:
                out[n] = time_systems(f"deep-chain-{n}", chain(ctx, n), 0, samples, sync,
                                      1e-3)[0]
            except RecursionError as exc:  # reported, not hidden
                out[n] = {"error": f"RecursionError: {exc}"}
            print(f"  deep-chain {n}{' (frozen)' if freeze else ''}: {out[n]}", file=sys.stderr)
    finally:
        if freeze:
            gc.unfreeze()
    return out


def run_deep_chain_own(ctx: Any, quick: bool, threads: int, malloc: str = "pinned") -> dict:
    """deep-chain with each system in a fresh process of its own (``benchmarks/deep_chain.py``)."""
    out: dict = {n: {} for n in (10_000, 100_000)}
    systems = ["autodiff", "floor"] + (["torch"] if ctx.torch is not None else [])
    for system in systems:
        cmd = [sys.executable, "-m", "benchmarks.deep_chain", system, "--device", ctx.device,
               "--threads", str(threads), "--samples", "3" if quick else "7",
               "--stat", _stat.__name__, "--malloc", malloc]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            for n in out:
                out[n]["error"] = f"{system}: {last}"
            continue
        for n, t in json.loads(proc.stdout).items():
            out[int(n)][system] = t
    print(f"  deep-chain (own processes): {out}", file=sys.stderr)
    return out


def run_memory(ctx: Any, steps: int) -> dict:
    """tracemalloc peak of ``steps`` training steps (setup included) and live bytes per step.

    NumPy reports its buffers to tracemalloc, so the figures cover array data as well as
    Python objects. PyTorch's allocator does not, so it is left out here.
    """
    import tracemalloc

    from benchmarks.workloads import WORKLOADS

    out: dict = {}
    for name in ("seed-mlp", "big-mlp"):
        out[name] = {}
        for system in ("autodiff", "floor"):
            factories = WORKLOADS[name](ctx)
            make = factories[system]
            del factories
            gc.collect()
            tracemalloc.start()
            step = make()
            live = []
            for _ in range(steps):
                step()
                # A full collection also empties Python's free lists, which would
                # otherwise read as slow growth that is not a leak.
                gc.collect()
                live.append(tracemalloc.get_traced_memory()[0])
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            del step
            out[name][system] = {"peak": peak, "live_first": live[0], "live_second": live[1],
                                 "live_last": live[-1], "live_max_after_2": max(live[1:])}
        print(f"  memory {name}: {out[name]}", file=sys.stderr)
    return out


# ---- reporting ------------------------------------------------------------------------
def machine_info(ctx: Any, threads: int) -> dict:
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            blas = ", ".join(f"{i['internal_api']} {i.get('version') or ''}".strip() for i in infos)
    except ImportError:
        pass
    info = {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "blas": blas, "threads": threads,
        "torch": ctx.torch.__version__ if ctx.torch is not None else "not installed",
        "device": ctx.device, "statistic": _stat.__name__,
        "load average (1 min, at start)": f"{os.getloadavg()[0]:.2f}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if ctx.device == "cuda":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        info["cupy"] = cupy.__version__
    return info


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"


def _ratio(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a / b


def targets(res: dict) -> list:
    """(target, figure, met) rows for the issue's CPU targets."""
    rows = []
    t = res.get("timed", {})
    if "op-chain" in t and "torch" in t["op-chain"]:
        r = t["op-chain"]["autodiff"] / t["op-chain"]["torch"]
        rows.append(("op-chain <= 0.4x PyTorch per op (stretch 0.3x)", f"{r:.2f}x", r <= 0.4))
    if "seed-mlp" in t:
        r = t["seed-mlp"]["autodiff"] / t["seed-mlp"]["floor"]
        rows.append(("seed-mlp <= 1.10x NumPy floor", f"{r:.2f}x", r <= 1.10))
        if "torch" in t["seed-mlp"]:
            r = t["seed-mlp"]["autodiff"] / t["seed-mlp"]["torch"]
            rows.append(("seed-mlp faster than PyTorch", f"{r:.2f}x", r < 1.0))
    if "big-mlp" in t:
        r = t["big-mlp"]["autodiff"] / t["big-mlp"]["floor"]
        rows.append(("big-mlp <= 1.03x NumPy floor", f"{r:.3f}x", r <= 1.03))
    if "hvp" in t and "torch" in t["hvp"]:
        r = t["hvp"]["autodiff"] / t["hvp"]["torch"]
        rows.append(("hvp <= 1.5x PyTorch", f"{r:.2f}x", r <= 1.5))
    # autodiff.compile (docs/compile.md): the replayed step against the floor, the recording
    # call against an eager step, the replay's peak memory against eager's.
    limits = {"seed-mlp": 1.05, "op-chain": 1.5, "big-mlp": 1.0}
    for name, limit in limits.items():
        if name in t and "compiled" in t[name]:
            r = t[name]["compiled"] / t[name]["floor"]
            rows.append((f"{name} compiled <= {limit:.2f}x NumPy floor", f"{r:.3f}x", r <= limit))
    for name, r in res.get("record", {}).items():
        rows.append((f"{name}: recording call <= 3x an eager step", f"{r['record'] / r['eager']:.2f}x",
                     r["record"] <= 3 * r["eager"]))
    for name, m in res.get("step_peak", {}).items():
        rows.append((f"{name}: compiled step's peak memory <= eager's",
                     f"{m['compiled'] / 2**20:.3f} / {m['autodiff'] / 2**20:.3f} MiB", m["compiled"] <= m["autodiff"]))
    for key, how in DEEP_VARIANTS:
        d = res.get(key)
        if not d:
            continue
        a, b = d[10_000], d[100_000]
        if "error" in a or "error" in b:
            rows.append(("deep-chain: no RecursionError", a.get("error") or b.get("error"), False))
        else:
            r = b["autodiff"] / a["autodiff"]
            rows.append((f"deep-chain 100k ops <= 12x time of 10k ops ({how})", f"{r:.1f}x", r <= 12))
    m = res.get("memory")
    if m:
        for name, sysm in m.items():
            r = sysm["autodiff"]["peak"] / sysm["floor"]["peak"]
            rows.append((f"memory {name}: peak <= 1.3x NumPy floor", f"{r:.2f}x", r <= 1.3))
            g = sysm["autodiff"]["live_last"] - sysm["autodiff"]["live_second"]
            gm = sysm["autodiff"]["live_max_after_2"] - sysm["autodiff"]["live_second"]
            # A few KiB of jitter are Python's own (free lists, interned objects); a leak of
            # one array per step would show as its size times the step count.
            rows.append((f"memory {name}: live bytes do not grow (step 2 -> last)",
                         f"{g:+d} B (max {gm:+d} B)", gm <= 64 * 1024))
    return rows


def render(res: dict) -> str:
    info = res["machine"]
    lines = []
    lines.append("| machine | |\n|---|---|")
    for k in ("cpu", "cores", "threads", "python", "numpy", "blas", "torch", "device", "gpu",
              "cupy", "malloc", "statistic", "load average (1 min, at start)", "date"):
        if k in info:
            lines.append(f"| {k} | {info[k]} |")
    lines.append("")
    timed = res.get("timed", {})
    if timed:
        inner = res.get("inner", {})
        lines.append("| workload | unit | autodiff | floor | PyTorch | autodiff / floor | "
                     "autodiff / PyTorch | steps per sample |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, t in timed.items():
            unit, k = UNITS[name]
            ad, fl, pt = t.get("autodiff"), t.get("floor"), t.get("torch")
            lines.append(
                f"| {name} | {unit} | {_fmt(ad * k)} | {_fmt(fl * k)} | "
                f"{_fmt(pt * k if pt else None)} | {_fmt(_ratio(ad, fl))} | {_fmt(_ratio(ad, pt))} "
                f"| {inner.get(name, '')} |"
            )
        lines.append("")
        # What the floor leaves out: PyTorch's `.grad` contract, and a minimal Python engine.
        refs = {name: t for name, t in timed.items() if "floor-grad" in t}
        if refs:
            lines.append("| workload | unit | floor | floor with the `.grad` contract | "
                         "lean engine | autodiff | contract / floor | lean / floor | "
                         "autodiff / floor |")
            lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
            for name, t in refs.items():
                unit, k = UNITS[name]
                fl, fg, le, ad = t["floor"], t["floor-grad"], t.get("lean"), t["autodiff"]
                lines.append(f"| {name} | {unit} | {_fmt(fl * k)} | {_fmt(fg * k)} | "
                             f"{_fmt(le * k if le else None)} | {_fmt(ad * k)} | "
                             f"{_fmt(fg / fl)} | {_fmt(_ratio(le, fl))} | {_fmt(ad / fl)} |")
            lines.append("")
    compiled = {name: t for name, t in timed.items() if "compiled" in t}
    if compiled:
        # autodiff.compile: the step recorded once, replayed as a flat program (docs/compile.md).
        # Peak memory: tracemalloc's peak during one warm step, the system's data included.
        record, peaks = res.get("record", {}), res.get("step_peak", {})
        # "compiled / contract floor": against the floor that keeps PyTorch's .grad contract
        # (the second table), which a replay of the eager step's calls cannot go below.
        lines.append("| workload | unit | compiled | eager | floor | compiled / floor | "
                     "compiled / contract floor | eager / floor | "
                     "compiled / eager | recording call / eager step | peak MiB eager | "
                     "peak MiB compiled |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, t in compiled.items():
            unit, k = UNITS[name]
            c, ad, fl = t["compiled"], t["autodiff"], t["floor"]
            r, m = record.get(name), peaks.get(name, {})
            mib = {s: f"{m[s] / 2**20:.3f}" if s in m else "" for s in ("autodiff", "compiled")}
            lines.append(f"| {name} | {unit} | {_fmt(c * k)} | {_fmt(ad * k)} | {_fmt(fl * k)} | "
                         f"{_fmt(c / fl)} | {_fmt(_ratio(c, t.get('floor-grad')))} | {_fmt(ad / fl)} | "
                         f"{_fmt(c / ad)} | {_fmt(r['record'] / r['eager']) if r else ''} | "
                         f"{mib['autodiff']} | {mib['compiled']} |")
        lines.append("")
    faults = res.get("faults")
    if faults:
        names = [s for s in ("autodiff", "compiled", "floor", "floor-grad", "lean", "torch")
                 if any(s in f for f in faults.values())]
        lines.append("Minor page faults per step, over the timed samples:\n")
        lines.append("| workload | " + " | ".join(names) + " |")
        lines.append("|---|" + "---:|" * len(names))
        for name, f in faults.items():
            lines.append(f"| {name} | " + " | ".join(_fmt(f.get(s)) for s in names) + " |")
        lines.append("")
    deep = {how: res[key] for key, how in DEEP_VARIANTS if key in res}
    if deep:
        lines.append("| deep-chain | heap | autodiff | floor | PyTorch | autodiff us/op |")
        lines.append("|---|---|---:|---:|---:|---:|")
        for how, runs in deep.items():
            for n, t in runs.items():
                if "error" in t:
                    lines.append(f"| {n} ops | {how} | {t['error']} | | | |")
                    continue
                lines.append(f"| {n:,} ops (s) | {how} | {_fmt(t['autodiff'])} | "
                             f"{_fmt(t['floor'])} | {_fmt(t.get('torch'))} | "
                             f"{_fmt(t['autodiff'] / n * 1e6)} |")
        lines.append("")
    mem = res.get("memory")
    if mem:
        lines.append(f"Memory ({res['memory_steps']} steps, tracemalloc, setup included; MiB):\n")
        lines.append("| workload | autodiff peak | floor peak | ratio | autodiff live after "
                     "step 1 / 2 / last | floor live after step 1 / 2 / last |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        mib = 1 / 2**20
        for name, m in mem.items():
            a, f = m["autodiff"], m["floor"]
            lines.append(
                f"| {name} | {a['peak'] * mib:.2f} | {f['peak'] * mib:.2f} | "
                f"{a['peak'] / f['peak']:.2f} | {a['live_first'] * mib:.3f} / "
                f"{a['live_second'] * mib:.3f} / {a['live_last'] * mib:.3f} | "
                f"{f['live_first'] * mib:.3f} / {f['live_second'] * mib:.3f} / "
                f"{f['live_last'] * mib:.3f} |"
            )
        lines.append("")
    rows = targets(res)
    if rows:
        lines.append("| target | figure | met |\n|---|---:|---|")
        for target, fig, met in rows:
            lines.append(f"| {target} | {fig} | {'yes' if met else '**no**'} |")
        lines.append("")
    for note in res.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


DOC_HEAD = """# Benchmarks

Generated by `python -m benchmarks --write-docs [--stat min]` (do not edit by hand; rerun it).

Each workload runs in one process for three systems side by side: **autodiff**, the
**floor** (the same math written by hand in NumPy, forward and backward: what the engine
can approach but not beat) and **PyTorch** (same data, same float dtype). Systems are
sampled interleaved (A B C A B C ...) after a warm-up; figures are medians, or minimums
with `--stat min` (the statistic and the machine's load average are in the table: on a
machine shared with other busy processes, the minimum is the figure that is not mostly
preemption). Every system's result is checked against the floor before it is timed.
One sample runs one system's step back to back for about 30 ms (the steps per sample,
in the table, are sized from the fastest system's warm step), so that it measures that
system's steady state, as a training loop runs it: the first step after a switch of
system runs with the caches the other systems left, and costs a Python engine more
than hand-written NumPy. With 5 steps per sample instead of ~100, `seed-mlp` read
autodiff 1.54x the floor, the lean engine (below) 1.21x and PyTorch 2.20x; with 100,
1.26x, 1.14x and 1.56x (one run on this machine). BLAS/OpenMP run single-threaded
(and `torch.set_num_threads(1)`) unless `--threads N` is given: worker threads that keep
spinning after a call slow whichever system runs next.

Workloads: `seed-mlp` (the MyReLU two-layer net of examples/myrelu_two_layer.py,
64x1000 -> 100 -> 10, float32, one step: forward, `loss.item()`, backward, SGD update,
zero grads), `big-mlp` (the same net at 512x2048 -> 2048 -> 10), `op-chain` (1,000
elementwise ops `v = v * 1.0001 + 0.001` on 4 elements, forward and backward, time per
op), `hvp` (Hessian-vector product of a 3-layer tanh MLP, 64x100 -> 100 -> 100 -> 10,
float64, by double backward; the floor is Pearlmutter's R-operator by hand),
`deep-chain` (the op-chain at 10,000 and 100,000 ops) and `memory` (tracemalloc peak
over 100 `seed-mlp` / `big-mlp` steps, and live bytes after each step).

**Two references for the MLPs.** The floor does less than any PyTorch-compatible engine
may: it assigns its gradients and never clears them. The second table adds two more
systems, timed in the same interleaved run: the floor with PyTorch's `.grad` contract
(gradients added into buffers that `zero_()` clears, and the clone that `MyReLU`'s
backward makes of its incoming gradient: no engine at all), and a lean engine
(`benchmarks/lean_engine.py`: about 60 lines of Python that record and run a graph for exactly
this step, with the same contract and no grad modes, version counters, hooks, checks or
`Function` API). The first says what PyTorch's semantics cost by themselves; the second,
what the least Python engine costs on top of them.

**Compiled steps.** The third table times `autodiff.compile` of the same steps
(docs/compile.md): the step recorded once, then replayed as a flat program of the eager
step's backend calls, bit for bit the eager values. A replay makes the eager step's calls,
so it keeps PyTorch's `.grad` contract (`.grad += ...`, `zero_()`): its limit is the floor
with that contract, and the column "compiled / contract floor" reads it against that
limit (the seed MLP's contract costs ~5% over the floor, the big MLP's ~1%). The recording
call (the first) is read against a warm eager step; the peak memory is tracemalloc's
during one warm step, the system's data included: a replay's arrays take what eager's take
at its peak, and its program's Python objects (code, ops, guards) come on top.

**Page faults.** Left to itself, glibc's malloc gives freed arrays back to the kernel
(it serves large ones with fresh `mmap` pages and trims the top of its heap) until the
process first frees a block of several MiB, which moves both thresholds up for good.
Below them every new array comes from fresh pages and pays a fault per 4 KiB, which on
this machine costs ~3 us each: in a process that has not imported PyTorch, the
`seed-mlp` floor (whose `fw1 -= lr * g_w1` frees two 400 kB temporaries a step) took
~160 faults and twice its time per step, and read *slower* than autodiff (0.76x), which
keeps its gradient buffers; with PyTorch imported first, no faults at all. So the
benchmark pins the thresholds before anything runs (`mallopt`: arrays up to 32 MiB come
from the heap, and the heap is trimmed only above 1 GiB free; the `malloc` row of the
machine table says whether it could), so that all systems reuse warm pages whatever
ran before; `--malloc as-is` leaves them alone. The table of minor page faults per step
shows what is left: a figure with more than a few faults per step measures the
allocator, not the code.

**deep-chain and CPython's cyclic GC.** Each op of this chain leaves one GC-tracked object
alive until backward: its node (an edge to output 0 is the node itself, and a node with
a lone such edge, as `x * 2.0` and `x + 1.0` record, keeps it without a tuple; ops with
several inputs also leave their `next_edges` tuple). CPython runs a full collection
whenever the objects that survived the young generations reach 25% of those that
survived the last full one, and a full collection scans every tracked object in the
process. A 10,000-op chain triggers at most one; a 100,000-op chain one or more (how many
depends on what the process did before), each scanning the graph *and everything else
alive*: in this process, mostly PyTorch's ~170k module objects. With PyTorch imported, one such collection
takes ~0.1 s, which is what makes 100k ops cost more than 10x 10k ops; with the collector
off (`gc.disable()`) the ratio is ~10x, and backward is linear already (the engine pauses
the collector while it runs: what backward frees dies by reference counting). PyTorch's
own graph is C++ and invisible to the collector, so the side-by-side run charges
autodiff for PyTorch's objects and not the other way round. The table therefore shows
the chain three ways: "own process", each system alone in a fresh process that imports
only what it needs (`python -m benchmarks.deep_chain autodiff|floor|torch`; the two sizes
alternate), which is the engine's own scaling and the figure the target is read from;
"as is", side by side in the benchmark process; and "imports frozen", side by side with
the objects alive before the run frozen (`gc.freeze()`, undone after), so that the
collector scans the graph only. autodiff itself leaves the collector alone while you build a graph
(`gc.freeze()` and the thresholds are process-wide settings that belong to the
application); a program that builds very deep graphs after importing large libraries
can do what the last run does: `gc.freeze()` after its imports, or
`gc.set_threshold(...)` with a larger first threshold.

"""

CUDA_NOTE = """
## GPU

`python -m benchmarks --device cuda` runs the same workloads on CUDA against the floor
written in CuPy and PyTorch CUDA (timed with `cupy.cuda.Device().synchronize()` and
`torch.cuda.synchronize()`). No GPU was available on the machine that produced the
figures above, so there are no GPU figures yet. On a machine with a GPU,
`bash benchmarks/gpu_check.sh` runs the CUDA tests, the examples and this benchmark with
`--device cuda` in one go (about 8 minutes) and writes one report file for this page.
"""


def write_docs(res: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = DOC_HEAD + f"## Results ({res['machine']['device']})\n\n" + render(res)
    if res["machine"]["device"] != "cuda":
        body += CUDA_NOTE
    path.write_text(body)


def main(argv: list | None = None) -> dict:
    parser = argparse.ArgumentParser(description="autodiff benchmarks vs the NumPy floor and PyTorch")
    parser.add_argument("workloads", nargs="*",
                        help="seed-mlp big-mlp op-chain hvp deep-chain memory (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--memory-steps", type=int, default=100)
    parser.add_argument("--stat", default="median", choices=tuple(STAT),
                        help="min resists other processes preempting long samples")
    parser.add_argument("--malloc", default="pinned", choices=MALLOC_MODES,
                        help="as-is: leave glibc's malloc thresholds to move (see Page faults)")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--write-docs", action="store_true", help="regenerate docs/benchmarks.md")
    args = parser.parse_args(argv)

    set_threads(args.threads)  # before NumPy/torch load their thread pools
    malloc = set_malloc(args.malloc)
    global _stat
    _stat = STAT[args.stat]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    names = args.workloads or ["seed-mlp", "big-mlp", "op-chain", "hvp", "deep-chain", "memory"]
    ctx = make_ctx(args.device, args.threads)
    set_threads(args.threads)  # again: torch may have brought its own OpenMP
    res: dict = {"machine": machine_info(ctx, args.threads)}
    res["machine"]["malloc"] = malloc
    timed = [n for n in names if n in PLAN]
    if timed:
        res["faults"], res["inner"] = {}, {}
        res["timed"] = run_timed(ctx, timed, args.quick, res["faults"], res["inner"])
        res["record"] = run_record_cost(ctx, timed)
        if ctx.device == "cpu":  # (tracemalloc sees NumPy's buffers, not CuPy's)
            res["step_peak"] = run_step_peak(ctx, timed)
    if "deep-chain" in names:
        res["deep-chain-own"] = run_deep_chain_own(ctx, args.quick, args.threads, args.malloc)
        res["deep-chain"] = run_deep_chain(ctx, args.quick)
        res["deep-chain-frozen"] = run_deep_chain(ctx, args.quick, freeze=True)
    if "memory" in names:
        res["memory_steps"] = args.memory_steps
        res["memory"] = run_memory(ctx, args.memory_steps)
    res["notes"] = sorted(set(ctx.notes))
    print(render(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1, default=str))
    if args.write_docs:
        write_docs(res, ROOT / "docs" / "benchmarks.md")
    return res


if __name__ == "__main__":
    main()
