"""Run the code in the docs: every ```python block must print exactly its following ```text block.

Only Markdown files in docs/ whose first line is the marker ``<!-- doctest: run -->`` are run.
All python blocks of one file share a namespace and run in order, like notebook cells. A python
block followed (after blank lines only) by a ```text block must print exactly that text. A block
with no text block must print nothing. Memory addresses (``0x7f...``) are normalized on both sides.
"""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKER = "<!-- doctest: run -->"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


@dataclass
class Block:
    lang: str
    body: str
    line: int  # 1-based line of the opening fence
    start: int
    end: int


@dataclass
class Example:
    code: str
    line: int
    expected: str | None  # None: the block must print nothing


def runnable_docs() -> list[Path]:
    """docs/*.md files that opt in with the marker on their first line."""
    if not DOCS.is_dir():
        return []
    files = []
    for path in sorted(DOCS.glob("*.md")):
        lines = path.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()
        if lines and lines[0].strip() == MARKER:
            files.append(path)
    return files


def fenced_blocks(text: str) -> list[Block]:
    return [
        Block(m["lang"], m["body"], text.count("\n", 0, m.start()) + 1, m.start(), m.end())
        for m in FENCE.finditer(text)
    ]


def examples(text: str) -> list[Example]:
    """The python blocks in order, each paired with the text block right after it, if any."""
    blocks = fenced_blocks(text)
    found = []
    for i, block in enumerate(blocks):
        if block.lang != "python":
            continue
        expected = None
        if i + 1 < len(blocks):
            nxt = blocks[i + 1]
            if nxt.lang == "text" and not text[block.end : nxt.start].strip():
                expected = nxt.body
        found.append(Example(block.body, block.line, expected))
    return found


def normalize(output: str) -> str:
    return ADDRESS.sub("0x...", output)


DOC_FILES = runnable_docs()


def test_marked_docs_exist():
    assert any(p.name == "autograd.md" for p in DOC_FILES), f"{DOCS / 'autograd.md'} lacks {MARKER!r}"


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_doc_examples_print_what_the_doc_shows(path: Path):
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(DOCS.parent)
    found = examples(text)
    assert found, f"{rel}: marked with {MARKER!r} but has no ```python blocks"
    namespace: dict = {"__name__": "__main__"}
    for ex in found:
        where = f"{rel}, python block at line {ex.line}"
        # Leading newlines make tracebacks report the line numbers of the Markdown file.
        code = compile("\n" * ex.line + ex.code, str(path), "exec")
        buf = io.StringIO()
        error = None
        with contextlib.redirect_stdout(buf):
            try:
                exec(code, namespace)
            except Exception:
                error = traceback.format_exc()
        if error is not None:
            pytest.fail(f"{where} raised:\n{error}\nprinted before that:\n{buf.getvalue()}")
        got = normalize(buf.getvalue())
        if ex.expected is None:
            assert got == "", f"{where} printed output but has no ```text block after it:\n{got}"
        else:
            want = normalize(ex.expected)
            assert got == want, (
                f"{where}: output differs from the ```text block after it\n"
                f"--- expected ---\n{want}--- got ---\n{got}"
            )
