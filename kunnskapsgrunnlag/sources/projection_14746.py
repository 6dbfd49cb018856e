"""SSB 14746 (2026 round): projected population by region, functional age group and alternative;
the same variables, codes and stored shape as the 2024 round (`projection_14288`), years 2026–2050.
Catalogued for editions whose `projection_round` is 2026 (offline: Norway and Telemark only)."""
from __future__ import annotations

from ._base import MAX_COUNT, Source
from .projection_14288 import AGE_GROUPS, ALTERNATIVES, SCHEMA, read_mirror, tidy_online

EXPECTATIONS = {
    "min_rows": 3 * (2050 - 2026 + 1) * len(AGE_GROUPS),  # Norway, three alternatives
    "ranges": {"persons": (0, MAX_COUNT)},
    "years": {"column": "year", "from": 2026, "to": 2050},
    "regions": {"code": "region_code", "land": "required", "fylker": "known"},
    "grid": [{"by": ["region_code", "alternative", "year"], "column": "age_group", "values": AGE_GROUPS,
              "label": "age groups"},
             {"by": ["region_code"], "column": "alternative", "values": ALTERNATIVES, "label": "alternatives"}],
    "sums": [{"code": "region_code", "value": "persons", "by": ["alternative", "year", "age_group"],
              "parts": "fylke", "whole": "land", "tolerance": 10, "when_complete": True}],
}

SOURCE = Source("projection_14746", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
