"""Our CUDA path against the real CuPy wheel, checked without a GPU.

CuPy imports without a GPU or driver; only calls that reach the driver fail. So the names
and signatures our CUDA backend relies on can be checked on any machine with the wheel
(``pip install cupy-cuda12x``), which is what this file does:

* every CuPy name used by ``backends/array_backend.py`` (through ``self.xp`` / ``xp``) and
  ``backends/cupy_backend.py`` (chains rooted at ``cupy`` / ``cupyx``, ``from cupyx... import``,
  methods called on CuPy arrays, generators and devices) exists in real CuPy;
* the positional count and keywords of every call to such a name are accepted by CuPy's
  signature (``inspect.signature``, else the signature line CuPy's Cython docstrings start
  with, else a ufunc's ``nin``/``nout``);
* without a GPU, ``import_cupy`` raises our RuntimeError (skipped where a GPU is present);
* the NumPy-backed CuPy stand-in (``autodiff.testing.simulated_cuda``), once it exists,
  exposes no name or parameter that real CuPy lacks.

The names are collected from the source with ``ast``, so a new use is audited without
editing this file. Run ``pytest tests/test_cupy_api.py -v -s`` to see every name.
"""

from __future__ import annotations
import __future__

import ast
import difflib
import importlib
import inspect
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

cupy = pytest.importorskip("cupy", reason="the real CuPy wheel (pip install cupy-cuda12x) is not installed")

ROOT = Path(__file__).resolve().parents[1]
_CUPY_FILE = getattr(cupy, "__file__", None)  # the wheel's has one; a module built in memory has not
if not _CUPY_FILE or ROOT in Path(_CUPY_FILE).resolve().parents:
    pytest.skip("`cupy` is a stand-in (from this repository), not the real wheel", allow_module_level=True)

ARRAY_BACKEND = ROOT / "backends" / "array_backend.py"
CUPY_BACKEND = ROOT / "backends" / "cupy_backend.py"

# ---------------------------------------------------------------------------------------
# What the source's expressions are, as far as CuPy goes. The tables say what the AST
# cannot: what a call returns and what an attribute holds. A call to a CuPy function or
# to a method of a CuPy array / generator returns a CuPy array unless listed here.
# ---------------------------------------------------------------------------------------
NDARRAY = "cupy.ndarray"
_NOT_CUPY = None  # a result that is no CuPy object (a NumPy array, a Python value): not followed
RETURNS: dict[str, str | None] = {
    "cupy.random.default_rng": "cupy.random.Generator",
    "cupy.dtype": "cupy.dtype",
    "cupy.broadcast_shapes": _NOT_CUPY,
    "cupy.cuda.runtime.getDeviceCount": _NOT_CUPY,
    "cupy.ndarray.get": _NOT_CUPY,  # a NumPy array on the host
    "cupy.ndarray.tolist": _NOT_CUPY,
    "cupy.ndarray.item": _NOT_CUPY,
    "cupy.cuda.get_current_stream": "cupy.cuda.Stream",
    "cupy.cuda.using_allocator": _NOT_CUPY,  # a context manager
    "cupy.cuda.Stream.record": "cupy.cuda.Event",
    "cupy.cuda.Stream.end_capture": "cupy.cuda.Graph",
}
ATTRIBUTES: dict[str, str | None] = {  # the type an instance attribute holds
    "cupy.ndarray.flags": "cupy._core.flags.Flags",
    "cupy.ndarray.dtype": "cupy.dtype",
    "cupy.ndarray.T": NDARRAY,
    "cupy.ndarray.base": NDARRAY,
}
# Parameters annotated ``Any`` in the backends' methods hold CuPy arrays, except these.
PARAMETER_TYPES: dict[str, str | None] = {"dt": "cupy.dtype", "data": _NOT_CUPY, "value": _NOT_CUPY,
                                          "rng": "cupy.random.Generator", "state": _NOT_CUPY,
                                          "comm": "cupy.cuda.nccl.NcclCommunicator"}
MODULE_NAMES = {"cupy": "cupy", "cupyx": "cupyx", "xp": "cupy"}  # names that are the modules themselves


