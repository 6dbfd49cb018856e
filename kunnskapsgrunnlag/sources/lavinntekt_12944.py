"""SSB 12944: persons in households with persistent low income (EU-60), per kommune.

Online only (no offline source): stored in SSB's long form with status symbols (`_ssb.tidy_long`)."""

from __future__ import annotations

import pandas as pd

from .. import calc
from ._base import Source, indicator_long
from ._ssb import tidy_long
from .innvandrere_09817 import non_western

EXPECTATIONS = {"regions": {"code": "region_code", "kommuner": "known"}, "ranges": {"value": (0, 100)}}  # per cent

TABELL1_COLUMNS = [
    "kommunenummer",
    "kommune",
    "lav_utdanning",
    "lav_inntekt",
    "innvandrere_ikke_vestlige",
    "levekaarsindeks",
    "rang",
]


def _reference(values: pd.Series, pop16: pd.Series | None) -> tuple[str, float]:
    """What 1,0 stands for: Norway's own value when the answer has it (region "0"), else the kommuner
    weighted by the population 16+ (the reference the 09429 back-test supports for lav utdanning,
    calc.LOW_EDUCATION_REFERENCE), else their unweighted mean."""
    if "0" in values.index and pd.notna(values["0"]):
        return "landet", float(values["0"])
    kommuner = values[values.index.str.len() == 4]
    how = calc.LOW_EDUCATION_REFERENCE if pop16 is not None else "uvektet"
    return how, calc.education_reference(kommuner, pop16 if how == "vektet" else None, how)


def tabell1_from_ssb(
    low_income: pd.DataFrame,
    immigrants: pd.DataFrame,
    education: pd.DataFrame,
    pop16: pd.Series | None = None,
    fylke: str | None = None,
) -> pd.DataFrame:
    """Tabell 1 in the shape of `levekaar_published` (kommunenummer, kommune, three indicators, index,
    rank) from the stored `lavinntekt_12944`, `innvandrere_09817` and `utdanning_09429`.

    Each indicator is the kommune's share relative to a reference (`_reference`; which one is in
    `.attrs["referanse"]`), the index is `calc.levekaar_index` (weights 0,50/0,25/0,25), the rank
    `calc.rank_asc` among all kommuner of the answers (1 = best levekår); then only `fylke`'s kommuner
    are kept when it is given."""
    shares = calc.levekaar_shares(low_income, education, non_western(immigrants))
    kommuner = shares[shares.index.str.len() == 4].dropna()  # the kommuner with all three indicators
    out = pd.DataFrame(index=kommuner.index)
    refs = {}
    for col in shares.columns:
        how, ref = _reference(shares[col].dropna(), pop16)
        refs[col] = (how, ref)
        out[col] = shares.loc[out.index, col] / ref
    out["levekaarsindeks"] = calc.levekaar_index(out)
    out["rang"] = calc.rank_asc(out["levekaarsindeks"])
    names = low_income.drop_duplicates("region_code").set_index("region_code")["region_name"]
    out = out.reset_index(names="kommunenummer")
    out["kommune"] = out["kommunenummer"].map(names).fillna(out["kommunenummer"])
    if fylke:
        out = out[out["kommunenummer"].str.startswith(fylke)]
    out = out[TABELL1_COLUMNS].sort_values("kommunenummer").reset_index(drop=True)
    out.attrs["referanse"] = refs
    return out


SOURCE = Source("lavinntekt_12944", EXPECTATIONS, indicator_long(), tidy_online=tidy_long)
