"""nn modules against PyTorch: one table of (module, constructor arguments, inputs); each row
builds the module in both libraries, copies the weights, and compares the output, the
gradients of the float inputs and of every parameter (float64), in train and eval mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import autodiff


@dataclass(frozen=True)
class ModuleCase:
    """``nn.<name>(*args, **kwargs)`` called on inputs drawn by ``inputs(rng)``."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    inputs: Callable[[np.random.Generator], list[np.ndarray]] = lambda r: [r.standard_normal((3, 4))]
    id: str = ""


def _real(*shape: int) -> Callable[[np.random.Generator], list[np.ndarray]]:
    return lambda r: [r.standard_normal(shape)]


def _probs_and_labels(r: np.random.Generator) -> list[np.ndarray]:
    return [r.uniform(0.05, 0.95, (4, 3)), r.integers(0, 2, (4, 3)).astype(np.float64)]


def _logits_and_labels(r: np.random.Generator) -> list[np.ndarray]:
    return [r.standard_normal((4, 3)), r.integers(0, 2, (4, 3)).astype(np.float64)]


def _log_probs_and_classes(r: np.random.Generator) -> list[np.ndarray]:
    x = r.standard_normal((5, 4))
    return [x - np.log(np.exp(x).sum(1, keepdims=True)), r.integers(0, 4, 5)]


CASES = [
    ModuleCase("AvgPool2d", (2,), inputs=_real(2, 3, 6, 6)),
    ModuleCase("MaxPool2d", (2,), inputs=_real(2, 3, 6, 6)),
    ModuleCase("MaxPool2d", (3,), {"stride": 2, "padding": 1, "dilation": 2}, inputs=_real(1, 2, 9, 9),
               id="stride-padding-dilation"),
    ModuleCase("BCELoss", inputs=_probs_and_labels),
    ModuleCase("BCELoss", kwargs={"reduction": "sum"}, inputs=_probs_and_labels, id="sum"),
    ModuleCase("BCEWithLogitsLoss", inputs=_logits_and_labels),
    ModuleCase("BCEWithLogitsLoss", kwargs={"reduction": "none"}, inputs=_logits_and_labels, id="none"),
    ModuleCase("NLLLoss", inputs=_log_probs_and_classes),
    ModuleCase("NLLLoss", kwargs={"reduction": "sum", "ignore_index": 1}, inputs=_log_probs_and_classes,
               id="sum-ignore"),
    ModuleCase("CrossEntropyLoss", inputs=_log_probs_and_classes),
    ModuleCase("MSELoss", inputs=lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4))]),
    ModuleCase("GELU"),
    ModuleCase("GELU", kwargs={"approximate": "tanh"}, id="tanh"),
    ModuleCase("LeakyReLU", (0.2,)),
    ModuleCase("ReLU"),
    ModuleCase("Tanh"),
    ModuleCase("Sigmoid"),
    ModuleCase("Softmax", kwargs={"dim": 1}),
    ModuleCase("LogSoftmax", kwargs={"dim": 0}),
    ModuleCase("Flatten", inputs=_real(2, 3, 4)),
    ModuleCase("Identity"),
    ModuleCase("Linear", (4, 5)),
    ModuleCase("Linear", (4, 5), {"bias": False}, id="no-bias"),
    ModuleCase("BatchNorm3d", (2,), inputs=_real(3, 2, 2, 3, 2)),
    ModuleCase("InstanceNorm1d", (2,), {"affine": True}, inputs=_real(3, 2, 5)),
    ModuleCase("InstanceNorm2d", (2,), inputs=_real(3, 2, 4, 3)),
    ModuleCase("InstanceNorm3d", (2,), {"affine": True}, inputs=_real(2, 2, 3, 2, 3)),
    ModuleCase("Conv2d", (2, 4, 3), inputs=_real(2, 2, 7, 7)),
    ModuleCase("Conv2d", (2, 4, 3), {"stride": 2, "padding": 1, "dilation": 2, "bias": False},
               inputs=_real(2, 2, 9, 9), id="stride-padding-dilation"),
    ModuleCase("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "groups": 2}, inputs=_real(1, 4, 7, 6),
               id="groups"),
]


