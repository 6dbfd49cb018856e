"""SSB 14288 (2024 round): projected population per kommune, all ages, main alternative (MMMM)
(the shape of `projection_14746_kommuner`: `_base.projection_kommuner_schema`)."""

from __future__ import annotations

from ._base import PROJECTION_KOMMUNER_EXPECTATIONS, Source, projection_kommuner_schema
from ._ssb import PROJECTION_ALTERNATIVES, read_projection_kommuner_mirror, tidy_projection_kommuner

SOURCE = Source(
    "projection_14288_kommuner",
    PROJECTION_KOMMUNER_EXPECTATIONS,
    projection_kommuner_schema(PROJECTION_ALTERNATIVES),
    read_projection_kommuner_mirror,
    tidy_projection_kommuner,
)
