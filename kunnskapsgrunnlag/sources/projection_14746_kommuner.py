"""SSB 14746 (2026 round): projected population per kommune, all ages (Alder eliminated), main
alternative; the stored shape of `projection_14288_kommuner` (online only)."""

from __future__ import annotations

from ._base import PROJECTION_KOMMUNER_EXPECTATIONS, Source, projection_kommuner_schema
from ._ssb import PROJECTION_ALTERNATIVES, tidy_projection_kommuner

SOURCE = Source(
    "projection_14746_kommuner",
    PROJECTION_KOMMUNER_EXPECTATIONS,
    projection_kommuner_schema(PROJECTION_ALTERNATIVES),
    tidy_online=tidy_projection_kommuner,
)
