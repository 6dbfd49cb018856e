"""SSB 14288 (2024 round): projected population per kommune, all ages, main alternative (MMMM)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

from ._base import MAX_COUNT, Source, code, in_fylker
from ._ssb import no_symbols, strip_region_prefix

SCHEMA = DataFrameSchema(
    {
        "region_code": Column(str, code(r"^\d{4}$")),
        "region_name": Column(str),
        "fylke_code": Column(str, in_fylker()),
        "alternative": Column(str, Check.isin(["MMMM", "LLML", "HHMH"])),
        "year": Column(int, Check.in_range(2020, 2100)),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "alternative", "year"],
    checks=[
        Check(
            lambda d: (d["region_code"].str[:2] == d["fylke_code"]).all(),
            element_wise=False,
            error="a kommune's code must start with its fylke's code",
        )
    ],
    strict=True,
    coerce=True,
)

EXPECTATIONS = {
    "regions": {"code": "region_code", "kommuner": "all"},
    "ranges": {"persons": (0, MAX_COUNT)},
    "years": {"column": "year", "min": 2020},
}


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """SSB 14288 (2024 round), all 357 kommuner (2024 codes), main alternative, all ages."""
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


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
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


SOURCE = Source("projection_14288_kommuner", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
