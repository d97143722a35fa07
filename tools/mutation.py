"""Mutation testing of autodiff with mutmut 3.8.1: the documented sample (docs/testing.md).

    pip install mutmut==3.8.1
    nice -n 10 python tools/mutation.py                  # the whole sample, then its figures
    nice -n 10 python tools/mutation.py engine optim     # some parts of it
    nice -n 10 python tools/mutation.py --no-clean-run   # go on: the mutants not checked yet
    nice -n 10 python tools/mutation.py --survivors      # after adding tests: the survivors again
    python tools/mutation.py --list                      # the parts' mutant globs and the tests
    python tools/mutation.py --summary                   # the figures of the last run, no run

``[tool.mutmut]`` in pyproject.toml says what is mutated (autograd/, ops/, tensor.py, nn/, optim/,
serialization.py: about 40,000 mutants) and what is copied to ``mutants/``. Plain ``mutmut run``
runs all of them against the whole suite, far more than two cores do in a day; this script
runs a fixed sample (the PARTS below) against a fixed selection of test files (TEST_FILES plus
the op-table rows whose output the sampled op nodes compute). mutmut's stats phase runs that selection
once and records which tests reach each mutated function; each mutant then runs only those
tests, fastest first, stopping at the first failure.

The test selection is the same whatever parts are asked for: mutmut throws away every result
when the selection changes. The op-formula part is drawn with a fixed seed from the node classes
of ``autodiff/ops/`` (their ``backward`` methods), so every run mutates the same ones.

mutmut is driven in-process (``mutmut.__main__._run`` with the selection set on its config),
the one way to give it a test selection computed here; autodiff itself is never imported in
this process, so the tests import the mutated copy in ``mutants/``.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# mutmut names a mutant <module>.x_<function>__mutmut_<n> or <module>.xǁ<Class>ǁ<method>__mutmut_<n>.
SEP = "ǁ"


def _method(module: str, cls: str, method: str = "*") -> str:
    return f"{module}.x{SEP}{cls}{SEP}{method}__mutmut_*"


def _function(module: str, function: str = "*") -> str:
    return f"{module}.x_{function}__mutmut_*"


# The sample, by part: mutant-name globs.
PARTS: dict[str, list[str]] = {
    # The engine core: the backward pass, accumulation, grad modes, recording, saved tensors.
    "engine": [
        _function("autodiff.autograd.engine", "run_backward"),
        _function("autodiff.autograd.engine", "_accumulate"),
        _function("autodiff.autograd.engine", "_accumulate_locked"),
        _function("autodiff.autograd.engine", "_needed"),
        _function("autodiff.autograd.engine", "_next_nodes"),
        "autodiff.autograd.grad_mode.*",
        _function("autodiff.autograd.record", "record"),
        _method("autodiff.autograd.node", "Node", "save"),
    ],
    # Version counters: every write in place bumps the counter the saved-tensor check reads.
    "versions": [
        _function("autodiff.ops.inplace", "_write"),
        _function("autodiff.ops.inplace", "_direct_write"),
        _function("autodiff.ops.inplace", "_fill"),
        _function("autodiff.autograd.graph", "increment_version"),
    ],
    "serialization": [
        _function("autodiff.serialization", "save"),
        _function("autodiff.serialization", "load"),
        _method("autodiff.serialization", "_Decoder", "_make"),
    ],
    # The update rules (the argument checks of __init__ are left out).
    "optim": [
        _method("autodiff.optim.sgd", "SGD", "_update"),
        _function("autodiff.optim.adam", "moments"),
    ],
    "nn": [
        _method("autodiff.nn.linear", "Linear", "forward"),
        _method("autodiff.nn.conv", "_ConvNd", "_padded"),
        _method("autodiff.nn.conv", "Conv2d", "forward"),
    ],
    # "ops" (the op formulas) is drawn by ops_sample().
}
OPS_SEED = 20261130
OPS_SAMPLE_SIZE = 6

# Test files of the selection, besides the op-table rows of the sampled op nodes.
TEST_FILES = [
    "tests/test_autograd_semantics.py", "tests/test_engine_order.py", "tests/test_hooks.py",
    "tests/test_autograd_graph.py", "tests/test_graph_lifetime.py", "tests/test_function.py",
    "tests/test_gradcheck.py", "tests/test_serialization.py", "tests/test_optim.py",
    "tests/test_optim_algorithms.py", "tests/test_nn_conv_pool.py", "tests/test_nn_modules.py",
    "tests/test_nn_against_torch.py", "tests/ops/test_inplace_twins.py",
    "tests/properties/",
]
# The tests of tests/test_op_properties.py run for the rows of the sampled op nodes.
ROW_TESTS = ["test_gradcheck_and_gradgradcheck", "test_float32_agrees_with_float64"]


def op_node_classes() -> list[tuple[str, str]]:
    """(module, class) of every class of autodiff/ops/ that defines ``backward``, sorted."""
    found = []
    for path in sorted((ROOT / "autodiff" / "ops").glob("*.py")):
        module = "autodiff.ops." + path.stem
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.FunctionDef) and b.name == "backward" for b in node.body
            ):
                found.append((module, node.name))
    return found


def ops_sample() -> list[tuple[str, str]]:
    return sorted(random.Random(OPS_SEED).sample(op_node_classes(), OPS_SAMPLE_SIZE))


# Run in a subprocess (this process must not import autodiff): the node class (the one that
# defines backward) at the root of each op-table row's output, from one derandomized example.
_PROBE = r"""
import json, sys, warnings
import autodiff
from hypothesis import HealthCheck, given, settings, strategies as st
from autodiff.testing.op_specs import SPECS
from autodiff.testing.strategies import op_inputs