@dataclass(frozen=True)
class T:
    """What an expression is: a CuPy object (``kind="obj"``, ``path`` its dotted name; ``bound``
    when reached through an instance, i.e. a method) or an instance of the class ``path``."""

    kind: str
    path: str
    bound: bool = False


@dataclass
class Use:
    """One use of a CuPy name at ``file:line``; calls also carry their arguments."""

    name: str
    file: str
    line: int
    call: bool = False
    bound: bool = False  # called through an instance: ``self`` is implicit
    npos: int = 0
    starred: bool = False  # ``f(*args)``: the positional count is unknown
    keywords: tuple[str, ...] = ()
    kwsplat: bool = False  # ``f(**kw)``

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class _Scope:
    locals: dict[str, T | None] = field(default_factory=dict)


class _Collector:
    """Walks one file's functions, typing expressions with ``T`` and recording each ``Use``."""

    def __init__(self, self_attrs: dict[str, T | None]) -> None:
        self.self_attrs = self_attrs
        self.uses: list[Use] = []
        self.file = ""

    # ---- typing ----------------------------------------------------------------------
    def typeof(self, node: ast.AST, scope: _Scope) -> T | None:
        if isinstance(node, ast.Name):
            if node.id in scope.locals:
                return scope.locals[node.id]
            if node.id in MODULE_NAMES:
                return T("obj", MODULE_NAMES[node.id])
            return None
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return T("obj", "cupy") if node.attr == "xp" else self.self_attrs.get(node.attr)
            base = self.typeof(node.value, scope)
            if base is None or base.bound:
                return None
            path = f"{base.path}.{node.attr}"
            if base.kind == "inst":
                if path in ATTRIBUTES:
                    target = ATTRIBUTES[path]
                    return None if target is None else T("inst", target)
                return T("obj", path, bound=True)
            return T("obj", path)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "import_cupy":
                return T("obj", "cupy")
            f = self.typeof(node.func, scope)
            if f is None or f.kind != "obj":
                return None
            if f.path in RETURNS:
                target = RETURNS[f.path]
                return None if target is None else T("inst", target)
            try:
                obj = resolve(f.path)
            except LookupError:
                return None
            if isinstance(obj, type):
                return T("inst", f.path)
            owner = f.path.rsplit(".", 1)[0]
            if f.bound and owner in (NDARRAY, "cupy.random.Generator"):
                return T("inst", NDARRAY)
            if not f.bound and isinstance(_try_resolve(owner), types.ModuleType):
                return T("inst", NDARRAY)  # cupy.zeros(...), cupy.arange(...)
            return None
        return None

    # ---- recording -------------------------------------------------------------------
    def record_call(self, node: ast.Call, name: str, bound: bool) -> None:
        self.uses.append(
            Use(
                name,
                self.file,
                node.lineno,
                call=True,
                bound=bound,
                npos=sum(not isinstance(a, ast.Starred) for a in node.args),
                starred=any(isinstance(a, ast.Starred) for a in node.args),
                keywords=tuple(k.arg for k in node.keywords if k.arg is not None),
                kwsplat=any(k.arg is None for k in node.keywords),
            )
        )

    def visit_function(self, fn: ast.FunctionDef, in_class: bool) -> None:
        scope = _Scope()
        args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
        for arg in args[1:] if in_class else args:
            if arg.arg in MODULE_NAMES:  # ArrayBackend.__init__(self, xp: Any): the module
                continue
            if isinstance(arg.annotation, ast.Name) and arg.annotation.id == "Any":
                target = PARAMETER_TYPES.get(arg.arg, NDARRAY)
                scope.locals[arg.arg] = None if target is None else T("inst", target)
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("cupy", "cupyx"):
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    self.uses.append(Use(name, self.file, node.lineno))
                    scope.locals[alias.asname or alias.name] = T("obj", name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in ("cupy", "cupyx"):
                        self.uses.append(Use(alias.name, self.file, node.lineno))
        # Local variables in source order (one pass: the backends assign before they read).
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                typed = self.typeof(node.value, scope)
                if typed is not None or node.targets[0].id not in MODULE_NAMES:
                    scope.locals.setdefault(node.targets[0].id, typed)
        for node in ast.walk(fn):
            if isinstance(node, ast.Attribute):
                base = self.typeof(node.value, scope)
                if base is not None and not base.bound:
                    self.uses.append(Use(f"{base.path}.{node.attr}", self.file, node.lineno))
            elif isinstance(node, ast.Call):
                f = self.typeof(node.func, scope)
                if f is not None and f.kind == "obj":
                    self.record_call(node, f.path, f.bound)
                elif f is not None:  # calling an instance: its class's __call__
                    self.record_call(node, f"{f.path}.__call__", True)
            elif isinstance(node, ast.With):
                for item in node.items:
                    ctx = self.typeof(item.context_expr, scope)
                    if ctx is not None and ctx.kind == "inst":
                        for dunder in ("__enter__", "__exit__"):
                            self.uses.append(Use(f"{ctx.path}.{dunder}", self.file, node.lineno))


def _functions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node, False
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield item, True


def collect_uses(files: tuple[Path, ...] = (ARRAY_BACKEND, CUPY_BACKEND)) -> list[Use]:
    """Every use of a CuPy name in ``files`` (CupyBackend's ``self.<attr>`` typed across both)."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in files}
    collector = _Collector({})
    # What ``self.<attr>`` holds: typed from ``self.<attr> = <expr>`` in any method, twice
    # so an attribute assigned from another one (in either order) is typed too.
    for _ in range(2):
        for tree in trees.values():
            for fn, in_class in _functions(tree):
                scope = _Scope()
                if in_class:
                    for node in ast.walk(fn):
                        if isinstance(node, ast.Assign):
                            for target in node.targets:
                                if (
                                    isinstance(target, ast.Attribute)
                                    and isinstance(target.value, ast.Name)
                                    and target.value.id == "self"
                                ):
                                    typed = collector.typeof(node.value, scope)
                                    if typed is not None:
                                        collector.self_attrs[target.attr] = typed
    for path, tree in trees.items():
        collector.file = str(path.relative_to(ROOT))
        for fn, in_class in _functions(tree):
            collector.visit_function(fn, in_class)
    return collector.uses


# ---------------------------------------------------------------------------------------
# Resolving names and signatures on the real modules
# ---------------------------------------------------------------------------------------
# Classes with attributes set per instance (in ``__init__``, so not on the class): looked up
# on an instance that exists without a GPU.
SAMPLE_INSTANCES = {"cupy.cuda.Stream": lambda: cupy.cuda.Stream.null}


def resolve(dotted: str) -> Any:
    """The real object named ``dotted`` (``cupyx.scipy.special.erf``), importing submodules
    as needed; LookupError naming the first part that is missing."""
    parts = dotted.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except ImportError as exc:
        raise LookupError(parts[0]) from exc
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
            continue
        except AttributeError:
            pass
        prefix = ".".join(parts[: i + 1])
        sample = SAMPLE_INSTANCES.get(".".join(parts[:i]))
        if sample is not None and hasattr(sample(), part):
            obj = getattr(sample(), part)
            continue
        if isinstance(obj, types.ModuleType):
            try:
                obj = importlib.import_module(prefix)
                continue
            except ImportError:
                pass
        raise LookupError(prefix)
    return obj


MISSING = object()  # what ``_try_resolve`` gives for a missing name (``cupy.newaxis`` is None)


def _try_resolve(dotted: str) -> Any:
    try:
        return resolve(dotted)
    except LookupError:
        return MISSING


_P = inspect.Parameter


class _Default:
    def __repr__(self) -> str:
        return "<default>"


_DOC_LINE = re.compile(r"^\s*(?P<name>[\w.]+)\((?P<params>.*)\)\s*(->.*)?$")


def _signature_from_doc(obj: Any) -> inspect.Signature | None:
    """The signature on the first line of a Cython docstring, e.g.
    ``_ndarray_base.astype(self, dtype, order='K', casting=None, subok=None, copy=True) -> ...``
    or ``add(x1, x2, /, out=None, \\*, casting='same_kind', dtype=None)``."""
    doc = getattr(obj, "__doc__", None)
    name = getattr(obj, "__name__", None)
    if not isinstance(doc, str) or not doc.strip() or not name:
        return None
    m = _DOC_LINE.match(doc.strip().splitlines()[0])
    # ``__name__`` of CuPy's ufuncs is prefixed (``cupy_exp``), their docstring's is not.
    if m is None or not name.endswith(m["name"].rsplit(".", 1)[-1]) or "[" in m["params"]:
        return None
    params = m["params"].replace("\\*", "*")
    try:
        args = ast.parse(f"def f({params}): pass").body[0].args
    except SyntaxError:
        return None
    out: list[inspect.Parameter] = []
    positional = [(a, _P.POSITIONAL_ONLY) for a in args.posonlyargs] + [
        (a, _P.POSITIONAL_OR_KEYWORD) for a in args.args
    ]
    first_default = len(positional) - len(args.defaults)
    for i, (a, kind) in enumerate(positional):
        out.append(_P(a.arg, kind, default=_Default() if i >= first_default else _P.empty))
    if args.vararg:
        out.append(_P(args.vararg.arg, _P.VAR_POSITIONAL))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(_P(a.arg, _P.KEYWORD_ONLY, default=_P.empty if d is None else _Default()))
    if args.kwarg:
        out.append(_P(args.kwarg.arg, _P.VAR_KEYWORD))
    owner = getattr(obj, "__self__", None)
    if out and out[0].name == "self" and owner is not None and not isinstance(owner, types.ModuleType):
        out = out[1:]  # a bound builtin method (cupy.add.at): self is already given
    return inspect.Signature(out)


def _ufunc_signature(obj: Any) -> inspect.Signature | None:
    """A CuPy ufunc without a docstring signature (``cupyx.scipy.special.erf``): CuPy's ufunc
    ``__call__`` takes ``nin`` inputs, then ``out``, ``casting`` and ``dtype``."""
    if type(obj).__name__ != "ufunc" or not hasattr(obj, "nin") or getattr(obj, "nout", 0) != 1:
        return None
    inputs = [_P(f"x{i + 1}", _P.POSITIONAL_ONLY) for i in range(obj.nin)]
    rest = [
        _P("out", _P.POSITIONAL_OR_KEYWORD, default=None),
        _P("casting", _P.KEYWORD_ONLY, default="same_kind"),
        _P("dtype", _P.KEYWORD_ONLY, default=None),
    ]
    return inspect.Signature(inputs + rest)


def signature_of(obj: Any) -> tuple[inspect.Signature, str] | None:
    """``(signature, where it came from)``, or None where neither Python nor the docs say."""
    try:
        return inspect.signature(obj), "inspect"
    except (TypeError, ValueError):
        pass
    sig = _signature_from_doc(obj)
    if sig is not None:
        return sig, "docstring"
    sig = _ufunc_signature(obj)
    if sig is not None:
        return sig, "ufunc nin/nout"
    return None


def _instead(dotted: str) -> str:
    """What CuPy has near a missing name: the nearest names of its deepest existing parent."""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        parent = _try_resolve(".".join(parts[:i]))
        if parent is not MISSING:
            near = difflib.get_close_matches(parts[i], [n for n in dir(parent) if not n.startswith("_")], 5)
            return f"{'.'.join(parts[:i])} has no {parts[i]!r}; nearest: {near or 'none'}"
    return f"no module {parts[0]!r}"


def check_call(use: Use, sig: inspect.Signature) -> str | None:
    """None when ``sig`` accepts the call's positional count and keywords, else why not."""
    positional = [None] * (use.npos + use.bound)
    keywords = dict.fromkeys(use.keywords)
    try:
        if use.starred or use.kwsplat:
            sig.bind_partial(*positional, **keywords)
        else:
            sig.bind(*positional, **keywords)
    except TypeError as exc:
        shown = ", ".join(["<arg>"] * use.npos + ["*<args>"] * use.starred + [f"{k}=" for k in use.keywords])
        return f"{use.where}: {use.name}({shown}) does not fit CuPy's {use.name}{sig}: {exc}"
    return None


USES = collect_uses()
NAMES: dict[str, list[Use]] = {}
for _use in USES:
    NAMES.setdefault(_use.name, []).append(_use)
CALLS = [u for u in USES if u.call]

# Findings: a name or keyword our code uses that real CuPy lacks, as {name or (name, keyword): reason}.
# Each is an xfail(strict=True), so fixing the code makes the test pass and reminds to drop it.
KNOWN_MISSING: dict[str, str] = {}
KNOWN_BAD_CALLS: dict[tuple[str, str], str] = {}


def _name_params():
    for name in sorted(NAMES):
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_MISSING[name])] if name in KNOWN_MISSING else []
        yield pytest.param(name, id=name, marks=marks)


