"""Udir: completed within 5/6 years, all programmes, Norway and the pre-2020 fylker, by cohort."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

from ._base import Source, code, in_fylker, table_schema

# Udir reports cohorts up to 2019 on the fylker of the time (pre-2020). The 2024 fylke each old
# fylke lies (mostly) in; two old fylker map to Innlandet, Agder and Vestland; Trøndelag (50)
# replaced 16/17 from the 2018 cohort on. Borders changed in 2020/2024 (e.g. Hurum and Røyken
# left, Svelvik joined Buskerud), so the values are those of the old fylker, not re-districted.
UDIR_FYLKE_2024 = {
    "0": "0",
    "01": "31",
    "02": "32",
    "03": "03",
    "04": "34",
    "05": "34",
    "06": "33",
    "07": "39",
    "08": "40",
    "09": "42",
    "10": "42",
    "11": "11",
    "12": "46",
    "14": "46",
    "15": "15",
    "16": "50",
    "17": "50",
    "18": "18",
    "19": "55",
    "20": "56",
    "50": "50",
}


def schema(fylker: Sequence[str]) -> DataFrameSchema:
    return table_schema(
        {
            "fylke_kode_udir": Column(str, code(r"^(0|\d{2})$")),
            "fylke_navn_udir": Column(str),
            "fylke_2024": Column(str, in_fylker(fylker, "0")),
            "kull": Column(int, Check.in_range(2000, 2100)),
            "fullfort_pct": Column(float, Check.in_range(0, 100), nullable=True),
        },
        unique=["fylke_kode_udir", "kull"],
    )


EXPECTATIONS = {
    "regions": {"code": "fylke_2024", "land": "required", "fylker": "known"},
    "ranges": {"fullfort_pct": (0, 100)},
    "years": {"column": "kull", "min": 2000},
}


def _names(names: pd.Series) -> pd.Series:
    # "Buskerud ( - 2019)" -> "Buskerud", "Nordland - Nordlánnda" -> "Nordland"
    return names.astype(str).str.replace(r"\s*\(.*\)\s*$", "", regex=True).str.split(" - ").str[0].str.strip()


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    d = pd.read_csv(files[0], dtype={"fylke_kode_udir": str})
    return pd.DataFrame(
        {
            "fylke_kode_udir": d["fylke_kode_udir"],
            "fylke_navn_udir": _names(d["fylke_navn_udir"]),
            "fylke_2024": d["fylke_kode_udir"].map(UDIR_FYLKE_2024),
            "kull": d["kull"],
            "fullfort_pct": d["fullfort_pct"],
        }
    )


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """The report API's long form (all programmes, Prosent) -> the mirror's shape: one row per
    Udir unit (Hele landet = "0", pre-2020 fylker "01"…"50") and cohort, with its 2024 fylke."""
    d = df[df["maal"].astype(str).str.lower().str.startswith("prosent")]
    unit = d["enhet_kode"].astype(str).where(d["enhet_kode"].astype(str) != "I", "0")
    out = pd.DataFrame(
        {
            "fylke_kode_udir": unit,
            "fylke_navn_udir": _names(d["enhet_navn"]),
            "fylke_2024": unit.map(UDIR_FYLKE_2024),
            "kull": d["kull"].astype(int),
            "fullfort_pct": d["verdi"],
        }
    )
    return out[out["fylke_2024"].notna()].reset_index(drop=True)


SOURCE = Source("gjennomforing_udir_fylke", EXPECTATIONS, schema, read_mirror, tidy_online)
