"""Back-tests: the published tables and numbers of R1023460 (Feb 2026) reproduced from data."""
import pandas as pd
import pytest

from kunnskapsgrunnlag import calc, fmt, rawstore
from kunnskapsgrunnlag.config import load_project

REGIONS = load_project()["regions"]


def load(s, name):
    return rawstore.load(s.raw_dir, name)


@pytest.fixture(scope="module")
def ab(fetched):
    pop = load(fetched, "population_07459")
    d = calc.aldersbaereevne(pop[pop.region_level != "kommune"], ["region_code", "year"])
    return d.set_index(["region_code", "year"])["aldersbaereevne"]


def test_figure1_today_values_reproduce_published_text(ab):
    # "Snittet for landet er 3,9", "Buskerud ... ca. 3,6", "Innlandet allerede har under 3" (1 January 2025)
    assert fmt.num(ab[("0", 2025)], 1) == "3,9"
    assert fmt.num(ab[("33", 2025)], 1) == "3,6"
    assert ab[("34", 2025)] < 3
    # Akershus: the report says 4,4. 16–66 per 67+ gives 4,4 on 1 January 2024 and 4,3 in 2025;
    # the deviation is documented in the chapter notebook. Both facts are pinned here.
    assert fmt.num(ab[("32", 2024)], 1) == "4,4"
    assert fmt.num(ab[("32", 2025)], 1) == "4,3"


def test_figure1_definition_20_66_would_not_reproduce(fetched):
    pop = load(fetched, "population_07459")
    n = pop[(pop.region_code == "0") & (pop.year == 2025)].set_index("age_group")["persons"]
    ratio_20_66 = (n["20-44"] + n["45-66"]) / (n["67-79"] + n["80-89"] + n["90+"])
    assert fmt.num(ratio_20_66, 1) != "3,9"


def test_projection_norway_falls_towards_2050(fetched):
    proj = load(fetched, "projection_14288")
    p = calc.aldersbaereevne(proj[proj.alternative == "MMMM"], ["region_code", "year"]).set_index(["region_code", "year"])["aldersbaereevne"]
    assert p[("0", 2024)] == pytest.approx(3.99, abs=0.01)  # 14288 starts from the registered population
    assert p[("0", 2037)] < p[("0", 2024)] and p[("0", 2050)] < p[("0", 2037)]
    assert set(proj.region_code) == {"0", "40"}  # the mirror has Norway and Telemark only


def test_table1_index_within_001_for_all_18_kommuner(fetched):
    t = load(fetched, "levekaar_published")
    assert len(t) == 18
    computed = calc.levekaar_index(t)
    diff = (computed - t["levekaarsindeks"]).abs()
    assert diff.max() <= 0.01, t.assign(diff=diff).sort_values("diff").tail(3)
    assert (computed.round(2) == t["levekaarsindeks"]).sum() >= 15


def test_table1_weights_reconstructed_from_published_table(fetched):
    t = load(fetched, "levekaar_published")
    w = calc.fit_weights(t, list(calc.LEVEKAAR_WEIGHTS), "levekaarsindeks")
    assert w.round(2).tolist() == [0.5, 0.25, 0.25]


def test_table2_shares_within_001_pp_with_population_1_jan_2024(fetched):
    counts = load(fetched, "tiltak_published")
    pop = load(fetched, "population_07459")
    t = calc.tiltak_shares(counts, pop, 2024)
    assert len(t) == 16
    assert (t["andel_pst"] - t["andel_publisert_pst"]).abs().max() <= 0.01
    # the reference date matters: 1 January 2023 or 2025 do not reproduce the table
    for other in (2023, 2025):
        o = calc.tiltak_shares(counts, pop, other)
        assert (o["andel_pst"] - o["andel_publisert_pst"]).abs().max() > 0.01


def test_table2_counts_sum_to_norway(fetched):
    counts = load(fetched, "tiltak_published")
    calc.check_sum_to_total(counts, "deltakere_20_66")
    assert counts.set_index("region_code").loc["0", "deltakere_20_66"] == 52315


def test_neet_buskerud_2024_as_in_data(fetched):
    neet = load(fetched, "neet_13563")
    y = neet[(neet.year == 2024) & (neet.age_group == "15-29")].set_index("region_code")["neet_share"]
    assert len(y) == 15 and "0" not in y.index
    assert y["33"] == pytest.approx(10.6)
    assert calc.rank_desc(y)["33"] == 4  # after Østfold, Vestfold (11,7) and Telemark (11,0)


def test_table3_invariants(fetched):
    fl = load(fetched, "flytting_published")
    kom = fl[fl.nivaa == "kommune"]
    fyl = fl[fl.nivaa == "fylke"]
    assert len(kom) == 18 and len(fyl) == 15
    assert kom.netto_innenlands.sum() == fyl.set_index("region_code").loc["33", "netto_innenlands"] == 111
    assert fyl.netto_innenlands.sum() == 0


def test_figure8_counts_match_published_text(fetched):
    plan = load(fetched, "kulturminneplan")
    c = calc.status_counts(plan)
    assert c["vedtatt"] == 8  # "åtte kommuner har vedtatt plan"
    assert c["under_arbeid"] == 7
    without = set(plan.loc[plan.status == "ingen", "kommunenavn"])
    unknown = set(plan.loc[plan.status == "ukjent", "kommunenavn"])
    assert without | unknown == {"Sigdal", "Flå", "Ål"}  # published: Sigdal, Flå and Ål without a plan
    assert unknown == {"Ål"}  # no source found for Ål: shown as unknown, not as "ingen"


def test_population_totals(fetched):
    pop = load(fetched, "population_07459")
    tot = pop.groupby(["region_code", "year"])["persons"].sum()
    assert tot[("0", 2024)] == 5_550_203  # SSB's official figure
    assert tot[("33", 2024)] == 269_819
    kom = pop[(pop.region_level == "kommune") & pop.region_code.str.startswith("33")]
    assert kom.region_code.nunique() == 18
    assert kom[kom.year == 2025].persons.sum() == tot[("33", 2025)]
