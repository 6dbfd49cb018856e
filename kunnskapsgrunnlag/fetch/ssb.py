"""SSB's PxWebApi v2: resolved catalogue queries -> POST bodies, code checks, JSON-stat 2.0 -> tidy.

Requests go through pxwebpy's client (`PxApi._client.call`): it reads `maxDataCells` and the rate
limit from SSB's `/config`, rate-limits, and backs off on HTTP 429 using Retry-After. The POST body
is built here from the resolved catalogue query (`fetch.query.resolve_query`), so what
`fetch --dry-run` prints is exactly what is sent, and the answer is parsed here (not by pxwebpy's
`get_table_data`) because pxwebpy drops SSB's status symbols and keys columns by label.

The tidying of a parsed answer into the stored table is in each dataset's module
(`kunnskapsgrunnlag/sources/<dataset>.py`, `tidy_online`).

Facts used (see ../shared/data/api-responses/README.md and stats/PROVENANCE.md addendum 4):
- POST valueCodes are not bracket-stripped (PxTools/PxWebApi v2.5.0): `range(2020,2026)` in a POST
  body, `[range(2020,2026)]` only in a GET URL.
- Real v2 metadata spells the per-variable code lists `extension.codelists` (PxWebApi
  `MetadataById_tab004_js2.json`); pxwebpy 0.6 reads `codeLists`, so metadata is read here.
- Missing values are `null` in `value` with a symbol in `status` (real 07221 body: ".." with the
  note ".. = Tallgrunnlag mangler").
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote

import pandas as pd
import requests

from ..errors import ResponseShapeError

# Shaping an answer into a dataset's tidy table is the dataset's own code (kunnskapsgrunnlag/sources/);
# these names are re-exported for callers of the former fetch.ssb functions.
from ..sources._ssb import STATUS_SYMBOLS, strip_region_prefix, tidy_long, with_symbols, zero_runs  # noqa: F401

SSB_API = "https://data.ssb.no/api/pxwebapi/v2"
_EXPRESSION = re.compile(r"[*?\[\](]")  # wildcards, top(n), range(a,b) are not literal codes


class InvalidQuery(ValueError):
    """A value code in a catalogue query is not valid for the table (lists the valid codes)."""


class SSBApiError(requests.HTTPError):
    """SSB answered with an HTTP error. The message keeps SSB's problem details on one line."""


