"""The regional division the data are checked against (the 2024 division), as a value passed down.

`Division` holds the 15 fylker (code -> name, from config/project.yml `regions`) and a reader of
the kommuner of the classification (the boundary dataset `kommuner_2024`, read only when a rule
needs it). `classification.division_2024(raw_dir, fylker)` builds it; the plausibility checks
(`plausibility.py`) and the fetch receive it, so neither reads the configuration or the raw store
to learn which regions exist. A Norwegian kommune number's first two digits are its fylke number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

FIRST_YEAR_2024_DIVISION = 2024  # the 2024 regional reform; earlier years need other codes

# The kommuner of the classification (kommune_code, kommune_name, fylke_code), or None and why not.
KommuneTable = tuple[pd.DataFrame | None, str | None]


def fylke_of(kommune_code: str) -> str:
    return str(kommune_code).zfill(4)[:2]


def _no_kommuner() -> KommuneTable:
    return None, "no raw folder"


@dataclass(frozen=True)
class Division:
    """The fylker (code -> name) and, read when asked, the kommuner of the 2024 division."""

    fylker: dict[str, str]
    read_kommuner: Callable[[], KommuneTable] = _no_kommuner

    def kommuner(self) -> KommuneTable:
        return self.read_kommuner()
