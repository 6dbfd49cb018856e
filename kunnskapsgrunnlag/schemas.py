"""Validation of a tidy dataset before it is stored: its pandera schema and its plausibility
expectations, both declared in the dataset's own module (`kunnskapsgrunnlag/sources/<dataset>.py`).

`validate(name, df, file)` raises `ValidationError` naming the dataset, the file, the column
(and row where there is one) and the rule, so a bad file stops the build with a clear message.
`check_plausibility(name, df, file, raw_dir)` raises `PlausibilityError` naming the dataset, the
file, the rule and the offending values (engine: `plausibility.py`). Kommuner are never listed
here: coverage rules take them from the classification (`classification.kommuner`).
"""
from __future__ import annotations

import pandas as pd
import pandera.errors

from . import sources
from .errors import ValidationError

__all__ = ["PlausibilityError", "ValidationError", "check_boundaries", "check_plausibility", "expectations",
           "schema", "validate"]


def schema(dataset: str):
    """The dataset's pandera schema (None for a boundary file or a dataset without a module)."""
    src = sources.get(dataset)
    return src.schema if src else None


def expectations(dataset: str) -> dict:
    """The dataset's plausibility expectations ({} when it has no module: tests require one)."""
    src = sources.get(dataset)
    return src.expectations if src else {}


def validate(dataset: str, df: pd.DataFrame, file: str = "<memory>") -> pd.DataFrame:
    sch = schema(dataset)
    if sch is None:
        return df
    try:
        return sch.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        missing_cols = set(fc.loc[fc["check"] == "column_in_dataframe", "failure_case"].astype(str))
        if missing_cols:  # table checks then fail only as a consequence (AttributeError/KeyError)
            fc = fc[~fc["failure_case"].astype(str).str.match(r"^(AttributeError|KeyError)\(")]
        lines = []
        for _, r in fc.head(10).iterrows():
            if r.get("check") == "column_in_dataframe":
                has = ", ".join(map(str, df.columns))
                lines.append(f"  missing column {r.get('failure_case')!r} (the file has: {has})")
                continue
            col = r.get("column") if pd.notna(r.get("column")) else "(table)"
            idx = r.get("index")
            row = f", row {int(idx) + 2}" if pd.notna(idx) and str(idx).lstrip("-").isdigit() else ""
            lines.append(f"  column {col!r}{row}: {r.get('check')} (value: {r.get('failure_case')!r})")
        more = f"\n  … and {len(fc) - 10} more" if len(fc) > 10 else ""
        raise ValidationError(
            f"Dataset {dataset!r}, file {file}: {len(fc)} schema violation(s):\n" + "\n".join(lines) + more
            + "\n(row numbers count the header as row 1)"
        ) from None
    except pandera.errors.SchemaError as exc:  # pragma: no cover - lazy=True raises SchemaErrors
        raise ValidationError(f"Dataset {dataset!r}, file {file}: {exc}") from None


class PlausibilityError(ValidationError):
    """A new vintage failed its plausibility checks; the message names dataset, file, rule, values."""

    def __init__(self, dataset: str, file: str, failures: list):
        self.dataset, self.file, self.failures = dataset, file, failures
        super().__init__("\n".join(f"{dataset}: {file}: {f}" for f in failures))


def check_plausibility(dataset: str, df: pd.DataFrame, file: str = "<memory>", raw_dir=None,
                       vintage: str | None = None) -> list[str]:
    """Raise PlausibilityError if `df` fails the dataset's expectations; else return notes on
    checks that could not be made (e.g. no classification yet)."""
    from . import plausibility

    fails, notes = plausibility.check_frame(dataset, df, expectations(dataset), raw_dir, vintage)
    if fails:
        raise PlausibilityError(dataset, file, fails)
    return notes


def check_boundaries(dataset: str, payload: bytes, file: str) -> None:
    """A boundary file (GeoJSON) against its expectations: the whole division, valid geometries."""
    from . import plausibility

    expect = expectations(dataset).get("boundaries")
    if expect and (fails := plausibility.check_boundaries(payload, expect)):
        raise PlausibilityError(dataset, file, fails)
