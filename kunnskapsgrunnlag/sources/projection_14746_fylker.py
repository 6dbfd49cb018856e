"""SSB 14746 (2026 round): projected population per fylke, all ages and 16+, three alternatives;
the stored shape of `projection_14288_fylker` (online only)."""

from __future__ import annotations

from ._base import Source
from .projection_14288_fylker import EXPECTATIONS, SCHEMA, tidy_online

SOURCE = Source("projection_14746_fylker", EXPECTATIONS, SCHEMA, tidy_online=tidy_online)
