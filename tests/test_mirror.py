"""The offline mirror is part of the configuration, and no data means no notebooks (issue 18,
items 5 and 15). In-process on a small project copy with no mirror and no network."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from helpers import tree_digest
from kunnskapsgrunnlag import cli, config, pipeline

ROOT = Path(__file__).resolve().parent.parent


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def proj(tmp_path, monkeypatch):
    p = tmp_path / "clone" / "proj"
    for d in ("config", "notebooks", "report"):
        shutil.copytree(ROOT / d, p / d)
    shutil.copy2(ROOT / "_quarto.yml", p / "_quarto.yml")
    monkeypatch.chdir(p)
    monkeypatch.delenv("KG_MIRROR", raising=False)
    monkeypatch.setattr(pipeline, "network_available", lambda: False)
    monkeypatch.setattr(cli.console, "width", 400)
    return p


def test_mirror_from_option_env_or_configuration(proj, tmp_path, monkeypatch):
    s = config.make_settings()
    assert config.load_project()["defaults"]["mirror"] == "../shared/data"
    assert pipeline.resolve_mirror(s, None)[0] is None  # ../shared/data of this clone does not exist
    assert "does not exist" in pipeline.resolve_mirror(s, None)[1]
    shared = tmp_path / "clone" / "shared" / "data"
    shared.mkdir(parents=True)
    assert pipeline.resolve_mirror(s, None) == (shared.resolve(), "config/project.yml defaults.mirror")
    monkeypatch.chdir(proj / "notebooks")  # relative to the project root, not the cwd
    assert pipeline.resolve_mirror(config.make_settings(), None)[0] == shared.resolve()
    other = tmp_path / "annet"
    other.mkdir()
    monkeypatch.setenv("KG_MIRROR", str(other))
    assert pipeline.resolve_mirror(s, None) == (other.resolve(), "KG_MIRROR")
    assert pipeline.resolve_mirror(s, tmp_path)[0] == tmp_path.resolve()


def test_the_repository_names_the_shared_mirror():
    proj = yaml.safe_load((ROOT / "config" / "project.yml").read_text(encoding="utf-8"))
    assert (ROOT / proj["defaults"]["mirror"]).resolve() == (ROOT.parent / "shared" / "data").resolve()


def test_no_source_reachable_is_said_and_no_data_stops_before_the_notebooks(proj):
    res = CliRunner().invoke(cli.app, ["fetch"])
    out = norm(res.output)
    assert res.exit_code == 0, out
    assert "missing because no source was reachable" in out and "--mirror" in out and "KG_MIRROR" in out
    res = CliRunner().invoke(cli.app, ["report", "--renderer", "pandoc"])
    out = norm(res.output)
    assert res.exit_code == 2, out
    assert "No data to build 2026-33" in out and "kommuner_2024" in out and "--mirror" in out
    assert "Traceback" not in out
    assert not (proj / "build" / "2026-33" / "notebooks").exists() and not (proj / "_book" / "2026-33").exists()
    raw = tree_digest(proj / "data" / "raw")
    res = CliRunner().invoke(cli.app, ["build"])
    assert res.exit_code == 2 and "No data to build" in norm(res.output)
    assert tree_digest(proj / "data" / "raw") == raw
