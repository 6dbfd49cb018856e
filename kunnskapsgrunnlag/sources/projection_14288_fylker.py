"""SSB 14288 (2024 round): projected population per fylke, all ages and 16+, three alternatives
(the shape of `projection_14746_fylker`: `_base.projection_fylker_schema`)."""

from __future__ import annotations

from ._base import Source, projection_fylker_expectations, projection_fylker_schema
from ._ssb import PROJECTION_ALTERNATIVES, read_projection_fylker_mirror, tidy_projection_fylker

SOURCE = Source(
    "projection_14288_fylker",
    projection_fylker_expectations(PROJECTION_ALTERNATIVES),
    projection_fylker_schema(PROJECTION_ALTERNATIVES),
    read_projection_fylker_mirror,
    tidy_projection_fylker,
)
