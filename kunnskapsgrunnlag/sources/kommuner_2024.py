"""Kartverket's kommune boundaries, 2024 division (simplified, M): the offline classification.

Stored as the GeoJSON it is (no tidy table); checked before it becomes current: the whole 2024
division (every fylke has kommuner, at least 357 kommuner) and a valid geometry for every feature."""

from __future__ import annotations

from ._base import Source

EXPECTATIONS = {"boundaries": {"min_kommuner": 357, "fylker": 15, "geometry": "valid"}}

SOURCE = Source("kommuner_2024", EXPECTATIONS, kind="boundaries")
