"""What every dataset module under `kunnskapsgrunnlag/sources/` declares, and shared schema parts.

A dataset module (`sources/<dataset>.py`, named exactly as the dataset in config/datasets.yml)
defines one `SOURCE = Source(...)`: its pandera schema, its plausibility expectations (checked by
`plausibility.py` before a new vintage becomes current), its offline-mirror reader and its online
tidy function. The catalogue keeps what a consultant edits (query, provider, licence, vintage).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

from ..config import valid_regions

MirrorReader = Callable[[list[Path], dict[str, str]], pd.DataFrame]
OnlineTidy = Callable[[pd.DataFrame, dict[str, str]], pd.DataFrame]

# Plausibility expectations (engine: plausibility.check_frame / check_boundaries). Keys:
#   min_rows   - fewest data rows (every dataset needs at least 1; a header-only file is refused)
#   ranges     - {column: (low, high)}: no 9e18 counts, shares within 0–100
#   years      - {column, from_vintage: the catalogue vintage "YYYY-YYYY" | from/to | min}
#   regions    - {code: column, land: "required", fylker: "all"|"known", kommuner: "all"|"known",
#                 fylke: only the kommuner of this fylke, per: column (e.g. year), value: column
#                 (a region with a zero total counts as absent)}; kommuner from the classification
#   grid       - [{by: [...], column, values}]: every group holds all values (e.g. age groups)
#   sums       - [{code, value, by, parts: kommune|fylke, whole: fylke|land, tolerance}]
#   boundaries - (boundary datasets) {min_kommuner, fylker, geometry: "valid"}
MAX_COUNT = 10_000_000  # above any count of persons, jobs or dwellings in Norway (5.6 million people)
REGIONS_BY_YEAR = {"code": "region_code", "per": "year", "value": "persons"}
SSB_STATUS = ["", "..", ".", ":", "…", "-"]  # SSB: no number (..), not applicable (.), confidential (:)


@dataclass(frozen=True)
class Source:
    """One dataset's code: schema, expectations, mirror reader, online tidy function."""

    name: str
    expectations: dict
    schema: DataFrameSchema | None = None  # None: a boundary file (GeoJSON), checked by `expectations`
    read_mirror: MirrorReader | None = None  # mirror files -> the stored tidy table
    tidy_online: OnlineTidy | None = None  # the API's parsed answer -> the same tidy table
    kind: str = "table"  # table | boundaries


def code(pattern: str) -> Check:
    return Check.str_matches(pattern, error=f"code must match {pattern}")


def fylker() -> list[str]:
    """The fylke codes of the 2024 division (config/project.yml `regions`, as classification.fylker)."""
    return list(valid_regions())


def in_fylker(*extra: str) -> Check:
    """A code is one of the 15 fylker of the 2024 division (read when checked, not at import)."""
    return Check(
        lambda s: s.astype(str).isin(fylker() + list(extra)),
        error="must be a fylke code of the 2024 division" + (f" or {', '.join(extra)}" if extra else ""),
    )


def indicator_long() -> DataFrameSchema:
    """SSB tables stored in the generic long form (`sources._ssb.tidy_long`), status symbols kept:
    a table can say «..» (tallgrunnlag mangler), «.» or «:» where SSB has no number, as SSB does."""
    return DataFrameSchema(
        {
            "region_level": Column(str, Check.isin(["land", "fylke", "kommune"])),
            "region_code": Column(str, code(r"^(0|\d{2}|\d{4})$")),
            "region_name": Column(str),
            "period": Column(str),
            "value": Column(float, nullable=True),
            "status": Column(str, Check.isin(SSB_STATUS, error="unknown SSB status symbol"), nullable=True),
        },
        strict=False,
        coerce=True,
    )


def kommune_value_schema() -> DataFrameSchema:
    """A file drop with one value per kommune (kollektivandel, arbeidsplasser_kollektiv)."""
    return DataFrameSchema(
        {
            "kommunenummer": Column(str, code(r"^\d{4}$"), unique=True),  # which: expectations (classification)
            "verdi": Column(float, Check.ge(0, error="value must not be negative")),
            "enhet": Column(str),
            "kilde": Column(str),
        },
        strict=True,
        coerce=True,
    )
