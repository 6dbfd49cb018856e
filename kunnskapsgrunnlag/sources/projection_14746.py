"""SSB 14746 (2026 round): projected population by region, functional age group and alternative;
the same variables, codes and stored shape as the 2024 round (`projection_14288`), years 2026–2050.
Catalogued for editions whose `projection_round` is 2026 (offline: Norway and Telemark only)."""

from __future__ import annotations

from ._base import projection_source
from ._ssb import PROJECTION_AGE_GROUPS, PROJECTION_ALTERNATIVES, read_projection_mirror, tidy_projection

SOURCE = projection_source(
    "projection_14746", 2026, PROJECTION_AGE_GROUPS, PROJECTION_ALTERNATIVES, read_projection_mirror, tidy_projection
)
