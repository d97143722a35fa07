"""MkDocs hook: the API reference pages, generated at build time from the package itself.

``PAGES`` is the table of documented modules (one page each). Every public name of each
module gets its own mkdocstrings directive (``::: autodiff.nn.Linear``), so a name added to
the code appears in the reference with no page to edit, and ``mkdocs build --strict`` fails
if one cannot be rendered. tests/test_docs_site.py checks that every public module of the
package is documented here (or listed as internal below) and that every name is on a page.

A module's public names are its ``__all__`` when it has one; otherwise, for a package's
``__init__`` (``autodiff``, ``autodiff.nn``), every name it exports that is not a module; for
any other module, the classes and functions it defines. The top-level ``autodiff`` page and
the ``Tensor`` page group their names by the ops file (or module) that defines them.
"""

from __future__ import annotations

import importlib
import inspect
import types
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    """One reference page: the module (or class) it documents and what it is for."""

    path: str  # under docs/, e.g. "reference/nn.md"
    target: str  # dotted name: a module, or a class (autodiff.Tensor)
    summary: str


PAGES: tuple[Page, ...] = (
    Page("reference/autodiff.md", "autodiff", "the `torch.*` namespace: tensor functions, dtypes, grad modes"),
    Page("reference/tensor.md", "autodiff.Tensor", "`Tensor`: its methods and properties"),
    Page("reference/autograd.md", "autodiff.autograd", "`backward`, `grad`, custom `Function`s, grad modes, gradcheck"),
    Page("reference/autograd.functional.md", "autodiff.autograd.functional",
         "`jacobian`, `hessian`, `vjp`, `jvp`, `hvp`, `vhp`"),
    Page("reference/autograd.graph.md", "autodiff.autograd.graph",
         "saved-tensor hooks, multi-grad hooks, graph nodes"),
    Page("reference/autograd.profiler.md", "autodiff.autograd.profiler", "the autograd profiler"),
    Page("reference/autograd.forward_ad.md", "autodiff.autograd.forward_ad",
         "forward-mode AD: dual levels, `make_dual`, `unpack_dual`"),
    Page("reference/func.md", "autodiff.func", "function transforms: `grad`, `vjp`, `jvp`, `jacrev`, `jacfwd`, "
         "`hessian`, `vmap`, `functional_call`"),
    Page("reference/nn.md", "autodiff.nn", "modules, parameters, containers, losses"),
    Page("reference/nn.functional.md", "autodiff.nn.functional", "the functional neural-net API"),
    Page("reference/nn.init.md", "autodiff.nn.init", "parameter initialisation"),
    Page("reference/nn.utils.md", "autodiff.nn.utils", "gradient clipping, parameters as vectors"),
    Page("reference/nn.utils.rnn.md", "autodiff.nn.utils.rnn", "packed and padded sequences"),
    Page("reference/nn.parallel.md", "autodiff.nn.parallel", "`DistributedDataParallel`"),
    Page("reference/optim.md", "autodiff.optim", "optimizers"),
    Page("reference/optim.lr_scheduler.md", "autodiff.optim.lr_scheduler", "learning-rate schedules"),
    Page("reference/cuda.md", "autodiff.cuda", "devices, seeds, memory, events and streams on CuPy"),
    Page("reference/accelerator.md", "autodiff.accelerator", "`torch.accelerator`"),
    Page("reference/linalg.md", "autodiff.linalg", "`torch.linalg`"),
    Page("reference/random.md", "autodiff.random", "generators and seeds"),
    Page("reference/profiler.md", "autodiff.profiler", "`torch.profiler`"),
    Page("reference/serialization.md", "autodiff.serialization", "`save` and `load` of checkpoints"),
    Page("reference/viz.md", "autodiff.viz", "pictures of the autograd graph (DOT, SVG, PNG)"),
    Page("reference/compiled_step.md", "autodiff.compiled_step", "`autodiff.compile`: recorded and replayed steps"),
    Page("reference/distributed.md", "autodiff.distributed", "process groups and collectives on MPI and NCCL"),
    Page("reference/utils.data.md", "autodiff.utils.data", "datasets, samplers and `DataLoader`"),
    Page("reference/utils.dlpack.md", "autodiff.utils.dlpack", "DLPack capsules to and from tensors"),
    Page("reference/utils.hooks.md", "autodiff.utils.hooks", "handles that remove hooks"),
)