def _call_params():
    for use in CALLS:
        key = f"{use.name}({', '.join(use.keywords)})@{Path(use.file).name}:{use.line}"
        reasons = [KNOWN_BAD_CALLS[(use.name, k)] for k in use.keywords if (use.name, k) in KNOWN_BAD_CALLS]
        marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
        yield pytest.param(use, id=key, marks=marks)


# ---------------------------------------------------------------------------------------
# (a) names, (b) calls
# ---------------------------------------------------------------------------------------
def test_audit_covers_the_backends(capsys):
    """The collector finds the uses it must (so an AST change cannot empty the audit)."""
    for name in (
        "cupy.exp",  # self.xp.exp
        "cupy.random.default_rng",  # self.xp.random.default_rng
        "cupy.random.Generator.standard_normal",  # self.rng.standard_normal
        "cupy.add.at",  # self.xp.add.at
        "cupy.cuda.runtime.getDeviceCount",  # cupy.cuda.runtime / import_cupy().cuda.runtime
        "cupy.cuda.runtime.setDevice",  # each primitive runs on its device
        "cupyx.scatter_add",
        "cupyx.scipy.special.erf",  # from cupyx.scipy.special import erf
        "cupy.ndarray.get",  # a.get() in cupy_backend
        "cupy.ndarray.base",  # a.base
        "cupy.ndarray.astype",  # a.astype / rng result .astype(..., copy=False)
        "cupy.ndarray.copy",
        "cupy.ndarray.reshape",  # self.xp.arange(n).reshape(shape)
        "cupy._core.flags.Flags.c_contiguous",  # a.flags.c_contiguous
    ):
        assert name in NAMES, f"the AST collector no longer finds {name}: {sorted(NAMES)}"
    assert any(u.name == "cupyx.scatter_add" and u.call for u in USES), "self._scatter_add(...) not typed"
    with_sig = [u for u in CALLS if _try_resolve(u.name) is not MISSING and signature_of(resolve(u.name))]
    n_keywords = sum(len(u.keywords) for u in CALLS)
    with capsys.disabled():
        print(
            f"\nCuPy API audit: {len(NAMES)} names ({len(USES)} uses), {len(CALLS)} call sites "
            f"({len(with_sig)} with a signature to check), {n_keywords} keyword uses"
        )


