"""The benchmark workloads, each written three times: autodiff, a hand-written floor, PyTorch.

A workload builder takes a ``Ctx`` (device, and the array module ``xp`` of the floor:
NumPy on the CPU, CuPy on CUDA) and returns ``{system: make}``; ``make()`` sets the
system up (allocating its copy of the data) and returns ``step``; ``step()`` runs one
repetition and returns something comparable across systems (checked once, before
timing, so a benchmark of a wrong answer cannot pass unnoticed). All systems start from
the same data, drawn once with NumPy.

The floor is the same math written by hand, forward and backward: what a program that
knew its gradient formulas in advance would do. It is the speed an engine can approach
but not beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Ctx:
    device: str = "cpu"  # "cpu" or "cuda"
    xp: Any = np  # the floor's array module
    torch: Any = None  # the torch module, or None when it is not installed
    notes: list = field(default_factory=list)

    def to_xp(self, a: np.ndarray) -> Any:
        return a.copy() if self.xp is np else self.xp.asarray(a)

    def to_ad(self, a: np.ndarray, requires_grad: bool = False) -> Any:
        import autodiff

        return autodiff.tensor(a, device=self.device, requires_grad=requires_grad)

    def to_torch(self, a: np.ndarray, requires_grad: bool = False) -> Any:
        t = self.torch.tensor(a, device=self.device)
        return t.requires_grad_(requires_grad)


def _host(x: Any) -> np.ndarray:
    """A NumPy copy of a result from any system (autodiff/torch tensor, NumPy/CuPy array)."""
    if hasattr(x, "detach"):
        x = x.detach()
        if hasattr(x, "cpu"):
            x = x.cpu()
        return np.asarray(x.numpy())
    if hasattr(x, "get"):  # CuPy
        return x.get()
    return np.asarray(x)


def host_result(x: Any) -> Any:
    if isinstance(x, (tuple, list)):
        return [host_result(v) for v in x]
    if isinstance(x, float):
        return np.asarray(x)
    return _host(x)


# ---- 1, 2: the MyReLU two-layer net ------------------------------------------------
def _torch_myrelu(torch: Any) -> Any:
    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    return MyReLU


def mlp(ctx: Ctx, n: int, d_in: int, h: int, d_out: int, lr: float, scale: bool) -> dict:
    """One training step of the example's net: forward, backward, SGD update, zero grads."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = rng.standard_normal((n, d_in), dtype=f32)
    y = rng.standard_normal((n, d_out), dtype=f32)
    w1 = rng.standard_normal((d_in, h), dtype=f32)
    w2 = rng.standard_normal((h, d_out), dtype=f32)
    if scale:  # keep the big net's values finite over many steps
        w1 /= f32(math.sqrt(d_in))
        w2 /= f32(math.sqrt(h))
    systems = {}

    def make_autodiff() -> Any:
        import autodiff
        from examples.myrelu_two_layer import MyReLU

        ax, ay = ctx.to_ad(x), ctx.to_ad(y)
        aw1, aw2 = ctx.to_ad(w1, True), ctx.to_ad(w2, True)

        def ad_step() -> Any:
            y_pred = MyReLU.apply(ax.mm(aw1)).mm(aw2)
            loss = (y_pred - ay).pow(2).sum()
            value = loss.item()
            loss.backward()
            with autodiff.no_grad():
                w1_ = aw1  # the example's `w1 -= lr * w1.grad` (a closure cannot rebind aw1)
                w1_ -= lr * aw1.grad
                w2_ = aw2
                w2_ -= lr * aw2.grad
                aw1.grad.zero_()
                aw2.grad.zero_()
            return value

        return ad_step

    systems["autodiff"] = make_autodiff

    def make_compiled(mode: str | None = None) -> Any:
        import autodiff
        from examples.myrelu_two_layer import MyReLU

        ax, ay = ctx.to_ad(x), ctx.to_ad(y)
        aw1, aw2 = ctx.to_ad(w1, True), ctx.to_ad(w2, True)

        @autodiff.compile(mode=mode)
        def train_step() -> Any:  # ad_step's step; the loss is read outside (.item() breaks capture)
            y_pred = MyReLU.apply(ax.mm(aw1)).mm(aw2)
            loss = (y_pred - ay).pow(2).sum()
            loss.backward()
            with autodiff.no_grad():
                w1_ = aw1
                w1_ -= lr * aw1.grad
                w2_ = aw2
                w2_ -= lr * aw2.grad
                aw1.grad.zero_()
                aw2.grad.zero_()
            return loss

        def compiled_step() -> Any:
            return train_step().item()

        compiled_step.compiled = train_step  # (benchmarks/cuda_graphs.py reads its programs)
        return compiled_step

    systems["compiled"] = make_compiled
    if ctx.device == "cuda":  # the replay captured into a CUDA graph (docs/compile.md)
        systems["compiled-graph"] = lambda: make_compiled("reduce-overhead")

    def make_floor() -> Any:
        xp = ctx.xp
        fx, fy, fw1, fw2 = ctx.to_xp(x), ctx.to_xp(y), ctx.to_xp(w1), ctx.to_xp(w2)

        def floor_step() -> Any:
            nonlocal fw1, fw2  # `fw1 -= ...` is in place; nonlocal only lets it rebind
            hid = fx @ fw1
            relu = xp.maximum(hid, 0)
            y_pred = relu @ fw2
            diff = y_pred - fy
            value = float((diff * diff).sum())
            g_pred = 2.0 * diff
            g_w2 = relu.T @ g_pred
            g_relu = g_pred @ fw2.T
            g_relu[hid < 0] = 0
            g_w1 = fx.T @ g_relu
            fw1 -= lr * g_w1
            fw2 -= lr * g_w2
            return value

        return floor_step

    systems["floor"] = make_floor

    def make_floor_grad() -> Any:
        # The floor plus what the example's code and PyTorch's `.grad` contract make any
        # compatible engine do: backward adds into gradient buffers that `zero_()` then
        # clears, and MyReLU's backward clones its incoming gradient before masking it.
        # No engine at all: the least a PyTorch-compatible autograd can spend on this step.
        xp = ctx.xp
        fx, fy, fw1, fw2 = ctx.to_xp(x), ctx.to_xp(y), ctx.to_xp(w1), ctx.to_xp(w2)
        gw1, gw2 = xp.zeros_like(fw1), xp.zeros_like(fw2)

        def floor_grad_step() -> Any:
            nonlocal fw1, fw2, gw1, gw2  # (the in-place `-=` / `+=` rebind the names)
            hid = fx @ fw1
            relu = xp.maximum(hid, 0)
            y_pred = relu @ fw2
            diff = y_pred - fy
            value = float((diff * diff).sum())
            g_pred = 2.0 * diff
            gw2 += relu.T @ g_pred
            g_relu = (g_pred @ fw2.T).copy()  # grad_output.clone()
            g_relu[hid < 0] = 0
            gw1 += fx.T @ g_relu
            fw1 -= lr * gw1
            fw2 -= lr * gw2
            gw1.fill(0)  # w1.grad.zero_()
            gw2.fill(0)
            return value

        return floor_grad_step

    systems["floor-grad"] = make_floor_grad

    def make_lean() -> Any:
        from benchmarks.lean_engine import LeanTensor

        lx, ly = LeanTensor(ctx.to_xp(x)), LeanTensor(ctx.to_xp(y))
        lw1 = LeanTensor(ctx.to_xp(w1), requires_grad=True)
        lw2 = LeanTensor(ctx.to_xp(w2), requires_grad=True)

        def lean_step() -> Any:
            y_pred = lx.mm(lw1).relu().mm(lw2)
            loss = (y_pred - ly).square().sum()
            value = float(loss.data)
            loss.backward()
            lw1.data -= lr * lw1.grad
            lw2.data -= lr * lw2.grad
            lw1.grad.fill(0)
            lw2.grad.fill(0)
            return value

        return lean_step

    if ctx.xp is np:  # (LeanTensor is NumPy-only)
        systems["lean"] = make_lean

    def make_torch() -> Any:
        torch = ctx.torch
        relu_fn = _torch_myrelu(torch)
        tx, ty = ctx.to_torch(x), ctx.to_torch(y)
        tw1, tw2 = ctx.to_torch(w1, True), ctx.to_torch(w2, True)

        def torch_step() -> Any:
            y_pred = relu_fn.apply(tx.mm(tw1)).mm(tw2)
            loss = (y_pred - ty).pow(2).sum()
            value = loss.item()
            loss.backward()
            with torch.no_grad():
                w1_ = tw1
                w1_ -= lr * tw1.grad
                w2_ = tw2
                w2_ -= lr * tw2.grad
                tw1.grad.zero_()
                tw2.grad.zero_()
            return value

        return torch_step

    if ctx.torch is not None:
        systems["torch"] = make_torch
    return systems


