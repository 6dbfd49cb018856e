"""What every dataset module under `kunnskapsgrunnlag/sources/` declares, and shared schema parts.

A dataset module (`sources/<dataset>.py`, named exactly as the dataset in config/datasets.yml)
defines one `SOURCE = Source(...)`: its pandera schema, its plausibility expectations (checked by
`plausibility.py` before a new vintage becomes current), its offline-mirror reader and its online
tidy function. The catalogue keeps what a consultant edits (query, provider, licence, vintage).

This module imports nothing of the package: what a check needs to know about the configuration
(the 15 fylker) is passed in when a table is validated. A schema with such a check is written as a
function of the fylker (`schema(fylker) -> DataFrameSchema`); `Source.schema_for(fylker)` gives the
schema either way. What several datasets share (the schema and expectations of a projection round)
is here, as one function each; the pandas code they share is in `_ssb.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

MirrorReader = Callable[[list[Path], dict[str, str]], pd.DataFrame]
OnlineTidy = Callable[[pd.DataFrame, dict[str, str]], pd.DataFrame]
# A schema, or (when a check needs the configuration's fylker) a function of the fylke codes.
Schema = Union[DataFrameSchema, Callable[[Sequence[str]], DataFrameSchema]]

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
    schema: Schema | None = None  # None: a boundary file (GeoJSON), checked by `expectations`
    read_mirror: MirrorReader | None = None  # mirror files -> the stored tidy table
    tidy_online: OnlineTidy | None = None  # the API's parsed answer -> the same tidy table
    kind: str = "table"  # table | boundaries

    def schema_for(self, fylker: Sequence[str]) -> DataFrameSchema | None:
        """The pandera schema, its fylke checks against `fylker` (config/project.yml `regions`)."""
        if self.schema is None or isinstance(self.schema, DataFrameSchema):
            return self.schema
        return self.schema(list(fylker))


def code(pattern: str) -> Check:
    return Check.str_matches(pattern, error=f"code must match {pattern}")


def in_fylker(fylker: Sequence[str], *extra: str) -> Check:
    """A code is one of `fylker` (the 15 fylker of the 2024 division) or one of `extra`."""
    allowed = list(fylker) + list(extra)
    return Check(
        lambda s: s.astype(str).isin(allowed),
        error="must be a fylke code of the 2024 division" + (f" or {', '.join(extra)}" if extra else ""),
    )


def frame_check(fn: Callable[[pd.DataFrame], bool], error: str) -> Check:
    """A check of the whole table (a sum, a relation between columns), with its message."""
    return Check(fn, element_wise=False, error=error)


def table_schema(columns: dict[str, Column], *, unique: list[str] | None = None, checks=()) -> DataFrameSchema:
    """A stored table's schema: exactly these columns (no others), values coerced to their types,
    `unique` columns identifying a row, `checks` over the whole table."""
    return DataFrameSchema(columns, unique=unique, checks=list(checks), strict=True, coerce=True)


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
    return table_schema(
        {
            "kommunenummer": Column(str, code(r"^\d{4}$"), unique=True),  # which: expectations (classification)
            "verdi": Column(float, Check.ge(0, error="value must not be negative")),
            "enhet": Column(str),
            "kilde": Column(str),
        }
    )


# --- the projection rounds (SSB 14288: 2024, 14746: 2026): one stored shape per level ----------


def projection_schema(age_groups: Sequence[str], alternatives: Sequence[str]) -> DataFrameSchema:
    """Norway and fylker by alternative, year and functional age group (`projection_14288`/`14746`)."""
    return table_schema(
        {
            "region_code": Column(str, code(r"^(0|\d{2})$")),
            "region_name": Column(str),
            "alternative": Column(str, Check.isin(list(alternatives))),
            "year": Column(int, Check.in_range(2020, 2100)),
            "age_group": Column(str, Check.isin(list(age_groups))),
            "persons": Column(int, Check.ge(0)),
        },
        unique=["region_code", "alternative", "year", "age_group"],
    )


def projection_source(
    name: str,
    first_year: int,
    age_groups: Sequence[str],
    alternatives: Sequence[str],
    read_mirror: MirrorReader,
    tidy_online: OnlineTidy,
) -> Source:
    """A national/fylke projection round (`projection_14288`, `projection_14746`): its schema and
    expectations from `first_year`, with SSB's code lists and the reader and tidy function of `_ssb`."""
    return Source(
        name,
        projection_expectations(first_year, age_groups, alternatives),
        projection_schema(age_groups, alternatives),
        read_mirror,
        tidy_online,
    )


