"""SSB's PxWebApi v2 through pxwebpy: code verification, data download, exact query URLs.

pxwebpy handles SSB's limits: it reads `maxDataCells` and `maxCallsPerTimeWindow` from the API's
`/config`, splits large queries, rate-limits calls and backs off on HTTP 429 using Retry-After.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pandas as pd
import requests

SSB_API = "https://data.ssb.no/api/pxwebapi/v2"
_EXPRESSION = re.compile(r"[*?\[\](]")  # wildcards, top(n), [range(a,b)] are not literal codes


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


def query_url(table: str, query: dict[str, dict]) -> str:
    """The exact GET URL of a catalogue query (PxWebApi v2, JSON-stat 2.0)."""
    parts = ["lang=no", "outputFormat=json-stat2"]
    for var, sel in query.items():
        values = sel.get("values", [])
        if values:
            parts.append(f"valuecodes[{var}]=" + quote(",".join(values), safe="*(),[]-"))
        if sel.get("codelist"):
            parts.append(f"codelist[{var}]={sel['codelist']}")
    return f"{SSB_API}/tables/{table}/data?" + "&".join(parts)


def make_api(timeout: int = 30):
    from pxweb import PxApi

    return PxApi(SSB_API, language="no", timeout=timeout, max_workers=1)


def verify_codes(api, table: str, query: dict[str, dict]) -> dict[str, Any]:
    """Check every literal value code against the table's metadata (or its code list).

    Returns the table variables. Raises InvalidQuery naming the variable, the bad codes and the
    valid ones.
    """
    variables = api.get_table_variables(table)
    unknown_vars = [v for v in query if v not in variables]
    if unknown_vars:
        raise InvalidQuery(
            f"SSB table {table}: unknown variable(s) {unknown_vars}; valid: {sorted(variables)}"
        )
    for var, sel in query.items():
        literal = [c for c in sel.get("values", []) if not _EXPRESSION.search(c)]
        if not literal:
            continue
        if sel.get("codelist"):
            cl = api.get_code_list(sel["codelist"])
            valid = [v["code"] for v in cl.get("values", [])]
        else:
            valid = list(variables[var]["category"].get("label", {}))
        bad = [c for c in literal if c not in valid]
        if bad:
            shown = ", ".join(valid[:60]) + (f", … ({len(valid)} in all)" if len(valid) > 60 else "")
            where = f" in code list {sel['codelist']}" if sel.get("codelist") else ""
            raise InvalidQuery(
                f"SSB table {table}, variable {var}{where}: invalid value code(s) {bad}. Valid codes: {shown}"
            )
    return variables


def fetch_table(table: str, query: dict[str, dict], api=None) -> pd.DataFrame:
    """Download a table as a DataFrame with one column per variable id (codes) plus `value`."""
    try:
        api = api or make_api()
        variables = verify_codes(api, table, query)
        value_codes = {v: s["values"] for v, s in query.items() if s.get("values")}
        code_list = {v: s["codelist"] for v, s in query.items() if s.get("codelist")}
        rows = api.get_table_data(table, value_codes=value_codes, code_list=code_list or None, show="code")
    except requests.HTTPError as exc:
        raise _api_error(table, exc) from exc
    df = pd.DataFrame(rows)
    label_to_id = {meta["label"]: var for var, meta in variables.items()}
    return df.rename(columns=label_to_id)


def strip_region_prefix(code: str) -> str:
    """`F-33` -> `33`, `K-3301` -> `3301`, `K_3301` -> `3301`; national `0` stays `0`."""
    return re.sub(r"^[A-Z][-_]", "", str(code))


# --- dataset-specific tidying: the online route writes the same tidy schema as the mirror ---

def _age_group_0715(age: int) -> str:
    for lo, hi, name in [(0, 15, "0-15"), (16, 19, "16-19"), (20, 44, "20-44"), (45, 66, "45-66"),
                         (67, 79, "67-79"), (80, 89, "80-89")]:
        if lo <= age <= hi:
            return name
    return "90+"


def tidy_population_07459(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d["age"] = d["Alder"].str.extract(r"(\d+)").astype(int)
    d["age_group"] = d["age"].map(_age_group_0715)
    d["year"] = d["Tid"].astype(int)
    d["region_level"] = d["region_code"].map(lambda c: "land" if c == "0" else ("fylke" if len(c) == 2 else "kommune"))
    out = d.groupby(["region_level", "region_code", "year", "age_group"], as_index=False)["value"].sum()
    out["region_name"] = out["region_code"].map(lambda c: region_names.get(c, c))
    out = out.rename(columns={"value": "persons"})
    return out[["region_level", "region_code", "region_name", "year", "age_group", "persons"]]


_FUNKSJONELL = {"000": "0", "001-005": "1-5", "006-012": "6-12", "013-015": "13-15", "016-019": "16-19",
                "020-044": "20-44", "045-066": "45-66", "067-079": "67-79", "080-089": "80-89", "090+": "90+"}


def tidy_projection_14288(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix).replace({"00": "0"})
    d["age_group"] = d["Alder"].map(lambda a: _FUNKSJONELL.get(a, a))
    alt = d["ContentsCode"].str.extract(r"(MMMM|LLML|HHMH)")[0]
    d["alternative"] = alt.fillna("MMMM")
    d["year"] = d["Tid"].astype(int)
    d["region_name"] = d["region_code"].map(lambda c: region_names.get(c, c))
    d = d.rename(columns={"value": "persons"})
    return d[["region_code", "region_name", "alternative", "year", "age_group", "persons"]]


def tidy_neet_13563(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = df.copy()
    d["region_code"] = d["Region"].map(strip_region_prefix)
    wide = d.pivot_table(index=["region_code", "Alder", "Tid"], columns="HovArbStyrkStatus", values="value", aggfunc="sum").reset_index()
    wide["neet_share"] = (wide["NEET2"] / wide["TOT3"] * 100).round(1)
    wide["region_name"] = wide["region_code"].map(lambda c: region_names.get(c, c))
    wide = wide.rename(columns={"Alder": "age_group", "Tid": "year"})
    wide["year"] = wide["year"].astype(int)
    return wide[["region_code", "region_name", "year", "age_group", "neet_share"]]


def tidy_generic(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    d = df.copy()
    if "Region" in d:
        d.insert(0, "region_code", d.pop("Region").map(strip_region_prefix))
        d.insert(1, "region_name", d["region_code"].map(lambda c: region_names.get(c, c)))
    if "Tid" in d:
        d = d.rename(columns={"Tid": "period"})
    return d


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
    d = d[d["region_code"].str.fullmatch(r"\d{4}") & d["Nivaa"].isin(_NIVAA) & d["value"].notna()]
    return pd.DataFrame({"region_code": d["region_code"], "region_name": d["region_code"],
                         "year": d["Tid"].astype(int), "nivaa": d["Nivaa"],
                         "andel_pst": d["value"].astype(float)})


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
    "neet_13563": tidy_neet_13563,
}
