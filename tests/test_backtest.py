"""Back-tests: the published tables and numbers of R1023460 (Feb 2026) reproduced from data."""

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
    p = calc.aldersbaereevne(proj[proj.alternative == "MMMM"], ["region_code", "year"]).set_index(
        ["region_code", "year"]
    )["aldersbaereevne"]
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


# --- New real extracts (PROVENANCE addendum 4): 09429, 14288 fylker/kommuner, Udir by fylke ----


def test_table1_low_education_from_09429_weighted_national_reference(fetched):
    """The published «Lav utdanning» column is best reproduced by the kommune's share of persons
    16+ with grunnskole (09429, 2024) divided by the national share weighted by the population
    16+ (07459, 1 January 2025): every one of the 18 values within 0,04 (RMSE about 0,02). The
    unweighted mean of the kommuner (the report's wording «gjennomsnittet for alle kommuner")
    misses by up to 0,20. The rest may come from another year in the report."""
    edu, pop = load(fetched, "utdanning_09429"), load(fetched, "population_07459")
    pub = load(fetched, "levekaar_published").set_index("kommunenummer")["lav_utdanning"]
    shares = calc.low_education_shares(edu, 2024)
    assert len(shares) == 357
    weighted = calc.education_reference(shares, calc.population_16plus(pop, 2025), "vektet")
    unweighted = calc.education_reference(shares, None, "uvektet")
    assert weighted == pytest.approx(23.09, abs=0.01)
    assert unweighted == pytest.approx(26.17, abs=0.01)
    d_w = calc.distance_to_published(calc.low_education_indicator(shares, weighted), pub)
    d_u = calc.distance_to_published(calc.low_education_indicator(shares, unweighted), pub)
    assert d_w["n"] == 18
    assert d_w["max_abs"] <= 0.04 and d_w["rmse"] <= 0.02  # the stated distance
    assert d_u["max_abs"] > 0.15  # the other candidate is clearly worse
    assert calc.LOW_EDUCATION_REFERENCE == "vektet"  # the notebook uses the closest one
    # the published column correlates with the SSB shares (the report's indicator is this one)
    assert shares.reindex(pub.index).corr(pub) > 0.99


def test_09429_schema_and_published_facts(fetched):
    edu = load(fetched, "utdanning_09429")
    low = calc.low_education_shares(edu, 2024)
    assert low["3320"] == 31.8 and low["3326"] == 19.7 and low["3301"] == 27.3  # Flå, Hemsedal, Drammen
    sums = edu.groupby("region_code")["andel_pst"].sum()
    assert sums.between(99.5, 100.5).all()


def test_14288_fylker_and_kommuner_sum_and_match_registered_population(fetched):
    f = load(fetched, "projection_14288_fylker")
    k = load(fetched, "projection_14288_kommuner")
    pop = load(fetched, "population_07459")
    assert set(f.region_code) == set(k.region_code.str[:2]) == {c for c in REGIONS if c != "0"}
    fa = f[(f.alternative == "MMMM") & (f.age_group == "alle")].set_index(["region_code", "year"])["persons"]
    ks = k[k.alternative == "MMMM"].assign(fylke=k.region_code.str[:2]).groupby(["fylke", "year"])["persons"].sum()
    ks.index.names = ["region_code", "year"]
    assert (ks.reindex(fa.index) == fa).all()  # kommuner sum to their fylke, every fylke-year
    reg24 = pop[(pop.region_level == "fylke") & (pop.year == 2024)].groupby("region_code")["persons"].sum()
    assert (fa.xs(2024, level="year").reindex(reg24.index) == reg24).all()  # projection base = registered
    assert fa[("33", 2034)] == 286352 and fa[("33", 2050)] == 304611  # PROVENANCE / bfk.no «passert 286 000»
    a16 = f[(f.alternative == "MMMM") & (f.age_group == "16+")].set_index(["region_code", "year"])["persons"]
    assert a16[("33", 2024)] == 223497


def test_14288_kommune_growth_buskerud_as_published_by_bfk(fetched):
    k = load(fetched, "projection_14288_kommuner")
    w = k[k.region_code.str.startswith("33")].pivot_table(index="region_code", columns="year", values="persons")
    growth = w[2034] - w[2024]
    assert growth["3312"] == 2689 and growth["3314"] == 2325  # Lier, Øvre Eiker (bfk.no)
    assert (growth > 0).sum() == 16 and len(growth) == 18  # growth in 16 of 18 kommuner


def test_udir_completion_by_old_fylke(fetched):
    u = rawstore.load(fetched.raw_dir, "gjennomforing_udir_fylke", dtype={"fylke_kode_udir": str, "fylke_2024": str})
    v = u.set_index(["fylke_kode_udir", "kull"])["fullfort_pct"]
    assert v[("06", 2018)] == 80.7 and v[("0", 2018)] == 82.1  # Buskerud (–2019), Hele landet
    assert [v[("06", y)] for y in range(2014, 2020)] == [78.7, 79.5, 81.4, 83.1, 80.7, 79.7]
    assert set(u.fylke_2024) == set(REGIONS)  # every 2024 fylke (and Norway) has its old fylke(s)
    assert u.loc[u.fylke_2024 == "33", "fylke_kode_udir"].unique().tolist() == ["06"]
