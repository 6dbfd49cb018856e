"""`kunnskapsgrunnlag check-online` and `fetch --dry-run`: the online route, checked without data.

`check_online` asks SSB's `/config` (maxDataCells), each catalogue table's `/tables/{id}` (its
last period) and `/metadata`, and the code lists the queries use, and checks every variable,
code list, value code and expression of the configuration's resolved queries; it estimates each
query's cell count against `maxDataCells`. For Udir it asks the report's `filterVerdier` and checks
every id in the filter. Nothing is downloaded and nothing is written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import requests

from ..config import Settings, load_catalogue
from ..editions import used_by_edition
from . import plan_requests, resolve_query, ssb
from .query import ResponseShapeError, TemplateError


@dataclass
class Check:
    dataset: str
    request: str  # "1/3": which request of the dataset
    what: str  # variable, code list, cells, …
    ok: bool
    detail: str


def check_ssb(name: str, spec: dict, settings: Settings, api, max_cells: int) -> list[Check]:
    table = spec["table"]
    out: list[Check] = []
    try:
        queries = resolve_query(spec, settings)
    except TemplateError as exc:
        return [Check(name, "-", "template", False, str(exc))]
    try:
        info = ssb._call(api, f"/tables/{table}")
        variables = ssb.table_variables(api, table)
    except (requests.HTTPError, ResponseShapeError) as exc:
        return [Check(name, "-", f"table {table}", False, str(exc).splitlines()[0])]
    last = (info or {}).get("lastPeriod") if isinstance(info, dict) else None
    label, updated = (info or {}).get("label", "")[:70], (info or {}).get("updated", "?")
    out.append(Check(name, "-", f"table {table}", True, f"{label}; last period {last or '?'}, updated {updated}"))
    code_lists: dict[str, dict] = {}
    for qi, query in enumerate(queries, 1):
        req = f"{qi}/{len(queries)}"
        cells = 1
        counts: dict[str, int] = {}
        for var in variables:
            if var not in query and not variables[var]["elimination"]:
                out.append(Check(name, req, f"variable {var}", False, "not in the query and cannot be eliminated"))
        for var, sel in query.items():
            if var not in variables:
                out.append(Check(name, req, f"variable {var}", False, f"unknown; valid: {', '.join(variables)}"))
                continue
            v = variables[var]
            values = sel.get("values") or []
            cl = sel.get("codelist")
            if not values:
                ok = v["elimination"]
                out.append(
                    Check(
                        name,
                        req,
                        f"variable {var}",
                        ok,
                        "eliminated (summed by SSB)" if ok else "no values and cannot be eliminated",
                    )
                )
                continue
            if cl:
                if v["codelists_listed"] and cl not in v["codelists"]:
                    offered = ", ".join(v["codelists"]) or "(none)"
                    out.append(Check(name, req, f"{var}: code list {cl}", False, f"not offered; valid: {offered}"))
                    continue
                if cl not in code_lists:
                    try:
                        code_lists[cl] = ssb.code_list_codes(api, cl)
                    except requests.HTTPError as exc:
                        out.append(Check(name, req, f"{var}: code list {cl}", False, str(exc).splitlines()[0]))
                        continue
                codes = list(code_lists[cl])
            else:
                codes = list(v["codes"])
            selected: list[str] = []
            bad = []
            for expr in values:
                sel_codes, why = ssb.select_codes(expr, codes)
                if sel_codes is None:
                    bad.append(why)
                else:
                    selected += sel_codes
            where = f" (code list {cl})" if cl else ""
            shown = ", ".join(values[:6]) + (f", … ({len(values)})" if len(values) > 6 else "")
            if bad:
                more = f"; … ({len(bad)} in all)" if len(bad) > 5 else ""
                out.append(Check(name, req, f"variable {var}{where}", False, "; ".join(bad[:5]) + more))
            else:
                out.append(Check(name, req, f"variable {var}{where}", True, f"{shown} -> {len(selected)} code(s)"))
            cells *= max(len(selected), 1)
            counts[var] = max(len(selected), 1)
            if var == "Tid" and last and selected and str(max(selected)) > str(last):
                out.append(Check(name, req, "period", False, f"asks {max(selected)}, the table ends at {last}"))
        detail = f"about {cells:,} of at most {max_cells:,}".replace(",", " ")
        ok = cells <= max_cells
        if not ok:  # fetch splits along the longest literal list, as pxwebpy did
            parts = ssb.split_query(query, counts, max_cells)
            biggest = max(
                math.prod(
                    len(pt[v]["values"]) if pt[v].get("values") is not query[v].get("values") else counts[v]
                    for v in counts
                )
                for pt in parts
            )
            ok = biggest <= max_cells
            detail += (
                f"; sent as {len(parts)} requests of at most {biggest:,} cells"
                if ok
                else "; cannot be split below the limit"
            ).replace(",", " ")
        out.append(Check(name, req, "cells", ok, detail))
    return out


_SUBFILTER = re.compile(r"([A-Za-z]+)\(([^)]*)\)")


def check_udir(name: str, spec: dict, settings: Settings, session=None) -> list[Check]:
    try:
        resolved = resolve_query(spec, settings)
    except TemplateError as exc:
        return [Check(name, "-", "template", False, str(exc))]
    url = re.sub(r"/data$", "/filterVerdier", resolved["url"])
    s = session or requests.Session()
    try:
        resp = s.get(url, timeout=30)
        resp.raise_for_status()
        values = resp.json()
    except requests.ConnectionError as exc:
        return [Check(name, "1/1", "filterVerdier", False, f"{UNREACHABLE}: {url} ({type(exc).__name__})")]
    except (requests.RequestException, ValueError) as exc:
        return [Check(name, "1/1", "filterVerdier", False, f"{url}: {str(exc).splitlines()[0][:200]}")]
    if not isinstance(values, dict):
        return [Check(name, "1/1", "filterVerdier", False, f"{url}: not a JSON object")]
    out = [Check(name, "1/1", "filterVerdier", True, url)]
    for key, ids in _SUBFILTER.findall(resolved["params"].get("filter", "")):
        if key not in values:
            out.append(Check(name, "1/1", f"filter {key}", False, f"unknown; valid: {', '.join(values)}"))
            continue
        valid = {str(e.get("id")): e.get("navn", "") for e in values[key] if isinstance(e, dict)}
        wanted = [i for i in ids.split("_") if i]
        bad = [i for i in wanted if i not in valid]
        if bad:
            listing = ", ".join(f"{k} {v}" for k, v in list(valid.items())[:25])
            out.append(Check(name, "1/1", f"filter {key}", False, f"{', '.join(bad)} not valid; valid: {listing}"))
        else:
            out.append(Check(name, "1/1", f"filter {key}", True, ", ".join(f"{i} {valid[i]}" for i in wanted)[:120]))
    return out


def check_online(settings: Settings, *, only: list[str] | None = None, api=None, session=None) -> list[Check]:
    catalogue = load_catalogue()
    unknown = sorted(set(only or []) - set(catalogue))
    if unknown:
        raise KeyError(f"Unknown dataset(s) {unknown}; valid: {sorted(catalogue)}")
    names = [
        n
        for n, sp in catalogue.items()
        if sp.get("provider") in {"ssb", "udir"}
        and (not only or n in only)
        and used_by_edition(sp, settings.edition_params)
    ]  # another projection round: not this edition's
    out: list[Check] = []
    ssb_ok = False
    if any(catalogue[n]["provider"] == "ssb" for n in names):
        try:
            api = api or ssb.make_api()
            config = api.get_config()
            max_cells = int(config.get("maxDataCells") or 0)
            ssb_ok = True
            out.append(
                Check(
                    "-",
                    "-",
                    "SSB /config",
                    True,
                    f"API {config.get('apiVersion', '?')}, maxDataCells {max_cells:,}".replace(",", " "),
                )
            )
        except (requests.RequestException, OSError) as exc:
            out.append(
                Check("-", "-", "SSB /config", False, f"{UNREACHABLE}: {ssb.SSB_API}/config ({type(exc).__name__})")
            )
    for n in names:
        spec = catalogue[n]
        if spec["provider"] == "udir":
            out += check_udir(n, spec, settings, session)
        elif ssb_ok:
            out += check_ssb(n, spec, settings, api, max_cells)
    return out


UNREACHABLE = "not reachable (no network?)"


def dry_run(settings: Settings, only: list[str] | None = None) -> tuple[list, list[str]]:
    """Every request the configuration's online fetch would send (method, URL, body), and the
    datasets whose query cannot be filled in (with why); no network, nothing written."""
    catalogue = load_catalogue()
    unknown = sorted(set(only or []) - set(catalogue))
    if unknown:
        raise KeyError(f"Unknown dataset(s) {unknown}; valid: {sorted(catalogue)}")
    out, errors = [], []
    for n, spec in catalogue.items():
        if (only and n not in only) or not used_by_edition(spec, settings.edition_params):
            continue
        try:
            out += plan_requests(n, spec, settings)
        except TemplateError as exc:
            errors.append(str(exc))
    return out, errors
