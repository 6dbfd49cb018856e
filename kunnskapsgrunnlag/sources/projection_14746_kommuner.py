"""SSB 14746 (2026 round): projected population per kommune, all ages (Alder eliminated), main
alternative; the stored shape of `projection_14288_kommuner` (online only)."""

from __future__ import annotations

from ._base import Source
from .projection_14288_kommuner import EXPECTATIONS, SCHEMA, tidy_online

SOURCE = Source("projection_14746_kommuner", EXPECTATIONS, SCHEMA, tidy_online=tidy_online)
