"""Table 1 of the 2026 report (levekårsindeks per Buskerud kommune), as printed, transcribed."""

from __future__ import annotations

from pandera.pandas import Check, Column

from ._base import Source, code, table_schema

SCHEMA = table_schema(
    {
        "kommunenummer": Column(str, code(r"^\d{4}$"), unique=True),  # which: the expectations (classification)
        "kommune": Column(str),
        "lav_utdanning": Column(float, Check.in_range(0, 5)),
        "lav_inntekt": Column(float, Check.in_range(0, 5)),
        "innvandrere_ikke_vestlige": Column(float, Check.in_range(0, 5)),
        "levekaarsindeks": Column(float, Check.in_range(0, 5)),
        "rang": Column(int, Check.in_range(1, 400)),
    },
)

EXPECTATIONS = {
    "regions": {"code": "kommunenummer", "kommuner": "all", "fylke": "33"},
    "ranges": {"levekaarsindeks": (0, 5)},
}

SOURCE = Source("levekaar_published", EXPECTATIONS, SCHEMA)
