"""docs/coverage.md against the code: the coverage table is current, implemented names do
not disappear, and every implemented name is checked (an op-table row for differentiable
functions and methods, a comparison with PyTorch for modules and optimizers)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from autodiff.tensor_methods import METHODS
from autodiff.testing.api_coverage import CATEGORIES, DOC, autodiff_object, classify, parse
from tests.test_op_properties import NOT_DIFFERENTIABLE, NOT_DIFFERENTIABLE_METHODS, _covered

ROWS = parse(DOC.read_text())
TESTS = Path(__file__).parent


def test_table_has_every_category() -> None:
    for category in CATEGORIES:
        assert any(r.category == category for r in ROWS), f"no {category} rows in {DOC}"


def test_table_is_current_with_the_code() -> None:
    # An implemented name that disappears, or a new name not marked, makes the table stale.
    stale = [f"{r.category} {r.name}: table says {r.status!r}, code says {classify(r.category, r.name).status!r}"
             for r in ROWS if classify(r.category, r.name).status != r.status]
    assert not stale, "regenerate with `python -m autodiff.testing.api_coverage`:\n" + "\n".join(stale)


def test_table_lists_pytorchs_current_names() -> None:
    torch = pytest.importorskip("torch")
    from autodiff.testing.api_coverage import torch_names

    version = re.search(r"PyTorch ([\d.]+)'s", DOC.read_text()).group(1)
    if torch.__version__.split("+")[0] != version:
        pytest.skip(f"table made with PyTorch {version}, torch {torch.__version__} installed")
    listed = {(r.category, r.name) for r in ROWS}
    current = {(c, n) for c, names in torch_names().items() for n in names}
    assert listed == current


def _tensor_functions_checked(category: str, name: str) -> bool:
    obj = autodiff_object(category)
    if category == "Tensor":
        # Only the op methods (the METHODS tables of autodiff/ops); the rest of the class is
        # the tensor's own machinery (size, item, backward, register_hook ...).
        return name not in METHODS or name in NOT_DIFFERENTIABLE_METHODS or _covered(METHODS[name])
    attr = getattr(obj, name)
    short = name if category == "torch" else f"nn.functional.{name}"
    return (not inspect.isfunction(attr) or name in NOT_DIFFERENTIABLE
            or short in NOT_DIFFERENTIABLE or _covered(attr))


def test_implemented_functions_have_an_op_table_row() -> None:
    unchecked = [f"{r.category}.{r.name}" for r in ROWS if r.status == "implemented"
                 and r.category in ("torch", "Tensor", "nn.functional")
                 and not _tensor_functions_checked(r.category, r.name)]
    assert not unchecked, f"implemented without a row in autodiff/testing/op_specs.py: {unchecked}"


def _torch_comparison_sources() -> str:
    # Test files that compare with PyTorch (they import it, usually through importorskip).
    # (directly, or through a helper that imports it: ``from tests.nn.module_oracle import torch``)
    imports = re.compile(r'importorskip\("torch"\)|^\s*import torch\b|^\s*from \S+ import .*\btorch\b', re.M)
    return "\n".join(t for p in TESTS.rglob("*.py")
                     if imports.search(t := p.read_text()) and p.name != Path(__file__).name)


# Base classes that users subclass (their subclasses are the layers compared with PyTorch).
BASE_CLASSES = {"RNNBase", "RNNCellBase"}


def test_implemented_modules_and_optimizers_are_compared_with_pytorch() -> None:
    sources = _torch_comparison_sources()
    missing = [f"{r.category}.{r.name}" for r in ROWS
               if r.status == "implemented" and r.category in ("nn", "optim")
               and r.name not in BASE_CLASSES and not re.search(rf"\b{r.name}\b", sources)]
    assert not missing, f"modules/optimizers with no test against PyTorch: {missing}"
