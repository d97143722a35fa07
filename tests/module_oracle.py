"""Checking an nn module against PyTorch's: the same module is built in both libraries,
torch's weights are copied into autodiff's through ``load_state_dict`` (so parameter names
and shapes must match), and outputs, input gradients and parameter gradients are compared
in float64."""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff


def _flat(out: Any) -> list:
    """Every tensor in a (nested) output, in order; ``None`` entries are skipped."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    if hasattr(out, "data") and hasattr(out, "batch_sizes"):  # a PackedSequence
        return [out.data]
    return [out]


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy())


def copy_weights(module: Any, tmodule: Any, device: str = "cpu") -> None:
    """Load ``tmodule``'s state dict (parameters and buffers) into ``module``."""
    state = {k: autodiff.tensor(_np(v), device=device) for k, v in tmodule.state_dict().items()}
    module.load_state_dict(state)


def check_module(make: Any, inputs: list, device: str = "cpu", train: bool = False, rtol: float = 1e-9,
                 atol: float = 1e-10, call: Any = None) -> tuple:
    """Build ``make(autodiff)`` and ``make(torch)``, give them torch's weights, run both on
    ``inputs`` (NumPy arrays; float ones require grad; other values are passed as they are)
    and compare every output, then the gradients of a fixed random weighting of the outputs
    with respect to the float inputs and every parameter. ``call(module, *inputs)`` replaces
    ``module(*inputs)``. Returns both modules."""
    import torch

    torch.manual_seed(0)
    tmod = make(torch).double()
    mod = make(autodiff).double().to(device)
    copy_weights(mod, tmod, device)
    mod.train(train)
    tmod.train(train)

    def wrap(lib: Any, a: Any, dev: str) -> Any:
        if isinstance(a, np.ndarray):
            floating = a.dtype.kind == "f"
            if lib is torch:
                return torch.tensor(a, requires_grad=floating)
            return autodiff.tensor(a, device=dev, requires_grad=floating)
        return a

    xs = [wrap(autodiff, a, device) for a in inputs]
    ts = [wrap(torch, a, "cpu") for a in inputs]
    call = call or (lambda m, *a: m(*a))
    outs, touts = _flat(call(mod, *xs)), _flat(call(tmod, *ts))
    assert len(outs) == len(touts), f"{len(outs)} outputs, torch has {len(touts)}"
    rng = np.random.default_rng(1)
    total, ttotal = None, None
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert tuple(o.shape) == tuple(t.shape), f"output {k}: shape {tuple(o.shape)}, torch {tuple(t.shape)}"
        if t.dtype.is_floating_point:
            np.testing.assert_allclose(_np(o), _np(t), rtol=rtol, atol=atol, err_msg=f"output {k}")
            if t.requires_grad:
                w = rng.standard_normal(tuple(t.shape))
                term = (o * autodiff.tensor(w, device=device)).sum()
                tterm = (t * torch.tensor(w)).sum()
                total = term if total is None else total + term
                ttotal = tterm if ttotal is None else ttotal + tterm
        else:
            np.testing.assert_array_equal(_np(o), _np(t), err_msg=f"output {k}")
    if ttotal is None:
        return mod, tmod
    total.backward()
    ttotal.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.grad is not None:  # (float masks get none)
            np.testing.assert_allclose(_np(x.grad), _np(t.grad), rtol=rtol, atol=atol, err_msg=f"input {k} grad")
    tparams = dict(tmod.named_parameters())
    params = dict(mod.named_parameters())
    assert sorted(params) == sorted(tparams), (sorted(params), sorted(tparams))
    for name, tp in tparams.items():
        p = params[name]
        if tp.grad is None:
            assert p.grad is None or not np.any(_np(p.grad)), f"{name}: torch has no gradient"
            continue
        assert p.grad is not None, f"{name}: no gradient (torch has one)"
        np.testing.assert_allclose(_np(p.grad), _np(tp.grad), rtol=rtol, atol=atol, err_msg=f"{name} grad")
    return mod, tmod


def layer(name: str, *args: Any, **kwargs: Any) -> Any:
    """``make`` for ``check_module``: ``lib.nn.<name>(*args, **kwargs)`` in either library."""
    return lambda lib: getattr(lib.nn, name)(*args, **kwargs)
