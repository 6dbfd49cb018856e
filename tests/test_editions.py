"""Editions: every query pinned to its edition, the projection round as an edition key, `edition new YEAR`."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import yaml

from helpers import ROOT, cli, copy_tree
from kunnskapsgrunnlag import editions
from kunnskapsgrunnlag.config import load_catalogue, load_project
from kunnskapsgrunnlag.config_schema import PROJECT_SCHEMA, validate


def _strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    else:
        yield str(node)


def test_no_query_floats_with_the_data():
    """No `top(n)` and no bare `*` year in any query: rebuilding an old edition asks for the same data."""
    for name, spec in load_catalogue().items():
        for q in spec.get("query") if isinstance(spec.get("query"), list) else [spec.get("query")]:
            if not isinstance(q, dict):
                continue
            assert not any("top(" in s for s in _strings(q)), name
            tid = (q.get("Tid") or {}).get("values")
            assert tid != ["*"], f"{name}: Tid * is not tied to the edition"


def test_projection_round_is_an_edition_key():
    rounds = editions.projection_rounds()
    assert set(rounds) >= {2024, 2026}
    assert editions.projection_table(2024) == "14288" and editions.projection_table(2026) == "14746"
    assert set(rounds[2026]) == set(editions.PROJECTION_PARTS)
    cat = load_catalogue()
    assert "verified" in cat["projection_14746"] and any(
        "NOT verified" in str(v) for v in cat["projection_14746"]["verified"].values()
    )
    ed2026 = load_project()["editions"][2026]
    assert editions.used_by_edition(cat["projection_14288"], ed2026)
    assert not editions.used_by_edition(cat["projection_14746"], ed2026)
    assert editions.used_by_edition(cat["population_07459"], ed2026)
    ed2027 = {**ed2026, "projection_round": 2026}  # a later round keeps the earlier one for the fallback
    assert editions.used_by_edition(cat["projection_14746"], ed2027)
    assert editions.used_by_edition(cat["projection_14288_kommuner"], ed2027)


def test_pick_projection_falls_back_per_part_to_the_latest_earlier_round():
    rounds = editions.projection_rounds()
    present = {rounds[2026]["alder"], rounds[2024]["fylker"], rounds[2024]["kommuner"], rounds[2024]["alder"]}
    tried = []

    def load(part, ds, r):
        tried.append(ds)
        return f"data of {ds}" if ds in present else None

    picks = editions.pick_projection(2026, load)
    assert picks["alder"] == (2026, rounds[2026]["alder"], f"data of {rounds[2026]['alder']}")
    assert picks["fylker"][:2] == (2024, rounds[2024]["fylker"])
    assert picks["kommuner"][:2] == (2024, rounds[2024]["kommuner"])
    assert rounds[2024]["alder"] not in tried  # the edition's round is there: no earlier one is loaded
    # the edition's round 2024 never reaches for the later 2026 round, and nothing present is None
    picks = editions.pick_projection(2024, lambda part, ds, r: ds if ds in present and r == 2024 else None)
    assert {p: v[0] for p, v in picks.items() if v} == {"alder": 2024, "fylker": 2024, "kommuner": 2024}
    assert editions.pick_projection(2026, lambda part, ds, r: None) == dict.fromkeys(editions.PROJECTION_PARTS)


def test_vintages_follow_the_edition():
    cat = load_catalogue()
    cohort = {"gjennomforing_cohort": 2019}
    assert editions.resolve_vintage(cat["gjennomforing_udir"]["vintage"], cohort) == "2019-kullet"
    assert editions.resolve_vintage(cat["lavinntekt_12944"]["vintage"], {"levekaar_year": 2025}) == "2023–2025"
    assert editions.resolve_vintage("2020-2026", {}) == "2020-2026"  # a mirror extract keeps its own
    for block in load_project()["editions"].values():
        for spec in cat.values():
            editions.resolve_vintage(spec.get("vintage"), block)  # every template fills in


def test_new_edition_block_moves_years_and_picks_the_round():
    prev, block = editions.new_edition_block(2027)
    old = load_project()["editions"][2026]
    assert prev == 2026 and block["projection_round"] == 2026
    for key in editions.YEAR_KEYS:
        if key in old:
            assert block[key] == old[key] + 1, key
    assert block["population_first_year"] == old["population_first_year"]
    assert block["date"] == "februar 2027"
    with pytest.raises(Exception, match="exists already"):
        editions.new_edition_block(2026)
    _, b2025 = editions.new_edition_block(2030)
    assert b2025["projection_round"] == 2026 and b2025["neet_year"] == old["neet_year"] + 4


def test_insert_edition_keeps_the_file_and_validates():
    text = (ROOT / "config" / "project.yml").read_text(encoding="utf-8")
    prev, block = editions.new_edition_block(2027)
    new = editions.insert_edition(text, 2027, prev, block, load_catalogue())
    assert new.startswith(text.split("  2027:")[0][:200]) and new.count("\n#") == text.count("\n#")
    data = yaml.safe_load(new)
    assert validate(data, PROJECT_SCHEMA) == []
    assert data["editions"][2027]["projection_round"] == 2026
    assert data["regions"] == yaml.safe_load(text)["regions"]  # what follows `editions:` is untouched


def test_dry_run_of_a_new_edition_is_pinned(fetched):
    from kunnskapsgrunnlag.fetch.online_check import dry_run

    _, block = editions.new_edition_block(2027)
    s = replace(fetched, edition=2027, edition_params=block)
    reqs, errors = dry_run(s)
    assert not errors
    text = "\n".join(f"{r.url} {r.body}" for r in reqs)
    assert "top(" not in text
    assert "/tables/14746/" in text and "/tables/14288/" in text  # the 2026 round, and 2024 as the fallback
    assert "from(2024)" in text  # an earlier round asks for its own years
    assert "range(2020,2027)" in text and "from(2026)" in text


@pytest.mark.slow
def test_edition_new_2027_builds_at_latest_available_years(built_project, tmp_path, mirror):
    """`edition new 2027`, then `report --edition 2027` offline: population and projections at their
    latest available year, stated; no «(data mangler)» inside any sentence; the dry run has no top(."""
    proj = copy_tree(built_project, tmp_path / "proj")
    p = cli(proj, "edition", "new", "2027")
    assert "projection round 2026 (SSB table 14746)" in re.sub(r"\s+", " ", p.stdout + p.stderr)
    assert "2027:" in (proj / "config" / "project.yml").read_text(encoding="utf-8")
    p = cli(proj, "fetch", "--dry-run", "--edition", "2027")
    assert "top(" not in p.stdout and "/tables/14746/" in p.stdout
    cli(
        proj, "report", "--edition", "2027", "--offline", "--mirror", str(mirror), "--jobs", "2", "--renderer", "pandoc"
    )
    v = yaml.safe_load((proj / "build" / "2027-33" / "_variables.yml").read_text(encoding="utf-8"))
    assert "siste tilgjengelige år" in v["befolkning"]["setning"] and "2026" in v["befolkning"]["setning"]
    assert str(v["ab"]["aar"]) == "2026"
    assert "2026-runden" in v["ab"]["setning_norge_framskrevet"]
    # the mirror has the 2026 round by age only: per fylke and kommune the 2024 round, said to be the latest
    fig = proj / "build" / "2027-33" / "figurdata"
    csvs = [f for f in fig.rglob("*.csv") if "framskriving" in f.name]
    assert csvs, "Figur 2 (projected change per kommune) is drawn"
    header = next(x for x in csvs[0].read_text(encoding="utf-8").splitlines() if not x.startswith("#"))
    assert "personer_2024" in header and "personer_2050" in header, header
    for key in ("setning_region", "kommune_tekst"):
        assert "SSBs framskriving fra 2024, siste tilgjengelige runde" in v["framskriving"][key], v["framskriving"][key]
    assert str(v["framskriving"]["fra_aar"]) == "2024"
    book = proj / "_book" / "2027-33"  # the report's pages (the notebook pages show variable dumps)
    html = "\n".join(f.read_text(encoding="utf-8") for f in book.rglob("*.html") if "notebooks" not in f.parts)
    assert "siste tilgjengelige år" in html
    assert "SSBs framskriving fra 2024, siste tilgjengelige runde" in re.sub(r"\s+", " ", html)  # caption and text
    assert "viser endringen kommune for kommune" in html  # Figur 2 is there, so the text points at it
    plain = re.sub(r"<[^>]+>", " ", html)
    for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", plain)):
        assert "(data mangler)" not in sentence, sentence[:300]


def test_configured_neighbours_match_the_geometry(mirror):
    """config/project.yml `neighbours` = the fylker sharing a boundary in the 2024 kommune geometry."""
    import geopandas as gpd

    g = gpd.read_file(mirror / "geo" / "kommuner_2024_M.geojson")
    g["geometry"] = g.geometry.make_valid()  # some simplified polygons self-intersect (mirror README)
    g = g.to_crs(25833)
    g["fylke"] = g["kommunenummer"].str[:2]
    f = g.dissolve("fylke").buffer(200)  # the simplified boundaries leave slivers between fylker
    computed = {a: sorted(b for b in f.index if b != a and f[a].intersects(f[b])) for a in f.index}
    assert load_project()["neighbours"] == computed


def test_another_fylke_compares_with_its_neighbours():
    from kunnskapsgrunnlag.config import make_settings

    assert make_settings(region="40").comparison_regions == ("11", "33", "39", "42", "46", "0")
    assert make_settings(region="33").comparison_regions == ("32", "34", "0")  # the plan region: as published
    assert make_settings(region="40", comparison_regions=["0"]).comparison_regions == ("0",)


def test_chapter_2_points_at_figur_2_only_when_it_is_drawn():
    from kunnskapsgrunnlag.appendix import visible_text

    qmd = (ROOT / "report" / "02_situasjonen.qmd").read_text(encoding="utf-8")
    absent = visible_text(qmd, {"kg-figur-fig-framskriving": False})
    assert "@fig-framskriving" not in absent and "#fig-framskriving" not in absent
    assert "{{< var framskriving.kommune_tekst >}}" in absent  # the sentence saying what is missing stays
    drawn = visible_text(qmd, {"kg-figur-fig-framskriving": True})
    assert "@fig-framskriving viser endringen kommune for kommune" in drawn and "#fig-framskriving >}}" in drawn
