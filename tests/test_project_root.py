"""The project is found like git finds its repository, and every stored path is relative to it
(issue 18, items 1 and 2): same settings, parameters and hashes from any working directory and
any clone folder; two checkouts sharing one environment never cross.

Fast tests work in-process on small project copies (config/ and _quarto.yml, plus notebooks/ for
the hashes); the slow ones build in a deep folder with spaces and æøå.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kunnskapsgrunnlag import cli, config, runner

ROOT = Path(__file__).resolve().parent.parent
DEEP = Path("mappe med æøå") / "nivå 2" / "prosjekt"


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def small_project(dst: Path, notebooks: bool = False) -> Path:
    """A project folder with the configuration (and optionally the notebooks)."""
    shutil.copytree(ROOT / "config", dst / "config")
    shutil.copy2(ROOT / "_quarto.yml", dst / "_quarto.yml")
    if notebooks:
        shutil.copytree(ROOT / "notebooks", dst / "notebooks")
    (dst / "report").mkdir(exist_ok=True)
    return dst


@pytest.fixture
def deep(tmp_path) -> Path:
    return small_project(tmp_path / DEEP, notebooks=True)


def test_found_from_any_subfolder(deep, monkeypatch):
    sub = deep / "build" / "2026-33" / "notebooks"
    sub.mkdir(parents=True)
    for where in (deep, deep / "notebooks", deep / "config", sub):
        monkeypatch.chdir(where)
        assert config.find_project() == deep.resolve()
        assert config.make_settings().root == deep.resolve()
        assert config.make_settings().build_dir == deep.resolve() / "build" / "2026-33"


def test_outside_a_project_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(config.ProjectNotFound, match="not inside a kunnskapsgrunnlag project"):
        config.make_settings()
    res = CliRunner().invoke(cli.app, ["status"])
    out = norm(res.output)
    assert res.exit_code == 2, out
    assert "not inside a kunnskapsgrunnlag project" in out and "--project" in out and "Traceback" not in out
    res = CliRunner().invoke(cli.app, ["--project", str(tmp_path), "status"])
    assert res.exit_code == 2 and "not inside a kunnskapsgrunnlag project" in norm(res.output)


def test_project_option_picks_the_project(deep, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli.app, ["--project", str(deep / "notebooks"), "status"])
    out = norm(res.output)
    assert res.exit_code == 0, out
    assert str(deep / "build" / "2026-33") in out.replace(" ", "") or "2026-33" in out
    config.set_project(None)


def test_two_checkouts_sharing_one_environment_never_cross(tmp_path, monkeypatch):
    """The 2026 and the 2027 checkout: each finds its own configuration (no process-wide cache)."""
    a = small_project(tmp_path / "kg-2026")
    b = small_project(tmp_path / "kg-2027")
    proj = yaml.safe_load((b / "config" / "project.yml").read_text(encoding="utf-8"))
    proj["regions"]["33"] = "Buskerud (kopi B)"
    (b / "config" / "project.yml").write_text(yaml.safe_dump(proj, allow_unicode=True), encoding="utf-8")
    monkeypatch.chdir(a)
    sa = config.make_settings()
    monkeypatch.chdir(b)
    sb = config.make_settings()
    assert (sa.root, sb.root) == (a.resolve(), b.resolve())
    assert sa.region_name == "Buskerud" and sb.region_name == "Buskerud (kopi B)"
    assert sa.build_dir.is_relative_to(a.resolve()) and sb.build_dir.is_relative_to(b.resolve())
    # an edited file is read again (cache keyed by root and the file's mtime and size)
    proj["regions"]["33"] = "Buskerud (endret)"
    (b / "config" / "project.yml").write_text(yaml.safe_dump(proj, allow_unicode=True), encoding="utf-8")
    assert config.make_settings().region_name == "Buskerud (endret)"
    with config.use_project(a):
        assert config.make_settings().root == a.resolve()


def test_notebook_parameters_are_relative_to_the_project_root(deep, monkeypatch):
    monkeypatch.chdir(deep)
    s = config.make_settings()
    p = s.notebook_parameters()
    assert p["root"] is None
    assert (p["raw_dir"], p["processed_dir"], p["build_dir"]) == ("data/raw", "data/processed/2026-33", "build/2026-33")
    # an executed notebook re-run from its published folder resolves them against the root
    pub = deep / "build" / "2026-33" / "notebooks"
    pub.mkdir(parents=True)
    monkeypatch.chdir(pub)
    again = config.settings_from_parameters(p)
    assert (again.root, again.raw_dir, again.build_dir, again.processed_dir) == (
        s.root,
        s.raw_dir,
        s.build_dir,
        s.processed_dir,
    )


def test_source_notebook_defaults_write_into_the_default_configuration(deep, monkeypatch):
    """The parameters cell of every source notebook: run by hand from notebooks/, it writes into
    the default configuration's folders (never the old flat build/variables)."""
    monkeypatch.chdir(deep / "notebooks")
    for nb in sorted((deep / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        cell = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
        params: dict = {}
        exec("".join(cell["source"]), {}, params)
        s = config.settings_from_parameters(params)
        assert s.build_dir == deep.resolve() / "build" / "2026-33", nb.name
        assert s.processed_dir == deep.resolve() / "data" / "processed" / "2026-33", nb.name
        assert s.raw_dir == deep.resolve() / "data" / "raw", nb.name


def test_hashes_do_not_depend_on_the_working_directory_or_the_clone_folder(deep, tmp_path, monkeypatch):
    other = small_project(tmp_path / "elsewhere", notebooks=True)
    hashes = []
    for where in (deep, deep / "notebooks", deep / "config", other):
        monkeypatch.chdir(where)
        hashes.append(runner.current_hashes(config.make_settings()))
    assert all(h == hashes[0] for h in hashes[1:])


# --- what triggers a rerun (issue 18, item 3) ------------------------------------------------------
def _hashes(edition: int = 2026) -> dict[str, str]:
    return runner.current_hashes(config.make_settings(edition=edition))


def test_an_unused_edition_block_reruns_nothing_of_another_edition(deep, monkeypatch):
    monkeypatch.chdir(deep)
    before = {2026: _hashes(2026), 2025: _hashes(2025)}
    f = deep / "config" / "project.yml"
    proj = yaml.safe_load(f.read_text(encoding="utf-8"))
    proj["editions"][2027] = {**proj["editions"][2026], "note": "ny utgave"}
    f.write_text(yaml.safe_dump(proj, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert {2026: _hashes(2026), 2025: _hashes(2025)} == before
    # a key of the 2026 block reruns 2026's notebooks, never 2025's
    proj["editions"][2026]["neet_year"] = int(proj["editions"][2026]["neet_year"]) - 1
    f.write_text(yaml.safe_dump(proj, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert _hashes(2025) == before[2025]
    after = _hashes(2026)
    assert all(after[n] != before[2026][n] for n in after)


def test_a_dataset_entry_reruns_only_the_notebooks_that_read_it(deep, monkeypatch):
    monkeypatch.chdir(deep)
    cat = config.load_catalogue()
    name, spec = next((n, s) for n, s in cat.items() if len(config.used_by_notebook(s)) == 1)
    users = config.used_by_notebook(spec) | runner.MANIFEST_READERS
    before = _hashes()
    f = deep / "config" / "datasets.yml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace(f"{name}:\n", f"{name}:\n  note: endret for testen\n", 1), encoding="utf-8")
    assert config.load_catalogue()[name].get("note") == "endret for testen"
    after = _hashes()
    changed = {n for n in after if after[n] != before[n]}
    assert changed and changed <= users, (name, changed)


def test_the_reason_of_a_rerun_is_named():
    old = {
        "source": "a",
        "parameters": {},
        "inputs": {"x": "1"},
        "code": "c",
        "config": {"project.editions.2026.neet_year": "1"},
        "upstream": {},
    }
    new = {**old, "inputs": {"x": "2"}, "config": {"project.editions.2026.neet_year": "2"}}
    why = runner.rerun_reason(old, new)
    assert "input data changed: x" in why and "editions.2026.neet_year" in why
    assert "first build" in runner.rerun_reason(None, new)