def _build(m: Any, case: ModuleCase) -> Any:
    return getattr(m.nn, case.name)(*case.args, **case.kwargs).double()


def _run(m: Any, module: Any, arrays: list[np.ndarray]) -> tuple[Any, list]:
    xs = [m.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = module(*xs)
    out.backward(m.ones_like(out))
    grads = [x.grad for x in xs if x.requires_grad] + [p.grad for p in module.parameters()]
    return out, grads


def _numpy(t: Any) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy())


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.id}" if c.id else c.name for c in CASES])
def test_module_matches_torch(case: ModuleCase, mode: str) -> None:
    torch = pytest.importorskip("torch")
    autodiff.manual_seed(0)
    ours, theirs = _build(autodiff, case), _build(torch, case)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    with torch.no_grad():
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            tp.copy_(torch.from_numpy(_numpy(p)))
    arrays = case.inputs(np.random.default_rng(0))
    out, grads = _run(autodiff, ours, arrays)
    tout, tgrads = _run(torch, theirs, arrays)
    np.testing.assert_allclose(_numpy(out), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert len(grads) == len(tgrads)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(_numpy(g), tg.numpy(), rtol=1e-9, atol=1e-12)


def test_dropout_matches_torch_where_it_is_deterministic() -> None:
    # eval() makes Dropout the identity; p=0 keeps every element in training too.
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    for p, training in ((0.5, False), (0.0, True)):
        ours, theirs = autodiff.nn.Dropout(p).train(training), torch.nn.Dropout(p).train(training)
        out, (g,) = _run(autodiff, ours, [x])
        tout, (tg,) = _run(torch, theirs, [x])
        np.testing.assert_array_equal(_numpy(out), tout.detach().numpy())
        np.testing.assert_array_equal(_numpy(g), tg.numpy())


def _stacked(m: Any) -> Any:
    class Stacked(m.nn.Module):
        """A user's Module holding a ModuleList and a Sequential, as in PyTorch tutorials."""

        def __init__(self) -> None:
            super().__init__()
            self.blocks = m.nn.ModuleList([m.nn.Linear(4, 4) for _ in range(3)])
            self.head = m.nn.Sequential(m.nn.ReLU(), m.nn.Linear(4, 2))

        def forward(self, x: Any) -> Any:
            for block in self.blocks:
                x = x + block(x).tanh()
            return self.head(x)

    return Stacked().double()


def test_module_and_module_list_match_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _stacked(autodiff), _stacked(torch)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in tsd.values()]
    theirs.load_state_dict({k: torch.from_numpy(_numpy(v)) for k, v in sd.items()})
    x = np.random.default_rng(1).standard_normal((5, 4))
    out, grads = _run(autodiff, ours, [x])
    tout, tgrads = _run(torch, theirs, [x])
    np.testing.assert_allclose(_numpy(out), tout.detach().numpy(), rtol=1e-10)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(_numpy(g), tg.numpy(), rtol=1e-9, atol=1e-12)


def test_transformer_decoder_matches_torch() -> None:
    torch = pytest.importorskip("torch")

    def build(m: Any) -> Any:
        layer = m.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
        return m.nn.TransformerDecoder(layer, 2).double().eval()

    ours, theirs = build(autodiff), build(torch)
    theirs.load_state_dict({k: torch.from_numpy(_numpy(v)) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 4, 8))]  # target, memory
    out, grads = _run(autodiff, ours, arrays)
    tout, tgrads = _run(torch, theirs, arrays)
    np.testing.assert_allclose(_numpy(out), tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(_numpy(g), tg.numpy(), rtol=1e-8, atol=1e-10)
