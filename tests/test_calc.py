"""Unit tests of the calculations and the Norwegian formatting."""

import pandas as pd
import pytest

from kunnskapsgrunnlag import calc, fmt


def pop_frame(rows):
    return pd.DataFrame(rows, columns=["region_level", "region_code", "region_name", "year", "age_group", "persons"])


def test_aldersbaereevne_counts_16_66_per_67_plus():
    df = pop_frame(
        [
            ("fylke", "33", "B", 2025, "0-15", 1000),  # children are not counted
            ("fylke", "33", "B", 2025, "16-19", 100),
            ("fylke", "33", "B", 2025, "20-44", 500),
            ("fylke", "33", "B", 2025, "45-66", 400),
            ("fylke", "33", "B", 2025, "67-79", 150),
            ("fylke", "33", "B", 2025, "80-89", 40),
            ("fylke", "33", "B", 2025, "90+", 10),
        ]
    )
    out = calc.aldersbaereevne(df, ["region_code", "year"])
    assert out["aldersbaereevne"].iloc[0] == pytest.approx(1000 / 200)


def test_aldersbaereevne_rejects_zero_old():
    df = pop_frame([("fylke", "33", "B", 2025, "20-44", 5)])
    with pytest.raises(ValueError, match="67"):
        calc.aldersbaereevne(df, ["region_code", "year"])


def test_levekaar_index_weights_and_mean_is_one():
    df = pd.DataFrame({"lav_utdanning": [1.0, 2.0], "lav_inntekt": [1.0, 0.0], "innvandrere_ikke_vestlige": [1.0, 4.0]})
    idx = calc.levekaar_index(df)
    assert idx.tolist() == pytest.approx([1.0, 0.5 * 2 + 0.25 * 0 + 0.25 * 4])
    with pytest.raises(ValueError, match="sum to 1"):
        calc.levekaar_index(df, {"lav_utdanning": 0.5, "lav_inntekt": 0.2, "innvandrere_ikke_vestlige": 0.2})


def test_fit_weights_recovers_known_weights():
    df = pd.DataFrame({"a": [1, 2, 3, 1.5], "b": [2, 1, 0.5, 1], "c": [0.3, 2, 1, 1]})
    df["y"] = 0.5 * df.a + 0.25 * df.b + 0.25 * df.c
    w = calc.fit_weights(df, ["a", "b", "c"], "y")
    assert w.tolist() == pytest.approx([0.5, 0.25, 0.25])


def test_relative_to_mean_and_ranks():
    s = pd.Series([1.0, 2.0, 3.0])
    assert calc.relative_to_mean(s).tolist() == pytest.approx([0.5, 1.0, 1.5])
    assert calc.rank_asc(pd.Series([0.7, 1.38, 1.38, 0.9])).tolist() == [1, 3, 3, 2]
    assert calc.rank_desc(pd.Series([10.6, 11.7, 11.7, 8.4])).tolist() == [3, 1, 1, 4]


def test_tiltak_shares_and_sum_check():
    pop = pop_frame(
        [
            ("fylke", "33", "B", 2024, "20-44", 600),
            ("fylke", "33", "B", 2024, "45-66", 400),
            ("fylke", "33", "B", 2024, "16-19", 999),  # not in 20–66
            ("land", "0", "N", 2024, "20-44", 1500),
            ("land", "0", "N", 2024, "45-66", 500),
        ]
    )
    counts = pd.DataFrame({"region_code": ["33", "0"], "deltakere_20_66": [15, 15]})
    out = calc.tiltak_shares(counts, pop, 2024).set_index("region_code")
    assert out.loc["33", "andel_pst"] == pytest.approx(1.5)
    assert out.loc["0", "andel_pst"] == pytest.approx(0.75)
    calc.check_sum_to_total(counts, "deltakere_20_66")
    with pytest.raises(ValueError, match="sum to"):
        calc.check_sum_to_total(pd.DataFrame({"region_code": ["33", "0"], "v": [1, 2]}), "v")
    with pytest.raises(KeyError, match="2023"):
        calc.tiltak_shares(counts, pop, 2023)


def test_population_change_and_age_share():
    pop = pop_frame(
        [
            ("kommune", "3301", "A", 2020, "0-15", 100),
            ("kommune", "3301", "A", 2020, "20-44", 100),
            ("kommune", "3301", "A", 2026, "0-15", 90),
            ("kommune", "3301", "A", 2026, "20-44", 130),
        ]
    )
    ch = calc.population_change(pop, 2020, 2026).iloc[0]
    assert (ch["endring"], ch["endring_pst"]) == (20, pytest.approx(10.0))
    share = calc.age_share(pop, ["0-15"], 2026).iloc[0]
    assert share["andel_pst"] == pytest.approx(90 / 220 * 100)


def test_status_counts():
    df = pd.DataFrame({"status": ["vedtatt", "vedtatt", "ingen", "ukjent"]})
    assert calc.status_counts(df) == {"vedtatt": 2, "under_arbeid": 0, "ingen": 1, "ukjent": 1}


def test_norwegian_number_format():
    nbsp = "\u00a0"
    assert fmt.num(2370) == f"2{nbsp}370"
    assert fmt.num(3.618, 1) == "3,6"
    assert fmt.num(52315, 0) == f"52{nbsp}315"
    assert fmt.pct(1.4567, 2) == "1,46"
    assert fmt.signed(-1.04, 1) == "−1,0" and fmt.signed(2.25, 1) == "+2,2"
    assert fmt.join_nb(["Flå", "Sigdal"]) == "Flå og Sigdal"
    assert fmt.join_nb(["A", "B", "C"]) == "A, B og C"
    assert fmt.date_nb(2024) == "1. januar 2024"