NCCL_MISSING = ("CuPy's wheel exposes cupy.cuda.nccl's names only when NCCL's library loads "
                "(pip install nvidia-nccl-cu12)")


def _nccl_missing(name: str) -> bool:
    """``name`` is in ``cupy.cuda.nccl``, which is empty here: NCCL's library is not installed."""
    return name.startswith("cupy.cuda.nccl.") and not getattr(_try_resolve("cupy.cuda.nccl"), "available", False)


@pytest.mark.parametrize("name", list(_name_params()))
def test_cupy_name_exists(name):
    if _nccl_missing(name):
        pytest.skip(NCCL_MISSING)
    try:
        resolve(name)
    except LookupError:
        where = ", ".join(sorted({u.where for u in NAMES[name]}))
        pytest.fail(f"{name} (used at {where}) is missing from CuPy {cupy.__version__}: {_instead(name)}")


@pytest.mark.parametrize("use", list(_call_params()))
def test_cupy_call_fits_signature(use):
    obj = _try_resolve(use.name)
    if obj is MISSING:
        pytest.skip(f"{use.name} is missing (test_cupy_name_exists reports it)")
    found = signature_of(obj)
    if found is None:
        pytest.skip(f"no signature for {use.name} in CuPy {cupy.__version__}")
    problem = check_call(use, found[0])
    assert problem is None, f"{problem} (signature from {found[1]})"


