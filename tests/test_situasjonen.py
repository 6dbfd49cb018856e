"""Chapter 2's numbers and sentences (`kunnskapsgrunnlag.situasjonen`) on small frames: the values
the notebook records, and None (recorded as «(data mangler)») where the data are missing."""

from __future__ import annotations

import pandas as pd
import pytest

from kunnskapsgrunnlag import situasjonen
from kunnskapsgrunnlag.notebook import MISSING_TEXT

NAMES = {"0": "Hele landet", "03": "Oslo", "33": "Buskerud", "34": "Innlandet"}
PLACES = situasjonen.Places(NAMES, "33", "Buskerud", ["33", "0", "34"])
TODAY = pd.Series({"0": 2.91, "33": 2.87, "34": 2.43, "03": 3.52})  # aldersbæreevne 1 January
PROJECTED = pd.DataFrame(  # projections by age only for the country and Innlandet
    {"region_code": ["0", "0", "34", "34"], "year": [2035, 2050, 2035, 2050], "aldersbaereevne": [2.5, 2.04, 2.1, 1.83]}
)
YEARS = dict(year=2025, wanted=2026, projection_years=[2035, 2040, 2050])


def test_places_name_the_country_in_lower_case_mid_sentence():
    assert PLACES.join(["0", "33", "34"]) == "hele landet, Buskerud og Innlandet"
    have, lacking = situasjonen.with_projection(PLACES, PROJECTED)
    assert (have, lacking) == (["0", "34"], ["33"])


def test_ab_numbers_level_comparison_and_projections():
    v = situasjonen.ab_numbers(PLACES, TODAY, PROJECTED, **YEARS)
    assert v["ab.aar"] == "2025" and v["ab.aar_tekst"] == "2025 (siste tilgjengelige år)"
    assert (v["ab.mellom_aar"], v["ab.slutt_aar"]) == ("2035", "2050")
    assert (v["ab.region"], v["ab.region_2des"], v["ab.region_vs_norge"]) == ("2,9", "2,87", "på nivå med")
    # the regions compared are those shown other than the country (Oslo is not shown)
    assert (v["ab.best_sammenlignet"], v["ab.best_sammenlignet_verdi"]) == ("Buskerud", "2,9")
    assert (v["ab.svakest_sammenlignet"], v["ab.svakest_sammenlignet_verdi"]) == ("Innlandet", "2,4")
    assert v["ab.sammenlignet"] == "Buskerud og Innlandet"
    # every region by its slug, today and projected (by year and by position in the period)
    assert (v["ab.oslo"], v["ab.oslo_2des"], v["ab.oslo_slutt"]) == ("3,5", "3,52", None)
    assert v["ab.innlandet_2035"] == v["ab.innlandet_mellom"] == "2,1"
    assert v["ab.innlandet_2050"] == v["ab.innlandet_slutt"] == "1,8"
    assert v["ab.norge_2050"] == "2,0"
    assert v["ab.region_framskrevet"] is None  # Buskerud has no projection by age
    assert (v["ab.framskrevet_for"], v["ab.framskrevet_mangler"]) == ("hele landet og Innlandet", "Buskerud")


def test_ab_numbers_without_population_are_missing():
    v = situasjonen.ab_numbers(PLACES, pd.Series(dtype=float), PROJECTED.iloc[:0], **YEARS)
    assert v["ab.aar"] == "2025"
    for key in ("ab.region", "ab.region_vs_norge", "ab.best_sammenlignet", "ab.sammenlignet", "ab.buskerud"):
        assert v[key] is None, key
    assert v["ab.framskrevet_for"] == "ingen av regionene i figuren"
    assert v["ab.framskrevet_mangler"] == "Buskerud, hele landet og Innlandet"  # in the order shown


def test_ab_sentences_carry_the_numbers():
    v = situasjonen.ab_sentences(
        PLACES, TODAY, PROJECTED, **YEARS, projection_start=2024, projection_round=2024, population_missing=False
    )
    assert v["ab.setning_niva"] == (
        "Med 2,9 i 2025 (siste tilgjengelige år) ligger Buskerud på nivå med landsgjennomsnittet på 2,9."
    )
    assert "Buskerud den høyeste verdien, 2,9, og Innlandet den laveste, 2,4" in v["ab.setning_sammenligning"]
    assert "falle til 2,5 i 2035 og 2,0 i 2050" in v["ab.setning_norge_framskrevet"]
    assert "falle til 2,5 i 2035" in v["ab.setning_norge_mellom"]
    assert v["ab.framskriving_tekst"].startswith("Framskrevne kurver vises for hele landet og Innlandet. For Buskerud")


def test_ab_sentences_say_what_is_missing():
    v = situasjonen.ab_sentences(
        PLACES,
        pd.Series(dtype=float),
        PROJECTED.iloc[:0],
        **YEARS,
        projection_start=2024,
        projection_round=2024,
        population_missing=True,
    )
    assert all("mangler i denne utgaven" in s and MISSING_TEXT not in s for s in v.values())
    assert "aldersbæreevnen i Buskerud" in v["ab.setning_niva"]


def _population() -> pd.DataFrame:
    rows = [
        ("3301", "Drammen", "kommune", 2020, 100_000),
        ("3303", "Kongsberg", "kommune", 2020, 27_000),
        ("3301", "Drammen", "kommune", 2026, 104_500),
        ("3303", "Kongsberg", "kommune", 2026, 26_800),
        ("33", "Buskerud", "fylke", 2020, 127_000),
        ("33", "Buskerud", "fylke", 2026, 131_300),
        ("34", "Innlandet", "fylke", 2026, 375_000),
    ]
    return pd.DataFrame(rows, columns=["region_code", "region_name", "region_level", "year", "persons"])


