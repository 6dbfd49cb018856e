"""SSB 13563: share of young people not in employment, education or training (NEET), per fylke."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column

from ._base import Source, code, table_schema
from ._ssb import no_symbols, regions

SCHEMA = table_schema(
    {
        "region_code": Column(str, code(r"^(0|\d{2})$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(2000, 2100)),
        "age_group": Column(str, Check.isin(["15-29", "30-61"])),
        "neet_share": Column(float, Check.in_range(0, 100)),
    },
    unique=["region_code", "year", "age_group"],
)

EXPECTATIONS = {
    "min_rows": 15 * 2,
    "ranges": {"neet_share": (0, 100)},
    "years": {"column": "year", "min": 2020},
    "regions": {"code": "region_code", "fylker": "all"},
    "grid": [
        {"by": ["region_code", "year"], "column": "age_group", "values": ["15-29", "30-61"], "label": "age groups"}
    ],
}


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    d = pd.read_csv(files[0])
    by_name = {v: k for k, v in region_names.items()}
    long = d.melt(id_vars="Fylke", var_name="col", value_name="neet_share")
    parsed = long["col"].str.extract(r"(?P<age>\d+-\d+) år \((?P<year>\d{4})\)")
    unknown = sorted(set(long["Fylke"]) - set(by_name))
    if unknown:
        raise ValueError(f"{files[0]}: unknown fylke name(s) {unknown}")
    return pd.DataFrame(
        {
            "region_code": long["Fylke"].map(by_name),
            "region_name": long["Fylke"],
            "year": parsed["year"].astype(int),
            "age_group": parsed["age"],
            "neet_share": long["neet_share"].astype(float),
        }
    )


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = regions(df.copy(), region_names)
    no_symbols(d, "the NEET counts")
    wide = d.pivot_table(
        index=["region_code", "region_name", "Alder", "Tid"], columns="HovArbStyrkStatus", values="value", aggfunc="sum"
    ).reset_index()
    wide["neet_share"] = (wide["NEET2"] / wide["TOT3"] * 100).round(1)
    wide = wide.rename(columns={"Alder": "age_group", "Tid": "year"})
    wide["year"] = wide["year"].astype(int)
    return wide[["region_code", "region_name", "year", "age_group", "neet_share"]]


SOURCE = Source("neet_13563", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