def test_array_methods_the_cuda_backend_calls_exist_on_cupy_ndarray():
    """The array methods ``cupy_backend.py`` and ``array_backend.py`` use, on ``cupy.ndarray``."""
    methods = sorted(n.split(".", 2)[2] for n in NAMES if n.startswith(NDARRAY + "."))
    assert {"get", "base", "astype", "copy"} <= set(methods), methods
    missing = [m for m in methods if not hasattr(cupy.ndarray, m)]
    assert not missing, f"cupy.ndarray lacks {missing}"


# ---------------------------------------------------------------------------------------
# (c) no GPU: our error, device_count() == 0, cuda.is_available() is False
# ---------------------------------------------------------------------------------------
def _gpu_count() -> int:
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CUDARuntimeError (cudaErrorInsufficientDriver, ...) without a driver
        return 0


@pytest.mark.skipif(_gpu_count() > 0, reason="a GPU is present")
def test_without_gpu_import_cupy_raises_our_error():
    import autodiff
    from backends.cupy_backend import device_count, import_cupy

    with pytest.raises(RuntimeError, match="no NVIDIA GPU or driver") as info:
        import_cupy()
    assert isinstance(info.value.__cause__, Exception)  # CuPy's CUDARuntimeError, chained
    assert device_count() == 0
    assert autodiff.cuda.is_available() is False
    assert autodiff.cuda.device_count() == 0


