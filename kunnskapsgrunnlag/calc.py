"""The calculations behind the report's numbers. Each is unit-tested and back-tested."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Registered population (07459 in the mirror's age groups) and SSB 14288's functional groups.
WORKING_AGE_GROUPS = ["16-19", "20-44", "45-66"]  # 16–66 years
OLD_AGE_GROUPS = ["67-79", "80-89", "90+"]  # 67 years and older


def aldersbaereevne(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Persons aged 16–66 per person aged 67+ (SSB's «aldersbæreevne» with 16–66 as working age).

    The 16–66 definition reproduces the published 2026 figures for Norway (3,9), Buskerud (3,6)
    and Innlandet (under 3) on 1 January 2025; 20–66 does not (Norway would be 3,7).
    `df` has columns `age_group`, `persons` and the columns in `by`.
    """
    work = df[df["age_group"].isin(WORKING_AGE_GROUPS)].groupby(by)["persons"].sum()
    old = df[df["age_group"].isin(OLD_AGE_GROUPS)].groupby(by)["persons"].sum().reindex(work.index, fill_value=0)
    if (old == 0).any():
        raise ValueError("no persons aged 67+ in some group; cannot compute aldersbæreevne")
    return (work / old).rename("aldersbaereevne").reset_index()


def relative_to_mean(values: pd.Series) -> pd.Series:
    """An indicator relative to the (unweighted) mean over all kommuner: 1,0 = mean."""
    return values / values.mean()


LEVEKAAR_WEIGHTS = {"lav_utdanning": 0.50, "lav_inntekt": 0.25, "innvandrere_ikke_vestlige": 0.25}


def levekaar_index(df: pd.DataFrame, weights: dict[str, float] = LEVEKAAR_WEIGHTS) -> pd.Series:
    """Weighted sum of the relative indicators (weights sum to 1, so 1,0 = mean kommune).

    The weights 50/25/25 were reconstructed from the published Table 1 (least squares gives
    0,500 / 0,251 / 0,249) and reproduce all 18 published index values within 0,01.
    """
    if abs(sum(weights.values()) - 1) > 1e-9:
        raise ValueError(f"weights must sum to 1, got {sum(weights.values())}")
    return sum(df[col] * w for col, w in weights.items()).rename("levekaarsindeks")


def fit_weights(df: pd.DataFrame, columns: list[str], target: str) -> pd.Series:
    """Least-squares weights of `columns` that best reproduce `target` (no intercept)."""
    w, *_ = np.linalg.lstsq(df[columns].to_numpy(float), df[target].to_numpy(float), rcond=None)
    return pd.Series(w, index=columns)


def rank_desc(values: pd.Series) -> pd.Series:
    """Rank 1 = highest value (ties share the best rank)."""
    return values.rank(ascending=False, method="min").astype(int)


def rank_asc(values: pd.Series) -> pd.Series:
    """Rank 1 = lowest value (ties share the best rank); the levekår ranking (1 = best levekår)."""
    return values.rank(ascending=True, method="min").astype(int)