# Modules reachable from ``autodiff`` that get no page: implementation files whose public
# names are documented where they are exported (``autodiff``, ``autodiff.nn``...).
INTERNAL: dict[str, str] = {
    "autodiff.ops": "the ops files; their functions are documented under autodiff and Tensor",
    "autodiff.dtypes": "re-exported by autodiff",
    "autodiff.device": "re-exported by autodiff",
    "autodiff.legacy": "re-exported by autodiff",
    "autodiff.tensor": "Tensor has its own page",
    "autodiff.tensor_methods": "attaches the ops to Tensor",
    "autodiff.utils": "a namespace for utils.hooks, utils.data and utils.dlpack",
    "autodiff.multiprocessing": "Python's multiprocessing, with tensors crossing processes as copies "
                                "(docs/data.md)",
    "autodiff.testing": "autodiff's own test tooling (hypothesis strategies made by hypothesis's "
                        "decorators, the op-spec table): docs/testing.md describes it",
    "backends": "the array backends below autodiff (docs/architecture.md)",
}


def _is_module(obj: Any) -> bool:
    return isinstance(obj, types.ModuleType)


def resolve(dotted: str) -> Any:
    """The module or class a dotted name refers to."""
    try:
        return importlib.import_module(dotted)
    except ImportError:
        owner, _, attr = dotted.rpartition(".")
        return getattr(importlib.import_module(owner), attr)


def public_names(dotted: str) -> list[str]:
    """The public names of a documented module or class (see the module docstring)."""
    obj = resolve(dotted)
    if inspect.isclass(obj):
        return sorted(n for n in dir(obj) if not n.startswith("_"))
    declared = getattr(obj, "__all__", None)
    if declared is not None:
        names = [n for n in declared if not _is_module(getattr(obj, n))]
    elif hasattr(obj, "__path__"):  # a package: what its __init__ exports
        names = [n for n, v in vars(obj).items() if not n.startswith("_") and not _is_module(v)]
    else:
        names = [n for n, v in vars(obj).items() if not n.startswith("_")
                 and (inspect.isclass(v) or inspect.isfunction(v))
                 and getattr(v, "__module__", None) == obj.__name__]
    return sorted(set(names))


def documented_names() -> dict[str, list[str]]:
    """Every documented public name, by page path (the dotted names the pages render)."""
    return {page.path: [f"{page.target}.{n}" for n in public_names(page.target)] for page in PAGES}


# The sections of the grouped pages (``autodiff`` and ``Tensor``), in order, by the file
# under autodiff/ that defines each object.
GROUPS: dict[str, str] = {
    "tensor.py": "Tensor basics",
    "ops/creation.py": "Creation",
    "ops/arithmetic.py": "Arithmetic",
    "ops/unary.py": "Elementwise math",
    "ops/special.py": "Special functions",
    "ops/comparison.py": "Comparison, logical and bitwise",
    "ops/reduction.py": "Reductions",
    "ops/sorting.py": "Sorting and selection",
    "ops/shape.py": "Shapes and views",
    "ops/broadcasting.py": "Broadcasting",
    "ops/indexing.py": "Indexing, gather and scatter",
    "ops/linalg.py": "Products and linear algebra",
    "ops/triangular.py": "Triangular parts",
    "ops/activation.py": "Activations",
    "ops/normalization.py": "Normalization",
    "ops/loss.py": "Losses",
    "ops/composite_loss.py": "Losses",
    "ops/conv.py": "Convolution",
    "ops/pooling.py": "Pooling",
    "ops/upsampling.py": "Upsampling",
    "ops/embedding.py": "Embeddings",
    "ops/attention.py": "Attention",
    "ops/sampling.py": "Random sampling",
    "random.py": "Random sampling",
    "ops/queries.py": "Queries",
    "ops/conversion.py": "Dtype and device conversion",
    "ops/inplace.py": "In-place ops",
    "ops/inplace_twins.py": "In-place ops",
    "tensor_methods.py": "Autograd",
    "autograd/": "Autograd",
    "dtypes.py": "Dtypes",
    "device.py": "Devices",
    "legacy.py": "Legacy tensor types",
    "serialization.py": "Checkpoints",
}
OTHER = "Other"


