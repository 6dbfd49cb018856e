"""File drop: weather-related damage events in Buskerud (storm, flood, landslide) per period."""

from __future__ import annotations

from pandera.pandas import Check, Column

from ._base import Source, code, table_schema

SCHEMA = table_schema(
    {
        "periode": Column(str, code(r"^\d{4}[-–]\d{4}$")),
        "hendelse": Column(str, Check.isin(["storm", "flom", "skred"])),
        "antall": Column(int, Check.ge(0, error="count must not be negative")),
        "kilde": Column(str),
    },
    unique=["periode", "hendelse"],
)

EXPECTATIONS = {"ranges": {"antall": (0, 1_000_000)}}

SOURCE = Source("skadehendelser", EXPECTATIONS, SCHEMA)
