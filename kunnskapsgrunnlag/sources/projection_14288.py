"""SSB 14288 (2024 round): projected population by region, functional age group and alternative
(offline: Norway and Telemark only)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

from ._base import MAX_COUNT, Source, code
from ._ssb import no_symbols, regions

AGE_GROUPS = ["0", "1-5", "6-12", "13-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]
ALTERNATIVES = ["MMMM", "LLML", "HHMH"]
# agg_Funksjonell4 (14288): F311…F320, verified in ../shared/data/stats/PROVENANCE.md addendum 4
# (a 12882 query with labels, and the 10 groups of the staged Telemark 14288 file).
FUNKSJONELL4 = dict(zip([f"F{n}" for n in range(311, 321)], AGE_GROUPS, strict=False))
_ALTERNATIVE = re.compile(r"\b(MMMM|LLML|HHMH)\b")
_MIRROR_ALT = {
    "Hovedalternativet (MMMM)": "MMMM",
    "Lav nasjonal vekst (LLML)": "LLML",
    "Høy nasjonal vekst (HHMH)": "HHMH",
}

SCHEMA = DataFrameSchema(
    {
        "region_code": Column(str, code(r"^(0|\d{2})$")),
        "region_name": Column(str),
        "alternative": Column(str, Check.isin(ALTERNATIVES)),
        "year": Column(int, Check.in_range(2020, 2100)),
        "age_group": Column(str, Check.isin(AGE_GROUPS)),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "alternative", "year", "age_group"],
    strict=True,
    coerce=True,
)


def projection_expectations(first_year: int, last_year: int = 2050) -> dict:
    """The expectations of a national/fylke projection round from `first_year` (2024 here, 2026 for 14746)."""
    return {
        "min_rows": 3 * (last_year - first_year + 1) * len(AGE_GROUPS),  # Norway, three alternatives
        "ranges": {"persons": (0, MAX_COUNT)},
        "years": {"column": "year", "from": first_year, "to": last_year},
        "regions": {"code": "region_code", "land": "required", "fylker": "known"},
        "grid": [
            {
                "by": ["region_code", "alternative", "year"],
                "column": "age_group",
                "values": AGE_GROUPS,
                "label": "age groups",
            },
            {"by": ["region_code"], "column": "alternative", "values": ALTERNATIVES, "label": "alternatives"},
        ],
        "sums": [
            {
                "code": "region_code",
                "value": "persons",
                "by": ["alternative", "year", "age_group"],
                "parts": "fylke",
                "whole": "land",
                "tolerance": 10,
                "when_complete": True,
            }
        ],
    }


EXPECTATIONS = projection_expectations(2024)


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
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


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = regions(df.copy(), region_names)
    no_symbols(d, "the projection")
    unknown = sorted(set(d["Alder"]) - set(FUNKSJONELL4))
    if unknown:
        raise ValueError(f"unexpected Alder code(s) {unknown}; agg_Funksjonell4 has {', '.join(FUNKSJONELL4)}")
    d["age_group"] = d["Alder"].map(FUNKSJONELL4)
    # The alternative is in the label ("Hovedalternativet (MMMM)"), not in the code (Personer, Personer1, …).
    d["alternative"] = d["ContentsCode_label"].str.extract(_ALTERNATIVE)[0]
    if d["alternative"].isna().any():
        lab = d.loc[d["alternative"].isna(), "ContentsCode_label"].iloc[0]
        raise ValueError(f"ContentsCode label {lab!r} names none of the alternatives MMMM, LLML, HHMH")
    d["year"] = d["Tid"].astype(int)
    d["persons"] = d["value"].round().astype(int)
    return d[["region_code", "region_name", "alternative", "year", "age_group", "persons"]].reset_index(drop=True)


SOURCE = Source("projection_14288", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
