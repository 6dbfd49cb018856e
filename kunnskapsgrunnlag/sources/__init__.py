"""One module per dataset: `sources/<dataset>.py` declares `SOURCE` (its schema, plausibility
expectations, offline-mirror reader and online tidy function; see `_base.Source`).

`registry()` collects them; `get(name)` gives one; `validate(name, df, file, fylker=…)` checks a
tidy table against its schema, its fylke checks against the configuration's fylker given by the
caller (plausibility: `plausibility.check_dataset` with `expectations(name)`).
The catalogue (config/datasets.yml) keeps what a
consultant edits: the query template, provider, licence and vintage. Adding a dataset means its
catalogue entry, its module here and its test (tests/test_fetch_sources.py iterates the catalogue).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Sequence

import pandas as pd
import pandera.errors

from ..errors import ValidationError
from ._base import Source

__all__ = ["Source", "expectations", "get", "registry", "schema", "validate"]


def registry() -> dict[str, Source]:
    """Every dataset module's SOURCE, by dataset name (the module's name)."""
    out: dict[str, Source] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        src = getattr(mod, "SOURCE", None)
        if not isinstance(src, Source) or src.name != info.name:
            raise TypeError(f"kunnskapsgrunnlag/sources/{info.name}.py must define SOURCE = Source({info.name!r}, …)")
        out[info.name] = src
    return out


def get(name: str) -> Source | None:
    """The dataset's module definition, or None when there is no module for it."""
    if not name.isidentifier():
        return None
    try:
        mod = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            return None
        raise
    return getattr(mod, "SOURCE", None)


def schema(dataset: str, fylker: Sequence[str]):
    """The dataset's pandera schema, its fylke checks against `fylker` (None for a boundary file or
    a dataset without a module)."""
    src = get(dataset)
    return src.schema_for(fylker) if src else None


def expectations(dataset: str) -> dict:
    """The dataset's plausibility expectations ({} when it has no module: tests require one)."""
    src = get(dataset)
    return src.expectations if src else {}


def validate(dataset: str, df: pd.DataFrame, file: str = "<memory>", *, fylker: Sequence[str]) -> pd.DataFrame:
    """`df` checked against the dataset's schema (`fylker`: the configuration's fylke codes), or
    ValidationError naming the dataset, the file, the column, the row and the rule."""
    sch = schema(dataset, fylker)
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
            f"Dataset {dataset!r}, file {file}: {len(fc)} schema violation(s):\n"
            + "\n".join(lines)
            + more
            + "\n(row numbers count the header as row 1)"
        ) from None
    except pandera.errors.SchemaError as exc:  # pragma: no cover - lazy=True raises SchemaErrors
        raise ValidationError(f"Dataset {dataset!r}, file {file}: {exc}") from None
