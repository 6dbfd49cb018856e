"""Ambiguous configuration is an error (issue 18, items 7 and 11): a duplicate YAML key, a notebook
listed twice or missing, a misspelt `after:` name, an `after:` cycle. In-process (typer's
CliRunner) on a small project copy with a stamped book and a raw store: each case asserts the exit
code, a message naming the cause and the nearest valid name, and that raw data and the book are
untouched (nothing runs)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import tree_digest
from kunnskapsgrunnlag import cli, outputs

ROOT = Path(__file__).resolve().parent.parent


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def proj(tmp_path, monkeypatch):
    p = tmp_path / "proj"
    for d in ("config", "notebooks", "report"):
        shutil.copytree(ROOT / d, p / d)
    shutil.copy2(ROOT / "_quarto.yml", p / "_quarto.yml")
    outputs.stamp(p / "_book" / "2026-33", kind="book", configuration="2026-33")
    (p / "_book" / "2026-33" / "index.html").write_text("<p>bok</p>")
    (p / "data" / "raw").mkdir(parents=True)
    (p / "data" / "raw" / "manifest.json").write_text('{"datasets": {}}')
    monkeypatch.chdir(p)
    monkeypatch.setattr(cli.console, "width", 400)
    return p


def run(proj: Path, *args: str) -> str:
    before = {"book": tree_digest(proj / "_book"), "raw": tree_digest(proj / "data" / "raw")}
    res = CliRunner().invoke(cli.app, list(args))
    out = norm(res.output)
    assert res.exit_code == 2, out
    assert "Traceback" not in out
    assert {"book": tree_digest(proj / "_book"), "raw": tree_digest(proj / "data" / "raw")} == before
    assert not (proj / "build").exists()
    return out


def edit(proj: Path, old: str, new: str, count: int = 1) -> None:
    f = proj / "config" / "project.yml"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new, count), encoding="utf-8")


def test_duplicate_yaml_key_is_an_error(proj):
    edit(proj, '  region: "33"\n', '  region: "33"\n  region: "40"\n')
    out = run(proj, "build")
    assert "key 'region' appears twice" in out and "project.yml" in out and "line" in out


def test_duplicate_key_in_the_catalogue_is_an_error(proj):
    f = proj / "config" / "datasets.yml"
    text = f.read_text(encoding="utf-8")
    first = re.search(r"^  title: .*$", text, flags=re.M) or re.search(r"^    title: .*$", text, flags=re.M)
    assert first
    f.write_text(text[: first.end()] + "\n" + first.group(0) + text[first.end() :], encoding="utf-8")
    out = run(proj, "fetch", "--offline")
    assert "key 'title' appears twice" in out and "datasets.yml" in out


def test_a_notebook_listed_twice_is_an_error(proj):
    edit(
        proj,
        '  - {name: 03_02_livsmestring, chapter: "3.2"}\n',
        '  - {name: 03_02_livsmestring, chapter: "3.2"}\n  - {name: 03_02_livsmestring, chapter: "3.2"}\n',
    )
    out = run(proj, "build")
    assert "'03_02_livsmestring' is listed twice" in out


def test_a_misspelt_after_name_suggests_the_nearest_notebook(proj):
    text = (proj / "config" / "project.yml").read_text(encoding="utf-8")
    m = re.search(r"after: \[([^\]]+)\]", text)
    assert m, "no `after:` list in config/project.yml"
    name = m.group(1).split(",")[0].strip().strip("\"'")
    edit(proj, m.group(0), m.group(0).replace(name, name[:-2]))
    out = run(proj, "build")
    assert f"{name[:-2]!r} is not a notebook in this list" in out and f"did you mean {name!r}" in out


def test_a_listed_notebook_that_does_not_exist_suggests_the_nearest(proj):
    edit(proj, "{name: 03_02_livsmestring,", "{name: 03_02_livsmestrin,")
    out = run(proj, "status")
    assert "no notebooks/03_02_livsmestrin.ipynb" in out and "did you mean '03_02_livsmestring'" in out


def test_an_after_cycle_is_an_error(proj):
    text = (proj / "config" / "project.yml").read_text(encoding="utf-8")
    m = re.search(r"\{name: (\w+), chapter: [^,]+, after: \[([^\]]+)\]", text)
    assert m
    child, parent = m.group(1), m.group(2).split(",")[0].strip().strip("\"'")
    edit(proj, f"{{name: {parent}, chapter:", f"{{name: {parent}, after: [{child}], chapter:")
    out = run(proj, "build")
    assert "form a cycle" in out and child in out and parent in out