def levekaar_shares(
    lavinntekt: pd.DataFrame, utdanning: pd.DataFrame, innvandrere: pd.DataFrame, western_codes: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The three indicators' shares (%) per region code, as SSB gives them (index region_code):

    * lav_inntekt: share in persistent low income (12944, EU-60, latest three-year period);
    * lav_utdanning: share of persons 16+ with grunnskole as highest level (09429: Nivaa 01, per cent);
    * innvandrere_ikke_vestlige: immigrants' share of the population (09817, AndelBefolkning),
      summed over country-background groups not in `western_codes` (999, the total, left out).
    Inputs are the generic tidy SSB frames (region_code, period, dimension codes, value); every
    region code of the answers is kept, NaN where an answer lacks it (e.g. Norway only in some).
    """

    def latest(d):
        return d[d["period"] == d["period"].max()]

    low_inc = latest(lavinntekt).groupby("region_code")["value"].sum(min_count=1)
    if "andel_pst" in utdanning:  # the stored 09429 table (mirror shape: year, nivaa, andel_pst)
        utdanning = utdanning.rename(columns={"nivaa": "Nivaa", "andel_pst": "value"}).assign(
            period=lambda d: d["year"].astype(str)
        )
    u = latest(utdanning).pivot_table(index="region_code", columns="Nivaa", values="value", aggfunc="sum")
    # 09429 as fetched (ContentsCode PersonerProsent, Nivaa 01 … 09a) is already a share; a
    # count table with the total "00" is turned into one.
    low_edu = u["01"] / u["00"] * 100 if "00" in u else u["01"]
    i = latest(innvandrere)
    known = i["Landbakgrunn"] != "999"
    i = i[~i["Landbakgrunn"].isin(western_codes) & known] if western_codes else i[known]
    imm = i.groupby("region_code")["value"].sum(min_count=1)
    return pd.DataFrame({"lav_utdanning": low_edu, "lav_inntekt": low_inc, "innvandrere_ikke_vestlige": imm})


def levekaar_from_ssb(
    lavinntekt: pd.DataFrame, utdanning: pd.DataFrame, innvandrere: pd.DataFrame, western_codes: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The three indicators for all kommuner from SSB's tables (`levekaar_shares`), each relative to
    the unweighted mean of the kommuner."""
    df = levekaar_shares(lavinntekt, utdanning, innvandrere, western_codes).dropna()
    df = df[df.index.str.len() == 4]  # kommuner only
    for c in df.columns:
        df[c] = relative_to_mean(df[c])
    return df.reset_index(names="kommunenummer")


def population_20_66(pop: pd.DataFrame, year: int) -> pd.Series:
    """Persons aged 20–66 on 1 January `year`, by region code."""
    d = pop[(pop["year"] == year) & pop["age_group"].isin(["20-44", "45-66"])]
    return d.groupby("region_code")["persons"].sum()


def tiltak_shares(counts: pd.DataFrame, pop: pd.DataFrame, year: int) -> pd.DataFrame:
    """Participants in labour-market measures as a share (%) of the population 20–66.

    The published shares are reproduced with the population on 1 January 2024 (registered,
    SSB 07459): every fylke and Norway to 0,01 percentage points.
    """
    denom = population_20_66(pop, year)
    missing = sorted(set(counts["region_code"]) - set(denom.index))
    if missing:
        raise KeyError(f"no population 20–66 for region(s) {missing} in {year}")
    out = counts.copy()
    out["befolkning_20_66"] = out["region_code"].map(denom).astype(int)
    out["andel_pst"] = out["deltakere_20_66"] / out["befolkning_20_66"] * 100
    return out


def check_sum_to_total(df: pd.DataFrame, value: str, total_code: str = "0") -> None:
    parts = df.loc[df["region_code"] != total_code, value].sum()
    total = df.loc[df["region_code"] == total_code, value].sum()
    if parts != total:
        raise ValueError(f"{value}: regions sum to {parts}, but the total row says {total}")


def population_change(pop: pd.DataFrame, first: int, last: int, level: str = "kommune") -> pd.DataFrame:
    """Total population change (persons and %) between 1 January `first` and `last`."""
    tot = (
        pop[pop["region_level"] == level]
        .groupby(["region_code", "region_name", "year"])["persons"]
        .sum()
        .unstack("year")
    )
    if first not in tot or last not in tot:
        raise KeyError(f"population data lacks {first} or {last}: has {sorted(tot.columns)}")
    out = pd.DataFrame({"fra": tot[first], "til": tot[last]})
    out["endring"] = out["til"] - out["fra"]
    out["endring_pst"] = out["endring"] / out["fra"] * 100
    return out.reset_index()


def age_share(pop: pd.DataFrame, groups: list[str], year: int, level: str = "kommune") -> pd.DataFrame:
    """Share (%) of the population in `groups` by region, 1 January `year`."""
    d = pop[(pop["region_level"] == level) & (pop["year"] == year)]
    tot = d.groupby(["region_code", "region_name"])["persons"].sum()
    part = d[d["age_group"].isin(groups)].groupby(["region_code", "region_name"])["persons"].sum()
    return (part / tot * 100).rename("andel_pst").reset_index()


def status_counts(df: pd.DataFrame) -> dict[str, int]:
    return {s: int((df["status"] == s).sum()) for s in ["vedtatt", "under_arbeid", "ingen", "ukjent"]}


# --- Levekår: the low-education indicator computed independently from SSB 09429 ---------------
# Which reference makes «1,0» in the published column? Compared on the 18 published values
# (tests/test_backtest.py): the national share weighted by the population 16+ (07459) comes within
# 0,04 of every published value; the unweighted mean of the kommuner's shares is off by up to 0,20.
LOW_EDUCATION_REFERENCE = "vektet"


def population_16plus(pop: pd.DataFrame, year: int) -> pd.Series:
    """Persons aged 16 and over on 1 January `year`, by kommune code."""
    d = pop[(pop["region_level"] == "kommune") & (pop["year"] == year) & (pop["age_group"] != "0-15")]
    return d.groupby("region_code")["persons"].sum()


def low_education_shares(edu: pd.DataFrame, year: int) -> pd.Series:
    """Share (%) of persons 16+ with grunnskole as highest level (09429 Nivaa 01), by kommune."""
    d = edu[(edu["year"] == year) & (edu["nivaa"] == "01")]
    return d.set_index("region_code")["andel_pst"].astype(float)


def education_reference(shares: pd.Series, pop16: pd.Series | None, how: str = LOW_EDUCATION_REFERENCE) -> float:
    """The reference share that 1,0 stands for: `vektet` = national share (kommuner weighted by the
    population 16+), `uvektet` = unweighted mean of the kommuner's shares."""
    if how == "uvektet":
        return float(shares.mean())
    if how != "vektet":
        raise ValueError(f"unknown reference {how!r} (vektet | uvektet)")
    if pop16 is None:
        raise ValueError("the weighted reference needs the population 16+ per kommune")
    w = pop16.reindex(shares.index)
    if w.isna().any():
        raise KeyError(f"no population 16+ for kommune(s) {sorted(w[w.isna()].index)[:5]}")
    return float((shares * w).sum() / w.sum())


def low_education_indicator(shares: pd.Series, reference: float) -> pd.Series:
    """The Table 1 indicator: a kommune's share relative to the reference (1,0 = reference)."""
    return (shares / reference).rename("lav_utdanning_09429")


def distance_to_published(computed: pd.Series, published: pd.Series) -> dict[str, float]:
    """Max absolute and root-mean-square distance on the kommuner both have."""
    d = (computed.reindex(published.index) - published).dropna()
    return {
        "n": int(len(d)),
        "max_abs": float(d.abs().max()),
        "rmse": float((d**2).mean() ** 0.5),
        "mean": float(d.mean()),
    }