def seed_mlp(ctx: Ctx) -> dict:
    return mlp(ctx, 64, 1000, 100, 10, lr=1e-6, scale=False)


def big_mlp(ctx: Ctx) -> dict:
    return mlp(ctx, 512, 2048, 2048, 10, lr=1e-5, scale=True)


# ---- 3, 5: chains of tiny elementwise ops --------------------------------------------
def chain(ctx: Ctx, n_ops: int) -> dict:
    """``v = v * 1.0001 + 0.001`` (two ops) repeated on a 4-element tensor, then backward."""
    steps = n_ops // 2
    v0 = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    systems = {}
    a0 = ctx.to_ad(v0, True)

    def ad_step() -> Any:
        v = a0
        for _ in range(steps):
            v = v * 1.0001 + 0.001
        v.sum().backward()
        g = a0.grad
        a0.grad = None
        return g

    systems["autodiff"] = ad_step

    import autodiff

    c0 = ctx.to_ad(v0, True)

    @autodiff.compile
    def compiled_step() -> Any:  # ad_step, replayed as a flat program
        v = c0
        for _ in range(steps):
            v = v * 1.0001 + 0.001
        v.sum().backward()
        g = c0.grad
        c0.grad = None
        return g

    systems["compiled"] = compiled_step

    xp = ctx.xp
    f0 = ctx.to_xp(v0)

    def floor_step() -> Any:
        v = f0
        for _ in range(steps):  # forward: the same 2 * steps ops
            v = v * 1.0001 + 0.001
        v.sum()
        g = xp.ones_like(f0)
        for _ in range(steps):  # backward: add passes g through, mul scales it
            g = g * 1.0001
        return g

    systems["floor"] = floor_step

    if ctx.torch is not None:
        t0 = ctx.to_torch(v0, True)

        def torch_step() -> Any:
            v = t0
            for _ in range(steps):
                v = v * 1.0001 + 0.001
            v.sum().backward()
            g = t0.grad
            t0.grad = None
            return g

        systems["torch"] = torch_step
    return _eager(systems)


