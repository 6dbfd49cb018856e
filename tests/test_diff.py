"""`diff A B` and changes.md: changes grouped by figure, table and section, numbers as printed, no prose."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import yaml

from helpers import ROOT
from kunnskapsgrunnlag import appendix, diff


def _build(root: Path, ed: int, pop: str, neet: float, prose: str, extra_row: bool) -> Path:
    d = root / "build" / f"{ed}-33"
    (d / "figurdata").mkdir(parents=True)
    (d / "records").mkdir()
    (d / "_variables.yml").write_text(
        yaml.safe_dump(
            {
                "befolkning": {"region": pop, "aar": str(ed), "setning": prose, "ikke_trykt": pop},
                "unge": {"region_andel": pop},
                "flytting": {"aar": str(ed - 2)},
                "region": {"kode": "33", "navn": "Buskerud"},
                "utgave": {"aar": str(ed)},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    rows = "region_code,region,year,neet_share,rang\n33,Buskerud,2024,{:.1f},4\n11,Rogaland,2024,8.4,15\n".format(neet)
    if extra_row:
        rows += "40,Telemark,2024,9.9,7\n"
    (d / "figurdata" / "fig-neet.csv").write_text(
        "# Andel NEET\n# Kilde: SSB\n# Konfigurasjon\n" + rows, encoding="utf-8"
    )
    (d / "records" / "03_02_livsmestring.json").write_text(
        json.dumps({"captions": {"fig-neet": {"fig-cap": f"Andel unge utenfor arbeid og utdanning, {ed - 2}."}}}),
        encoding="utf-8",
    )
    return d


def _project(tmp_path: Path) -> Path:
    """A project root with the real book sources (report/, _quarto.yml) and two builds."""
    for f in ("_quarto.yml", "index.qmd"):
        shutil.copy2(ROOT / f, tmp_path / f)
    shutil.copytree(ROOT / "report", tmp_path / "report")
    return tmp_path


def test_printed_variables_know_their_section():
    printed = diff.printed_variables(ROOT)
    assert "befolkning.setning" in printed and "flytting.aar" in printed
    assert "ab.agder_2des" not in printed  # not printed in the report: never listed
    assert "{#" not in " ".join(printed.values()) and "{." not in " ".join(printed.values())


def test_classify():
    assert diff.classify("neet.aar", "2024 (siste tilgjengelige år)") == "aar"
    assert diff.classify("befolkning.region", "272\u00a0981") == "tall"
    assert diff.classify("ab.region_vs_norge", "under") == "kort"
    assert diff.classify("befolkning.setning", "Ved inngangen til 2026 hadde Buskerud 272 981 innbyggere.") == "prosa"


def test_diff_groups_by_figure_and_section(tmp_path):
    root = _project(tmp_path)
    a = _build(root, 2025, "270\u00a0000", 10.64, "Ved inngangen til 2025 hadde Buskerud 270 000 innbyggere.", False)
    b = _build(root, 2026, "272\u00a0981", 10.6, "Ved inngangen til 2026 hadde Buskerud 272 981 innbyggere.", True)
    numbers = appendix.edition_numbers(root)  # the book's figure numbers, as `pipeline.diff_editions` passes them
    d = diff.compare_builds(root, a, b, "utgave 2025", "utgave 2026", {"neet_year": 2023}, {"neet_year": 2024}, numbers)
    fig = d.by("Figur")
    # 10,64 and 10,6 print the same (one decimal): no change; Telemark is new
    assert [(c.row, c.column, c.old, c.new) for c in fig] == [
        ("Telemark, 2024", "neet_share", "–", "9,9"),
        ("Telemark, 2024", "rang", "–", "7"),
    ]
    assert fig[0].title == "Andel unge utenfor arbeid og utdanning, 2024." and fig[0].number.startswith("Figur ")
    nums = {c.label: (c.old, c.new) for c in d.by("Kapittel")}
    assert nums == {"unge.region_andel": ("270\u00a0000", "272\u00a0981")}  # befolkning.region is not printed
    assert {c.label for c in d.by("Referanseår")} == {"flytting.aar", "utgave.aar"}
    assert [c.label for c in d.by("Tekst")] == ["befolkning.setning"]
    assert d.years == {"neet_year": ("2023", "2024")}
    md = diff.to_markdown(d, "Endrede tall")
    assert "272\u00a0981" in md and "Ved inngangen til 2026" not in md  # prose left out
    assert "ikke_trykt" not in md
    assert "## Figurer" in md and "Andel unge utenfor arbeid og utdanning, 2024." in md
    rows = list(csv.reader(diff.to_csv(d).splitlines()))
    assert rows[0] == ["del", "nummer", "etikett", "tittel", "rad", "kolonne", "utgave 2025", "utgave 2026"]
    assert all(len(r[6]) < 80 and len(r[7]) < 80 for r in rows[1:])  # no row is a paragraph


def test_changes_section_of_one_build(tmp_path):
    from kunnskapsgrunnlag.config import make_settings

    s = make_settings()
    lines = diff.changes_section(
        s,
        [
            "unge.region_andel: 10,6 -> 10,9",
            "befolkning.setning: Ved inngangen til 2025 hadde … -> Ved inngangen til 2026 …",
            "ab.agder_2des: 4,10 -> 4,12",
        ],
    )
    text = "\n".join(lines)
    assert lines[0] == "## Endrede tall i rapporten"
    assert "| `unge.region_andel` | 10,6 | 10,9 |" in text and "ab.agder_2des" not in text
    assert "`befolkning.setning`" in text and "Ved inngangen til 2026" not in text


def test_figures_in_number_order():
    numbers = ["Figur 12", "Figur 4", "Figur 1", "Tabell 3", "~", "Figur 2"]
    assert sorted(numbers, key=diff._natural) == ["Figur 1", "Figur 2", "Figur 4", "Figur 12", "Tabell 3", "~"]
