"""SSB 13563: residents by prioritised labour-force status (among them participants in labour-market
measures), per fylke and Norway: the online route of the 2026 report's Table 2 (any year)."""

from __future__ import annotations

import re

import pandas as pd

from ._base import MAX_COUNT, Source, indicator_long
from ._ssb import tidy_long

EXPECTATIONS = {
    "regions": {"code": "region_code", "land": "required", "fylker": "all"},
    "ranges": {"value": (0, MAX_COUNT)},
}

TILTAK_LABEL = "Deltakere på arbeidsmarkedstiltak"  # the label in SSB 13563 (live Telemark script)
_SPAN = re.compile(r"(\d+)\s*-\s*(\d+)")


def _age_span(code: str, label: str) -> tuple[int, int] | None:
    for text in (str(code), str(label)):
        if m := _SPAN.search(text):
            return int(m.group(1)), int(m.group(2))
    return None


def ages_within(codes: dict[str, str], lo: int, hi: int) -> list[str]:
    """The age-group codes (code -> label) that exactly tile lo–hi (e.g. 20–66), or ValueError
    listing the groups: which 13563 groups make up 20–66 is read from the answer, not assumed."""
    spans = {c: s for c, lab in codes.items() if (s := _age_span(c, lab))}
    inside = sorted((s, c) for c, s in spans.items() if lo <= s[0] and s[1] <= hi)
    # keep the finest tiling: drop a group that contains another selected group
    chosen = [(s, c) for s, c in inside if not any(o != (s, c) and s[0] <= o[0][0] and o[0][1] <= s[1] for o in inside)]
    edge = lo
    for (a, b), _ in chosen:
        if a != edge:
            break
        edge = b + 1
    if not chosen or edge != hi + 1:
        listing = ", ".join(f"{c} ({lab})" for c, lab in codes.items())
        raise ValueError(f"the age groups {listing} do not add up to {lo}–{hi}")
    return [c for _, c in chosen]


def tabell2_from_13563(tidy: pd.DataFrame, lo: int = 20, hi: int = 66) -> pd.DataFrame:
    """Participants in labour-market measures aged lo–hi per fylke and Norway (columns region_code,
    region, deltakere_20_66, status: the shape of `tiltak_published` without the printed share).
    The status code is found by its label, the age groups by their bounds."""
    d = tidy[tidy["HovArbStyrkStatus_label"].astype(str).str.strip() == TILTAK_LABEL]
    if d.empty:
        labels = sorted(set(tidy["HovArbStyrkStatus_label"].astype(str)))
        raise ValueError(f"no HovArbStyrkStatus labelled {TILTAK_LABEL!r} in 13563; labels: {labels}")
    ages = ages_within(dict(zip(d["Alder"], d["Alder_label"], strict=False)), lo, hi)
    d = d[d["Alder"].isin(ages)]
    st = d.groupby("region_code")["status"].agg(lambda s: next((x for x in s if isinstance(x, str) and x), ""))
    out = d.groupby(["region_code", "region_name"], as_index=False)["value"].sum(min_count=len(ages))
    out["status"] = out["region_code"].map(st)
    out = out.rename(columns={"region_name": "region", "value": "deltakere_20_66"})
    return out[["region_code", "region", "deltakere_20_66", "status"]]


SOURCE = Source("tiltak_13563", EXPECTATIONS, indicator_long(), tidy_online=tidy_long)