def op_chain(ctx: Ctx) -> dict:
    return chain(ctx, 1000)


# ---- 4: Hessian-vector product of a 3-layer tanh MLP -----------------------------------
HVP_SIZES = (64, 100, 100, 10)  # batch, in, hidden, out


def _ad_tanh() -> tuple[Any, str]:
    import autodiff

    fn = getattr(autodiff, "tanh", None)
    if fn is not None:
        return fn, "autodiff.tanh"

    def tanh(x: Any) -> Any:
        e = (2 * x).exp()
        return (e - 1) / (e + 1)

    return tanh, "local (e^2x-1)/(e^2x+1)"


def hvp(ctx: Ctx) -> dict:
    """``H v`` for the loss ``0.5 * sum(out**2)`` of ``tanh(tanh(x m1) m2) m3``, w.r.t. (m1, m2, m3)."""
    n, d, h, o = HVP_SIZES
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, d))
    ws = [rng.standard_normal(s) / math.sqrt(s[0]) for s in ((d, h), (h, h), (h, o))]
    vs = [rng.standard_normal(w.shape) for w in ws]
    systems = {}

    import autodiff

    tanh, which = _ad_tanh()
    ctx.notes.append(f"hvp: autodiff used {which}")
    ax = ctx.to_ad(x)
    aws = [ctx.to_ad(w, True) for w in ws]
    avs = [ctx.to_ad(v) for v in vs]

    def ad_step() -> Any:
        w1, w2, w3 = aws
        out = tanh(tanh(ax.mm(w1)).mm(w2)).mm(w3)
        loss = (out * out).sum() * 0.5
        gs = autodiff.autograd.grad(loss, aws, create_graph=True)
        dot = (gs[0] * avs[0]).sum() + (gs[1] * avs[1]).sum() + (gs[2] * avs[2]).sum()
        return autodiff.autograd.grad(dot, aws)

    systems["autodiff"] = ad_step

    xp = ctx.xp
    fx = ctx.to_xp(x)
    m1, m2, m3 = (ctx.to_xp(w) for w in ws)
    u1, u2, u3 = (ctx.to_xp(v) for v in vs)

    def floor_step() -> Any:
        # Forward and backward, then Pearlmutter's R-operator through both by hand.
        h1 = xp.tanh(fx @ m1)
        h2 = xp.tanh(h1 @ m2)
        out = h2 @ m3
        s1, s2 = 1 - h1 * h1, 1 - h2 * h2
        d_h2 = out @ m3.T
        d_a2 = d_h2 * s2
        d_h1 = d_a2 @ m2.T
        r_h1 = s1 * (fx @ u1)
        r_h2 = s2 * (r_h1 @ m2 + h1 @ u2)
        r_out = r_h2 @ m3 + h2 @ u3
        r_w3 = r_h2.T @ out + h2.T @ r_out
        r_dh2 = r_out @ m3.T + out @ u3.T
        r_da2 = r_dh2 * s2 - 2 * d_h2 * h2 * r_h2
        r_w2 = r_h1.T @ d_a2 + h1.T @ r_da2
        r_dh1 = r_da2 @ m2.T + d_a2 @ u2.T
        r_da1 = r_dh1 * s1 - 2 * d_h1 * h1 * r_h1
        r_w1 = fx.T @ r_da1
        return r_w1, r_w2, r_w3

    systems["floor"] = floor_step

    if ctx.torch is not None:
        torch = ctx.torch
        tx = ctx.to_torch(x)
        tws = [ctx.to_torch(w, True) for w in ws]
        tvs = [ctx.to_torch(v) for v in vs]

        def torch_step() -> Any:
            w1, w2, w3 = tws
            out = torch.tanh(torch.tanh(tx.mm(w1)).mm(w2)).mm(w3)
            loss = (out * out).sum() * 0.5
            gs = torch.autograd.grad(loss, tws, create_graph=True)
            dot = (gs[0] * tvs[0]).sum() + (gs[1] * tvs[1]).sum() + (gs[2] * tvs[2]).sum()
            return torch.autograd.grad(dot, tws)

        systems["torch"] = torch_step
    return _eager(systems)


def _eager(steps: dict) -> dict:
    """Factories for steps whose (small) setup already ran."""
    return {name: (lambda step=step: step) for name, step in steps.items()}


WORKLOADS = {
    "seed-mlp": seed_mlp,
    "big-mlp": big_mlp,
    "op-chain": op_chain,
    "hvp": hvp,
}