def _api_error(table: str, exc: requests.HTTPError) -> SSBApiError:
    """pxwebpy puts the problem details (type/title/status/detail/instance) on separate lines, and
    callers that keep only the first line of a message would lose them; put them on one line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    head = lines[0] if lines else type(exc).__name__
    fields = {}
    for ln in lines[1:]:
        key, colon, value = ln.partition(":")
        if colon and value.strip() and value.strip() != "None":
            fields[key.strip().lower()] = value.strip()
    extra = "; ".join(f"{k}: {fields[k]}" for k in ("type", "title", "detail", "instance") if k in fields)
    return SSBApiError(f"SSB table {table}: {head}" + (f" ({extra})" if extra else ""))


# --- requests -----------------------------------------------------------------------------------


def data_url(table: str) -> str:
    """The URL a data POST goes to (pxwebpy adds lang and outputFormat the same way)."""
    return f"{SSB_API}/tables/{table}/data?lang=no&outputFormat=json-stat2"


def post_body(query: dict[str, dict]) -> dict:
    """The POST body of one resolved query. A variable without values is left out, so SSB
    eliminates it (sums over it) where the table allows that. `outputValues` is left out too:
    with an aggregation code list (agg_KommSummer, agg_KommFylker) PxWebApi answers the summed
    groups unless `single` is asked (PxTools/PxWebApi `GetSelection` adds single values only when
    OutputValues == SingleEnum)."""
    selection = []
    for var, sel in query.items():
        values = list(sel.get("values") or [])
        if not values:
            continue
        item: dict[str, Any] = {"variableCode": var, "valueCodes": values}
        if sel.get("codelist"):
            item["codelist"] = sel["codelist"]
        selection.append(item)
    return {"selection": selection}


def _get_form(value: str) -> str:
    """GET needs brackets around an expression that holds a comma (`[range(2020,2026)]`)."""
    if "(" in value and "," in value and not value.startswith("["):
        return f"[{value}]"
    return value


def query_url(table: str, query: dict[str, dict] | list[dict[str, dict]]) -> str:
    """The exact GET URL of one resolved query (PxWebApi v2, JSON-stat 2.0); a list of queries
    gives their URLs joined by " + "."""
    if isinstance(query, list):
        return " + ".join(query_url(table, q) for q in query)
    parts = ["lang=no", "outputFormat=json-stat2"]
    for var, sel in query.items():
        values = [_get_form(v) for v in sel.get("values", [])]
        if values:
            parts.append(f"valuecodes[{var}]=" + quote(",".join(values), safe="*(),[]-+"))
        if sel.get("codelist") and values:
            parts.append(f"codelist[{var}]={sel['codelist']}")
    return f"{SSB_API}/tables/{table}/data?" + "&".join(parts)


def make_api(timeout: int = 30):
    from pxweb import PxApi

    return PxApi(SSB_API, language="no", timeout=timeout, max_workers=1)


def _call(api, endpoint: str, body: dict | None = None):
    # pxwebpy's client (rate limit, 429 back-off, /config limits); it is not public API in
    # pxwebpy 0.6, which is pinned in requirements.lock.
    return api._client.call(endpoint=endpoint, query=body)


# --- metadata and code checks -------------------------------------------------------------------


def table_variables(api, table: str) -> dict[str, dict]:
    """Variables of a table from its `/metadata`: label, codes -> labels, elimination, code lists.

    Reads `extension.codelists` (SSB's spelling) and `codeLists` (the spec example's)."""
    meta = _call(api, f"/tables/{table}/metadata")
    dims = meta.get("dimension") if isinstance(meta, dict) else None
    if not isinstance(dims, dict):
        raise ResponseShapeError(f"SSB table {table}: /metadata is not JSON-stat (no `dimension`)")
    out = {}
    for var, d in dims.items():
        ext = d.get("extension") or {}
        lists = ext.get("codelists", ext.get("codeLists")) or []
        out[var] = {
            "label": d.get("label", var),
            "codes": dict((d.get("category") or {}).get("label") or {}),
            "elimination": bool(ext.get("elimination", False)),
            "codelists": [c.get("id") for c in lists if isinstance(c, dict) and c.get("id")],
            "codelists_listed": "codelists" in ext or "codeLists" in ext,
        }
    return out


def code_list_codes(api, codelist: str) -> dict[str, str]:
    cl = _call(api, f"/codelists/{codelist}")
    return {v["code"]: v.get("label", "") for v in (cl or {}).get("values", []) if "code" in v}


def verify_codes(api, table: str, query: dict[str, dict]) -> dict[str, dict]:
    """Check every variable, code list and literal value code against the table's metadata.

    Returns the table variables. Raises InvalidQuery naming the variable, the bad codes and the
    valid ones.
    """
    variables = table_variables(api, table)
    unknown_vars = [v for v in query if v not in variables]
    if unknown_vars:
        raise InvalidQuery(f"SSB table {table}: unknown variable(s) {unknown_vars}; valid: {sorted(variables)}")
    for var, sel in query.items():
        cl_id = sel.get("codelist")
        info = variables[var]
        if cl_id and info["codelists_listed"] and cl_id not in info["codelists"]:
            raise InvalidQuery(
                f"SSB table {table}, variable {var}: code list {cl_id!r} is not offered; "
                f"valid: {', '.join(info['codelists']) or '(none)'}"
            )
        literal = [c for c in sel.get("values", []) if not _EXPRESSION.search(c)]
        if not sel.get("values") and not info["elimination"]:
            raise InvalidQuery(
                f"SSB table {table}, variable {var}: no values selected, and the variable cannot be eliminated"
            )
        if not literal:
            continue
        valid = list(code_list_codes(api, cl_id)) if cl_id else list(info["codes"])
        bad = [c for c in literal if c not in valid]
        if bad:
            shown = ", ".join(valid[:60]) + (f", … ({len(valid)} in all)" if len(valid) > 60 else "")
            where = f" in code list {cl_id}" if cl_id else ""
            raise InvalidQuery(
                f"SSB table {table}, variable {var}{where}: invalid value code(s) {bad}. Valid codes: {shown}"
            )
    return variables


# --- selection expressions and query size ------------------------------------------------------

_RANGE = re.compile(r"^range\((.+),(.+)\)$", re.I)
_FROM = re.compile(r"^from\((.+)\)$", re.I)
_TO = re.compile(r"^to\((.+)\)$", re.I)
_TOP = re.compile(r"^(top|bottom)\((\d+)(?:,(\d+))?\)$", re.I)


def select_codes(expr: str, codes: list[str]) -> tuple[list[str] | None, str]:
    """The codes a value or expression selects among `codes` (None + reason if invalid)."""
    if expr == "*":
        return list(codes), ""
    if "*" in expr or "?" in expr:
        pat = re.compile("^" + re.escape(expr).replace(r"\*", ".*").replace(r"\?", ".") + "$")
        sel = [c for c in codes if pat.match(c)]
        return (sel, "") if sel else (None, f"{expr!r} matches no code")
    if m := _RANGE.match(expr):
        a, b = m.group(1).strip(), m.group(2).strip()
        bad = [x for x in (a, b) if x not in codes]
        if bad:
            if not codes:
                return None, f"{expr}: no codes"
            return None, f"{expr}: {', '.join(bad)} not among the codes ({codes[0]} … {codes[-1]})"
        i, j = codes.index(a), codes.index(b)
        return codes[min(i, j) : max(i, j) + 1], ""
    if m := _FROM.match(expr):
        a = m.group(1).strip()
        if a not in codes:
            return None, f"{expr}: {a} not among the codes ({codes[0]} … {codes[-1]})"
        return codes[codes.index(a) :], ""
    if m := _TO.match(expr):
        a = m.group(1).strip()
        return (codes[: codes.index(a) + 1], "") if a in codes else (None, f"{expr}: {a} not among the codes")
    if m := _TOP.match(expr):
        n = int(m.group(2))
        return (codes[-n:] if m.group(1).lower() == "top" else codes[:n]), ""
    if _EXPRESSION.search(expr) or expr.startswith("["):
        return None, f"{expr!r} is not an expression PxWebApi reads in a POST body"
    return ([expr], "") if expr in codes else (None, f"{expr!r} is not a code")


def selection_counts(api, table: str, query: dict[str, dict], variables: dict[str, dict]) -> dict[str, int]:
    """How many codes each variable of a resolved query selects (expressions evaluated against the
    table's metadata or the code list); an eliminated variable counts 1."""
    counts = {}
    for var, sel in query.items():
        values = sel.get("values") or []
        if not values:
            counts[var] = 1
            continue
        codes = list(code_list_codes(api, sel["codelist"])) if sel.get("codelist") else list(variables[var]["codes"])
        n = 0
        for expr in values:
            got, _ = select_codes(expr, codes)
            n += len(got or [])
        counts[var] = max(n, 1)
    return counts


def split_query(query: dict[str, dict], counts: dict[str, int], max_cells: int) -> list[dict[str, dict]]:
    """Split a query whose cell count exceeds `max_cells` along its longest list of literal codes
    (what pxwebpy's get_table_data did before the project built its own POST bodies)."""
    total = math.prod(counts.values())
    if not max_cells or total <= max_cells:
        return [query]
    literal = [
        v
        for v, s in query.items()
        if len(s.get("values") or []) > 1 and not any(_EXPRESSION.search(x) for x in s["values"])
    ]
    if not literal:
        return [query]  # nothing to split on: SSB will answer "Too many cells selected"
    var = max(literal, key=lambda v: len(query[v]["values"]))
    values = query[var]["values"]
    chunk = max(max_cells // max(total // len(values), 1), 1)
    out = []
    for i in range(0, len(values), chunk):
        part = {**query, var: {**query[var], "values": values[i : i + chunk]}}
        out += split_query(part, {**counts, var: len(part[var]["values"])}, max_cells)
    return out


# --- JSON-stat 2.0 -> long frame ----------------------------------------------------------------


def jsonstat_frame(body: Any, dataset: str, url: str) -> pd.DataFrame:
    """A JSON-stat 2.0 dataset as a long frame: per dimension `<id>` (code) and `<id>_label`, then
    `value` (float, NaN where SSB sends null) and `status` (SSB's symbol, "" where none).

    A body of another shape raises ResponseShapeError naming the dataset and the URL."""

    def bad(why: str):
        keys = sorted(body)[:12] if isinstance(body, dict) else type(body).__name__
        return ResponseShapeError(
            f"dataset {dataset!r}: the answer of {url} is not a JSON-stat 2.0 dataset ({why}; top-level keys: {keys})"
        )

    if not isinstance(body, dict):
        raise bad("not a JSON object")
    ids, size, dims, values = body.get("id"), body.get("size"), body.get("dimension"), body.get("value")
    if not (isinstance(ids, list) and isinstance(size, list) and isinstance(dims, dict) and values is not None):
        raise bad("`id`, `size`, `dimension` and `value` are required")
    if len(ids) != len(size) or any(i not in dims for i in ids):
        raise bad("`id` and `size` do not match `dimension`")
    n = math.prod(size)
    if isinstance(values, dict):  # the sparse form: index -> value
        values = [values.get(str(i)) for i in range(n)]
    if len(values) != n:
        raise bad(f"{len(values)} values for {n} cells")
    status = body.get("status") or {}
    if isinstance(status, str):
        status = {str(i): status for i in range(n)}
    elif isinstance(status, list):
        status = {str(i): s for i, s in enumerate(status) if s}
    codes_per_dim = []
    for i, s in zip(ids, size, strict=False):
        cat = dims[i].get("category") or {}
        index = cat.get("index")
        labels = cat.get("label") or {}
        if isinstance(index, dict):
            order = sorted(index, key=index.__getitem__)
        elif isinstance(index, list):
            order = list(index)
        else:
            order = list(labels)
        if len(order) != s:
            raise bad(f"dimension {i} has {len(order)} categories, size says {s}")
        codes_per_dim.append([(c, labels.get(c, c)) for c in order])
    idx = pd.MultiIndex.from_product([range(s) for s in size], names=ids)
    frame = idx.to_frame(index=False)
    cols = {}
    for i, cats in zip(ids, codes_per_dim, strict=False):
        pos = frame[i].to_numpy()
        cols[i] = [cats[p][0] for p in pos]
        cols[f"{i}_label"] = [cats[p][1] for p in pos]
    out = pd.DataFrame(cols)
    out["value"] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(float)
    out["status"] = [str(status.get(str(k), "") or "") for k in range(n)]
    return out


def fetch_table(table: str, queries: list[dict[str, dict]], api=None, dataset: str = "?") -> pd.DataFrame:
    """Send every resolved query (codes checked first), parse the JSON-stat answers, concatenate."""
    from pxweb._internal.client import ApiConfigurationError, ApiVersionError

    frames = []
    try:
        api = api or make_api()
        max_cells = int((api.get_config() or {}).get("maxDataCells") or 0)
        parts = []
        for query in queries:
            variables = verify_codes(api, table, query)
            parts += split_query(query, selection_counts(api, table, query, variables), max_cells)
        for query in parts:
            body = _call(api, f"/tables/{table}/data", post_body(query))
            frames.append(jsonstat_frame(body, dataset, data_url(table)))
    except requests.HTTPError as exc:
        raise _api_error(table, exc) from exc
    except (ApiVersionError, ApiConfigurationError) as exc:  # /config answered, but not as a v2 API
        raise SSBApiError(f"SSB table {table}: {type(exc).__name__}: {exc}") from exc
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