# ---------------------------------------------------------------------------------------
# (d) the CPU stand-in of CuPy
# ---------------------------------------------------------------------------------------
def compare_signatures(fake: inspect.Signature, real: inspect.Signature) -> list[str]:
    """What ``fake`` accepts that ``real`` does not: each parameter ``real`` lacks (unless
    ``real`` takes ``**kwargs``), a keyword-able parameter ``real`` takes by position only,
    a parameter at a position where ``real`` has another (or none), and ``*args`` /
    ``**kwargs`` that ``real`` has not."""
    real_params = list(real.parameters.values())
    kinds = {p.kind for p in real_params}
    real_positional = [p for p in real_params if p.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in real_params if p.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD)}
    problems = []
    position = 0
    for p in fake.parameters.values():
        if p.kind == _P.VAR_POSITIONAL:
            if _P.VAR_POSITIONAL not in kinds:
                problems.append(f"*{p.name} (CuPy takes no *args)")
            continue
        if p.kind == _P.VAR_KEYWORD:
            if _P.VAR_KEYWORD not in kinds:
                problems.append(f"**{p.name} (CuPy takes no **kwargs)")
            continue
        if p.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD):
            position += 1
            if position > len(real_positional):
                if _P.VAR_POSITIONAL not in kinds:
                    problems.append(f"{p.name} by position #{position} (CuPy takes {len(real_positional)})")
                    continue
            else:
                other = real_positional[position - 1]
                if (
                    p.kind == _P.POSITIONAL_OR_KEYWORD
                    and other.kind != _P.POSITIONAL_ONLY
                    and other.name != p.name
                ):
                    problems.append(
                        f"{p.name} as positional #{position} (CuPy's #{position} is {other.name})"
                    )
                    continue
            if p.kind == _P.POSITIONAL_ONLY:
                continue
        match = by_name.get(p.name)
        if match is None:
            if _P.VAR_KEYWORD not in kinds:
                problems.append(f"{p.name} (no such parameter in CuPy)")
        elif match.kind == _P.POSITIONAL_ONLY:
            problems.append(f"{p.name} by keyword (positional-only in CuPy)")
    return problems


