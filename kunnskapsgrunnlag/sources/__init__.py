"""One module per dataset: `sources/<dataset>.py` declares `SOURCE` (its schema, plausibility
expectations, offline-mirror reader and online tidy function; see `_base.Source`).

`registry()` collects them; `get(name)` gives one. The catalogue (config/datasets.yml) keeps what a
consultant edits: the query template, provider, licence and vintage. Adding a dataset means its
catalogue entry, its module here and its test (tests/test_fetch_sources.py iterates the catalogue).
"""
from __future__ import annotations

import importlib
import pkgutil

from ._base import Source

__all__ = ["Source", "get", "registry"]


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