def _group_of(owner: Any, name: str) -> str:
    """The section of ``owner.name`` on a grouped page (``GROUPS``)."""
    obj = inspect.getattr_static(owner, name, None)
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        obj = obj.fget
    if not callable(obj):
        obj = type(obj)  # a dtype, a generator: grouped with its class
    code = getattr(inspect.unwrap(obj), "__code__", None)
    try:
        path = code.co_filename if code is not None else inspect.getfile(obj)
    except TypeError:
        return OTHER
    path = path.replace("\\", "/")
    rel = path.rpartition("/autodiff/")[2] if "/autodiff/" in path else ""
    for prefix, title in GROUPS.items():
        if rel == prefix or (prefix.endswith("/") and rel.startswith(prefix)):
            return title
    return OTHER


def _directive(dotted: str, heading_level: int) -> str:
    return f"::: {dotted}\n    options:\n      heading_level: {heading_level}\n"


def page_markdown(page: Page) -> str:
    """The Markdown of one reference page."""
    names = public_names(page.target)
    obj = resolve(page.target)
    lines = [
        f"# `{page.target}`",
        "",
        f"::: {page.target}\n    options:\n      members: false\n      show_root_heading: false\n",
        "",
    ]
    if page.target in ("autodiff", "autodiff.Tensor"):
        groups: dict[str, list[str]] = {}
        for n in names:
            groups.setdefault(_group_of(obj, n), []).append(n)
        order = list(dict.fromkeys([*GROUPS.values(), OTHER]))
        for title in sorted(groups, key=order.index):
            lines += [f"## {title}", ""]
            lines += [_directive(f"{page.target}.{n}", 3) for n in groups[title]]
    else:
        lines += [_directive(f"{page.target}.{n}", 2) for n in names]
    return "\n".join(lines)


def index_markdown() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings of every public name at build time "
        "(`docs/hooks/api_reference.py`). With `import autodiff as torch`, each module "
        "stands where PyTorch's does: `autodiff.nn.functional` is `torch.nn.functional`.",
        "",
        "| module | what it holds | names |",
        "|---|---|---|",
    ]
    for page in PAGES:
        link = page.path.removeprefix("reference/")
        lines.append(f"| [`{page.target}`]({link}) | {page.summary} | {len(public_names(page.target))} |")
    return "\n".join(lines) + "\n"


def on_files(files: Any, config: Any) -> Any:
    """MkDocs event: add the generated reference pages to the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, "reference/index.md", content=index_markdown()))
    for page in PAGES:
        files.append(File.generated(config, page.path, content=page_markdown(page)))
    return files


COVERAGE_MARKER = "<!-- coverage: totals -->"


def coverage_totals(coverage_md: str) -> str:
    """The summary table at the top of docs/coverage.md (its first Markdown table)."""
    lines = coverage_md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| category"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: the coverage totals where a page asks for them (coming_from_pytorch.md)."""
    if COVERAGE_MARKER not in markdown:
        return markdown
    from pathlib import Path

    coverage = Path(config["docs_dir"], "coverage.md").read_text(encoding="utf-8")
    return markdown.replace(COVERAGE_MARKER, coverage_totals(coverage))
