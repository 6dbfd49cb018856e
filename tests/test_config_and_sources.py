"""Configuration, parameters and the structure of notebooks and report sources."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

from kunnskapsgrunnlag.config import (
    ConfigError,
    check_edition,
    check_region,
    load_catalogue,
    load_project,
    make_settings,
)

ROOT = Path(__file__).resolve().parent.parent
PROJECT = load_project()


def test_unknown_region_lists_valid_fylker():
    with pytest.raises(ConfigError) as exc:
        make_settings(region="99")
    msg = str(exc.value)
    assert "99" in msg and "33 Buskerud" in msg and "56 Finnmark" in msg and "03 Oslo" in msg


def test_unknown_edition_lists_valid_years():
    with pytest.raises(ConfigError, match=r"Unknown edition year 2019\. Valid editions: (\d{4}, )*2026"):
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
        embeds += [
            (f, nb, lab)
            for nb, lab in re.findall(r"\{\{< embed /build/notebooks/(\w+)\.ipynb#(\S+) >\}\}", f.read_text())
        ]
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
    """A figure/table cell either has a static caption with its source and an alt text, or computes
    them with `ctx.caption("<label>", …)` (the runner writes them into the executed notebook)."""
    for n in PROJECT["notebooks"]:
        nb = nbformat.read(ROOT / "notebooks" / f"{n['name']}.ipynb", as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for c in nb.cells:
            opts = dict(re.findall(r"^#\| ([\w-]+): (.*)$", c.source, re.M))
            lab = opts.get("label", "")
            computed = f'ctx.caption("{lab}"' in code  # in the figure's cell or a later step
            if lab.startswith("fig-"):
                assert computed or "Kilde:" in opts.get("fig-cap", ""), lab
                assert computed or len(opts.get("fig-alt", "")) > 30, lab
                if computed:  # a drawn figure gets both a caption with source and an alt text
                    # (in its own cell or in the step after it that computes the caption)
                    starts = [m.end() for m in re.finditer(rf'ctx\.caption\("{re.escape(lab)}",', code)]
                    calls = [code[i : i + 2000].split("ctx.caption(")[0] for i in starts]  # up to the next call
                    assert any("alt=" in call and "source=" in call for call in calls), lab
            if lab.startswith("tbl-"):
                assert computed or "Kilde:" in opts.get("tbl-cap", ""), lab


# Comparison words: next to a variable they state something about its value, so the comparison
# itself must come from a variable of the matching kind (not be typed by hand).
_COMPARISONS = {
    r"\b(under|over) (landsgjennomsnittet|landssnittet|landsnivået|nivået for hele landet)\b": r"vs_|tekst",
    r"\bkommer (best|dårligst|svakest) ut\b": r"best|svakest|tekst",
    r"\bhøyest[e]?\b": r"hoyest|max|best|storst|rang|tekst",
    r"\blavest[e]?\b": r"lavest|min|svakest|minst|rang|tekst",
    r"\b(flest|færrest)\b": r"hoyest|lavest|storst|minst|n_|tekst",
    r"\b(sterkere|svakere|raskere|langsommere) enn\b": r"vs_|tekst",
}


def _prose_sentences(text: str):
    text = re.sub(r"\{\{< (embed|include) [^>]*>\}\}", " ", text)
    text = re.sub(r"^:::.*$", " ", text, flags=re.M)
    for para in re.split(r"\n\s*\n", text):
        for sent in re.split(r"(?<=[.!?])\s+(?=[A-ZÆØÅ@{])", " ".join(para.split())):
            yield sent


def test_comparison_words_near_variables_come_from_variables():
    bad = []
    for f in sorted((ROOT / "report").rglob("*.qmd")):
        for sent in _prose_sentences(f.read_text(encoding="utf-8")):
            keys = re.findall(r"\{\{< var ([\w.]+) >\}\}", sent)
            if not keys:
                continue
            plain = re.sub(r"\{\{< var [\w.]+ >\}\}", "X", sent)
            for word, kinds in _COMPARISONS.items():
                if re.search(word, plain, re.I) and not any(re.search(kinds, k) for k in keys):
                    bad.append(f"{f.relative_to(ROOT)}: {word!r} typed next to {keys}: {sent[:140]}")
    assert not bad, "comparisons typed by hand next to a variable (compute them in the notebook):\n" + "\n".join(bad)


def test_comparison_check_catches_a_hand_typed_comparison():
    sent = "Buskerud ligger under landsgjennomsnittet med {{< var ab.buskerud >}}."
    keys = re.findall(r"\{\{< var ([\w.]+) >\}\}", sent)
    word, kinds = next((w, k) for w, k in _COMPARISONS.items() if "landsgjennomsnittet" in w)
    assert re.search(word, sent) and not any(re.search(kinds, k) for k in keys)


def test_prose_outside_plan_region_blocks_does_not_name_the_plan_region():
    """No sentence outside `::: {.content-visible when-meta="kg-plan-region"}` names Buskerud in
    the chapters this rule covers (the plan's own name is the only plan-region name allowed)."""
    files = (
        ["00_forord.qmd", "sammendrag.qmd", "01_innledning.qmd", "02_situasjonen.qmd", "03_kunnskapsgjennomgang.qmd"]
        + [
            f"sections/{n}"
            for n in (
                "03_01_laeringslop.qmd",
                "03_02_livsmestring.qmd",
                "03_03_trygghet.qmd",
                "03_04_arbeid.qmd",
                "03_05_kompetanse.qmd",
                "03_06_samfunnssikkerhet.qmd",
                "03_07_infrastruktur.qmd",
                "03_08_naering.qmd",
                "03_09_attraktive.qmd",
                "03_10_kulturverdier.qmd",
            )
        ]
        + ["04_helhetlige_grep.qmd", "05_konklusjon.qmd", "06_datakilder.qmd"]
    )
    bad = []
    for name in files:
        depth, visible_only = 0, []
        for line in (ROOT / "report" / name).read_text(encoding="utf-8").splitlines():
            if re.match(r"^:::+\s*\{\.content-visible when-meta=\"kg-plan-region\"\}", line):
                visible_only.append(depth)
            m_open = re.match(r"^:::+\s*\S", line)
            if m_open:
                depth += 1
                continue
            if re.match(r"^:::+\s*$", line):
                depth -= 1
                if visible_only and visible_only[-1] == depth:
                    visible_only.pop()
                continue
            if not visible_only and "Buskerud" in line:
                bad.append(f"{name}: {line[:120]}")
    assert not bad, "Buskerud named outside a plan-region block:\n" + "\n".join(bad)
