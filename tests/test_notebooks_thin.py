"""Thin notebooks for reviewers (issue 20 item 5), checked on the sources without running them:
no code cell over 40 lines, a Markdown cell before every step (each code cell after the
parameters cell), and none of the terse names the review found hard to read."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
MAX_LINES = 40
TERSE = {"R", "RN", "p0", "p1", "gfy", "k_", "c_"}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_parameters(cell: dict) -> bool:
    return "parameters" in (cell.get("metadata") or {}).get("tags", [])


def test_notebooks_are_found():
    assert len(NOTEBOOKS) >= 12


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_code_cell_over_40_lines(path):
    long = [
        (i, len(_source(c).splitlines()))
        for i, c in enumerate(_cells(path))
        if c["cell_type"] == "code" and len(_source(c).splitlines()) > MAX_LINES
    ]
    assert not long, f"{path.name}: code cells over {MAX_LINES} lines (cell index, lines): {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_step_has_a_markdown_cell_before_it(path):
    cells = _cells(path)
    params = [i for i, c in enumerate(cells) if _is_parameters(c)]
    assert len(params) == 1, f"{path.name}: one parameters cell expected"
    bare = [
        i
        for i in range(params[0] + 1, len(cells))
        if cells[i]["cell_type"] == "code"
        and not (cells[i - 1]["cell_type"] == "markdown" and _source(cells[i - 1]).strip())
    ]
    assert not bare, f"{path.name}: code cells without a Markdown cell before them (cell index): {bare}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_names_a_reviewer_can_read(path):
    found = set()
    for c in _cells(path):
        if c["cell_type"] != "code":
            continue
        code = "\n".join(ln for ln in _source(c).splitlines() if not re.match(r"\s*[%!]", ln))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Name) and node.id in TERSE:
                found.add(node.id)
            elif isinstance(node, ast.arg) and node.arg in TERSE:
                found.add(node.arg)
    assert not found, f"{path.name}: terse names {sorted(found)}"
