"""SSB 14288 (2024 round): projected population by region, functional age group and alternative
(offline: Norway and Telemark only). Shape, code lists, reader and tidy function are shared with
the 2026 round (`projection_14746`): `_base.projection_source`, `_ssb.tidy_projection`."""

from __future__ import annotations

from ._base import projection_source
from ._ssb import PROJECTION_AGE_GROUPS, PROJECTION_ALTERNATIVES, read_projection_mirror, tidy_projection

SOURCE = projection_source(
    "projection_14288", 2024, PROJECTION_AGE_GROUPS, PROJECTION_ALTERNATIVES, read_projection_mirror, tidy_projection
)
