"""Udir: completion of upper secondary education by programme (one cohort), Udir's report API.

The online answer is parsed by `fetch.udir.read_report_json` into the long form kept as it is."""

from __future__ import annotations

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

from ._base import Source

SCHEMA = DataFrameSchema(
    {
        "enhet_kode": Column(str),
        "enhet_navn": Column(str),
        "kull": Column(int, Check.in_range(2000, 2100)),
        "programomraade": Column(str),
        "maal": Column(str),
        "verdi": Column(float, Check.ge(0), nullable=True),
        "status": Column(str, Check.isin(["", "*", "-", "."]), nullable=True),
    },
    strict=False,
    coerce=True,
)

EXPECTATIONS = {
    "ranges": {"verdi": (0, 100)},  # per cent (VisProsent(1))
    "years": {"column": "kull", "min": 2000},
}


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    return df.reset_index(drop=True)


SOURCE = Source("gjennomforing_udir", EXPECTATIONS, SCHEMA, tidy_online=tidy_online)
