"""The API coverage table: how much of PyTorch's public surface autodiff implements.

``python -m autodiff.testing.api_coverage`` (needs torch) lists PyTorch's public names in
five categories and writes docs/coverage.md, marking each name

- ``implemented``: autodiff has it (``hasattr`` on the matching autodiff object);
- ``out of scope``: a rule in ``OUT_OF_SCOPE`` below matches it (with the reason);
- ``planned``: anything else.

The categories, measured against PyTorch's own lists:

- ``torch`` functions: the keys of ``torch.overrides.get_testing_overrides()`` that are
  public attributes of the ``torch`` module (the functions a tensor subclass can override);
- ``Tensor`` methods and properties: the public names of ``dir(torch.Tensor)``;
- ``nn`` modules: the public ``nn.Module`` subclasses exported by ``torch.nn``;
- ``nn.functional``: the public callables defined in ``torch.nn.functional``;
- optimizers: the ``Optimizer`` subclasses exported by ``torch.optim``.

docs/coverage.md is checked in, so the table reads (and tests/test_api_coverage.py runs)
without torch: the test re-derives every ``implemented`` mark from the code and fails when
the table is stale, when an implemented name disappears, or when an implemented name has
no check (an op-table row, or a PyTorch comparison test for modules and optimizers).
"""

from __future__ import annotations

import argparse
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import autodiff

CATEGORIES = ("torch", "Tensor", "nn", "nn.functional", "optim")
TITLES = {
    "torch": "`torch.*` functions",
    "Tensor": "`Tensor` methods and properties",
    "nn": "`nn` modules",
    "nn.functional": "`nn.functional` functions",
    "optim": "optimizers",
}
DOC = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"

# What autodiff deliberately does not build, with why. Each rule is (categories, regular
# expression matched against the whole name, reason); the first matching rule wins.
ALL = CATEGORIES
OUT_OF_SCOPE: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (ALL, r"(q_|quantize|quantized|dequantize|fake_quantize|fbgemm|int_repr|qscheme|choose_qparams).*"
     r"|.*_qparams.*|fused_moving_avg_obs_fake_quant",
     "quantized tensors: autodiff has no quantized dtypes"),
    (ALL, r"(to_sparse.*|sparse_.*|.*_sparse.*|is_sparse.*|coalesce|is_coalesced|dense_dim|to_dense"
     r"|crow_indices.*|col_indices.*|ccol_indices.*|row_indices.*|indices|values|indices_copy"
     r"|values_copy|smm|sspaddmm|hsmm|dsmm|saddmm|SparseAdam)",
     "sparse tensors: the backends hold dense arrays only"),
    (ALL, r"(complex|polar|view_as_real.*|view_as_complex.*|conj.*|resolve_conj|resolve_neg|is_conj"
     r"|is_neg|angle|real|imag|is_complex|isreal|cfloat|cdouble|chalf|mH|adjoint)",
     "complex numbers: autodiff has real dtypes only"),
    (ALL, r"(stft|istft|.*fft.*|hann_window|hamming_window|blackman_window|bartlett_window"
     r"|kaiser_window)",
     "signal processing (FFT, windows): no FFT primitive in the backends yet"),
    (ALL, r"(miopen_.*|mkldnn.*|to_mkldnn|is_mkldnn|cudnn_.*|native_.*|_.*|.*_backward.*"
     r"|batch_norm_(stats|elemt|gather_stats|gather_stats_with_counts|update_stats|backward_elemt"
     r"|backward_reduce)|conv_tbc|convolution|constant_pad_nd|grid_sampler.*|affine_grid_generator"
     r"|norm_except_dim|segment_reduce|hash_tensor|native_norm)",
     "vendor kernels and ATen internals that PyTorch's own layers call, not user API"),
    (ALL, r"sym_.*", "symbolic shapes of torch.compile's tracer"),
    (ALL, r"(?!index_copy$).*_copy|slice_inverse",
     "functionalization variants (`*_copy`) that torch.compile emits; the view op itself is the API"),
    (ALL, r"(is_(ipu|maia|meta|mps|mtia|vulkan|xla|xpu|nested)|ipu|mtia|xpu|to_padded_tensor"
     r"|is_pinned|pin_memory|record_stream)",
     "devices other than cpu and cuda, nested tensors and pinned host memory"),
    (ALL, r"(storage|untyped_storage|storage_type|set_|is_set_to|share_memory_|is_shared"
     r"|resize_as_sparse_|data_ptr|const_data_ptr|module_load|reinforce|volatile|map_|map2_|apply_)",
     "raw storage, shared memory and legacy Lua-era methods: a tensor's memory belongs to its "
     "backend array"),
    (ALL, r"(name|names|refine_names|align_to|align_as|rename|rename_|unflatten_names)",
     "named tensors (a prototype feature in PyTorch)"),
    (ALL, r"(geqrf|orgqr|ormqr|lobpcg|pca_lowrank|svd_lowrank|symeig|eig|lstsq|lu|lu_solve"
     r"|lu_unpack|triangular_solve|matrix_exp|cholesky_inverse|cholesky_solve|mvlgamma.*"
     r"|igamma.*|polygamma.*|i0.*|frexp|nonzero_static|histogramdd)",
     "specialised linear algebra and special functions with no use in the programs surveyed"),
    (("nn",), r"(DataParallel|SyncBatchNorm|CrossMapLRN2d|Container|NLLLoss2d|RNNBase|RNNCellBase"
     r"|AdaptiveLogSoftmaxWithLoss|LinearCrossEntropyLoss)",
     "single-process multi-GPU, deprecated or abstract classes (DistributedDataParallel is the "
     "scale-out API)"),
    (("nn.functional",), r"(ScalingType|SwizzleType|grouped_mm|scaled_grouped_mm|scaled_mm"
     r"|linear_cross_entropy|assert_int_or_pair)",
     "low-precision matmul kernels and helpers that are not user functions"),
    (("optim",), r"Muon", "matrix-orthogonalising optimizer for large-model training"),
)

