"""SSB 14746 (2026 round): projected population per fylke, all ages and 16+, three alternatives;
the stored shape of `projection_14288_fylker` (online only)."""

from __future__ import annotations

from ._base import Source, projection_fylker_expectations, projection_fylker_schema
from ._ssb import PROJECTION_ALTERNATIVES, tidy_projection_fylker

SOURCE = Source(
    "projection_14746_fylker",
    projection_fylker_expectations(PROJECTION_ALTERNATIVES),
    projection_fylker_schema(PROJECTION_ALTERNATIVES),
    tidy_online=tidy_projection_fylker,
)