def projection_expectations(
    first_year: int, age_groups: Sequence[str], alternatives: Sequence[str], last_year: int = 2050
) -> dict:
    """The expectations of a national/fylke projection round from `first_year` (2024 for 14288, 2026 for 14746)."""
    return {
        "min_rows": len(alternatives) * (last_year - first_year + 1) * len(age_groups),  # Norway, each alternative
        "ranges": {"persons": (0, MAX_COUNT)},
        "years": {"column": "year", "from": first_year, "to": last_year},
        "regions": {"code": "region_code", "land": "required", "fylker": "known"},
        "grid": [
            {
                "by": ["region_code", "alternative", "year"],
                "column": "age_group",
                "values": list(age_groups),
                "label": "age groups",
            },
            {"by": ["region_code"], "column": "alternative", "values": list(alternatives), "label": "alternatives"},
        ],
        "sums": [
            {
                "code": "region_code",
                "value": "persons",
                "by": ["alternative", "year", "age_group"],
                "parts": "fylke",
                "whole": "land",
                "tolerance": 10,
                "when_complete": True,
            }
        ],
    }


def _adults_within_all(d: pd.DataFrame):
    return (
        d.pivot_table(index=["region_code", "alternative", "year"], columns="age_group", values="persons").pipe(
            lambda w: (w["16+"] <= w["alle"]) if {"16+", "alle"} <= set(w) else True
        )
    ).all()


def projection_fylker_schema(alternatives: Sequence[str]) -> Callable[[Sequence[str]], DataFrameSchema]:
    """Every fylke by alternative and year, all ages and 16+ (`projection_14288_fylker`/`14746_fylker`):
    the schema as a function of the fylker."""
    return lambda fylker: table_schema(
        {
            "region_code": Column(str, in_fylker(fylker)),
            "region_name": Column(str),
            "alternative": Column(str, Check.isin(list(alternatives))),
            "year": Column(int, Check.in_range(2020, 2100)),
            "age_group": Column(str, Check.isin(["alle", "16+"])),
            "persons": Column(int, Check.ge(0)),
        },
        unique=["region_code", "alternative", "year", "age_group"],
        checks=[frame_check(_adults_within_all, "persons 16+ must not exceed persons of all ages")],
    )


def projection_fylker_expectations(alternatives: Sequence[str]) -> dict:
    return {
        "regions": {"code": "region_code", "fylker": "all"},
        "ranges": {"persons": (0, MAX_COUNT)},
        "years": {"column": "year", "min": 2020},
        "grid": [
            {
                "by": ["region_code", "year"],
                "column": "alternative",
                "values": list(alternatives),
                "label": "alternatives",
            },
            {
                "by": ["region_code", "alternative", "year"],
                "column": "age_group",
                "values": ["alle", "16+"],
                "label": "age groups",
            },
        ],
    }


def projection_kommuner_schema(alternatives: Sequence[str]) -> Callable[[Sequence[str]], DataFrameSchema]:
    """Every kommune by alternative and year, all ages (`projection_14288_kommuner`/`14746_kommuner`):
    the schema as a function of the fylker."""
    return lambda fylker: table_schema(
        {
            "region_code": Column(str, code(r"^\d{4}$")),
            "region_name": Column(str),
            "fylke_code": Column(str, in_fylker(fylker)),
            "alternative": Column(str, Check.isin(list(alternatives))),
            "year": Column(int, Check.in_range(2020, 2100)),
            "persons": Column(int, Check.ge(0)),
        },
        unique=["region_code", "alternative", "year"],
        checks=[
            frame_check(
                lambda d: (d["region_code"].str[:2] == d["fylke_code"]).all(),
                "a kommune's code must start with its fylke's code",
            )
        ],
    )


PROJECTION_KOMMUNER_EXPECTATIONS = {
    "regions": {"code": "region_code", "kommuner": "all"},
    "ranges": {"persons": (0, MAX_COUNT)},
    "years": {"column": "year", "min": 2020},
}
