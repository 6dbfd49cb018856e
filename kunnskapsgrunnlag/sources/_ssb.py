"""Shaping SSB's parsed JSON-stat answers (columns `<dim>`, `<dim>_label`, `value`, `status`) into
tidy tables. Pure data code (no network), shared by the SSB dataset modules: the generic long form
(`tidy_long`) and the readers and tidy functions two datasets share (the projection rounds 14288
and 14746, and their code lists). Imports nothing of the package (and not pandera)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

# SSB's symbols for a cell without a number (SSB's standard «Symboler i tabeller», as printed in
# table notes, e.g. the real 07221 body: ".. = Tallgrunnlag mangler").
STATUS_SYMBOLS = {
    "..": "Tallgrunnlag mangler",
    ".": "Tall kan ikke forekomme",
    ":": "Vises ikke av konfidensialitetshensyn",
    "…": "Oppgave mangler",
    "-": "Null",
}


def strip_region_prefix(code: str) -> str:
    """`F-33` -> `33`, `K-3301` -> `3301`, `K_3301` -> `3301`; national `0` stays `0`."""
    return re.sub(r"^[A-Z][-_.]", "", str(code))


def with_symbols(values: pd.Series, status: pd.Series, fmt=None) -> pd.Series:
    """Values as SSB shows them in a table: the number, or SSB's symbol where there is none."""
    fmt = fmt or (lambda v: v)
    return pd.Series(
        [
            s if (isinstance(s, str) and s) else ("" if pd.isna(v) else fmt(v))
            for v, s in zip(values, status, strict=False)
        ],
        index=values.index,
        dtype=object,
    )


def region_level(code: str) -> str:
    return "land" if code == "0" else ("fylke" if len(code) == 2 else "kommune")


def _norway(code: str, label: str) -> bool:
    return code in {"0", "00", "0000"} or str(label).strip().lower() in {"hele landet", "landet i alt"}


