"""CUDA graphs of ``autodiff.compile``: one training step of the seed MLP and the big MLP as
eager autodiff, the compiled replay, the compiled replay launched as a CUDA graph
(``mode="reduce-overhead"``) and PyTorch CUDA eager, against the hand-written CuPy floor.

    python -m benchmarks.cuda_graphs [--quick]

Every system first computes the floor's answer (``benchmarks.run.check_agree``), then the
systems are timed interleaved (``benchmarks.run.time_systems``, the minimum per step). Each
step reads its loss on the host (``.item()``), as the example's loop does, so a step's time
is its launches plus its GPU work. The report says how many graph launches the
``compiled-graph`` system made and any ``CUDAGraphBreak`` warning (a step that fell back to
the plain replay). Without a CUDA device it says so and exits 0 (benchmarks/gpu_check.sh runs
it on every machine); ``AUTODIFF_SIMULATE_CUDA=1`` runs it on a simulated device (numbers
meaningless, a check that it runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from collections.abc import Callable

SYSTEMS = ("floor", "autodiff", "compiled", "compiled-graph", "torch")


def _kept(steps: dict, system: str, make: Callable) -> Callable:
    """``make``, keeping the step it makes in ``steps[system]``."""
    def made() -> Callable:
        steps[system] = step = make()
        return step

    return made


def _ratio(timed: dict, a: str, b: str) -> str:
    return f"{timed[a] / timed[b]:.2f}x" if a in timed and b in timed else "-"


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = parser.parse_args(argv)
    import autodiff

    if not autodiff.cuda.is_available():
        print("cuda_graphs: no CUDA device (CuPy and an NVIDIA GPU, or AUTODIFF_SIMULATE_CUDA=1): nothing to time")
        return 0
    from benchmarks import run
    from benchmarks.workloads import WORKLOADS

    run._stat = min
    ctx = run.make_ctx("cuda", 1)
    if ctx.torch is not None and not ctx.torch.cuda.is_available():
        ctx.torch = None  # (a CPU-only PyTorch: no CUDA column)
    sync = run.make_sync(ctx)
    samples = 3 if args.quick else 15
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("seed-mlp", "big-mlp"):
            factories = {s: f for s, f in WORKLOADS[name](ctx).items() if s in SYSTEMS}
            steps: dict = {}
            timed, _inner = run.time_systems(name, {s: _kept(steps, s, f) for s, f in factories.items()},
                                             0.0 if args.quick else 0.05, samples, sync, 1e-4)
            graphed = getattr(steps.get("compiled-graph"), "compiled", None)
            launches = sum(p.cuda_graph.launches for p in getattr(graphed, "programs", {}).values()
                           if hasattr(p, "cuda_graph"))
            rows.append((name, timed, launches))
    print(f"device: {autodiff.cuda.get_device_name(0)}; torch: {getattr(ctx.torch, '__version__', 'not used')}")
    print("| workload | " + " | ".join(f"{s} (us)" for s in SYSTEMS) + " | graph / compiled | graph / torch | graph launches |")
    print("|---" * (len(SYSTEMS) + 4) + "|")
    for name, timed, launches in rows:
        cells = [f"{timed[s] * 1e6:.1f}" if s in timed else "-" for s in SYSTEMS]
        ratios = [_ratio(timed, "compiled-graph", other) for other in ("compiled", "torch")]
        print(f"| {name} | " + " | ".join(cells + ratios) + f" | {launches} |")
    breaks = sorted({str(w.message) for w in caught if type(w.message).__name__ == "CUDAGraphBreak"})
    for message in breaks:
        print("CUDAGraphBreak:", message)
    if not breaks:
        print("no CUDAGraphBreak warning")
    return 0 if statistics.fmean(r[2] for r in rows) > 0 or breaks else 1


if __name__ == "__main__":
    sys.exit(main())
