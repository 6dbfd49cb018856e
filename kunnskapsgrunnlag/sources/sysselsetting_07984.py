"""SSB 07984: employed persons by place of work and industry (SN2007), the configuration's fylke.

Online only (no offline source): stored in SSB's long form with status symbols (`_ssb.tidy_long`)."""

from __future__ import annotations

from ._base import MAX_COUNT, Source, indicator_long
from ._ssb import tidy_long

EXPECTATIONS = {
    "regions": {"code": "region_code", "fylker": "known", "kommuner": "known"},
    "ranges": {"value": (0, MAX_COUNT)},
}

SOURCE = Source("sysselsetting_07984", EXPECTATIONS, indicator_long(), tidy_online=tidy_long)
