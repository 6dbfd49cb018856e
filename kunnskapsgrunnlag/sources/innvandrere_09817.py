"""SSB 09817: immigrants by country background, share of the population, per kommune.

Online only (no offline source): stored in SSB's long form with status symbols (`_ssb.tidy_long`)."""

from __future__ import annotations

import pandas as pd

from ._base import Source, indicator_long
from ._ssb import tidy_long

EXPECTATIONS = {"regions": {"code": "region_code", "kommuner": "known"}, "ranges": {"value": (0, 100)}}  # per cent

# The country-background group «outside western countries» of Tabell 1. NOT verified: a third-party
# script names the groups VES and IVE; no real 09817 answer exists offline (config/datasets.yml).
NON_WESTERN = ("IVE",)


def non_western(tidy: pd.DataFrame, codes: tuple[str, ...] = NON_WESTERN) -> pd.DataFrame:
    """The rows of the immigrants' country-background group(s) outside western countries, or
    ValueError listing the answer's groups (a wrong guess must not pass as all immigrants)."""
    d = tidy[tidy["Landbakgrunn"].astype(str).isin(codes)]
    if d.empty:
        groups = tidy.drop_duplicates("Landbakgrunn")
        labels = groups.get("Landbakgrunn_label", groups["Landbakgrunn"])
        listing = ", ".join(f"{c} ({lab})" for c, lab in zip(groups["Landbakgrunn"], labels, strict=False))
        raise ValueError(f"no Landbakgrunn {', '.join(codes)} in 09817; the answer has {listing}")
    return d


SOURCE = Source("innvandrere_09817", EXPECTATIONS, indicator_long(), tidy_online=tidy_long)