def test_population_numbers():
    v = situasjonen.population_numbers(PLACES, _population(), first=2020, last=2026, wanted=2026)
    assert (v["befolkning.aar"], v["befolkning.aar_tekst"], v["befolkning.fra_aar"]) == ("2026", "2026", "2020")
    assert v["befolkning.region"] == v["befolkning.buskerud"] == "131\xa0300"
    assert (v["befolkning.n_kommuner"], v["befolkning.kommuner_vekst"]) == ("2", "1")  # Drammen grew
    assert v["befolkning.setning"] == "Ved inngangen til 2026 hadde Buskerud 131\xa0300 innbyggere."
    assert v["befolkning.setning_kommuner"] == "Av de 2 kommunene hadde 1 flere innbyggere i 2026 enn i 2020."


def test_population_numbers_missing():
    v = situasjonen.population_numbers(PLACES, None, first=2020, last=2026, wanted=2026)
    assert v["befolkning.region"] is None and v["befolkning.n_kommuner"] is None
    assert v["befolkning.setning"].startswith("Tall for folketallet i Buskerud mangler")


def _projection_fylker() -> pd.DataFrame:
    rows = []
    for code, start, end in [("03", 700_000, 800_000), ("33", 270_000, 297_000), ("34", 370_000, 366_300)]:
        rows += [
            (code, "MMMM", "alle", 2024, start),
            (code, "MMMM", "alle", 2050, end),
            (code, "LLLL", "alle", 2050, 1),  # another alternative: not counted
            (code, "MMMM", "16+", 2024, start * 0.8),
            (code, "MMMM", "16+", 2050, end * 0.85),
        ]
    return pd.DataFrame(rows, columns=["region_code", "alternative", "age_group", "year", "persons"])


def test_projection_fylker():
    v = situasjonen.projection_fylker(PLACES, _projection_fylker(), start=2024, end=2050, projection_round=2024)
    assert (v["framskriving.fra_aar"], v["framskriving.til_aar"], v["framskriving.n_fylker"]) == ("2024", "2050", "3")
    assert v["framskriving.region_pst"] == "+10,0"  # 297 000 / 270 000
    assert v["framskriving.norge_pst"] == "+9,2"  # the sum of the fylker: 1 463 300 / 1 340 000
    assert v["framskriving.region_vs_norge"] == "sterkere enn"
    assert v["framskriving.rang"] == "2."  # after Oslo (+14,3)
    assert v["framskriving.region_16_pst"] == "+16,9"  # 0,85 * 297 000 / (0,8 * 270 000)
    assert "med +10,0 prosent fra 2024 til 2050" in v["framskriving.setning_region"]


def test_projection_fylker_missing():
    v = situasjonen.projection_fylker(PLACES, None, start=2024, end=2050, projection_round=2024)
    assert v["framskriving.fra_aar"] == "2024"
    assert v["framskriving.norge_pst"] is None and v["framskriving.rang"] is None
    assert "mangler i denne utgaven" in v["framskriving.setning_region"]


def test_projection_kommuner():
    change = pd.DataFrame(
        {"region_name": ["Drammen", "Flå", "Hol"], "endring": [12_000, -30, 0], "endring_pst": [11.94, -2.96, 0.0]}
    )
    v = situasjonen.projection_kommuner("Buskerud", change, start=2024, end=2050, projection_round=2024)
    assert (v["framskriving.n_kommuner"], v["framskriving.n_vekst"], v["framskriving.n_nedgang"]) == ("3", "1", "1")
    assert (v["framskriving.hoyest_kommune"], v["framskriving.hoyest_pst"]) == ("Drammen", "+11,9")
    assert (v["framskriving.lavest_kommune"], v["framskriving.lavest_pst"]) == ("Flå", "−3,0")
    assert "Sterkest relativ vekst ventes i Drammen (+11,9 prosent)" in v["framskriving.kommune_tekst"]


def test_projection_kommuner_missing():
    v = situasjonen.projection_kommuner("Buskerud", None, start=2024, end=2050, projection_round=2024)
    assert v["framskriving.n_kommuner"] is None and v["framskriving.lavest_pst"] is None
    assert v["framskriving.kommune_tekst"].startswith("Tall for framskrivingene per kommune i Buskerud mangler")


def test_a_missing_sentence_of_the_passage_is_said_once():
    variables = {key: f"Setning {i}." for i, key in enumerate(situasjonen.PASSAGE)}
    variables["ab.setning_norge_mellom"] = variables["ab.setning_norge_framskrevet"] = "Tall mangler."
    out = situasjonen.said_once(variables)
    assert list(out) == situasjonen.PASSAGE
    assert out["ab.setning_norge_framskrevet"] == "Tall mangler." and out["ab.setning_norge_mellom"] == ""
    assert out["befolkning.setning"] == "Setning 2."


@pytest.mark.parametrize("value", [None, "(data mangler)"])
def test_set_all_records_none_as_missing(value, tmp_path):
    from kunnskapsgrunnlag.notebook import Context

    ctx = Context.__new__(Context)  # only the variables: no configuration needed
    ctx.variables = {}
    ctx.set_all({"a.b": value, "a.c": "3,5", "a.d": "**x**"})
    assert ctx.variables == {"a.b": MISSING_TEXT, "a.c": "3,5", "a.d": "\\*\\*x\\*\\*"}
