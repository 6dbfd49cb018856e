"""Tables 1–3 of the 2026 report: from their online datasets when fetched, else the transcription.

Each loader returns the table in the transcription's shape and the route it came from, so the
notebooks say which («hentet fra SSB, tabell 13563» / «som publisert i R1023460»). The online
builders are back-tested against the transcribed 2026 values (tests/test_tables_online.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import calc, rawstore
from .sources.flytting_09588 import tabell3_from_09588
from .sources.innvandrere_09817 import non_western
from .sources.tiltak_13563 import tabell2_from_13563

ONLINE, PUBLISHED, MISSING = "online", "publisert", "mangler"


@dataclass
class Loaded:
    data: object  # a DataFrame in the transcription's shape, or None
    route: str  # online | publisert | mangler
    dataset: str  # the dataset the numbers come from (for sources and missing notes)


def fetched(ctx, dataset: str) -> bool:
    """The dataset has a current, good file in the raw store and is covered for this configuration
    (checked without recording it as missing: an absent online route is not news when the
    transcription covers the table)."""
    if ctx.outside_coverage(dataset):
        return False
    try:
        return rawstore.current_entry(ctx.settings.raw_dir, dataset).get("status") == "ok"
    except rawstore.MissingData:
        return False


TABELL1_ONLINE = ("lavinntekt_12944", "innvandrere_09817", "utdanning_09429")

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


def tabell1(ctx) -> Loaded:
    """The levekårsindeks per kommune of the configuration's fylke (the shape of `levekaar_published`):
    from SSB 12944 + 09817 + 09429 when all three are fetched (weights 0,50/0,25/0,25; 1,0 = the
    reference of `tabell1_from_ssb`, the population 16+ from 07459 when there is one), else the
    transcription."""
    if all(fetched(ctx, d) for d in TABELL1_ONLINE):
        edu = ctx.load("utdanning_09429")
        pop = ctx.try_load("population_07459")
        pop16 = None
        if pop is not None:  # 1 January after the education year (as the 09429 back-test), else that year
            year = int(edu["year"].max())
            years = set(pop["year"])
            pop_year = year + 1 if year + 1 in years else year
            pop16 = calc.population_16plus(pop, pop_year) if pop_year in years else None
        t = tabell1_from_ssb(ctx.load("lavinntekt_12944"), ctx.load("innvandrere_09817"), edu, pop16, ctx.region)
        return Loaded(t, ONLINE, "lavinntekt_12944")
    pub = ctx.try_load("levekaar_published")
    return Loaded(pub, PUBLISHED if pub is not None else MISSING, "levekaar_published")


def tabell2(ctx) -> Loaded:
    """Participants in labour-market measures 20–66 per fylke and Norway (region_code, region,
    deltakere_20_66[, andel_publisert_pst]): SSB 13563 when fetched, else the transcription."""
    if fetched(ctx, "tiltak_13563"):
        return Loaded(tabell2_from_13563(ctx.load("tiltak_13563")), ONLINE, "tiltak_13563")
    pub = ctx.try_load("tiltak_published")
    return Loaded(pub, PUBLISHED if pub is not None else MISSING, "tiltak_published")


def tabell3(ctx) -> Loaded:
    """Domestic net in-migration per kommune and fylke (nivaa, region_code, region, netto_innenlands):
    SSB 09588 when fetched, else the transcription."""
    if fetched(ctx, "flytting_09588"):
        return Loaded(tabell3_from_09588(ctx.load("flytting_09588")), ONLINE, "flytting_09588")
    pub = ctx.try_load("flytting_published")
    return Loaded(pub, PUBLISHED if pub is not None else MISSING, "flytting_published")


def route_sentence(loaded: Loaded, what: str, online_source: str) -> str:
    """One sentence for the reader: where the numbers come from in this build («Antallene er hentet
    fra SSBs tabell 13563.» / «Antallene er transkribert fra den publiserte rapporten.»)."""
    from .text import missing_sentence

    if loaded.route == ONLINE:
        return f"{what[:1].upper()}{what[1:]} er hentet fra {online_source}."
    if loaded.route == PUBLISHED:
        return f"{what[:1].upper()}{what[1:]} er transkribert fra den publiserte rapporten."
    return missing_sentence(what)
