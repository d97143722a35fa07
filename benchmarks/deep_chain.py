"""deep-chain for one system in a process of its own: ``python -m benchmarks.deep_chain SYSTEM``.

The 100k/10k ratio is a property of one engine, but CPython's full collections scan every
tracked object in the process: run side by side, autodiff's chain also pays for scanning
PyTorch's ~170k module objects. Here each system runs alone, importing only what it needs
(PyTorch only for the ``torch`` system), and the two sizes alternate so that a slow phase
of the machine hits both. Prints one JSON object: seconds per size (median, or ``--stat min``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

SIZES = (10_000, 100_000)


def main(argv: list | None = None) -> None:
    # (benchmarks.run imports no NumPy: the thread pins below still come first)
    from benchmarks.run import MALLOC_MODES, ROOT, STAT, make_sync, set_malloc, set_threads

    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=("autodiff", "floor", "torch"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--stat", default="median", choices=tuple(STAT))
    parser.add_argument("--malloc", default="pinned", choices=MALLOC_MODES)
    args = parser.parse_args(argv)

    set_threads(args.threads)
    set_malloc(args.malloc)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.workloads import Ctx, chain

    ctx = Ctx(device=args.device)
    if args.device == "cuda":
        import cupy

        ctx.xp = cupy
    if args.system == "torch":
        import torch

        torch.set_num_threads(args.threads)
        ctx.torch = torch
    sync = make_sync(ctx)
    steps = {n: chain(ctx, n)[args.system]() for n in SIZES}
    for step in steps.values():  # warm-up
        step()
    times: dict = {n: [] for n in SIZES}
    for _ in range(args.samples):
        for n, step in steps.items():
            sync()
            t0 = time.perf_counter()
            step()
            sync()
            times[n].append(time.perf_counter() - t0)
    stat = STAT[args.stat]
    print(json.dumps({n: stat(ts) for n, ts in times.items()}))


if __name__ == "__main__":
    main()
