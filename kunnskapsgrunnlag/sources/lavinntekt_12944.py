"""SSB 12944: persons in households with persistent low income (EU-60), per kommune.

Online only (no offline source): stored in SSB's long form with status symbols (`_ssb.tidy_long`).
Tabell 1 is built from it and two other datasets in `tables.tabell1_from_ssb`."""

from __future__ import annotations

from ._base import Source, indicator_long
from ._ssb import tidy_long

EXPECTATIONS = {"regions": {"code": "region_code", "kommuner": "known"}, "ranges": {"value": (0, 100)}}  # per cent

SOURCE = Source("lavinntekt_12944", EXPECTATIONS, indicator_long(), tidy_online=tidy_long)
