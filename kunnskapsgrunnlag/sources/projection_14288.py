"""SSB 14288 (2024 round): projected population by region, functional age group and alternative
(offline: Norway and Telemark only). Shape, code lists, reader and tidy function are shared with
the 2026 round (`projection_14746`): `_base.projection_schema`, `_ssb.tidy_projection`."""

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
    "projection_14288",
    projection_expectations(2024, AGES, ALTERNATIVES),
    projection_schema(AGES, ALTERNATIVES),
    read_projection_mirror,
    tidy_projection,
)
