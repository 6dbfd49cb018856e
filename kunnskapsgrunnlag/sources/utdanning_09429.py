"""SSB 09429: share (%) of persons 16+ by highest education level, all kommuner."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column

from ._base import SSB_STATUS, Source, code, frame_check, table_schema
from ._ssb import strip_region_prefix

# SSB 09429 level codes of the mirror's columns (PersonerProsent, both sexes).
NIVAA = {"grunnskole_pct": "01", "vgs_pct": "02a", "fagskole_pct": "11", "uh_kort_pct": "03a", "uh_lang_pct": "04a"}

SCHEMA = table_schema(
    {
        "region_code": Column(str, code(r"^\d{4}$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(2000, 2100)),
        "nivaa": Column(str, Check.isin(list(NIVAA.values()))),
        "andel_pst": Column(float, Check.in_range(0, 100), nullable=True),  # null: see status
        "status": Column(str, Check.isin(SSB_STATUS), nullable=True, required=False),
    },
    unique=["region_code", "year", "nivaa"],
    checks=[
        frame_check(
            lambda d: (
                d.groupby(["region_code", "year"])["andel_pst"].sum(min_count=5).dropna().between(99.0, 101.0).all()
            ),
            "the five levels of a kommune must sum to about 100 % (only «uoppgitt» is left out)",
        )
    ],
)

# Every kommune of the classification of the data's year, and no other code.
EXPECTATIONS = {
    "regions": {"code": "region_code", "kommuner": "all", "per": "year"},
    "ranges": {"andel_pst": (0, 100)},
    "years": {"column": "year", "min": 2000},
    "grid": [
        {"by": ["region_code", "year"], "column": "nivaa", "values": list(NIVAA.values()), "label": "education levels"}
    ],
}


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """Share (%) of persons 16+ by highest education level, all kommuner (long: one row per level)."""
    d = pd.read_csv(files[0], dtype={"kommunenummer": str})
    long = d.melt(
        id_vars=["kommunenummer", "kommunenavn", "aar"], value_vars=list(NIVAA), var_name="col", value_name="andel_pst"
    )
    return (
        pd.DataFrame(
            {
                "region_code": long["kommunenummer"],
                "region_name": long["kommunenavn"],
                "year": long["aar"],
                "nivaa": long["col"].map(NIVAA),
                "andel_pst": long["andel_pst"].astype(float),
            }
        )
        .sort_values(["region_code", "nivaa"])
        .reset_index(drop=True)
    )


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """09429 PersonerProsent: share (%) of persons 16+ by level, kommuner only (same as the mirror)."""
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d = d[d["region_code"].str.fullmatch(r"\d{4}") & d["Nivaa"].isin(set(NIVAA.values()))]
    out = pd.DataFrame(
        {
            "region_code": d["region_code"],
            "region_name": d["region_code"],
            "year": d["Tid"].astype(int),
            "nivaa": d["Nivaa"],
            "andel_pst": d["value"].astype(float),
        }
    )
    if "status" in d:  # SSB's symbol where there is no number («..», «.», «:»), kept as SSB shows it
        out["status"] = d["status"].fillna("").astype(str)
    return out


SOURCE = Source("utdanning_09429", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
