"""Plausibility checks a new vintage must pass before it becomes current (beyond its pandera schema).

The expectations are declared in each dataset's module (`sources/<dataset>.py`) (coverage of kommuner, fylker
and Norway from the classification for the data's year, expected years, complete groups, value
ranges, sum invariants, minimum rows). `check_frame(dataset, df, expect, division)` returns the
failures as `Failure(rule, detail)`; `check_dataset` raises them, and `fetch` refuses the file,
keeps it aside and leaves the previous vintage current. Each failure names the rule and the offending values, e.g.
``coverage: kommuner missing for 2026: 3301 Drammen``.

The fylker and kommuner are given by the caller as a `division.Division` (built by
`classification.division_2024`: the fylker of config/project.yml and the kommuner of the boundary
dataset `kommuner_2024`, fetched first); the boundary dataset itself is checked against the minimum
counts of the 2024 division (`check_boundaries`). Where no classification is available the kommune
coverage is reported as not checked (recorded in the manifest entry), never silently passed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pandas as pd

from .division import FIRST_YEAR_2024_DIVISION, Division, fylke_of
from .errors import ValidationError

MAX_LIST = 10


class PlausibilityError(ValidationError):
    """A new vintage failed its plausibility checks; the message names dataset, file, rule, values."""

    def __init__(self, dataset: str, file: str, failures: list):
        self.dataset, self.file, self.failures = dataset, file, failures
        super().__init__("\n".join(f"{dataset}: {file}: {f}" for f in failures))


def check_dataset(
    dataset: str, df: pd.DataFrame, expect: dict, file: str, division: Division, vintage: str | None = None
) -> list[str]:
    """Raise PlausibilityError if `df` fails `expect` (the dataset's expectations) against the
    regions of `division`; else return notes on checks that could not be made (e.g. no
    classification yet)."""
    fails, notes = check_frame(dataset, df, expect, division, vintage)
    if fails:
        raise PlausibilityError(dataset, file, fails)
    return notes


def check_boundary_file(dataset: str, payload: bytes, file: str, expect: dict | None, fylker: dict[str, str]) -> None:
    """A boundary file (GeoJSON) against its `boundaries` expectations and the `fylker` (code ->
    name) of the division; PlausibilityError if it fails."""
    if expect and (fails := check_boundaries(payload, expect, fylker)):
        raise PlausibilityError(dataset, file, fails)


@dataclass
class Failure:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def _fmt_int(v) -> str:
    try:
        return f"{int(v):,}".replace(",", " ")
    except (TypeError, ValueError, OverflowError):
        return str(v)


def _years(years) -> str:
    ys = sorted({int(y) for y in years})
    out, start, prev = [], None, None
    for y in ys + [None]:
        if start is None:
            start = prev = y
        elif y is not None and prev is not None and y == prev + 1:
            prev = y
        else:
            out.append(str(start) if start == prev else f"{start}–{prev}")
            start = prev = y
    return ", ".join(out)


def _listing(items: list[str]) -> str:
    more = f" … and {len(items) - MAX_LIST} more ({len(items)} in all)" if len(items) > MAX_LIST else ""
    return ", ".join(items[:MAX_LIST]) + more


# --- the boundary dataset (bootstrap) --------------------------------------------------------


def check_boundaries(payload: bytes, expect: dict, fylker: dict[str, str]) -> list[Failure]:
    """The classification source itself: enough kommuner, the 15 fylker, no unknown fylke, and (with
    `geometry: valid`) a readable, valid geometry for every feature, each bad one named."""
    try:
        gj = json.loads(payload.decode("utf-8"))
        features = gj["features"]
        codes = [str((f.get("properties") or {}).get("kommunenummer", "")).zfill(4) for f in features]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        return [
            Failure(
                "format",
                f"not a GeoJSON feature collection with `kommunenummer` ({type(exc).__name__}: {str(exc)[:120]})",
            )
        ]
    out = []
    bad = sorted({c for c in codes if not re.fullmatch(r"\d{4}", c)})
    if bad:
        out.append(Failure("format", "invalid kommunenummer: " + _listing(bad)))
    kommuner = {c for c in codes if re.fullmatch(r"\d{4}", c)}
    if len(kommuner) < expect["min_kommuner"]:
        out.append(
            Failure(
                "coverage", f"{len(kommuner)} kommuner, at least {expect['min_kommuner']} expected (the 2024 division)"
            )
        )
    fy = {fylke_of(c) for c in kommuner}
    unknown = sorted(fy - set(fylker))
    if unknown:
        out.append(Failure("coverage", "kommuner in unknown fylke(r): " + _listing(unknown)))
    missing = sorted(set(fylker) - fy)
    if missing or len(fy) < expect["fylker"]:
        out.append(
            Failure(
                "coverage",
                f"fylker without kommuner: {_listing([f'{c} {fylker[c]}' for c in missing])}"
                f" ({len(fy)} fylker, {expect['fylker']} expected)",
            )
        )
    if expect.get("geometry") == "valid":
        out += _check_geometries(features)
    return out


def _feature_name(i: int, f: dict) -> str:
    props = f.get("properties") or {} if isinstance(f, dict) else {}
    code = str(props.get("kommunenummer", "")).strip()
    name = str(props.get("kommunenavn", "") or props.get("navn", "")).strip()
    label = " ".join(x for x in (code, name) if x) or "no kommunenummer"
    return f"feature {i + 1} ({label})"


def _check_geometries(features: list) -> list[Failure]:
    """Every feature's geometry can be read and, repaired as `rawstore.load_geo` repairs it
    (`shapely.make_valid`: simplified borders often self-intersect), is an area (polygon); else the
    features and the reasons."""
    import shapely
    from shapely.errors import GEOSException, ShapelyError

    unreadable, not_area = [], []
    for i, f in enumerate(features):
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not geom:
            unreadable.append(f"{_feature_name(i, f)}: no geometry")
            continue
        try:
            shape = shapely.make_valid(shapely.from_geojson(json.dumps(geom)))
        except (GEOSException, ShapelyError, ValueError, TypeError) as exc:
            unreadable.append(f"{_feature_name(i, f)}: {str(exc).splitlines()[0][:160]}")
            continue
        polygons = shapely.get_parts(shape) if shape.geom_type == "GeometryCollection" else [shape]
        if not any(p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0 for p in polygons):
            not_area.append(
                f"{_feature_name(i, f)}: {geom.get('type', '?')} without an area "
                f"(repaired: {shape.geom_type}{' EMPTY' if shape.is_empty else ''})"
            )
    out = []
    if unreadable:
        out.append(Failure("geometry", "invalid geometry that cannot be read: " + _listing(unreadable)))
    if not_area:
        out.append(Failure("geometry", "invalid geometry, not an area: " + _listing(not_area)))
    return out


# --- tabular datasets ------------------------------------------------------------------------


def _level(code: str) -> str:
    return "land" if code == "0" else ("fylke" if len(code) == 2 else ("kommune" if len(code) == 4 else "?"))


def _vintage_years(vintage: str | None) -> list[int] | None:
    m = re.fullmatch(r"\s*(\d{4})\s*[-–]\s*(\d{4})\s*", str(vintage or ""))
    if m:
        return list(range(int(m[1]), int(m[2]) + 1))
    m = re.fullmatch(r"\s*(\d{4})\s*", str(vintage or ""))
    return [int(m[1])] if m else None


def check_frame(
    dataset: str, df: pd.DataFrame, expect: dict, division: Division, vintage: str | None = None
) -> tuple[list[Failure], list[str]]:
    """Failures of `df` against `expect`, and notes on checks that could not be made."""
    fails: list[Failure] = []
    notes: list[str] = []
    n = len(df)
    min_rows = expect.get("min_rows", 1)
    if n == 0:
        return [Failure("rows", "no data rows (header only); at least one data row is required")], notes
    if n < min_rows:
        fails.append(Failure("rows", f"{n} data rows, at least {min_rows} expected"))

    for col, (lo, hi) in expect.get("ranges", {}).items():
        if col not in df:
            continue
        v = pd.to_numeric(df[col], errors="coerce")
        bad = df[(v < lo) | (v > hi)]
        if len(bad):
            key = [
                c
                for c in ("region_code", "kommunenummer", "year", "age_group", "alternative", "periode", "hendelse")
                if c in df
            ]
            items = [
                f"{_fmt_int(r[col]) if float(r[col]).is_integer() else r[col]} "
                f"({' '.join(str(r[k]) for k in key)}, row {i + 2})"
                for i, r in bad.head(MAX_LIST).iterrows()
            ]
            fails.append(
                Failure(
                    "range",
                    f"{col} outside {_fmt_int(lo)}–{_fmt_int(hi)}: "
                    + _listing(items)
                    + (f" ({len(bad)} rows)" if len(bad) > MAX_LIST else ""),
                )
            )

    if (ys := expect.get("years")) and ys["column"] in df:
        present = {int(y) for y in df[ys["column"]].dropna().unique()}
        wanted = _vintage_years(vintage) if ys.get("from_vintage") else None
        if wanted is None and "from" in ys:
            wanted = list(range(ys["from"], ys["to"] + 1))
        if wanted is not None:
            if missing := sorted(set(wanted) - present):
                fails.append(Failure("coverage", f"years missing: {_years(missing)} (expected {_years(wanted)})"))
            if extra := sorted(present - set(wanted)):
                fails.append(Failure("coverage", f"unexpected years: {_years(extra)} (expected {_years(wanted)})"))
        if "min" in ys and (old := sorted(y for y in present if y < ys["min"])):
            fails.append(Failure("coverage", f"years before {ys['min']}: {_years(old)}"))

    if reg := expect.get("regions"):
        f2, n2 = _check_regions(df, reg, division)
        fails += f2
        notes += n2

    for g in expect.get("grid", []):
        if g["column"] not in df or not all(b in df for b in g["by"]):
            continue
        want = set(g["values"])
        gaps = []
        for keys, sub in df.groupby(g["by"], sort=True):
            if absent := sorted(want - set(sub[g["column"]])):
                keys = keys if isinstance(keys, tuple) else (keys,)
                gaps.append(f"{' '.join(map(str, keys))}: {', '.join(absent)}")
        if gaps:
            fails.append(Failure("coverage", f"{g.get('label', g['column'])} missing for " + _listing(gaps)))

    for s in expect.get("sums", []):
        fails += _check_sum(df, s, division.fylker)
    return fails, notes


def _present_codes(df: pd.DataFrame, code_col: str, value: str | None) -> set[str]:
    """Codes with data: rows exist and (if a value column is given) the total is not zero."""
    if value and value in df:
        tot = pd.to_numeric(df[value], errors="coerce").groupby(df[code_col]).sum()
        return set(tot[tot != 0].index.astype(str))
    return set(df[code_col].astype(str))


def _names(df: pd.DataFrame, code_col: str) -> dict[str, str]:
    for c in ("region_name", "kommunenavn", "kommune", "region"):
        if c in df and c != code_col:
            return dict(zip(df[code_col].astype(str), df[c].astype(str), strict=False))
    return {}


def _check_regions(df: pd.DataFrame, reg: dict, division: Division) -> tuple[list[Failure], list[str]]:
    fails: list[Failure] = []
    notes: list[str] = []
    col = reg["code"]
    if col not in df:
        return fails, notes
    value = reg.get("value")
    all_fylker = division.fylker
    file_names = _names(df, col)
    groups: list[tuple[int | None, pd.DataFrame]] = [(None, df)]
    if reg.get("per") and reg["per"] in df:
        groups = [(int(y), sub) for y, sub in df.groupby(reg["per"], sort=True)]

    klass, why = (None, None)
    if reg.get("kommuner"):
        klass, why = division.kommuner()
        if klass is not None and reg.get("fylke"):
            klass = klass[klass["fylke_code"] == reg["fylke"]]
    knames = dict(zip(klass["kommune_code"], klass["kommune_name"], strict=False)) if klass is not None else {}

    missing_k: dict[tuple, list[int | None]] = {}
    missing_f: dict[tuple, list[int | None]] = {}
    unknown_k: dict[tuple, list[int | None]] = {}
    unknown_f: dict[tuple, list[int | None]] = {}
    no_land: list[int | None] = []
    skipped_years: list[int | None] = []
    for year, sub in groups:
        present = _present_codes(sub, col, value)
        levels = {c: _level(c) for c in present}
        if odd := sorted(c for c, lv in levels.items() if lv == "?"):
            fails.append(
                Failure(
                    "coverage", f"region codes of unknown form{'' if year is None else f' in {year}'}: " + _listing(odd)
                )
            )
        fy = {c for c, lv in levels.items() if lv == "fylke"}
        ko = {c for c, lv in levels.items() if lv == "kommune"}
        harmonised = True
        if year is not None and year < FIRST_YEAR_2024_DIVISION:
            # Before the 2024 division, only data given on 2024 codes (harmonised, as in the mirror)
            # can be checked against it; codes of the 2020 division (fylke 30, 38, 54) are not.
            harmonised = all(f in all_fylker for f in fy) and all(fylke_of(c) in all_fylker for c in ko)
        if reg.get("land") == "required" and "0" not in present:
            no_land.append(year)
        if reg.get("fylker") and harmonised:
            if u := tuple(sorted(fy - set(all_fylker))):
                unknown_f.setdefault(u, []).append(year)
            if reg["fylker"] == "all" and (m := tuple(sorted(set(all_fylker) - fy))):
                missing_f.setdefault(m, []).append(year)
        if reg.get("kommuner"):
            outside = {c for c in ko if fylke_of(c) != reg["fylke"]} if reg.get("fylke") else set()
            if outside:
                unknown_k.setdefault(tuple(sorted(outside)), []).append(year)
            if not harmonised:
                skipped_years.append(year)
                continue
            if klass is None:
                continue
            if u := tuple(sorted(ko - set(knames) - outside)):
                unknown_k.setdefault(u, []).append(year)
            if reg["kommuner"] == "all" and (m := tuple(sorted(set(knames) - ko))):
                missing_k.setdefault(m, []).append(year)

    def when(years):
        years = [y for y in years if y is not None]
        return f" for {_years(years)}" if years else ""

    if no_land:
        fails.append(Failure("coverage", f"no row for Norway (region code 0){when(no_land)}"))
    for codes, years in unknown_f.items():
        fails.append(Failure("coverage", f"unknown fylke code(s){when(years)}: " + _listing(list(codes))))
    for codes, years in missing_f.items():
        fails.append(
            Failure("coverage", f"fylker missing{when(years)}: " + _listing([f"{c} {all_fylker[c]}" for c in codes]))
        )
    scope = f" of fylke {reg['fylke']}" if reg.get("fylke") else ""
    for codes, years in unknown_k.items():
        fails.append(
            Failure(
                "coverage",
                f"unknown kommune code(s){when(years)} (not a kommune{scope} in the 2024 "
                "classification): " + _listing([f"{c} {file_names.get(c, '')}".strip() for c in codes]),
            )
        )
    for codes, years in missing_k.items():
        fails.append(
            Failure(
                "coverage",
                f"kommuner{scope} missing{when(years)}: "
                + _listing([f"{c} {knames.get(c, '')}".strip() for c in codes]),
            )
        )
    if reg.get("kommuner") and klass is None:
        notes.append(f"kommune coverage not checked: {why}")
    if skipped_years:
        notes.append(
            f"region coverage for {_years(skipped_years)} not checked (codes of an earlier division; "
            "the offline classification is the 2024 division)"
        )
    return fails, notes


def _check_sum(df: pd.DataFrame, s: dict, fylker: dict[str, str]) -> list[Failure]:
    col, value, by = s["code"], s["value"], list(s.get("by", []))
    if col not in df or value not in df or not all(b in df for b in by):
        return []
    d = df[[col, value] + by].copy()
    d[col] = d[col].astype(str)
    d["_lv"] = d[col].map(_level)
    d[value] = pd.to_numeric(d[value], errors="coerce")
    parts = d[d["_lv"] == s["parts"]].copy()
    wholes = d[d["_lv"] == s["whole"]].copy()
    if parts.empty or wholes.empty:
        return []
    if s["whole"] == "fylke":
        parts["_w"] = parts[col].map(fylke_of)
    else:
        if s.get("when_complete") and set(fylker) - set(parts[col]):
            return []
        parts["_w"] = "0"
    got = parts.groupby(["_w"] + by)[value].sum()
    ref = wholes.rename(columns={col: "_w"}).set_index(["_w"] + by)[value]
    both = pd.concat({"parts": got, "whole": ref}, axis=1, join="inner")
    diff = (both["parts"] - both["whole"]).abs()
    bad = both[diff > s.get("tolerance", 0)]
    if bad.empty:
        return []
    items = [
        f"{' '.join(map(str, k if isinstance(k, tuple) else (k,)))}: {s['parts']} sum {_fmt_int(r['parts'])}, "
        f"{s['whole']} {_fmt_int(r['whole'])}"
        for k, r in bad.head(3).iterrows()
    ]
    more = f" … ({len(bad)} groups in all)" if len(bad) > 3 else ""
    label = {"kommune": "kommuner", "fylke": "fylker"}[s["parts"]]
    target = "their fylke" if s["whole"] == "fylke" else ("Norway" if s["whole"] == "land" else s["whole"])
    tol = f" (tolerance {s['tolerance']})" if s.get("tolerance") else ""
    return [Failure("invariant", f"{label} do not sum to {target}{tol}: " + "; ".join(items) + more)]
