"""File drop: jobs reachable by public transport, per kommune."""

from __future__ import annotations

from ._base import MAX_COUNT, Source, kommune_value_schema

EXPECTATIONS = {
    "regions": {"code": "kommunenummer", "kommuner": "known", "fylke": "33"},
    "ranges": {"verdi": (0, MAX_COUNT)},
}

SOURCE = Source("arbeidsplasser_kollektiv", EXPECTATIONS, kommune_value_schema())