def _is_incidental(obj: Any, owned: tuple[str, ...]) -> bool:
    """A helper a module imported rather than API it exposes: a foreign module, a
    ``__future__`` feature, a typing construct."""
    if isinstance(obj, types.ModuleType):
        return not obj.__name__.startswith(owned)
    if isinstance(obj, __future__._Feature):
        return True
    return getattr(obj, "__module__", None) in ("typing", "typing_extensions", "collections.abc")


def _owned(obj: Any, owned: tuple[str, ...]) -> bool:
    name = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    return isinstance(name, str) and name.startswith(owned)


def _public_names(obj: Any) -> list[str]:
    if isinstance(obj, types.ModuleType) and isinstance(getattr(obj, "__all__", None), (list, tuple)):
        return list(obj.__all__)
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def audit_standin(
    fake: Any, real_name: str, owned: tuple[str, ...], seen: set[int] | None = None, depth: int = 0
) -> tuple[int, list[tuple[str, str]]]:
    """Walk the public names of ``fake`` (a stand-in module, class or object) recursively:
    each must exist on the real object ``real_name`` and, where both have a signature, take
    no parameter the real one lacks. Recurses into modules, classes and objects the stand-in
    itself defines (``__name__`` / ``__module__`` starting with one of ``owned``); a foreign
    object (a NumPy function it re-exports) is checked by name and signature, not walked.
    Returns ``(names audited, [(dotted name, what is wrong), ...])``."""
    seen = set() if seen is None else seen
    seen.add(id(fake))
    if _try_resolve(real_name) is MISSING:
        return 1, [(real_name, f"missing from CuPy; {_instead(real_name)}")]
    count, problems = 0, []
    is_module = isinstance(fake, types.ModuleType)
    for name in _public_names(fake):
        try:
            value = inspect.getattr_static(fake, name) if isinstance(fake, type) else getattr(fake, name)
        except AttributeError:
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = getattr(fake, name)
        if is_module and _is_incidental(value, owned):
            continue
        dotted = f"{real_name}.{name}"
        count += 1
        real_value = _try_resolve(dotted)
        if real_value is MISSING:
            problems.append((dotted, f"missing from CuPy; {_instead(dotted)}"))
            continue
        # A function's parameters; a class's constructor's (only for the stand-in's own classes).
        if callable(value) and callable(real_value) and (not isinstance(value, type) or _owned(value, owned)):
            fake_sig, real_sig = signature_of(value), signature_of(real_value)
            if fake_sig is not None and real_sig is not None:
                for p in compare_signatures(fake_sig[0], real_sig[0]):
                    problems.append((dotted, f"stand-in takes {p}; CuPy's is {dotted}{real_sig[0]}"))
        routine = isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType))
        if not routine and depth < 8 and id(value) not in seen and _owned(value, owned):
            n, found = audit_standin(value, dotted, owned, seen, depth + 1)
            count += n
            problems += found
    return count, problems


