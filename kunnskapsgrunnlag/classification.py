"""Regions of a configuration: the fylker and the kommuner of each fylke for a year.

Never a hand-typed list. Offline the kommuner come from the fetched boundary dataset
(`kommuner_2024` in data/raw, Kartverket's 2024 division, which is also SSB's classification
131 from 1 January 2024); online they can come from SSB's KLASS (classification 131 for
kommuner, 104 for fylker) through ssb-klass-python. A Norwegian kommune number's first two
digits are its fylke number.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from .config import valid_regions
from .division import FIRST_YEAR_2024_DIVISION, Division, KommuneTable, fylke_of
from .store import MissingData, RawDataError, RawStore

__all__ = ["FIRST_YEAR_2024_DIVISION", "ClassificationError", "division_2024", "fylke_of", "fylker", "kommuner"]
BOUNDARY_DATASET = "kommuner_2024"  # the offline classification source (fetched first)


class ClassificationError(LookupError):
    """The classification for a year is not available (offline) or a code is unknown."""


def fylker() -> dict[str, str]:
    """The 15 fylker of the 2024 division, code -> name (config/project.yml `regions`)."""
    return valid_regions()


@lru_cache(maxsize=8)
def _kommuner_from_raw(raw_dir: str) -> pd.DataFrame:
    gdf = RawStore(Path(raw_dir)).load_geo("kommuner_2024")
    df = pd.DataFrame(
        {"kommune_code": gdf["kommunenummer"].astype(str).str.zfill(4), "kommune_name": gdf["kommunenavn"].astype(str)}
    )
    df["fylke_code"] = df["kommune_code"].map(fylke_of)
    return df.drop_duplicates("kommune_code").sort_values("kommune_code").reset_index(drop=True)


def kommuner_klass(year: int) -> pd.DataFrame:  # pragma: no cover - needs network
    """Kommuner valid on 1 January `year` from SSB KLASS (classification 131)."""
    from klass import KlassClassification

    codes = KlassClassification("131").get_codes(from_date=f"{year}-01-01").data
    df = pd.DataFrame({"kommune_code": codes["code"].astype(str), "kommune_name": codes["name"].astype(str)})
    df = df[df["kommune_code"].str.fullmatch(r"\d{4}") & (df["kommune_code"] != "9999")]
    df["fylke_code"] = df["kommune_code"].map(fylke_of)
    return df.sort_values("kommune_code").reset_index(drop=True)


def kommuner(raw_dir: Path, year: int, fylke: str | None = None) -> pd.DataFrame:
    """Kommuner (code, name, fylke code) valid on 1 January `year`, optionally of one fylke."""
    if int(year) < FIRST_YEAR_2024_DIVISION:
        raise ClassificationError(
            f"no offline kommune classification for {year} (the offline "
            f"division is 2024); use SSB KLASS online (classification 131)"
        )
    df = _kommuner_from_raw(str(Path(raw_dir).resolve()))
    if fylke is not None:
        if fylke not in fylker():
            raise ClassificationError(f"unknown fylke {fylke!r}; valid: {', '.join(sorted(fylker()))}")
        df = df[df["fylke_code"] == fylke].reset_index(drop=True)
    return df


def _kommuner_2024(raw_dir: Path) -> KommuneTable:
    """Kommuner of the offline classification (2024 division), or None and why not."""
    try:
        return kommuner(raw_dir, FIRST_YEAR_2024_DIVISION), None
    except (ClassificationError, MissingData, RawDataError, OSError) as exc:  # cannot check: say so
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"no kommune classification ({BOUNDARY_DATASET}: {first[:160]})"


def division_2024(raw_dir: Path | None, fylker: dict[str, str]) -> Division:
    """The regions the plausibility checks compare with: `fylker` (config/project.yml `regions`,
    code -> name, without Norway) and the kommuner of the classification in `raw_dir`, read when a
    rule needs them (without a raw folder: none, and the checks say so)."""
    fylker = {k: v for k, v in fylker.items() if k != "0"}
    if raw_dir is None:
        return Division(fylker)
    return Division(fylker, lambda: _kommuner_2024(Path(raw_dir)))
