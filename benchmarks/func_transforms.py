"""``python -m benchmarks.func_transforms [--quick]``: the function transforms (autodiff.func).

Rows, each timed in the same run as the rows it is compared with (minimum over samples,
1 thread):

- per-sample gradients of the seed MLP (64 samples, 1000 -> 100 -> 10, ReLU, squared
  error): ``vmap(grad(loss))`` against one batched backward of the same model (the sum of
  those gradients: the cost per-sample gradients are compared with), a Python loop of
  64 ``grad`` calls, and ``torch.func`` on the same workload; beside them, the floor
  every implementation pays: writing the 64 per-sample w1 gradients (outer products,
  64 x 1000 x 100 floats) alone, by NumPy's einsum and by one BLAS product per sample;
- the Jacobian of a function R^10 -> R^1000, ``jacfwd`` against ``jacrev`` (and PyTorch's);
- ``hessian`` of a scalar function of 100 inputs against PyTorch's.

Every system's result is checked against the others before timing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _timed(fn: Callable[[], Any], samples: int) -> float:
    fn()  # warm up
    best = float("inf")
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _host(x: Any) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "cpu") else x.detach().numpy())


def _mlp_data() -> dict:
    rng = np.random.default_rng(0)
    return {"x": rng.standard_normal((64, 1000)), "y": rng.standard_normal((64, 10)),
            "w1": rng.standard_normal((1000, 100)) * 0.03, "w2": rng.standard_normal((100, 10)) * 0.1}


def _outer_product_floor(x: np.ndarray, g_shape: tuple) -> dict:
    """The per-sample w1 gradients alone: 64 outer products x_n g_n^T, a (64, 1000, 100)
    result that any implementation must write (what bounds vmap(grad) from below,
    whatever the batched backward costs), by NumPy's einsum and by one BLAS product per
    sample (the way autodiff's backend writes them)."""
    g = np.random.default_rng(1).standard_normal(g_shape).astype(x.dtype)

    def blas_per_sample() -> np.ndarray:
        out = np.empty((x.shape[0], x.shape[1], g.shape[1]), x.dtype)
        for k in range(x.shape[0]):
            np.dot(x[k, :, None], g[k, None, :], out=out[k])
        return out

    return {"per-sample outer products alone (NumPy einsum)": lambda: np.einsum("ni,nj->nij", x, g),
            "per-sample outer products alone (BLAS per sample)": blas_per_sample}


def per_sample_grads(samples: int) -> dict:
    import autodiff
    from autodiff import func

    d = _mlp_data()
    f32 = {k: v.astype(np.float32) for k, v in d.items()}

    def loss(m: Any) -> Callable:
        def f(params: dict, x: Any, y: Any) -> Any:
            h = m.relu(x @ params["w1"]) @ params["w2"]
            return ((h - y) ** 2).sum()

        return f

    params = {k: autodiff.tensor(f32[k]) for k in ("w1", "w2")}
    x, y = autodiff.tensor(f32["x"]), autodiff.tensor(f32["y"])
    per_sample = func.vmap(func.grad(loss(autodiff)), in_dims=(None, 0, 0))
    one_grad = func.grad(loss(autodiff))

    def batched() -> Any:
        ps = {k: v.detach().requires_grad_() for k, v in params.items()}
        loss(autodiff)(ps, x, y).backward()
        return ps["w1"].grad

    def python_loop() -> Any:
        return autodiff.stack([one_grad(params, x[i], y[i])["w1"] for i in range(64)])

    systems = {"vmap(grad)": lambda: per_sample(params, x, y)["w1"], "batched backward": batched,
               "python loop": python_loop}
    systems.update(_outer_product_floor(f32["x"], (64, 100)))
    check = [_host(per_sample(params, x, y)["w1"]), _host(python_loop())]
    try:
        import torch
        import torch.func as tf

        tparams = {k: torch.tensor(f32[k]) for k in ("w1", "w2")}
        tx, ty = torch.tensor(f32["x"]), torch.tensor(f32["y"])
        tper = tf.vmap(tf.grad(loss(torch)), in_dims=(None, 0, 0))
        systems["torch.func vmap(grad)"] = lambda: tper(tparams, tx, ty)["w1"]
        check.append(_host(tper(tparams, tx, ty)["w1"]))
    except ImportError:
        pass
    for c in check[1:]:
        assert np.allclose(check[0], c, rtol=1e-3, atol=1e-4), "per-sample gradients disagree"
    assert np.allclose(check[0].sum(0), _host(batched()), rtol=1e-3, atol=1e-3)
    return {name: _timed(fn, samples) for name, fn in systems.items()}


def jacobians(samples: int) -> dict:
    import autodiff
    from autodiff import func

    rng = np.random.default_rng(1)
    a_np, x_np = rng.standard_normal((1000, 10)), rng.standard_normal(10)

    def f(m: Any, a: Any) -> Callable:
        return lambda x: (a @ x.sin()).tanh() * x.sum()

    a, x = autodiff.tensor(a_np), autodiff.tensor(x_np)
    systems = {"jacfwd": lambda: func.jacfwd(f(autodiff, a))(x), "jacrev": lambda: func.jacrev(f(autodiff, a))(x)}
    check = [_host(systems["jacfwd"]()), _host(systems["jacrev"]())]
    try:
        import torch
        import torch.func as tf

        ta, tx = torch.tensor(a_np), torch.tensor(x_np)
        systems["torch.func jacfwd"] = lambda: tf.jacfwd(f(torch, ta))(tx)
        systems["torch.func jacrev"] = lambda: tf.jacrev(f(torch, ta))(tx)
        check.append(_host(systems["torch.func jacfwd"]()))
    except ImportError:
        pass
    for c in check[1:]:
        assert np.allclose(check[0], c, rtol=1e-8, atol=1e-10), "Jacobians disagree"
    return {name: _timed(fn, samples) for name, fn in systems.items()}


def hessians(samples: int) -> dict:
    import autodiff
    from autodiff import func

    rng = np.random.default_rng(2)
    a_np, x_np = rng.standard_normal((100, 100)) / 10, rng.standard_normal(100)

    def f(a: Any) -> Callable:
        return lambda x: ((a @ x).tanh() ** 2).sum() + (x.exp() * x).sum()

    a, x = autodiff.tensor(a_np), autodiff.tensor(x_np)
    systems = {"hessian": lambda: func.hessian(f(a))(x)}
    check = [_host(systems["hessian"]())]
    try:
        import torch
        import torch.func as tf

        ta, tx = torch.tensor(a_np), torch.tensor(x_np)
        systems["torch.func hessian"] = lambda: tf.hessian(f(ta))(tx)
        check.append(_host(systems["torch.func hessian"]()))
    except ImportError:
        pass
    for c in check[1:]:
        assert np.allclose(check[0], c, rtol=1e-8, atol=1e-10), "Hessians disagree"
    return {name: _timed(fn, samples) for name, fn in systems.items()}


def render(groups: dict) -> str:
    lines = ["| workload | system | ms | ratio |", "|---|---|---:|---:|"]
    for workload, (base, times) in groups.items():
        for name, t in times.items():
            lines.append(f"| {workload} | {name} | {t * 1e3:.2f} | {t / times[base]:.2f}x |")
    return "\n".join(lines)


def main(argv: list | None = None) -> dict:
    parser = argparse.ArgumentParser(description="autodiff.func benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = parser.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    samples = 3 if args.quick else 15
    groups = {
        "per-sample grads, seed MLP, 64 samples": ("batched backward", per_sample_grads(samples)),
        "Jacobian R^10 -> R^1000": ("jacfwd", jacobians(max(3, samples // 3))),
        "hessian, R^100 -> R": ("hessian", hessians(max(3, samples // 3))),
    }
    print(render(groups))
    return groups


if __name__ == "__main__":
    main()
