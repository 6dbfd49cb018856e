"""SSB 07459: population on 1 January by region (Norway, fylker, kommuner) and age group."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column

from ._base import MAX_COUNT, REGIONS_BY_YEAR, Source, code, table_schema
from ._ssb import no_symbols, regions, zero_runs

AGE_GROUPS = ["0-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]
LEVEL = {"nation": "land", "county": "fylke", "municip": "kommune"}

SCHEMA = table_schema(
    {
        "region_level": Column(str, Check.isin(["land", "fylke", "kommune"])),
        "region_code": Column(str, code(r"^(0|\d{2}|\d{4})$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(1990, 2100)),
        "age_group": Column(str, Check.isin(AGE_GROUPS)),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "year", "age_group"],
)

EXPECTATIONS = {
    "min_rows": (1 + 15 + 357) * len(AGE_GROUPS),  # one year of Norway, fylker and kommuner
    "ranges": {"persons": (0, MAX_COUNT)},
    "years": {"column": "year", "from_vintage": True},
    "regions": {**REGIONS_BY_YEAR, "land": "required", "fylker": "all", "kommuner": "all"},
    "grid": [{"by": ["region_code", "year"], "column": "age_group", "values": AGE_GROUPS, "label": "age groups"}],
    # Fylker are sums of kommuner; the mirror's pre-2024 years are redistricted to 2024 borders
    # with SSB weights, which shifts Norway vs the fylker by up to 5 persons (PROVENANCE.md).
    "sums": [
        {
            "code": "region_code",
            "value": "persons",
            "by": ["year", "age_group"],
            "parts": "kommune",
            "whole": "fylke",
            "tolerance": 10,
        },
        {
            "code": "region_code",
            "value": "persons",
            "by": ["year", "age_group"],
            "parts": "fylke",
            "whole": "land",
            "tolerance": 10,
            "when_complete": True,
        },
    ],
}


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    d = pd.read_csv(files[0], dtype={"code": str})
    return pd.DataFrame(
        {
            "region_level": d["nivaa"].map(LEVEL),
            "region_code": d["code"],
            # Mirror names are multilingual ("Norge-Noreg-Norway"); use our names for fylker/land.
            "region_name": [region_names.get(c, n) for c, n in zip(d["code"], d["name"], strict=False)],
            "year": d["aar"],
            "age_group": d["aldersgruppe"],
            "persons": d["personer"],
        }
    )


def _age_group(age: int) -> str:
    for lo, hi, name in [
        (0, 15, "0-15"),
        (16, 19, "16-19"),
        (20, 44, "20-44"),
        (45, 66, "45-66"),
        (67, 79, "67-79"),
        (80, 89, "80-89"),
    ]:
        if lo <= age <= hi:
            return name
    return "90+"


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = regions(df.copy(), region_names)
    no_symbols(d, "the population")
    d["age"] = d["Alder"].str.extract(r"(\d+)")[0].astype(int)
    d["age_group"] = d["age"].map(_age_group)
    d["year"] = d["Tid"].astype(int)
    names = d.drop_duplicates("region_code").set_index("region_code")["region_name"]
    out = d.groupby(["region_level", "region_code", "year", "age_group"], as_index=False)["value"].sum()
    runs = zero_runs(out, "value", ["region_code"], "year")
    if runs:
        raise ValueError(
            "region series with zeros next to real values – the region codes are not harmonised across "
            "the 2020/2024 regional reforms; ask kommuner with codelist agg_KommSummer (K-xxxx) and fylker "
            "with agg_KommFylker (F-xx): " + "; ".join(runs[:5])
        )
    out["region_name"] = out["region_code"].map(names)
    out = out.rename(columns={"value": "persons"})
    out["persons"] = out["persons"].round().astype(int)
    return out[["region_level", "region_code", "region_name", "year", "age_group", "persons"]]


SOURCE = Source("population_07459", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
