"""SSB 14746 (2026 round): projected population by region, functional age group and alternative;
the same variables, codes and stored shape as the 2024 round (`projection_14288`), years 2026–2050.
Catalogued for editions whose `projection_round` is 2026 (offline: Norway and Telemark only)."""

from __future__ import annotations

from ._base import Source
from .projection_14288 import SCHEMA, projection_expectations, read_mirror, tidy_online

EXPECTATIONS = projection_expectations(2026)

SOURCE = Source("projection_14746", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
