"""`report --all-regions` (pipeline.build_all, the CLI's summary) and the atlas page (atlaspage.py)."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest

from helpers import copy_tree
from kunnskapsgrunnlag import atlaspage, kernels, pipeline
from kunnskapsgrunnlag.config import valid_regions
from kunnskapsgrunnlag.runner import BuildResult, StepResult, read_variables, stale_notebooks


def test_parse_number_reads_the_books_formats():
    assert atlaspage.parse_number("272\u00a0981") == 272981
    assert atlaspage.parse_number("+5,1") == 5.1
    assert atlaspage.parse_number("\u22121,2") == -1.2
    assert atlaspage.parse_number("(data mangler)") is None
    assert atlaspage.parse_number("") is None and atlaspage.parse_number(None) is None


# --- the run: a failing fylke does not stop the others; the slots are shared ----------------------
class _Lock:
    def __init__(self, *a, **k):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_a_failing_fylke_is_reported_and_the_others_build(monkeypatch):
    settings = pipeline.all_settings(2026, regions=["03", "33", "40"])
    running, peak = [0], [0]

    def fake_build(s, jobs, force):
        with kernels.slot(s.config_id):  # what the runner does per notebook
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            time.sleep(0.2)
            running[0] -= 1
        if s.region == "33":
            raise RuntimeError("boom in 33")
        if s.region == "40":
            failed = StepResult("03_04_arbeid", "failed", 0, "Notebook 03_04_arbeid failed in cell 2")
            return BuildResult(steps=[failed])
        return BuildResult(steps=[StepResult("02_situasjonen", "ran", 1.0)])

    monkeypatch.setattr(pipeline, "configuration_lock", _Lock)
    monkeypatch.setattr(pipeline, "build", fake_build)
    monkeypatch.setattr(pipeline, "render", lambda s, renderer: {"html": Path("x.html"), "renderer": "pandoc"})
    seen = []
    run = pipeline.build_all(settings, pipeline.RunOptions(jobs=1), on_region=lambda o: seen.append(o.settings.region))
    assert sorted(seen) == ["03", "33", "40"]
    by = {o.settings.region: o for o in run.outcomes}
    assert [o.settings.region for o in run.outcomes] == ["03", "33", "40"]  # in configuration order
    assert by["03"].status == "ok" and by["03"].build.count("ran") == 1
    assert by["03"].rendered == {"html": Path("x.html"), "renderer": "pandoc"}
    assert by["33"].status == "failed" and "boom in 33" in by["33"].message
    assert by["40"].status == "failed" and "03_04_arbeid" in by["40"].message
    assert not run.ok
    assert peak[0] == 1  # --jobs 1: one notebook at a time across all configurations
    assert kernels._slots["slots"] is None


def test_cli_all_regions_exit_code_and_refusals(monkeypatch):
    from typer.testing import CliRunner

    from kunnskapsgrunnlag.cli import app

    r = CliRunner().invoke(app, ["report", "--all-regions", "--region", "33"])
    assert r.exit_code == 2 and "--all-regions" in r.output

    def fake_build_all(settings, opts, **kw):
        assert len(settings) == len(valid_regions()) and opts.jobs == 2 and not opts.render
        built = BuildResult(steps=[StepResult("02_situasjonen", "ran", 1.0), StepResult("03_04_arbeid", "skipped", 0)])
        rendered = {"html": Path("b/index.html"), "renderer": "pandoc"}
        outs = [
            pipeline.RegionOutcome(s, "ok", build=built, rendered=rendered)
            if s.region != "56"
            else pipeline.RegionOutcome(s, "failed", "boom in 56")
            for s in settings
        ]
        for o in outs:
            kw["on_region"](o)
        return pipeline.AtlasRun(outcomes=outs)

    monkeypatch.setattr(pipeline, "build_all", fake_build_all)
    monkeypatch.setattr(kernels, "prestart", lambda root: None)  # no kernel server for a faked build
    monkeypatch.setattr("kunnskapsgrunnlag.cli._run_fetch", lambda *a, **k: [])
    monkeypatch.setattr(
        atlaspage,
        "write_atlas",
        lambda root, edition, stale: {"html": Path("a/index.html"), "pdf": Path("a.pdf"), "csv": Path("a.csv")},
    )
    r = CliRunner().invoke(app, ["report", "--all-regions", "--jobs", "2", "--no-render"])
    assert r.exit_code == 1, r.output
    out = " ".join(r.output.split())
    assert "Finnmark" in out and "1 of 15" in out
    # each fylke's line says its notebooks and render as the single configuration's report says them
    assert "2026-33 Buskerud: 1 ran, 1 unchanged, 0 s rendered with pandoc" in out
    assert "2026-56 Finnmark: 0 ran, 0 unchanged, 0 s boom in 56" in out


# --- the page, on the session's build (one fylke built; the others are shown as not built) ---------
@pytest.fixture(scope="module")
def page(built_project, tmp_path_factory):
    proj = copy_tree(built_project, tmp_path_factory.mktemp("atlas") / "proj")
    res = atlaspage.write_atlas(proj, 2026, stale_notebooks)
    return {"proj": proj, **res, "html_text": res["html"].read_text(encoding="utf-8")}


@pytest.mark.e2e
def test_atlas_page_lists_every_fylke_with_the_books_numbers(page):
    html, proj = page["html_text"], page["proj"]
    for name in valid_regions().values():
        assert f'<th scope="row">{name}' in html
    assert '<th scope="row">Hele landet</th>' in html
    v = read_variables(proj / "build" / "2026-33" / "_variables.yml")
    row = re.search(r'<th scope="row">Buskerud(.*?)</tr>', html, re.S).group(1)
    for key in ("befolkning.region", "befendring.region_pst", "ab.region", "neet.region", "gjennomforing.region"):
        assert f">{v[key]}<" in row, key  # exactly what the book prints
    land = re.search(r'<th scope="row">Hele landet</th>(.*?)</tr>', html, re.S).group(1)
    assert f">{v['ab.norge']}<" in land and f">{v['gjennomforing.norge']}<" in land
    assert 'href="../2026-33/index.html"' in html and html.count(">Ikke bygget<") == 14
    assert not re.search(r'(src|href)="(https?:)?//', html), "the page must work offline"
    assert re.search(r'<img src="fylkeskart.png" alt="[^"]{40,}"', html)
    with open(page["csv"], encoding="utf-8") as f:
        rows = list(csv.reader(line for line in f if not line.startswith("#")))
    assert len(rows) == 1 + 15 + 1 and rows[-1][1] == "Hele landet"
    busk = next(r for r in rows if r[0] == "33")
    assert float(busk[4]) == atlaspage.parse_number(v["befendring.region_pst"])
    from pypdf import PdfReader

    text = " ".join((p.extract_text() or "") for p in PdfReader(page["pdf"]).pages)
    assert "Buskerud" in text and "Finnmark" in text and "Hele landet" in text


@pytest.mark.e2e
def test_axe_no_serious_or_critical_violation_on_the_atlas_page(page):
    from test_accessibility import _axe_results

    results = _axe_results([page["html"]])
    bad = [
        f"{v['impact']} {v['id']}: {v['help']}"
        for vs in results.values()
        for v in vs
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, "axe-core violations on the atlas page:\n" + "\n".join(bad)


def _pdf_text(book: Path) -> str:
    from pypdf import PdfReader

    pdfs = sorted(book.glob("*.pdf"))
    assert len(pdfs) == 1, pdfs
    return "\n".join((p.extract_text() or "") for p in PdfReader(pdfs[0]).pages)


@pytest.mark.slow
def test_a_fylke_is_identical_built_alone_and_inside_the_atlas(built_project, tmp_path, mirror):
    """Sharing never changes a result: Telemark built alone (cold kernels, no shared cache) and inside
    an atlas run (warm kernels, the edition's shared cache, another fylke beside it) gives the same
    variables, the same figure CSVs byte for byte and the same PDF text."""
    import subprocess
    import sys

    from helpers import cli_env

    alone = copy_tree(built_project, tmp_path / "alone")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "kunnskapsgrunnlag.cli",
            "report",
            "--region",
            "40",
            "--offline",
            "--mirror",
            str(mirror),
            "--jobs",
            "2",
            "--renderer",
            "pandoc",
            "--cold",
        ],
        cwd=alone,
        env={**cli_env(alone), "KG_NO_SHARED_CACHE": "1"},
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    inside = copy_tree(built_project, tmp_path / "inside")
    code = (
        "import sys; from kunnskapsgrunnlag import pipeline;"
        "run = pipeline.build_all(pipeline.all_settings(2026, regions=['40', '42']),"
        " pipeline.RunOptions(jobs=2, renderer='pandoc'));"
        "print([(o.settings.region, o.status, o.message) for o in run.outcomes]); sys.exit(0 if run.ok else 1)"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=inside, env=cli_env(inside), capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    assert list((inside / "data" / "processed" / "2026").glob("kommuner_2024-*.parquet")), "the cache was not used"
    a, b = alone / "build" / "2026-40", inside / "build" / "2026-40"
    assert (a / "_variables.yml").read_bytes() == (b / "_variables.yml").read_bytes()
    figs = sorted(f.name for f in (a / "figurdata").glob("*.csv"))
    assert figs == sorted(f.name for f in (b / "figurdata").glob("*.csv")) and len(figs) > 5
    for f in figs:
        assert (a / "figurdata" / f).read_bytes() == (b / "figurdata" / f).read_bytes(), f
    assert _pdf_text(alone / "_book" / "2026-40") == _pdf_text(inside / "_book" / "2026-40")
