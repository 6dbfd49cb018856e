"""Tables 1–3 of the 2026 report: from their online datasets when fetched, else the transcription.

Each loader returns the table in the transcription's shape and the route it came from, so the
notebooks say which («hentet fra SSB, tabell 13563» / «som publisert i R1023460»). The online
builders are back-tested against the transcribed 2026 values (tests/test_tables_online.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import rawstore
from .sources.flytting_09588 import tabell3_from_09588
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
