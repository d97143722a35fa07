"""What a published package promises: the distribution name, one version, the license,
``py.typed``, a changelog entry for the version, install hints naming the distribution, and
a clear error from ``autodiff.testing`` without hypothesis. (CI builds the wheel and runs the
README example from it: .ci/wheel_check.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import autodiff

ROOT = Path(__file__).resolve().parents[1]
DIST = "autodiff-tape"


@pytest.fixture(scope="module")
def project() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_is_written_once(project: dict) -> None:
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "autodiff.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", autodiff.__version__)
    assert f"## [{autodiff.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_distribution_name_license_and_typing_marker(project: dict) -> None:
    assert project["project"]["name"] == DIST
    assert project["project"]["license"] == "MIT" and "MIT License" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "autodiff" / "py.typed").exists()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["autodiff"]
    assert "safetensors" in project["project"]["optional-dependencies"]
    assert any(d.startswith("safetensors") for d in project["project"]["optional-dependencies"]["test"])


def test_install_hints_name_the_distribution() -> None:
    files = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("autodiff/**/*.py"),
             *ROOT.glob("backends/*.py"), *ROOT.glob("examples/*.py")]
    wrong = [f"{p.relative_to(ROOT)}: {m}" for p in files
             for m in re.findall(r"pip install \"?autodiff\[\w+\]", p.read_text())]
    assert not wrong, f"install hints must name the distribution {DIST}: {wrong}"


def test_testing_without_hypothesis_names_the_test_extra() -> None:
    code = """
import sys
sys.modules["hypothesis"] = None  # as if it were not installed
import autodiff.testing
from autodiff.testing import simulate_cuda  # needs only NumPy
for get in (lambda: autodiff.testing.SPECS, lambda: __import__("autodiff.testing.strategies")):
    try:
        get()
    except ImportError as e:
        print(e)
    else:
        raise SystemExit("no ImportError")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and all("hypothesis" in line and f'"{DIST}[test]"' in line for line in lines), out
