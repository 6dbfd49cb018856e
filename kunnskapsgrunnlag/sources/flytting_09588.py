"""SSB 09588: domestic net in-migration per kommune and fylke: the online route of the 2026
report's Tables 3a/3b (any year)."""

from __future__ import annotations

import pandas as pd

from ._base import MAX_COUNT, Source, indicator_long
from ._ssb import tidy_long

# The configuration's kommuner (each a kommune of the classification) and all 15 fylker.
EXPECTATIONS = {
    "regions": {"code": "region_code", "fylker": "all", "kommuner": "known"},
    "ranges": {"value": (-MAX_COUNT, MAX_COUNT)},
}


def tabell3_from_09588(tidy: pd.DataFrame) -> pd.DataFrame:
    """Domestic net in-migration per kommune and fylke, from `flytting_09588` (the shape of
    `flytting_published`: nivaa, region_code, region, netto_innenlands; plus status)."""
    d = tidy[tidy["ContentsCode"] == "NettoInnland"]
    out = pd.DataFrame(
        {
            "nivaa": d["region_level"],
            "region_code": d["region_code"],
            "region": d["region_name"],
            "netto_innenlands": d["value"],
            "status": d["status"],
        }
    )
    return out[out["nivaa"].isin(["kommune", "fylke"])].reset_index(drop=True)


SOURCE = Source("flytting_09588", EXPECTATIONS, indicator_long(), tidy_online=tidy_long)
