"""The documentation site (mkdocs.yml): every public name is in the API reference, every page
is in the navigation.

The reference pages are generated at build time by docs/hooks/api_reference.py; these tests
run its generator without MkDocs. ``mkdocs build --strict`` (CI, ``.ci/run``) then fails if
any generated directive cannot be rendered. With ``AUTODIFF_DOCS_SITE`` naming a built site,
the last test also reads the site's objects inventory.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
import zlib
from pathlib import Path

import pytest

import autodiff
from autodiff.ops import OP_MODULES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (dataclasses look their module up while the class is made)
    spec.loader.exec_module(module)
    return module


api_reference = _load("docs_api_reference", DOCS / "hooks" / "api_reference.py")
PAGE_TEXT = {page.path: api_reference.page_markdown(page) for page in api_reference.PAGES}


def directives(text: str) -> set[str]:
    return {line[4:].strip() for line in text.splitlines() if line.startswith("::: ")}


ALL_DIRECTIVES = set().union(*(directives(t) for t in PAGE_TEXT.values()))


def reachable_modules() -> set[str]:
    """The names of the autodiff (and backends) modules reachable as attributes from ``autodiff``."""
    found: set[str] = set()
    todo = [autodiff]
    while todo:
        module = todo.pop()
        if module.__name__ in found:
            continue
        found.add(module.__name__)
        for name, value in vars(module).items():
            if (not name.startswith("_") and isinstance(value, types.ModuleType)
                    and value.__name__.split(".")[0] in ("autodiff", "backends")):
                todo.append(value)
    return found


def _internal(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in api_reference.INTERNAL)


def test_every_public_module_has_a_reference_page():
    """A module reachable from ``autodiff`` has a page, is internal (INTERNAL, with the
    reason), or is an implementation file of a documented package (autodiff.nn.linear),
    whose exports that package's page lists."""
    documented = {page.target for page in api_reference.PAGES}
    problems = [name for name in sorted(reachable_modules())
                if name not in documented and not _internal(name)
                and name.rpartition(".")[0] not in documented]
    assert not problems, f"no page in docs/hooks/api_reference.py PAGES (nor in INTERNAL): {problems}"


@pytest.mark.parametrize("page", api_reference.PAGES, ids=[p.target for p in api_reference.PAGES])
def test_every_public_name_of_a_page_has_a_directive(page):
    found = directives(PAGE_TEXT[page.path])
    names = api_reference.public_names(page.target)
    assert names, f"{page.target}: no public names found"
    missing = [n for n in names if f"{page.target}.{n}" not in found]
    assert not missing, f"{page.path} lacks {missing}"


def test_every_exported_op_is_in_the_reference():
    """The ops tables (autodiff/ops/*.py FUNCTIONS and METHODS) become autodiff.<name> and
    Tensor.<name>: each is on the autodiff or the Tensor page."""
    missing = []
    for module in OP_MODULES:
        missing += [f"autodiff.{n}" for n in module.FUNCTIONS if f"autodiff.{n}" not in ALL_DIRECTIVES]
        missing += [f"autodiff.Tensor.{n}" for n in module.METHODS
                    if not n.startswith("_") and f"autodiff.Tensor.{n}" not in ALL_DIRECTIVES]
    assert not missing, f"not in the API reference: {missing}"


@pytest.mark.parametrize("module", ["autodiff.nn", "autodiff.nn.functional", "autodiff.optim",
                                    "autodiff.autograd", "autodiff.linalg", "autodiff.cuda",
                                    "autodiff.viz", "autodiff.serialization"])
def test_names_users_reach_for_are_in_the_reference(module):
    obj = importlib.import_module(module)
    names = getattr(obj, "__all__", None) or [
        n for n, v in vars(obj).items() if not n.startswith("_") and callable(v)
        and getattr(v, "__module__", "").startswith(module)]
    missing = [n for n in names if not isinstance(getattr(obj, n), types.ModuleType)
               and f"{module}.{n}" not in ALL_DIRECTIVES]
    assert not missing, f"{module}: not in the API reference: {missing}"


def test_every_page_is_in_the_navigation():
    config = CONFIG.read_text(encoding="utf-8")
    pages = [p.relative_to(DOCS).as_posix() for p in DOCS.glob("*.md")]
    pages += [page.path for page in api_reference.PAGES] + ["reference/index.md"]
    missing = [p for p in pages if f" {p}" not in config and f"- {p}" not in config]
    assert not missing, f"mkdocs.yml nav lacks {missing}"


def test_coverage_totals_come_from_the_coverage_page():
    table = api_reference.coverage_totals((DOCS / "coverage.md").read_text(encoding="utf-8"))
    assert table.startswith("| category |") and "`torch.*` functions" in table
    assert api_reference.COVERAGE_MARKER in (DOCS / "coming_from_pytorch.md").read_text(encoding="utf-8")


def _inventory(site: Path) -> set[str]:
    """The object names in a built site's objects.inv (Sphinx's format, version 2)."""
    data = (site / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):  # four text lines, then the zlib-compressed body
        header_end = data.index(b"\n", header_end) + 1
    body = zlib.decompress(data[header_end:]).decode("utf-8")
    return {line.split(" ", 1)[0] for line in body.splitlines() if line}


@pytest.mark.skipif(not os.environ.get("AUTODIFF_DOCS_SITE"),
                    reason="needs a built site: mkdocs build -d DIR, then AUTODIFF_DOCS_SITE=DIR "
                           "(.ci/run does this)")
def test_built_inventory_has_every_public_name():
    pytest.importorskip("mkdocs", reason="the docs site needs the [docs] extra: pip install -e '.[docs]'")
    inventory = _inventory(Path(os.environ["AUTODIFF_DOCS_SITE"]))
    missing = sorted(d for d in ALL_DIRECTIVES if d not in inventory)
    assert not missing, f"directives that rendered no object: {missing[:20]} ({len(missing)} in all)"


graph_picture = _load("docs_graph_picture", DOCS / "hooks" / "graph_picture.py")


def test_the_graph_picture_is_the_myrelu_network():
    dot = graph_picture.myrelu_graph()
    labels = sorted(a["label"] for a in dot.nodes.values())
    assert labels == sorted(["\n ()", "SumBackward0", "PowBackward0", "SubBackward0", "MmBackward0",
                             "MyReLUBackward", "\n (64, 100)", "MmBackward0", "w1\n (1000, 100)",
                             "AccumulateGrad", "w2\n (100, 10)", "AccumulateGrad"])
    assert len(dot.edges) == 11


@pytest.mark.parametrize("has_dot", [True, False], ids=["with dot", "without dot"])
def test_the_graph_page_shows_the_picture_or_the_dot_text(has_dot, monkeypatch):
    page = (DOCS / "graph_pictures.md").read_text(encoding="utf-8")
    assert graph_picture.MARKER in page
    monkeypatch.setitem(graph_picture._built, "dot", "digraph {\n}\n")
    monkeypatch.setitem(graph_picture._built, "svg", has_dot)
    out = graph_picture.on_page_markdown(page, None, None, None)
    assert graph_picture.MARKER not in out and "digraph {" in out
    assert (graph_picture.SVG_PATH in out) == has_dot
    assert ("was not installed when this site was built" in out) == (not has_dot)