@dataclass(frozen=True)
class Row:
    """One PyTorch name and autodiff's status for it."""

    category: str
    name: str
    status: str  # "implemented", "planned" or "out of scope"
    note: str = ""


def autodiff_object(category: str) -> Any:
    """The autodiff object whose attributes implement ``category``'s names."""
    return {
        "torch": autodiff,
        "Tensor": autodiff.Tensor,
        "nn": autodiff.nn,
        "nn.functional": autodiff.nn.functional,
        "optim": autodiff.optim,
    }[category]


def is_implemented(category: str, name: str) -> bool:
    """Whether autodiff has ``name`` in ``category`` (present and not a refusal stub)."""
    return hasattr(autodiff_object(category), name)


def out_of_scope_reason(category: str, name: str) -> str | None:
    """The reason a name is out of scope, or None."""
    for categories, pattern, reason in OUT_OF_SCOPE:
        if category in categories and re.fullmatch(pattern, name):
            return reason
    return None


def classify(category: str, name: str) -> Row:
    """The row of one name, from the code and the out-of-scope rules."""
    if is_implemented(category, name):
        return Row(category, name, "implemented")
    reason = out_of_scope_reason(category, name)
    if reason is not None:
        return Row(category, name, "out of scope", reason)
    return Row(category, name, "planned")


def torch_names() -> dict[str, list[str]]:
    """PyTorch's public names per category (imports torch)."""
    import torch  # the oracle is imported only to regenerate the table
    import torch.nn.functional as tf

    overrides = torch.overrides.get_testing_overrides()
    functions = {f.__name__ for f in overrides
                 if not f.__name__.startswith("_") and getattr(torch, f.__name__, None) is f}
    methods = {n for n in dir(torch.Tensor) if not n.startswith("_")}
    modules = {n for n, v in vars(torch.nn).items()
               if not n.startswith("_") and inspect.isclass(v) and issubclass(v, torch.nn.Module)}
    functional = {n for n, v in vars(tf).items()
                  if not n.startswith("_") and callable(v)
                  and getattr(v, "__module__", "").startswith("torch.nn.functional")}
    optimizers = {n for n, v in vars(torch.optim).items()
                  if inspect.isclass(v) and issubclass(v, torch.optim.Optimizer)
                  and v is not torch.optim.Optimizer}
    return {"torch": sorted(functions), "Tensor": sorted(methods), "nn": sorted(modules),
            "nn.functional": sorted(functional), "optim": sorted(optimizers)}


def totals(rows: list[Row]) -> dict[str, tuple[int, int, int]]:
    """Per category: (implemented, out of scope, all)."""
    out = {}
    for category in CATEGORIES:
        mine = [r for r in rows if r.category == category]
        done = sum(r.status == "implemented" for r in mine)
        scope = sum(r.status == "out of scope" for r in mine)
        out[category] = (done, scope, len(mine))
    return out


def render(rows: list[Row], torch_version: str) -> str:
    """docs/coverage.md's text."""
    lines = [
        "# API coverage",
        "",
        f"autodiff against PyTorch {torch_version}'s public surface. Generated by",
        "`python -m autodiff.testing.api_coverage` (needs torch); tests/test_api_coverage.py",
        "checks that it matches the code. Percentages count every PyTorch name, out-of-scope",
        "ones included.",
        "",
        "| category | implemented | planned | out of scope | all | implemented % |",
        "|---|---|---|---|---|---|",
    ]
    for category, (done, scope, n) in totals(rows).items():
        lines.append(f"| {TITLES[category]} | {done} | {n - done - scope} | {scope} | {n} "
                     f"| {100 * done / max(n, 1):.0f}% |")
    lines += ["", "## Out of scope, and why", ""]
    for *_, reason in OUT_OF_SCOPE:
        names = sorted({r.name for r in rows if r.status == "out of scope" and r.note == reason})
        if names:
            lines.append(f"- **{reason}**: " + ", ".join(f"`{n}`" for n in names))
    for category in CATEGORIES:
        lines += ["", f"## {TITLES[category]}", "", "| name | status |", "|---|---|"]
        for r in rows:
            if r.category == category:
                lines.append(f"| `{r.name}` | {r.status} |")
    return "\n".join(lines) + "\n"


ROW = re.compile(r"^\| `([^`]+)` \| (implemented|planned|out of scope) \|$")


def parse(text: str) -> list[Row]:
    """The rows of a checked-in docs/coverage.md."""
    rows, category = [], None
    by_title = {f"## {t}": c for c, t in TITLES.items()}
    for line in text.splitlines():
        if line in by_title:
            category = by_title[line]
        elif category and (m := ROW.match(line)):
            rows.append(Row(category, m.group(1), m.group(2)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOC)
    args = parser.parse_args()
    import torch

    rows = [classify(c, n) for c, names in torch_names().items() for n in names]
    args.out.write_text(render(rows, torch.__version__.split("+")[0]))
    for category, (done, scope, n) in totals(rows).items():
        print(f"{category:14s} {done:4d} / {n:4d} implemented ({100 * done / n:.0f}%), "
              f"{scope} out of scope")


if __name__ == "__main__":
    main()
