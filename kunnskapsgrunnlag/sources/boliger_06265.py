"""SSB 06265: dwellings by building type per kommune (offline: shares only, no counts)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column

from ._base import MAX_COUNT, Source, code, frame_check, table_schema
from ._ssb import strip_region_prefix

# SSB 06265 building types (BygnType codes) and the mirror's column for each.
BOLIG_TYPES = {
    "01": ("Enebolig", "enebolig_pct"),
    "02": ("Tomannsbolig", "tomannsbolig_pct"),
    "03": ("Rekkehus, kjedehus og andre småhus", "rekkehus_kjedehus_smahus_pct"),
    "04": ("Boligblokk", "boligblokk_pct"),
    "05": ("Bygning for bofellesskap", "bofellesskap_pct"),
    "999": ("Andre bygningstyper", "andre_bygningstyper_pct"),
}


def _shares_sum_to_100(d: pd.DataFrame) -> bool:
    sums = d.groupby(["region_code", "year"])["share_pct"].sum()
    return bool(((sums - 100).abs() <= 0.05).all())


def _shares_match_counts(d: pd.DataFrame) -> bool:
    """Where counts are present (online), each share is the count over the kommune's sum."""
    c = d.dropna(subset=["dwellings"])
    if c.empty:
        return True
    tot = c.groupby(["region_code", "year"])["dwellings"].transform("sum").astype(float)
    return bool(((c["dwellings"].astype(float) / tot * 100 - c["share_pct"]).abs() <= 1e-6).all())


SCHEMA = table_schema(
    {
        "region_code": Column(str, code(r"^\d{4}$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(1990, 2100)),
        "building_type": Column(str, Check.isin(list(BOLIG_TYPES))),
        "building_type_name": Column(str),
        "share_pct": Column(float, Check.in_range(0, 100)),
        "dwellings": Column("Int64", Check.ge(0), nullable=True),
    },
    unique=["region_code", "year", "building_type"],
    checks=[
        frame_check(
            lambda d: bool((d.groupby(["region_code", "year"]).size() == 6).all()),
            "every kommune and year must have all six building types (01-05, 999)",
        ),
        frame_check(_shares_sum_to_100, "the six building-type shares of a kommune must sum to 100 (±0.05)"),
        frame_check(
            _shares_match_counts, "a share must equal the count over the kommune's total where counts are given"
        ),
    ],
)

# Online: the configuration's fylke's kommuner; offline: all kommuner. Every code must be a kommune
# of the classification of its year.
EXPECTATIONS = {
    "regions": {"code": "region_code", "kommuner": "known", "per": "year"},
    "ranges": {"share_pct": (0, 100), "dwellings": (0, MAX_COUNT)},
}


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """SSB 06265 as shares per kommune and building type (the mirror has shares only: no counts)."""
    d = pd.read_csv(files[0], dtype={"kommunenummer": str})
    rows = []
    for type_code, (label, col) in BOLIG_TYPES.items():
        rows.append(
            pd.DataFrame(
                {
                    "region_code": d["kommunenummer"].str.zfill(4),
                    "region_name": d["kommunenavn"],
                    "year": d["aar"].astype(int),
                    "building_type": type_code,
                    "building_type_name": label,
                    "share_pct": d[col].astype(float),
                    "dwellings": pd.NA,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).sort_values(["region_code", "building_type"]).reset_index(drop=True)


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """Counts by kommune and building type, plus each type's share of the kommune's dwellings."""
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d["year"] = d["Tid"].astype(int)
    d["building_type"] = d["BygnType"].astype(str)
    d["building_type_name"] = d["building_type"].map(lambda c: BOLIG_TYPES.get(c, (c,))[0])
    d["dwellings"] = d["value"].astype("Int64")
    total = d.groupby(["region_code", "year"])["dwellings"].transform("sum")
    d["share_pct"] = d["dwellings"].astype(float) / total.astype(float) * 100
    d["region_name"] = d["region_code"].map(lambda c: region_names.get(c, c))
    return d[["region_code", "region_name", "year", "building_type", "building_type_name", "share_pct", "dwellings"]]


SOURCE = Source("boliger_06265", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
