"""File drop: share of daily trips by public transport per kommune (Buskerudbyen), per cent."""

from __future__ import annotations

from ._base import Source, kommune_value_schema

EXPECTATIONS = {
    "regions": {"code": "kommunenummer", "kommuner": "known", "fylke": "33"},
    "ranges": {"verdi": (0, 100)},
}  # a share of daily trips, per cent

SOURCE = Source("kollektivandel", EXPECTATIONS, kommune_value_schema())
