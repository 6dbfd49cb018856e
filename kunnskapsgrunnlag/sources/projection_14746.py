"""SSB 14746 (2026 round): projected population by region, functional age group and alternative;
the same variables, codes and stored shape as the 2024 round (`projection_14288`), years 2026–2050.
Catalogued for editions whose `projection_round` is 2026 (offline: Norway and Telemark only)."""

from __future__ import annotations

from ._base import Source, projection_expectations, projection_schema
from ._ssb import (
    PROJECTION_AGE_GROUPS as AGES,
)
from ._ssb import (
    PROJECTION_ALTERNATIVES as ALTERNATIVES,
)
from ._ssb import (
    read_projection_mirror,
    tidy_projection,
)

SOURCE = Source(
    "projection_14746",
    projection_expectations(2026, AGES, ALTERNATIVES),
    projection_schema(AGES, ALTERNATIVES),
    read_projection_mirror,
    tidy_projection,
)
