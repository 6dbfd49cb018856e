"""Validation of a tidy dataset before it is stored: its pandera schema and its plausibility
expectations, both declared in the dataset's own module (`kunnskapsgrunnlag/sources/<dataset>.py`).

`validate(name, df, file)` raises `ValidationError` naming the dataset, the file, the column
(and row where there is one) and the rule, so a bad file stops the build with a clear message.
`check_plausibility(name, df, file, raw_dir)` raises `PlausibilityError` naming the dataset, the
file, the rule and the offending values (engine: `plausibility.py`). Kommuner are never listed
here: coverage rules take them from the classification (`classification.kommuner`).

The public face of that validation for callers without a configuration at hand (tests and
scripts; the fetch passes its own): the schema part lives with the dataset modules (`sources`), the plausibility
part in `plausibility`; both are given the fylker of the current project (config/project.yml
`regions`) and the kommuner of the classification (`classification.division_2024`) here.
"""

from __future__ import annotations

import pandas as pd

from . import plausibility, sources
from .classification import division_2024
from .config import valid_regions
from .errors import ValidationError
from .plausibility import PlausibilityError
from .sources import expectations

__all__ = [
    "PlausibilityError",
    "ValidationError",
    "check_boundaries",
    "check_plausibility",
    "expectations",
    "schema",
    "validate",
]


def _fylker() -> list[str]:
    return sorted(valid_regions())


def schema(dataset: str):
    """The dataset's pandera schema (None for a boundary file or a dataset without a module)."""
    return sources.schema(dataset, _fylker())


def validate(dataset: str, df: pd.DataFrame, file: str = "<memory>") -> pd.DataFrame:
    """`df` checked against the dataset's schema; ValidationError naming dataset, file, column, rule."""
    return sources.validate(dataset, df, file, fylker=_fylker())


def check_plausibility(
    dataset: str, df: pd.DataFrame, file: str = "<memory>", raw_dir=None, vintage: str | None = None
) -> list[str]:
    """Raise PlausibilityError if `df` fails the dataset's expectations; else return notes on
    checks that could not be made (e.g. no classification yet)."""
    division = division_2024(raw_dir, valid_regions())
    return plausibility.check_dataset(dataset, df, expectations(dataset), file, division, vintage)


def check_boundaries(dataset: str, payload: bytes, file: str) -> None:
    """A boundary file (GeoJSON) against its expectations: the whole division, valid geometries."""
    plausibility.check_boundary_file(dataset, payload, file, expectations(dataset).get("boundaries"), valid_regions())
