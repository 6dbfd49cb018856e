"""Configuration, parameters and the structure of notebooks and report sources."""
import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from kunnskapsgrunnlag.config import ConfigError, check_edition, check_region, load_catalogue, load_project, make_settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = load_project()


def test_unknown_region_lists_valid_fylker():
    with pytest.raises(ConfigError) as exc:
        make_settings(region="99")
    msg = str(exc.value)
    assert "99" in msg and "33 Buskerud" in msg and "56 Finnmark" in msg and "03 Oslo" in msg


def test_unknown_edition_lists_valid_years():
    with pytest.raises(ConfigError, match=r"Unknown edition year 2019\. Valid editions: 2025, 2026"):
        make_settings(edition=2019)
    with pytest.raises(ConfigError, match="must be a number"):
        check_edition("neste år")


@pytest.mark.parametrize("code", [c for c in PROJECT["regions"] if c != "0"])
def test_every_fylke_is_accepted(code):
    s = make_settings(region=code)
    assert s.region == code and s.region_name == PROJECT["regions"][code]
    assert len([c for c in PROJECT["regions"] if c != "0"]) == 15


def test_region_codes_match_exactly_and_comparisons():
    assert check_region("03") == "03"
    with pytest.raises(ConfigError, match=r"must match exactly\. Did you mean 03 \(Oslo\)"):
        check_region("3")  # never silently read as Oslo
    s = make_settings(comparison_regions=["32", "0"])
    assert s.comparison_regions == ("32", "0")
    with pytest.raises(ConfigError):
        make_settings(comparison_regions=["77"])


def test_plan_structure_three_goals_ten_areas():
    maal = {m["slug"] for m in PROJECT["utviklingsmaal"]}
    areas = PROJECT["satsingsomraader"]
    assert len(maal) == 3 and len(areas) == 10
    assert [a["section"] for a in areas] == [f"3.{i}" for i in range(1, 11)]
    for a in areas:
        assert set(a["maal"]) <= maal
        assert (ROOT / "notebooks" / f"{a['notebook']}.ipynb").exists()


def test_catalogue_entries_are_complete():
    allowed = {"ssb", "udir", "kartverket", "published", "manual", "transcription"}
    notebooks = {n["name"] for n in PROJECT["notebooks"]}
    for name, spec in load_catalogue().items():
        assert spec["provider"] in allowed, name
        for key in ("title", "licence", "source_line", "used_by", "vintage"):
            assert spec.get(key), f"{name}: {key}"
        for use in spec["used_by"]:
            nb, _, label = use.partition("#")
            assert nb in notebooks and label in _labels(nb), f"{name}: {use}"
        if spec["provider"] == "ssb":
            assert spec["table"] and spec["query"], name
        if spec["provider"] == "published":
            assert (ROOT / spec["file"]).exists(), name
        if spec["provider"] == "manual":
            assert spec["drop"].startswith("data/raw/manual/"), name


def test_notebooks_committed_clean_with_parameters_and_python3_kernel():
    for n in PROJECT["notebooks"]:
        nb = nbformat.read(ROOT / "notebooks" / f"{n['name']}.ipynb", as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), n["name"]
        for c in nb.cells:
            if c.cell_type == "code":
                assert not c.outputs and c.execution_count is None, f"{n['name']} has outputs committed"


def _labels(nb_name):
    nb = nbformat.read(ROOT / "notebooks" / f"{nb_name}.ipynb", as_version=4)
    return {m for c in nb.cells for m in re.findall(r"^#\| label: (\S+)", c.source, re.M)}


def test_quarto_book_matches_config_and_sources():
    q = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    chapters = q["book"]["chapters"] + q["book"]["appendices"]
    for ch in chapters:
        assert (ROOT / ch).exists(), ch
    assert q["lang"] == "nb" and q["language"]["crossref-fig-title"] == "Figur"
    ch3 = (ROOT / "report" / "03_kunnskapsgjennomgang.qmd").read_text()
    includes = re.findall(r"\{\{< include (\S+) >\}\}", ch3)
    assert [Path(i).stem for i in includes] == [a["notebook"] for a in PROJECT["satsingsomraader"]]
    for inc in includes:
        assert (ROOT / inc.lstrip("/")).exists()


def test_every_embed_points_at_a_labelled_cell_and_no_notebook_is_a_chapter():
    q = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert not any(str(c).endswith(".ipynb") for c in q["book"]["chapters"])
    embeds = []
    for f in list((ROOT / "report").rglob("*.qmd")):
        embeds += [(f, nb, lab) for nb, lab in re.findall(r"\{\{< embed /build/notebooks/(\w+)\.ipynb#(\S+) >\}\}", f.read_text())]
    assert len(embeds) >= 15
    for f, nb, lab in embeds:
        assert lab in _labels(nb), f"{f.name}: {nb}#{lab}"
    # every figure/table cell of every notebook appears in the report exactly once
    used = [(nb, lab) for _, nb, lab in embeds]
    for n in PROJECT["notebooks"]:
        for lab in _labels(n["name"]):
            if lab.startswith(("fig-", "tbl-")):
                assert used.count((n["name"], lab)) == 1, f"{n['name']}#{lab}"


def test_figure_cells_have_caption_with_source_and_alt_text():
    for n in PROJECT["notebooks"]:
        nb = nbformat.read(ROOT / "notebooks" / f"{n['name']}.ipynb", as_version=4)
        for c in nb.cells:
            opts = dict(re.findall(r"^#\| ([\w-]+): (.*)$", c.source, re.M))
            lab = opts.get("label", "")
            if lab.startswith("fig-"):
                assert "Kilde:" in opts.get("fig-cap", ""), lab
                assert len(opts.get("fig-alt", "")) > 30, lab
            if lab.startswith("tbl-"):
                assert "Kilde:" in opts.get("tbl-cap", ""), lab
