"""SSB's PxWebApi v2: resolved catalogue queries -> POST bodies, code checks, JSON-stat 2.0 -> tidy.

Requests go through pxwebpy's client (`PxApi._client.call`): it reads `maxDataCells` and the rate
limit from SSB's `/config`, rate-limits, and backs off on HTTP 429 using Retry-After. The POST body
is built here from the resolved catalogue query (`fetch.query.resolve_query`), so what
`fetch --dry-run` prints is exactly what is sent, and the answer is parsed here (not by pxwebpy's
`get_table_data`) because pxwebpy drops SSB's status symbols and keys columns by label.

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

from .query import ResponseShapeError

SSB_API = "https://data.ssb.no/api/pxwebapi/v2"
_EXPRESSION = re.compile(r"[*?\[\](]")  # wildcards, top(n), range(a,b) are not literal codes

# SSB's symbols for a cell without a number (SSB's standard «Symboler i tabeller», as printed in
# table notes, e.g. the real 07221 body: ".. = Tallgrunnlag mangler").
STATUS_SYMBOLS = {
    "..": "Tallgrunnlag mangler",
    ".": "Tall kan ikke forekomme",
    ":": "Vises ikke av konfidensialitetshensyn",
    "…": "Oppgave mangler",
    "-": "Null",
}


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
        raise InvalidQuery(
            f"SSB table {table}: unknown variable(s) {unknown_vars}; valid: {sorted(variables)}"
        )
    for var, sel in query.items():
        cl_id = sel.get("codelist")
        info = variables[var]
        if cl_id and info["codelists_listed"] and cl_id not in info["codelists"]:
            raise InvalidQuery(f"SSB table {table}, variable {var}: code list {cl_id!r} is not offered; "
                               f"valid: {', '.join(info['codelists']) or '(none)'}")
        literal = [c for c in sel.get("values", []) if not _EXPRESSION.search(c)]
        if not sel.get("values") and not info["elimination"]:
            raise InvalidQuery(f"SSB table {table}, variable {var}: no values selected, and the variable "
                               "cannot be eliminated")
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
            return None, f"{expr}: {', '.join(bad)} not among the codes ({codes[0]} … {codes[-1]})" if codes else f"{expr}: no codes"
        i, j = codes.index(a), codes.index(b)
        return codes[min(i, j): max(i, j) + 1], ""
    if m := _FROM.match(expr):
        a = m.group(1).strip()
        return (codes[codes.index(a):], "") if a in codes else (None, f"{expr}: {a} not among the codes ({codes[0]} … {codes[-1]})")
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
    literal = [v for v, s in query.items()
               if len(s.get("values") or []) > 1 and not any(_EXPRESSION.search(x) for x in s["values"])]
    if not literal:
        return [query]  # nothing to split on: SSB will answer "Too many cells selected"
    var = max(literal, key=lambda v: len(query[v]["values"]))
    values = query[var]["values"]
    chunk = max(max_cells // max(total // len(values), 1), 1)
    out = []
    for i in range(0, len(values), chunk):
        part = {**query, var: {**query[var], "values": values[i:i + chunk]}}
        out += split_query(part, {**counts, var: len(part[var]["values"])}, max_cells)
    return out

# --- JSON-stat 2.0 -> long frame ----------------------------------------------------------------

def jsonstat_frame(body: Any, dataset: str, url: str) -> pd.DataFrame:
    """A JSON-stat 2.0 dataset as a long frame: per dimension `<id>` (code) and `<id>_label`, then
    `value` (float, NaN where SSB sends null) and `status` (SSB's symbol, "" where none).

    A body of another shape raises ResponseShapeError naming the dataset and the URL."""
    def bad(why: str):
        keys = sorted(body)[:12] if isinstance(body, dict) else type(body).__name__
        return ResponseShapeError(f"dataset {dataset!r}: the answer of {url} is not a JSON-stat 2.0 "
                                  f"dataset ({why}; top-level keys: {keys})")

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
    for i, s in zip(ids, size):
        cat = dims[i].get("category") or {}
        index = cat.get("index")
        labels = cat.get("label") or {}
        if isinstance(index, dict):
            order = sorted(index, key=index.get)
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
    for i, cats in zip(ids, codes_per_dim):
        pos = frame[i].to_numpy()
        cols[i] = [cats[p][0] for p in pos]
        cols[f"{i}_label"] = [cats[p][1] for p in pos]
    out = pd.DataFrame(cols)
    out["value"] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(float)
    out["status"] = [str(status.get(str(k), "") or "") for k in range(n)]
    return out


def fetch_table(table: str, queries: list[dict[str, dict]], api=None, dataset: str = "?") -> pd.DataFrame:
    """Send every resolved query (codes checked first), parse the JSON-stat answers, concatenate."""
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
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def strip_region_prefix(code: str) -> str:
    """`F-33` -> `33`, `K-3301` -> `3301`, `K_3301` -> `3301`; national `0` stays `0`."""
    return re.sub(r"^[A-Z][-_.]", "", str(code))


def with_symbols(values: pd.Series, status: pd.Series, fmt=None) -> pd.Series:
    """Values as SSB shows them in a table: the number, or SSB's symbol where there is none."""
    fmt = fmt or (lambda v: v)
    return pd.Series([s if (isinstance(s, str) and s) else ("" if pd.isna(v) else fmt(v))
                      for v, s in zip(values, status)], index=values.index, dtype=object)


# --- dataset-specific tidying: the online route writes the same tidy schema as the mirror ---

def _region_level(code: str) -> str:
    return "land" if code == "0" else ("fylke" if len(code) == 2 else "kommune")


def _norway(code: str, label: str) -> bool:
    return code in {"0", "00", "0000"} or str(label).strip().lower() in {"hele landet", "landet i alt"}


def _regions(d: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    labels = d["Region_label"] if "Region_label" in d else d["Region"]
    d["region_code"] = [("0" if _norway(c, lab) else strip_region_prefix(c)) for c, lab in zip(d["Region"], labels)]
    d["region_level"] = d["region_code"].map(_region_level)
    ssb_names = [re.sub(r"^\s*[A-Z]?[-_.]?\d+\s+", "", str(lab)).strip() for lab in labels]
    d["region_name"] = [region_names.get(c, n or c) for c, n in zip(d["region_code"], ssb_names)]
    return d


def _no_symbols(d: pd.DataFrame, what: str) -> None:
    sym = d[d["status"] != ""]
    if len(sym):
        r = sym.iloc[0]
        raise ValueError(f"{len(sym)} cell(s) of {what} carry an SSB status symbol instead of a number "
                         f"(first: region {r['Region']}, {r.get('Tid', '')}: {r['status']!r} = "
                         f"{STATUS_SYMBOLS.get(r['status'], 'ukjent symbol')})")


def zero_runs(df: pd.DataFrame, value: str, by: list[str], time: str) -> list[str]:
    """Regions whose series has a run of zeros next to real values (a region code that did not
    exist yet, asked without an aggregation code list). One description per such region."""
    out = []
    totals = df.groupby(by + [time], as_index=False)[value].sum()
    for key, g in totals.groupby(by):
        g = g.sort_values(time)
        vals = g[value].to_numpy()
        if (vals == 0).any() and (vals > 0).any():
            zeros = g.loc[g[value] == 0, time].astype(str).tolist()
            real = g.loc[g[value] > 0, time].astype(str).tolist()
            key = key if isinstance(key, tuple) else (key,)
            out.append(f"{'/'.join(map(str, key))}: 0 in {zeros[0]}–{zeros[-1]} ({len(zeros)} years) "
                       f"but real values in {real[0]}–{real[-1]}")
    return out


def _age_group_0715(age: int) -> str:
    for lo, hi, name in [(0, 15, "0-15"), (16, 19, "16-19"), (20, 44, "20-44"), (45, 66, "45-66"),
                         (67, 79, "67-79"), (80, 89, "80-89")]:
        if lo <= age <= hi:
            return name
    return "90+"


def tidy_population_07459(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = _regions(df.copy(), region_names)
    _no_symbols(d, "the population")
    d["age"] = d["Alder"].str.extract(r"(\d+)")[0].astype(int)
    d["age_group"] = d["age"].map(_age_group_0715)
    d["year"] = d["Tid"].astype(int)
    names = d.drop_duplicates("region_code").set_index("region_code")["region_name"]
    out = d.groupby(["region_level", "region_code", "year", "age_group"], as_index=False)["value"].sum()
    runs = zero_runs(out, "value", ["region_code"], "year")
    if runs:
        raise ValueError(
            "region series with zeros next to real values – the region codes are not harmonised across "
            "the 2020/2024 regional reforms; ask kommuner with codelist agg_KommSummer (K-xxxx) and fylker "
            "with agg_KommFylker (F-xx): " + "; ".join(runs[:5]))
    out["region_name"] = out["region_code"].map(names)
    out = out.rename(columns={"value": "persons"})
    out["persons"] = out["persons"].round().astype(int)
    return out[["region_level", "region_code", "region_name", "year", "age_group", "persons"]]


# agg_Funksjonell4 (14288): F311…F320, verified in ../shared/data/stats/PROVENANCE.md addendum 4
# (a 12882 query with labels, and the 10 groups of the staged Telemark 14288 file).
FUNKSJONELL4 = {"F311": "0", "F312": "1-5", "F313": "6-12", "F314": "13-15", "F315": "16-19",
                "F316": "20-44", "F317": "45-66", "F318": "67-79", "F319": "80-89", "F320": "90+"}
_ALTERNATIVE = re.compile(r"\b(MMMM|LLML|HHMH)\b")


def tidy_projection_14288(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = _regions(df.copy(), region_names)
    _no_symbols(d, "the projection")
    unknown = sorted(set(d["Alder"]) - set(FUNKSJONELL4))
    if unknown:
        raise ValueError(f"unexpected Alder code(s) {unknown}; agg_Funksjonell4 has {', '.join(FUNKSJONELL4)}")
    d["age_group"] = d["Alder"].map(FUNKSJONELL4)
    # The alternative is in the label ("Hovedalternativet (MMMM)"), not in the code (Personer, Personer1, …).
    d["alternative"] = d["ContentsCode_label"].str.extract(_ALTERNATIVE)[0]
    if d["alternative"].isna().any():
        lab = d.loc[d["alternative"].isna(), "ContentsCode_label"].iloc[0]
        raise ValueError(f"ContentsCode label {lab!r} names none of the alternatives MMMM, LLML, HHMH")
    d["year"] = d["Tid"].astype(int)
    d["persons"] = d["value"].round().astype(int)
    return d[["region_code", "region_name", "alternative", "year", "age_group", "persons"]].reset_index(drop=True)


def tidy_neet_13563(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = _regions(df.copy(), region_names)
    _no_symbols(d, "the NEET counts")
    wide = d.pivot_table(index=["region_code", "region_name", "Alder", "Tid"], columns="HovArbStyrkStatus",
                         values="value", aggfunc="sum").reset_index()
    wide["neet_share"] = (wide["NEET2"] / wide["TOT3"] * 100).round(1)
    wide = wide.rename(columns={"Alder": "age_group", "Tid": "year"})
    wide["year"] = wide["year"].astype(int)
    return wide[["region_code", "region_name", "year", "age_group", "neet_share"]]


LONG_COLUMNS = ["region_level", "region_code", "region_name", "period"]


def tidy_long(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """The generic tidy form of an SSB table: region_level, region_code, region_name, period, then
    per other variable `<id>` (code) and `<id>_label`, then `value` (NaN where SSB has no number)
    and `status` (SSB's symbol: ".." Tallgrunnlag mangler, "." Tall kan ikke forekomme,
    ":" Vises ikke av konfidensialitetshensyn; "" where there is a number)."""
    d = _regions(df.copy(), region_names)
    d = d.rename(columns={"Tid": "period"})
    other = [c for c in d.columns if c not in set(LONG_COLUMNS) | {"Region", "Region_label", "Tid_label", "value", "status"}]
    return d[LONG_COLUMNS + other + ["value", "status"]].reset_index(drop=True)


def tidy_generic(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    return tidy_long(df, region_names) if "Region" in df and "Tid" in df else df


def tidy_boliger_06265(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """Counts by kommune and building type, plus each type's share of the kommune's dwellings."""
    from .mirror import BOLIG_TYPES

    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d["year"] = d["Tid"].astype(int)
    d["building_type"] = d["BygnType"].astype(str)
    d["building_type_name"] = d["building_type"].map(lambda c: BOLIG_TYPES.get(c, (c,))[0])
    d["dwellings"] = d["value"].astype("Int64")
    total = d.groupby(["region_code", "year"])["dwellings"].transform("sum")
    d["share_pct"] = d["dwellings"].astype(float) / total.astype(float) * 100
    d["region_name"] = d["region_code"].map(lambda c: region_names.get(c, c))
    return d[["region_code", "region_name", "year", "building_type", "building_type_name", "share_pct", "dwellings"]]



_NIVAA = {"01", "02a", "11", "03a", "04a"}


def tidy_utdanning_09429(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """09429 PersonerProsent: share (%) of persons 16+ by level, kommuner only (same as the mirror)."""
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d = d[d["region_code"].str.fullmatch(r"\d{4}") & d["Nivaa"].isin(_NIVAA)]
    out = pd.DataFrame({"region_code": d["region_code"], "region_name": d["region_code"],
                        "year": d["Tid"].astype(int), "nivaa": d["Nivaa"],
                        "andel_pst": d["value"].astype(float)})
    if "status" in d:  # SSB's symbol where there is no number («..», «.», «:»), kept as SSB shows it
        out["status"] = d["status"].fillna("").astype(str)
    return out


def _sum_ages(d: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """All ages and 16+ from the functional age groups (agg_Funksjonell4)."""
    d = d.copy()
    d["age_group"] = d["Alder"].map(lambda a: _FUNKSJONELL.get(a, a))
    allg = d.groupby(keys, as_index=False)["value"].sum().assign(age_group="alle")
    adult = d[~d["age_group"].isin(["0", "1-5", "6-12", "13-15"])]
    adult = adult.groupby(keys, as_index=False)["value"].sum().assign(age_group="16+")
    return pd.concat([allg, adult], ignore_index=True)


def tidy_projection_14288_fylker(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d["alternative"] = d["ContentsCode"].map({"Personer": "MMMM", "Personer1": "LLML", "Personer2": "HHMH"})
    d["year"] = d["Tid"].astype(int)
    out = _sum_ages(d, ["region_code", "alternative", "year"])
    out["region_name"] = out["region_code"].map(lambda c: region_names.get(c, c))
    out = out.rename(columns={"value": "persons"})
    return out[["region_code", "region_name", "alternative", "year", "age_group", "persons"]]


def tidy_projection_14288_kommuner(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d = d[d["region_code"].str.fullmatch(r"\d{4}")]
    d["alternative"] = "MMMM"
    d["year"] = d["Tid"].astype(int)
    out = d.groupby(["region_code", "alternative", "year"], as_index=False)["value"].sum()
    out["region_name"] = out["region_code"]
    out["fylke_code"] = out["region_code"].str[:2]
    out = out.rename(columns={"value": "persons"})
    return out[["region_code", "region_name", "fylke_code", "alternative", "year", "persons"]]


TIDY = {
    "boliger_06265": tidy_boliger_06265,
    "utdanning_09429": tidy_utdanning_09429,
    "projection_14288_fylker": tidy_projection_14288_fylker,
    "projection_14288_kommuner": tidy_projection_14288_kommuner,
    "population_07459": tidy_population_07459,
    "projection_14288": tidy_projection_14288,
    "projection_14746": tidy_projection_14288,  # same variables and codes (14746 v0 metadata)
    "projection_14746_fylker": tidy_projection_14288_fylker,
    "neet_13563": tidy_neet_13563,
}


# --- the 2026 report's Tables 2 and 3 from the online datasets (any year) -------------------------

_SPAN = re.compile(r"(\d+)\s*-\s*(\d+)")


def _age_span(code: str, label: str) -> tuple[int, int] | None:
    for text in (str(code), str(label)):
        if m := _SPAN.search(text):
            return int(m.group(1)), int(m.group(2))
    return None


def ages_within(codes: dict[str, str], lo: int, hi: int) -> list[str]:
    """The age-group codes (code -> label) that exactly tile lo–hi (e.g. 20–66), or ValueError
    listing the groups: which 13563 groups make up 20–66 is read from the answer, not assumed."""
    spans = {c: s for c, lab in codes.items() if (s := _age_span(c, lab))}
    inside = sorted((s, c) for c, s in spans.items() if lo <= s[0] and s[1] <= hi)
    # keep the finest tiling: drop a group that contains another selected group
    chosen = [(s, c) for s, c in inside if not any(o != (s, c) and s[0] <= o[0][0] and o[0][1] <= s[1] for o in inside)]
    edge = lo
    for (a, b), _ in chosen:
        if a != edge:
            break
        edge = b + 1
    if not chosen or edge != hi + 1:
        listing = ", ".join(f"{c} ({lab})" for c, lab in codes.items())
        raise ValueError(f"the age groups {listing} do not add up to {lo}–{hi}")
    return [c for _, c in chosen]


TILTAK_LABEL = "Deltakere på arbeidsmarkedstiltak"  # the label in SSB 13563 (live Telemark script)


def tabell2_from_13563(tidy: pd.DataFrame, lo: int = 20, hi: int = 66) -> pd.DataFrame:
    """Participants in labour-market measures aged lo–hi per fylke and Norway, from `tiltak_13563`
    (columns region_code, region, deltakere_20_66, status: the shape of `tiltak_published` without
    the printed share). The status code is found by its label, the age groups by their bounds."""
    d = tidy[tidy["HovArbStyrkStatus_label"].astype(str).str.strip() == TILTAK_LABEL]
    if d.empty:
        labels = sorted(set(tidy["HovArbStyrkStatus_label"].astype(str)))
        raise ValueError(f"no HovArbStyrkStatus labelled {TILTAK_LABEL!r} in 13563; labels: {labels}")
    ages = ages_within(dict(zip(d["Alder"], d["Alder_label"])), lo, hi)
    d = d[d["Alder"].isin(ages)]
    st = d.groupby("region_code")["status"].agg(lambda s: next((x for x in s if isinstance(x, str) and x), ""))
    out = d.groupby(["region_code", "region_name"], as_index=False)["value"].sum(min_count=len(ages))
    out["status"] = out["region_code"].map(st)
    out = out.rename(columns={"region_name": "region", "value": "deltakere_20_66"})
    return out[["region_code", "region", "deltakere_20_66", "status"]]


def tabell3_from_09588(tidy: pd.DataFrame) -> pd.DataFrame:
    """Domestic net in-migration per kommune and fylke, from `flytting_09588` (the shape of
    `flytting_published`: nivaa, region_code, region, netto_innenlands; plus status)."""
    d = tidy[tidy["ContentsCode"] == "NettoInnland"]
    out = pd.DataFrame({"nivaa": d["region_level"], "region_code": d["region_code"], "region": d["region_name"],
                        "netto_innenlands": d["value"], "status": d["status"]})
    return out[out["nivaa"].isin(["kommune", "fylke"])].reset_index(drop=True)
