"""SSB 09817: immigrants by country background, share of the population, per kommune.

Online only (no offline source): stored in SSB's long form with status symbols (`_ssb.tidy_long`)."""

from __future__ import annotations

from ._base import Source, indicator_long
from ._ssb import tidy_long

EXPECTATIONS = {"regions": {"code": "region_code", "kommuner": "known"}, "ranges": {"value": (0, 100)}}  # per cent

SOURCE = Source("innvandrere_09817", EXPECTATIONS, indicator_long(), tidy_online=tidy_long)