def test_standin_audit_catches_a_bad_fake():
    """The walker on a fake built here: right names pass, wrong names and parameters fail."""
    owner = "fake_standin_for_audit"
    fake_cupy = types.ModuleType(owner)
    fake_cupy.np = importlib.import_module("numpy")  # imported helpers, not API: skipped
    fake_cupy.annotations = __future__.annotations
    fake_cupy.Any = Any

    def zeros(shape, dtype=float, order="C"):  # as cupy.zeros
        pass

    def exp(x, /, out=None, *, dtype=None):  # fits cupy.exp's docstring signature
        pass

    def sum(a, axis=None, dtype=None, out=None, keepdims=False, *, bogus=1):  # cupy.sum has no bogus
        pass

    def take(a, indices, out=None, axis=None):  # cupy.take(a, indices, axis=None, out=None)
        pass

    def pad(array, pad_width, mode="constant", *, constant_values=0, anything=None):  # cupy.pad: **kwargs
        pass

    def frobnicate():  # cupy has no frobnicate
        pass

    def maximum(x1, x2, out=None):  # x1, x2 by keyword: cupy.maximum(x1, x2, /, ...) refuses
        pass

    class ndarray:  # noqa: N801
        __module__ = owner
        base = None

        def get(self, stream=None):  # cupy.ndarray.get(self, stream=None, order='C', ...)
            pass

        def astype(self, dtype, *, bogus_kw=False):  # no bogus_kw in cupy
            pass

        def to_cpu(self):  # cupy.ndarray has no to_cpu
            pass

    class Generator:
        __module__ = owner + ".random"

        def __init__(self, bit_generator):
            pass

        def standard_normal(self, size=None, dtype=float, out=None):
            pass

        def standard_normal_fast(self, size=None):
            pass

    def default_rng(seed=None):
        pass

    for fn in (zeros, exp, sum, take, pad, frobnicate, maximum):
        setattr(fake_cupy, fn.__name__, fn)
    fake_cupy.ndarray = ndarray
    fake_cupy.random = types.ModuleType(owner + ".random")
    fake_cupy.random.default_rng = default_rng
    fake_cupy.random.Generator = Generator
    count, problems = audit_standin(fake_cupy, "cupy", (owner,))
    assert sorted((name, what.split(";")[0]) for name, what in problems) == [
        ("cupy.frobnicate", "missing from CuPy"),
        ("cupy.maximum", "stand-in takes x1 by keyword (positional-only in CuPy)"),
        ("cupy.maximum", "stand-in takes x2 by keyword (positional-only in CuPy)"),
        ("cupy.ndarray.astype", "stand-in takes bogus_kw (no such parameter in CuPy)"),
        ("cupy.ndarray.to_cpu", "missing from CuPy"),
        ("cupy.random.Generator.standard_normal_fast", "missing from CuPy"),
        ("cupy.sum", "stand-in takes bogus (no such parameter in CuPy)"),
        ("cupy.take", "stand-in takes axis as positional #4 (CuPy's #4 is out)"),
        ("cupy.take", "stand-in takes out as positional #3 (CuPy's #3 is axis)"),
    ], problems
    # cupy: 9 names (np, annotations, Any skipped); ndarray: 4; random: 2; Generator: 2
    assert count == 17, count
    assert "nearest: ['standard_normal'" in dict(problems)["cupy.random.Generator.standard_normal_fast"]


def test_standin_matches_real_cupy(capsys):
    """``autodiff.testing.simulated_cuda.standin_modules()`` (``{"cupy": module, "cupyx": module,
    "cupyx.scipy.special": module, ...}``): every public name and parameter exists in CuPy."""
    try:
        standin = importlib.import_module("autodiff.testing.simulated_cuda")
    except ModuleNotFoundError as exc:
        if exc.name not in ("autodiff.testing.simulated_cuda", "autodiff.testing"):
            raise  # the stand-in exists but imports something missing: a real failure
        pytest.skip("the CuPy stand-in autodiff.testing.simulated_cuda does not exist yet")
    modules = standin.standin_modules()
    assert {"cupy", "cupyx"} <= set(modules), f"standin_modules() must give cupy and cupyx: {set(modules)}"
    real_ids = {id(sys.modules.get(n)) for n in modules}
    assert not real_ids & {id(m) for m in modules.values()}, "standin_modules() returned the real CuPy"
    owned = tuple({standin.__name__.rsplit(".", 1)[0]} | {m.__name__ for m in modules.values()})
    seen: set[int] = set()
    total, problems = 0, []
    for real_name, fake in sorted(modules.items()):  # "cupy" before "cupy.cuda": walked once
        if id(fake) in seen:
            continue
        count, found = audit_standin(fake, real_name, owned, seen)
        total += count
        problems += [(name, what) for name, what in found if not _nccl_missing(name)]
    with capsys.disabled():
        print(f"\nCuPy stand-in audit: {total} names")
    assert total > 0, "the stand-in exposes no public names"
    listing = "\n".join(f"{name}: {what}" for name, what in problems)
    assert not problems, f"{len(problems)} stand-in name(s) or parameter(s) real CuPy lacks:\n{listing}"
