"""Shaping SSB's parsed JSON-stat answers (columns `<dim>`, `<dim>_label`, `value`, `status`) into
tidy tables. Pure data code (no network), shared by the SSB dataset modules."""

from __future__ import annotations

import re

import pandas as pd

# SSB's symbols for a cell without a number (SSB's standard «Symboler i tabeller», as printed in
# table notes, e.g. the real 07221 body: ".. = Tallgrunnlag mangler").
STATUS_SYMBOLS = {
    "..": "Tallgrunnlag mangler",
    ".": "Tall kan ikke forekomme",
    ":": "Vises ikke av konfidensialitetshensyn",
    "…": "Oppgave mangler",
    "-": "Null",
}


def strip_region_prefix(code: str) -> str:
    """`F-33` -> `33`, `K-3301` -> `3301`, `K_3301` -> `3301`; national `0` stays `0`."""
    return re.sub(r"^[A-Z][-_.]", "", str(code))


def with_symbols(values: pd.Series, status: pd.Series, fmt=None) -> pd.Series:
    """Values as SSB shows them in a table: the number, or SSB's symbol where there is none."""
    fmt = fmt or (lambda v: v)
    return pd.Series(
        [
            s if (isinstance(s, str) and s) else ("" if pd.isna(v) else fmt(v))
            for v, s in zip(values, status, strict=False)
        ],
        index=values.index,
        dtype=object,
    )


def region_level(code: str) -> str:
    return "land" if code == "0" else ("fylke" if len(code) == 2 else "kommune")


def _norway(code: str, label: str) -> bool:
    return code in {"0", "00", "0000"} or str(label).strip().lower() in {"hele landet", "landet i alt"}


def regions(d: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """Adds region_code (prefix stripped, Norway = "0"), region_level and region_name."""
    labels = d["Region_label"] if "Region_label" in d else d["Region"]
    d["region_code"] = [
        ("0" if _norway(c, lab) else strip_region_prefix(c)) for c, lab in zip(d["Region"], labels, strict=True)
    ]
    d["region_level"] = d["region_code"].map(region_level)
    ssb_names = [re.sub(r"^\s*[A-Z]?[-_.]?\d+\s+", "", str(lab)).strip() for lab in labels]
    d["region_name"] = [region_names.get(c, n or c) for c, n in zip(d["region_code"], ssb_names, strict=False)]
    return d


def no_symbols(d: pd.DataFrame, what: str) -> None:
    """ValueError when a cell carries an SSB status symbol where the dataset needs numbers."""
    sym = d[d["status"] != ""]
    if len(sym):
        r = sym.iloc[0]
        raise ValueError(
            f"{len(sym)} cell(s) of {what} carry an SSB status symbol instead of a number "
            f"(first: region {r['Region']}, {r.get('Tid', '')}: {r['status']!r} = "
            f"{STATUS_SYMBOLS.get(r['status'], 'ukjent symbol')})"
        )


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
            out.append(
                f"{'/'.join(map(str, key))}: 0 in {zeros[0]}–{zeros[-1]} ({len(zeros)} years) "
                f"but real values in {real[0]}–{real[-1]}"
            )
    return out


LONG_COLUMNS = ["region_level", "region_code", "region_name", "period"]


def tidy_long(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """The generic tidy form of an SSB table: region_level, region_code, region_name, period, then
    per other variable `<id>` (code) and `<id>_label`, then `value` (NaN where SSB has no number)
    and `status` (SSB's symbol: ".." Tallgrunnlag mangler, "." Tall kan ikke forekomme,
    ":" Vises ikke av konfidensialitetshensyn; "" where there is a number)."""
    missing = [c for c in ("Region", "Tid", "value", "status") if c not in df]
    if missing:
        raise KeyError(f"the answer has no {', '.join(missing)} (its columns: {', '.join(map(str, df.columns))})")
    d = regions(df.copy(), region_names)
    d = d.rename(columns={"Tid": "period"})
    skip = set(LONG_COLUMNS) | {"Region", "Region_label", "Tid_label", "value", "status"}
    other = [c for c in d.columns if c not in skip]
    return d[LONG_COLUMNS + other + ["value", "status"]].reset_index(drop=True)
