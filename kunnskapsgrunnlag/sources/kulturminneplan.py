"""Status of each Buskerud kommune's kulturminneplan, transcribed per kommune (source per row)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column

from ._base import Source, code, table_schema

SCHEMA = table_schema(
    {
        "kommunenummer": Column(str, code(r"^\d{4}$"), unique=True),
        "kommunenavn": Column(str),
        "status": Column(str, Check.isin(["vedtatt", "under_arbeid", "ingen", "ukjent"])),
        "vedtatt_aar": Column(float, Check.in_range(1950, 2100), nullable=True),
        "plan_navn": Column(str, nullable=True),
        "evidence": Column(str, nullable=True),
        "source_url_or_repo_path": Column(str, nullable=True),
        "source_date": Column(str, nullable=True),
    },
)

# Buskerud-only transcription: the kommuner of fylke 33 in the classification.
EXPECTATIONS = {
    "regions": {"code": "kommunenummer", "kommuner": "all", "fylke": "33"},
    "ranges": {"vedtatt_aar": (1950, 2100)},
}


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    return pd.read_csv(files[0], dtype={"kommunenummer": str, "source_date": str})


SOURCE = Source("kulturminneplan", EXPECTATIONS, SCHEMA, read_mirror)
