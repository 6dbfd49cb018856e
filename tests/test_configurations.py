"""Configurations (edition, region) are kept apart: switching never mixes, never skips wrongly.

Every test works in a temporary copy of a project whose default configuration (2026-33) is built.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest
import yaml

from helpers import BOOK, BUILD, cli, copy_tree, tree_digest
from kunnskapsgrunnlag.render.html_book import book_html

pytestmark = pytest.mark.e2e


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def proj(built_project, tmp_path_factory):
    return copy_tree(built_project, tmp_path_factory.mktemp("configs") / "proj")


def report(proj: Path, mirror: Path, *args: str, check: bool = True):
    return cli(
        proj, "report", "--offline", "--mirror", str(mirror), "--jobs", "2", "--renderer", "pandoc", *args, check=check
    )


def test_every_configuration_has_its_own_folders(proj):
    assert (proj / BUILD / "_variables.yml").exists() and not (proj / "_variables.yml").exists()
    assert (proj / BUILD / "state.json").exists() and (proj / BUILD / "notebooks" / "02_situasjonen.ipynb").exists()
    assert (proj / "data" / "processed" / "2026-33").is_dir()
    assert (proj / BOOK / "index.html").exists()
    site = proj / BUILD / "site"
    cfg = yaml.safe_load((site / "_quarto.yml").read_text(encoding="utf-8"))
    assert cfg["kg-plan-region"] is True and "2026" in cfg["edition-note"] and "Buskerud" in cfg["edition-note"]
    assert (site / "build" / "notebooks" / "02_situasjonen.ipynb").exists() and (site / "_variables.yml").exists()
    v = yaml.safe_load((proj / BUILD / "_variables.yml").read_text(encoding="utf-8"))
    assert v["region"] == {"kode": "33", "navn": "Buskerud"} and str(v["utgave"]["aar"]) == "2026"
    landing = (proj / "_book" / "index.html").read_text(encoding="utf-8")
    assert 'href="2026-33/index.html"' in landing


@pytest.mark.slow  # a full build of another region
def test_region_40_builds_into_its_own_folders(proj, mirror):
    """Telemark builds offline. (Fails until the notebook fixes for other regions are merged.)"""
    before = {"33": tree_digest(proj / BUILD), "book": tree_digest(proj / BOOK)}
    p = report(proj, mirror, "--region", "40", check=False)
    # whatever happened to 40, the 2026-33 outputs are untouched
    assert tree_digest(proj / BOOK) == before["book"]
    assert {k: v for k, v in tree_digest(proj / BUILD).items() if not k.startswith("site/")} == {
        k: v for k, v in before["33"].items() if not k.startswith("site/")
    }
    assert p.returncode == 0, norm(p.stderr)[-3000:]
    v = yaml.safe_load((proj / "build" / "2026-40" / "_variables.yml").read_text(encoding="utf-8"))
    assert v["region"] == {"kode": "40", "navn": "Telemark"}
    site_cfg = yaml.safe_load((proj / "build" / "2026-40" / "site" / "_quarto.yml").read_text(encoding="utf-8"))
    assert site_cfg["kg-plan-region"] is False and "Telemark" in site_cfg["book"]["title"]
    landing = (proj / "_book" / "index.html").read_text(encoding="utf-8")
    assert 'href="2026-40/index.html"' in landing and 'href="2026-33/index.html"' in landing


@pytest.mark.slow  # follows the region 40 build
def test_region_40_is_framed_as_itself(proj, mirror):
    """Telemark's book: its neighbours as comparison regions, neutral satsingsområde names, no process text
    of the Buskerud commission (reads the 2026-40 build of the previous test; builds it if absent)."""
    if not (proj / "build" / "2026-40" / "_variables.yml").exists():
        report(proj, mirror, "--region", "40")
    v = yaml.safe_load((proj / "build" / "2026-40" / "_variables.yml").read_text(encoding="utf-8"))
    assert v["satsing"]["laeringslop"] == "Læringsløp" and v["satsing"]["attraktive"] == "Attraktivitet"
    assert v["ab"]["sammenlignet"] == "Telemark, Rogaland, Buskerud, Vestfold, Agder og Vestland"
    html = book_html(proj / "_book" / "2026-40")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    for plan_only in (
        "Læringsløp Telemark",
        "Attraktive Telemark",
        "Læringsløp Buskerud",
        "Attraktive Buskerud",
        "dialogen med fylkeskommunen",
        "1. mai 2026",
        "Buskerudplanen (2025)",
    ):
        assert plan_only not in text, plan_only
    # the notebook pages behind «Vis notatboken» are headed by the notebooks' neutral names too
    for page in sorted((proj / "_book" / "2026-40" / "notebooks").glob("*.html")):
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(encoding="utf-8"), re.S)
        assert h1 and "Buskerud" not in h1.group(1), (page.name, h1 and h1.group(1))
    fig = (proj / "build" / "2026-40" / "figurdata" / "fig-aldersbaereevne.csv").read_text(encoding="utf-8")
    assert "Akershus" not in fig and "Vestfold" in fig


@pytest.mark.slow  # follows the region 40 build
def test_switching_back_to_33_reruns_nothing_and_gives_the_first_book(proj, mirror, built_project):
    report(proj, mirror, "--region", "40", check=False)  # (built by the previous test; a no-op here)
    first_vars = (built_project / BUILD / "_variables.yml").read_bytes()
    first_book = tree_digest(built_project / BOOK)
    t0 = time.perf_counter()
    p = report(proj, mirror)
    took = time.perf_counter() - t0
    out = norm(p.stderr)
    assert "Notebooks: 0 ran, 12 unchanged" in out and "unchanged, not re-rendered" in out
    assert (proj / BUILD / "_variables.yml").read_bytes() == first_vars  # exactly the first book's numbers
    assert tree_digest(proj / BOOK) == first_book
    assert took < 20
    # and back again: 40 is not rebuilt either (when it built)
    if (proj / "build" / "2026-40" / "_variables.yml").exists():
        p = cli(proj, "build", "--region", "40", "--renderer", "pandoc")
        assert "Notebooks: 0 ran, 12 unchanged" in norm(p.stderr)


def test_status_and_render_take_edition_and_region(proj):
    p = cli(proj, "status", "--region", "33", "--edition", "2026")
    assert "Configuration 2026-33 (utgave 2026, Buskerud)" in norm(p.stdout) and "up to date" in norm(p.stdout)
    p = cli(proj, "status", "--region", "42")
    assert "Configuration 2026-42 (utgave 2026, Agder): not built" in norm(p.stdout)
    p = cli(proj, "render", "--region", "33", "--edition", "2026", "--renderer", "pandoc")
    assert "unchanged, not re-rendered" in norm(p.stderr)
    p = cli(proj, "render", "--region", "42", "--renderer", "pandoc", check=False)
    assert p.returncode == 2 and "2026-42 has not been built" in norm(p.stderr)
    assert not (proj / "_book" / "2026-42").exists()


@pytest.mark.slow  # a full build of another edition
def test_edition_2025_builds_and_diff_lists_the_population(proj, mirror):
    p = report(proj, mirror, "--edition", "2025", check=False)
    assert p.returncode == 0, norm(p.stderr)[-3000:]
    assert (proj / "_book" / "2025-33" / "index.html").exists()
    v = yaml.safe_load((proj / "build" / "2025-33" / "_variables.yml").read_text(encoding="utf-8"))
    assert str(v["utgave"]["aar"]) == "2025"
    p = cli(proj, "diff", "2025", "2026")
    out = norm(p.stdout + p.stderr)
    assert "Endrede tall" in out and "utgave 2025" in out
    rows = list(csv.reader((proj / "build" / "diff-2025-2026-33.csv").open(encoding="utf-8")))
    assert rows[0] == ["del", "nummer", "etikett", "tittel", "rad", "kolonne", "utgave 2025", "utgave 2026"]
    # both editions' reference years; figures and tables by their number and caption; no prose
    years = {r[2]: r[6:] for r in rows[1:] if r[0].startswith("Referanseår (utgave)")}
    assert years["population_last_year"] == ["2025", "2026"]
    figs = [r for r in rows[1:] if r[0] in ("Figur", "Tabell")]
    assert figs and all(re.fullmatch(r"(Figur|Tabell) \d+", r[1]) and r[3] for r in figs)
    assert all(len(r[6]) < 100 and len(r[7]) < 100 for r in rows[1:])  # no row is a paragraph of prose
    md = (proj / "build" / "diff-2025-2026-33.md").read_text(encoding="utf-8")
    assert "## Figurer" in md and "## Referanseår" in md and "| population_last_year | 2025 | 2026 |" in md
    assert (proj / BUILD / "changes.md").exists() and (proj / "build" / "2025-33" / "changes.md").exists()


@pytest.mark.slow
@pytest.mark.allfylker
def test_every_fylke_builds(built_project, tmp_path, mirror):
    """`report --region R` exits 0 offline for each of the 15 fylker (notebooks, --jobs 2, no render)."""
    from kunnskapsgrunnlag.config import valid_regions

    proj = copy_tree(built_project, tmp_path / "proj")
    t0 = time.perf_counter()
    failed = {}
    for r in sorted(valid_regions()):
        p = cli(
            proj,
            "report",
            "--region",
            r,
            "--offline",
            "--mirror",
            str(mirror),
            "--jobs",
            "2",
            "--no-render",
            check=False,
        )
        if p.returncode != 0:
            failed[r] = norm(p.stderr)[-600:]
    took = time.perf_counter() - t0
    assert not failed, failed
    assert took < 15 * 60, f"all fylker took {took / 60:.1f} min"


def test_diff_compares_two_built_editions_variable_by_variable(tmp_path):
    """`diff` on two built configurations (variables written here; the full build is tested above)."""
    import shutil

    from helpers import ROOT
    from kunnskapsgrunnlag import pipeline

    for f in ("_quarto.yml", "index.qmd"):  # the book sources say which variables the report prints
        shutil.copy2(ROOT / f, tmp_path / f)
    shutil.copytree(ROOT / "report", tmp_path / "report")
    shutil.copytree(ROOT / "config", tmp_path / "config")  # a project: found by its config/project.yml
    for ed, pop in ((2025, "270 000"), (2026, "272 981")):
        d = tmp_path / "build" / f"{ed}-33"
        d.mkdir(parents=True)
        (d / "_variables.yml").write_text(
            yaml.safe_dump(
                {
                    "befolkning": {"buskerud": pop, "aar": str(ed), "n_kommuner": "18"},
                    "utgave": {"aar": str(ed)},
                    "region": {"kode": "33", "navn": "Buskerud"},
                    **({"ny": {"verdi": "1"}} if ed == 2026 else {}),
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
    res = pipeline.diff_editions(2025, 2026, "33", root=tmp_path)
    # only what the report prints (befolkning.buskerud and ny.verdi are not printed), years on their own
    assert [(c.part, c.label, c.old, c.new) for c in res["diff"].changes] == [
        ("Referanseår", "utgave.aar", "2025", "2026")
    ]
    rows = list(csv.reader(res["csv"].open(encoding="utf-8")))
    assert rows[0][:2] == ["del", "nummer"] and rows[-1][0] == "Referanseår" and rows[-1][2] == "utgave.aar"
    md = res["md"].read_text(encoding="utf-8")
    assert "`utgave.aar` | 2025 | 2026 |" in md and "befolkning.buskerud" not in md
    assert res["md"] == tmp_path / "build" / "diff-2025-2026-33.md"
    with pytest.raises(Exception, match="edition 2025 for region 40 .* is not built"):
        pipeline.diff_editions(2025, 2026, "40", root=tmp_path)


# --- issue 18: the same build from any working directory and any clone folder ---------------------
def _cli_in(cwd: Path, *args: str, check: bool = True):
    import subprocess
    import sys

    from helpers import cli_env

    p = subprocess.run(
        [sys.executable, "-m", "kunnskapsgrunnlag", *args], cwd=cwd, env=cli_env(cwd), capture_output=True, text=True
    )
    if check and p.returncode != 0:
        raise AssertionError(f"{args} in {cwd} failed:\n{p.stderr[-3000:]}")
    return p


@pytest.mark.slow
def test_report_from_subfolders_of_a_deep_clone_reruns_nothing(built_project, tmp_path, mirror):
    deep = copy_tree(built_project, tmp_path / "mappe med æøå" / "nivå 2" / "prosjekt")
    variables = (deep / BUILD / "_variables.yml").read_bytes()
    figs = tree_digest(deep / BUILD / "figurdata")
    book = tree_digest(deep / BOOK)
    for sub in ("notebooks", "report", "config"):
        p = _cli_in(deep / sub, "report", "--offline", "--mirror", str(mirror), "--renderer", "pandoc")
        out = norm(p.stderr)
        assert "0 ran, 12 unchanged" in out, (sub, out[-1500:])
        assert "unchanged, not re-rendered" in out, (sub, out[-1500:])
    assert (deep / BUILD / "_variables.yml").read_bytes() == variables
    assert tree_digest(deep / BUILD / "figurdata") == figs and tree_digest(deep / BOOK) == book
    p = _cli_in(deep / "report", "render", "--renderer", "pandoc")
    assert "unchanged" in norm(p.stderr)


@pytest.mark.slow
def test_two_checkouts_sharing_one_environment_each_build_their_own(built_project, tmp_path):
    a = copy_tree(built_project, tmp_path / "kg-2026")
    b = copy_tree(built_project, tmp_path / "kg-2027")
    (b / BUILD / "_variables.yml").unlink()  # b differs: its build is incomplete
    pa = _cli_in(a / "notebooks", "status")
    pb = _cli_in(b / "report", "status", check=False)
    assert pb.returncode == 1  # a deleted build output fails `status`
    assert str(a / BUILD) in norm(pa.stdout).replace(" ", "") or "kg-2026" in norm(pa.stdout)
    assert "kg-2027" in norm(pb.stdout) and "kg-2026" not in norm(pb.stdout)
    assert "up to date" in norm(pa.stdout) and "DELETED" in norm(pb.stderr)


@pytest.mark.slow
def test_an_executed_notebook_rerun_from_its_folder_gives_the_same_outputs(built_project, tmp_path):
    """A reviewer re-runs build/<id>/notebooks/X.ipynb in Jupyter from that folder: same variables,
    record and figure CSVs, no stray folders, no «not fetched» notes."""
    import subprocess
    import sys

    deep = copy_tree(built_project, tmp_path / "mappe med æøå" / "prosjekt")
    build = deep / BUILD
    watched = ["variables/03_02_livsmestring.yml", "records/03_02_livsmestring.json"]
    watched += [p.relative_to(build).as_posix() for p in (build / "figurdata").glob("fig-neet*.csv")]
    before = {w: (build / w).read_bytes() for w in watched}
    top = sorted(p.name for p in build.iterdir())
    out = tmp_path / "kjort.ipynb"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "03_02_livsmestring.ipynb",
            "--output",
            str(out),
        ],
        cwd=build / "notebooks",
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert {w: (build / w).read_bytes() for w in watched} == before
    assert sorted(p.name for p in build.iterdir()) == top  # no build/<id>/build/ or build/<id>/data/
    assert "not fetched" not in out.read_text(encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "kunnskapsgrunnlag", "status"], cwd=deep, capture_output=True, text=True)
    assert "up to date" in norm(p.stdout), p.stdout + p.stderr