def classes(outs):
    for n in (o.grad_fn for o in outs if isinstance(o, autodiff.Tensor)):
        for c in type(n).__mro__ if n is not None else ():
            if "backward" in vars(c):
                yield c.__module__ + ":" + c.__qualname__
                break

rows = {}
for spec in SPECS:
    found = set()
    @settings(max_examples=1, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def probe(data):
        case = data.draw(op_inputs(spec))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = spec.fn(autodiff, *case.tensors(autodiff), **case.params)
        found.update(classes(out if isinstance(out, (tuple, list)) else (out,)))
    try:
        probe()
    except Exception:
        pass
    rows[spec.id] = sorted(found)
json.dump(rows, sys.stdout)
"""


def rows_recording(classes: list[tuple[str, str]]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    wanted = {f"{m}:{c}" for m, c in classes}
    return sorted(row for row, found in json.loads(out).items() if wanted & set(found))


def sample() -> tuple[dict[str, list[str]], list[str]]:
    """The parts' globs and the test selection."""
    classes = ops_sample()
    parts = dict(PARTS, ops=[_method(m, c, "backward") for m, c in classes])
    rows = rows_recording(classes)
    modules = sorted({m.rsplit(".", 1)[1] for m, _ in classes})
    selection = TEST_FILES + [f"tests/ops/test_{m}.py" for m in modules if (ROOT / f"tests/ops/test_{m}.py").exists()] + [
        f"tests/test_op_properties.py::{test}[{row}]" for row in rows for test in ROW_TESTS
    ]
    return parts, selection


def summary(globs: list[str]) -> dict:
    """Status counts and survivors of the mutants matching ``globs``, from mutants/*.meta."""
    from mutmut.stats import status_by_exit_code

    counts: Counter = Counter()
    left: dict[str, list[str]] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if any(fnmatch.fnmatchcase(name, g) for g in globs):
                status = status_by_exit_code[code]
                counts[status] += 1
                if status not in ("killed",):
                    left.setdefault(status, []).append(name)
    return {"mutants": sum(counts.values()), **dict(counts), "not killed": left}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", help=f"parts of the sample (default all): "
                        f"{', '.join([*PARTS, 'ops'])}")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--list", action="store_true", help="print the globs and tests, run nothing")
    parser.add_argument("--summary", action="store_true", help="figures of the last run, run nothing")
    parser.add_argument("--survivors", action="store_true",
                        help="rerun only the last run's survivors (after adding tests), then the figures")
    parser.add_argument("--no-clean-run", action="store_true",
                        help="skip mutmut's unmutated run of the tests (they passed in the stats phase)")
    args = parser.parse_args()
    os.chdir(ROOT)

    parts, selection = sample()
    names = args.parts or list(parts)
    unknown = set(names) - set(parts)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    globs = [g for name in names for g in parts[name]]
    if args.list:
        print(json.dumps({"parts": {n: parts[n] for n in names}, "tests": selection}, indent=1))
        return
    run_globs = globs
    if args.survivors:
        last = json.loads((ROOT / "mutants" / "sample-summary.json").read_text())
        run_globs = [n for n in last["not killed"].get("survived", []) if any(fnmatch.fnmatchcase(n, g) for g in globs)]
    elif (ROOT / "mutants").is_dir():
        # mutmut reruns every mutant it is given by name, checked or not: give it only the ones
        # without a result (new, changed since, never reached), so a run goes on where the last
        # one stopped. (None yet, as in a fresh checkout: the globs, and mutmut makes them.)
        unchecked = summary(globs)["not killed"].get("not checked", [])
        run_globs = unchecked if summary(globs)["mutants"] else globs
    if not args.summary and run_globs:
        from mutmut import __main__ as mutmut_main
        from mutmut.configuration import config

        config().pytest_add_cli_args_test_selection = selection
        make_runner = mutmut_main.get_mutant_runner

        def runner_fastest_first(*a, **k):
            runner = make_runner(*a, **k)
            submit = runner.submit

            def submit_fastest_first(mutant_name, tests, cpu_time_limit, estimated_time):
                # mutmut hands a mutant's tests over as a set, in no order; run the cheapest
                # first (pytest keeps the order of node ids and stops at the first failure),
                # so a mutant one quick test kills does not wait for the slow ones.
                durations = mutmut_main.state().duration_by_test
                tests = sorted(tests, key=lambda t: (durations[t], t))
                submit(mutant_name, tests, cpu_time_limit, estimated_time)

            runner.submit = submit_fastest_first
            if args.no_clean_run:
                # mutmut runs every test of the selected mutants unmutated before mutating: as
                # long as the stats phase, and redundant right after it (the stats run stops at
                # a failure).
                runner.run_clean_tests = lambda tests: 0
            return runner

        mutmut_main.get_mutant_runner = runner_fastest_first
        start = time.time()
        try:
            mutmut_main._run(run_globs, args.max_children)
        except SystemExit as e:
            if e.code:
                raise
        print(f"wall time {time.time() - start:.0f} s")
    result = summary(globs)
    (ROOT / "mutants" / "sample-summary.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "not killed"}))
    for status, left in result["not killed"].items():
        print(f"{status}:")
        for name in left:
            print("   ", name)


if __name__ == "__main__":
    main()