def regions(d: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """Adds region_code (prefix stripped, Norway = "0"), region_level and region_name."""
    labels = d["Region_label"] if "Region_label" in d else d["Region"]
    d["region_code"] = [
        ("0" if _norway(c, lab) else strip_region_prefix(c)) for c, lab in zip(d["Region"], labels, strict=True)
    ]
    d["region_level"] = d["region_code"].map(region_level)
    ssb_names = [re.sub(r"^\s*[A-Z]?[-_.]?\d+\s+", "", str(lab)).strip() for lab in labels]
    d["region_name"] = [region_names.get(c, n or c) for c, n in zip(d["region_code"], ssb_names, strict=False)]
    return d


def no_symbols(d: pd.DataFrame, what: str) -> None:
    """ValueError when a cell carries an SSB status symbol where the dataset needs numbers."""
    sym = d[d["status"] != ""]
    if len(sym):
        r = sym.iloc[0]
        raise ValueError(
            f"{len(sym)} cell(s) of {what} carry an SSB status symbol instead of a number "
            f"(first: region {r['Region']}, {r.get('Tid', '')}: {r['status']!r} = "
            f"{STATUS_SYMBOLS.get(r['status'], 'ukjent symbol')})"
        )


def zero_runs(df: pd.DataFrame, value: str, by: list[str], time: str) -> list[str]:
    """Regions whose series has a run of zeros next to real values (a region code that did not
    exist yet, asked without an aggregation code list). One description per such region."""
    out = []
    totals = df.groupby(by + [time], as_index=False)[value].sum()
    for key, g in totals.groupby(by):
        g = g.sort_values(time)
        vals = g[value].to_numpy()
        if (vals == 0).any() and (vals > 0).any():
            zeros = g.loc[g[value] == 0, time].astype(str).tolist()
            real = g.loc[g[value] > 0, time].astype(str).tolist()
            key = key if isinstance(key, tuple) else (key,)
            out.append(
                f"{'/'.join(map(str, key))}: 0 in {zeros[0]}–{zeros[-1]} ({len(zeros)} years) "
                f"but real values in {real[0]}–{real[-1]}"
            )
    return out


LONG_COLUMNS = ["region_level", "region_code", "region_name", "period"]


def tidy_long(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """The generic tidy form of an SSB table: region_level, region_code, region_name, period, then
    per other variable `<id>` (code) and `<id>_label`, then `value` (NaN where SSB has no number)
    and `status` (SSB's symbol: ".." Tallgrunnlag mangler, "." Tall kan ikke forekomme,
    ":" Vises ikke av konfidensialitetshensyn; "" where there is a number)."""
    missing = [c for c in ("Region", "Tid", "value", "status") if c not in df]
    if missing:
        raise KeyError(f"the answer has no {', '.join(missing)} (its columns: {', '.join(map(str, df.columns))})")
    d = regions(df.copy(), region_names)
    d = d.rename(columns={"Tid": "period"})
    skip = set(LONG_COLUMNS) | {"Region", "Region_label", "Tid_label", "value", "status"}
    other = [c for c in d.columns if c not in skip]
    return d[LONG_COLUMNS + other + ["value", "status"]].reset_index(drop=True)


# --- the projection rounds (SSB 14288: 2024, 14746: 2026): the same variables, codes and shapes -----

PROJECTION_AGE_GROUPS = ["0", "1-5", "6-12", "13-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]
PROJECTION_ALTERNATIVES = ["MMMM", "LLML", "HHMH"]
# agg_Funksjonell4 (14288): F311…F320, verified in ../shared/data/stats/PROVENANCE.md addendum 4
# (a 12882 query with labels, and the 10 groups of the staged Telemark 14288 file).
FUNKSJONELL4 = dict(zip([f"F{n}" for n in range(311, 321)], PROJECTION_AGE_GROUPS, strict=False))
_ALTERNATIVE = re.compile(r"\b(MMMM|LLML|HHMH)\b")
_MIRROR_ALT = {
    "Hovedalternativet (MMMM)": "MMMM",
    "Lav nasjonal vekst (LLML)": "LLML",
    "Høy nasjonal vekst (HHMH)": "HHMH",
}
_MIRROR_AGE = {"alle aldre": "alle", "16+ (16-66 + 67+)": "16+"}
_CHILDREN = {"0", "1-5", "6-12", "13-15"}
# The alternative of each ContentsCode of the fylke table (verified from data in SSB's v0 answer,
# PROVENANCE addendum 4).
PROJECTION_CONTENTS = {"Personer": "MMMM", "Personer1": "LLML", "Personer2": "HHMH"}


def _known_ages(d: pd.DataFrame) -> None:
    unknown = sorted(set(d["Alder"]) - set(FUNKSJONELL4))
    if unknown:
        raise ValueError(f"unexpected Alder code(s) {unknown}; agg_Funksjonell4 has {', '.join(FUNKSJONELL4)}")


def read_projection_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """The mirror's national projection file: Norway and the fylker by alternative and age group."""
    d = pd.read_csv(files[0])
    by_name = {v: k for k, v in region_names.items()}
    d = d[d["region"].isin(by_name)]  # land and fylker; the kommune rows are Telemark-only
    age = d["alder"].str.replace(" år eller eldre", "+", regex=False).str.replace(" år", "", regex=False)
    return pd.DataFrame(
        {
            "region_code": d["region"].map(by_name),
            "region_name": d["region"],
            "alternative": d["statistikkvariabel"].map(_MIRROR_ALT),
            "year": d["år"],
            "age_group": age,
            "persons": d["value"],
        }
    )


def tidy_projection(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """Norway and fylker by alternative, year and functional age group (agg_Funksjonell4)."""
    d = regions(df.copy(), region_names)
    no_symbols(d, "the projection")
    _known_ages(d)
    d["age_group"] = d["Alder"].map(FUNKSJONELL4)
    # The alternative is in the label ("Hovedalternativet (MMMM)"), not in the code (Personer, Personer1, …).
    d["alternative"] = d["ContentsCode_label"].str.extract(_ALTERNATIVE)[0]
    if d["alternative"].isna().any():
        lab = d.loc[d["alternative"].isna(), "ContentsCode_label"].iloc[0]
        raise ValueError(f"ContentsCode label {lab!r} names none of the alternatives MMMM, LLML, HHMH")
    d["year"] = d["Tid"].astype(int)
    d["persons"] = d["value"].round().astype(int)
    return d[["region_code", "region_name", "alternative", "year", "age_group", "persons"]].reset_index(drop=True)


def read_projection_fylker_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """The mirror's fylke projection file: 15 fylker x 3 alternatives, all ages and 16+ (no 67+ split)."""
    d = pd.read_csv(files[0], dtype={"fylke_kode": str})
    return pd.DataFrame(
        {
            "region_code": d["fylke_kode"],
            "region_name": d["fylke_kode"].map(lambda c: region_names.get(c, c)),
            "alternative": d["alternativ"],
            "year": d["aar"],
            "age_group": d["aldersgruppe"].map(_MIRROR_AGE),
            "persons": d["personer"],
        }
    )


def tidy_projection_fylker(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """All ages and 16+ summed from the functional age groups (agg_Funksjonell4, F311…F320)."""
    d = df.copy()
    no_symbols(d, "the projection")
    _known_ages(d)
    bad = sorted(set(d["ContentsCode"]) - set(PROJECTION_CONTENTS))
    if bad:
        raise ValueError(f"unexpected ContentsCode(s) {bad}; expected {', '.join(PROJECTION_CONTENTS)}")
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d["alternative"] = d["ContentsCode"].map(PROJECTION_CONTENTS)
    d["year"] = d["Tid"].astype(int)
    d["age_group"] = d["Alder"].map(FUNKSJONELL4)
    keys = ["region_code", "alternative", "year"]
    everyone = d.groupby(keys, as_index=False)["value"].sum().assign(age_group="alle")
    adults = d[~d["age_group"].isin(_CHILDREN)].groupby(keys, as_index=False)["value"].sum().assign(age_group="16+")
    out = pd.concat([everyone, adults], ignore_index=True)
    out["region_name"] = out["region_code"].map(lambda c: region_names.get(c, c))
    out["persons"] = out["value"].round().astype(int)
    return out[["region_code", "region_name", "alternative", "year", "age_group", "persons"]]


def read_projection_kommuner_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """The mirror's kommune projection file: all 357 kommuner (2024 codes), main alternative, all ages."""
    d = pd.read_csv(files[0], dtype={"kommunenummer": str, "fylke_kode": str, "kommunenummer_2023": str})
    return pd.DataFrame(
        {
            "region_code": d["kommunenummer"],
            "region_name": d["kommunenavn"],
            "fylke_code": d["fylke_kode"],
            "alternative": d["alternativ"],
            "year": d["aar"],
            "persons": d["personer"],
        }
    )


def tidy_projection_kommuner(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """Kommuner only (4-digit codes), all age groups summed, the main alternative."""
    d = df.copy()
    no_symbols(d, "the projection")
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d = d[d["region_code"].str.fullmatch(r"\d{4}")].copy()
    d["alternative"] = "MMMM"
    d["year"] = d["Tid"].astype(int)
    out = d.groupby(["region_code", "alternative", "year"], as_index=False)["value"].sum()
    out["region_name"] = out["region_code"].map(lambda c: region_names.get(c, c))
    out["fylke_code"] = out["region_code"].str[:2]
    out["persons"] = out["value"].round().astype(int)
    return out[["region_code", "region_name", "fylke_code", "alternative", "year", "persons"]]
