"""Catalogue queries are templates of the configuration (edition, region).

A query in `config/datasets.yml` never hard-codes a year, a fylke or a list of kommuner: it
names them with placeholders that `resolve_query(spec, settings, lists)` fills in from the edition
block of `config/project.yml` and from `lists`, the codes of the list placeholders, computed by the
caller (`fetch.region_lists`: the fylker of the configuration, the kommuner of the classification).
This module is a pure template resolver: it reads neither the classification nor the raw store.

Template syntax (inside any string of a `query:` block):

| placeholder | becomes | example (edition 2026, region 33) |
|---|---|---|
| `{<edition key>}` | the value of that key in the edition block | `{population_last_year}` -> `2026` |
| `{<edition key>+N}` / `{<edition key>-N}` | the value plus/minus N (numbers only) | `{levekaar_year-2}` -> `2022` |
| `{edition}`, `{region}` | the edition year, the fylke code | `{region}` -> `33` |
| `{fylke:P}` | the configuration's fylke, prefixed by P | `{fylke:F-}` -> `F-33` |
| `{fylker:P}` | all 15 fylker (2024 division), prefixed by P | `{fylker:F-}` -> `F-31`, `F-32`, … |
| `{kommuner:P}` | the fylke's kommuner (classification of the edition year), prefixed | `{kommuner:K-}` -> `K-3301` |

A value that is exactly one list placeholder (`fylker`, `kommuner`) expands into several values;
everything else is string substitution, so `range({population_first_year},{population_last_year})`
becomes `range(2020,2026)`. PxWebApi expressions are written as SSB reads them in a POST body,
*without* brackets (`range(2020,2026)`, `top(1)`); `ssb.query_url` adds the brackets that only the
GET form needs (PxTools/PxWebApi v2.5.0: only the GET binders strip `[...]`, a bracketed value in a
POST body is answered with HTTP 400 "Non-existent value"; see ../shared/data/api-responses/README.md).

A dataset's `query:` is either one query (a mapping of variable -> {values, codelist}) or a list
of them, sent one after the other (for example fylker through one code list and Norway through
another); their answers are concatenated before tidying.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from ..config import Settings
from ..errors import ResponseShapeError  # noqa: F401 - re-exported (fetch, cli)

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)(?::([^{}]*))?([+-]\d+)?\}")
LIST_PLACEHOLDERS = {"fylker", "kommuner"}


# The codes of each list placeholder ("fylker", "kommuner"): called with the dataset's name (for its
# messages) only when a query uses the placeholder; raises TemplateError when it cannot be known.
RegionLists = Mapping[str, Callable[[str], list[str]]]


class TemplateError(ValueError):
    """A catalogue query cannot be resolved for a configuration (names dataset, placeholder, fix)."""


def _scalar(name: str, offset: str | None, settings: Settings, dataset: str) -> str:
    params = {**settings.edition_params, "edition": settings.edition, "region": settings.region}
    if name not in params:
        keys = ", ".join(sorted(params))
        raise TemplateError(
            f"dataset {dataset!r}: placeholder {{{name}}} is not a key of edition {settings.edition} in "
            f"config/project.yml (keys: {keys}); add it to the edition block"
        )
    value = params[name]
    if offset:
        try:
            value = int(value) + int(offset)
        except (TypeError, ValueError):
            raise TemplateError(
                f"dataset {dataset!r}: {{{name}{offset}}}: {name} = {value!r} is not a number"
            ) from None
    if isinstance(value, (list, tuple)):
        raise TemplateError(f"dataset {dataset!r}: {{{name}}} is a list ({value}); use it in a values list")
    return str(value)


def resolve_value(text: str, settings: Settings, lists: RegionLists, dataset: str = "?") -> list[str]:
    """One template string -> one or more concrete values."""
    if not isinstance(text, str):
        return [str(text)]
    m = _PLACEHOLDER.fullmatch(text)
    if m and m.group(1) in LIST_PLACEHOLDERS:
        prefix = m.group(2) or ""
        codes = lists[m.group(1)](dataset)
        return [prefix + c for c in codes]
    list_keys = {n for n, v in settings.edition_params.items() if isinstance(v, (list, tuple))}
    if m and m.group(1) in list_keys and not m.group(3):
        return [str(v) for v in settings.edition_params[m.group(1)]]

    def sub(mm: re.Match) -> str:
        name, prefix, offset = mm.group(1), mm.group(2), mm.group(3)
        if name in LIST_PLACEHOLDERS:
            raise TemplateError(
                f"dataset {dataset!r}: {{{name}}} must be a whole value of its own, not part of {text!r}"
            )
        if name == "fylke":
            return (prefix or "") + settings.region
        if name == "round":  # a projection dataset's own round (catalogue `projection: {round: …}`)
            return _projection_round(settings, dataset)
        return _scalar(name, offset, settings, dataset)

    return [_PLACEHOLDER.sub(sub, text)]


def _projection_round(settings: Settings, dataset: str) -> str:
    from ..config import load_catalogue

    proj = (load_catalogue(settings.root).get(dataset) or {}).get("projection") or {}
    if "round" not in proj:
        raise TemplateError(f"dataset {dataset!r}: {{round}} is only for projection datasets (catalogue `projection:`)")
    return str(proj["round"])


def _resolve_one(query: dict, settings: Settings, lists: RegionLists, dataset: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for var, sel in query.items():
        sel = dict(sel or {})
        values: list[str] = []
        for v in sel.get("values", []) or []:
            values.extend(resolve_value(v, settings, lists, dataset))
        res: dict[str, Any] = {"values": values}
        if sel.get("codelist"):
            res["codelist"] = resolve_value(sel["codelist"], settings, lists, dataset)[0]
        out[var] = res
    return out


def queries_of(spec: dict) -> list[dict]:
    """The unresolved queries of a catalogue entry (a single mapping becomes a list of one)."""
    q = spec.get("query")
    if q is None:
        return []
    return list(q) if isinstance(q, list) else [q]


def resolve_query(spec: dict, settings: Settings, lists: RegionLists) -> Any:
    """The concrete request(s) of a catalogue entry for a configuration, the list placeholders
    filled in from `lists` (`fetch.resolve_query` passes the configuration's own).

    SSB: a list of queries `{variable: {"values": [...], "codelist": id?}}` (one per request).
    Udir: `{"url": ..., "params": {...}}` with every parameter string resolved.
    """
    name = spec.get("name", "?")
    if spec.get("provider") == "udir":
        q = spec["query"]
        return {
            "url": resolve_value(q["url"], settings, lists, name)[0],
            "params": {k: resolve_value(v, settings, lists, name)[0] for k, v in q.get("params", {}).items()},
        }
    return [_resolve_one(q, settings, lists, name) for q in queries_of(spec)]


def is_bracketed(value: str) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]")
