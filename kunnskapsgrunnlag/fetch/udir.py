"""Udir's statistics portal (gjennomføring i videregående opplæring), report API.

The API (`https://statistikkportalen.udir.no/api/rapportering/rest/v1/…`) is not documented for
outside users. What this module relies on is taken from real recorded answers
(../shared/data/api-responses/udir/, written by a fetch script in VirtualAiCorp/NMBU-sammenligning):

- `GET …/Statistikk/VGO/GjennomfoeringV/1/1/data?radSti=(-12)_(-12.*)&filter=…&inkluderKoder=true`
  answers JSON: `metadata.columns` is a list of column levels (each a list of
  `{name, tekstId_kolonne, columnCount}`), `rows[]` are `{navn, kode, id, data[]}` with numbers
  as strings with a decimal comma and "" where no number is published.
- `GET …/filterVerdier` lists the valid ids per filter (`TidID` 201806 = the 2018 cohort,
  `EnhetID` -20 = Buskerud ( - 2019), `ProgramomraadeID` -10 = all programmes, …).
- The filter is the sub-filters in alphabetical order joined with `_`, several values of one
  sub-filter joined with `_` inside its parentheses (e.g. `TidID(201906_201806)`).
- Cohorts up to 2019 are reported on the pre-2020 fylker.

The column levels of this report, read from the real body: kull, programme (two levels),
gender, indicator (two levels), measure ("Prosent").
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import requests

from ..errors import ResponseShapeError

UDIR_API = "https://statistikkportalen.udir.no/api/rapportering/rest/v1/"
_MISSING = {"", "-", ".", "*"}  # "*" = suppressed (skjermet), "", "-" and "." = no number
LEVELS = ["kull", "programomraade_hoved", "programomraade", "kjonn", "indikator_hoved", "indikator", "maal"]
TIDY_COLUMNS = [
    "enhet_kode",
    "enhet_navn",
    "enhet_id",
    "kull",
    "programomraade",
    "kjonn",
    "indikator",
    "maal",
    "verdi",
    "status",
]


def cohort_id(cohort: int | str) -> str:
    """Udir's TidID of a cohort: the 2018 cohort (started Vg1 in autumn 2018) is `201806`."""
    s = str(cohort)
    if re.fullmatch(r"\d{6}", s):
        return s
    if not re.fullmatch(r"\d{4}", s):
        raise ValueError(f"Udir cohort must be a year (2018) or a TidID (201806), got {cohort!r}")
    return f"{s}06"


def query_url(resolved: dict) -> str:
    """The exact GET URL of a resolved Udir query."""
    from urllib.parse import urlencode

    return resolved["url"] + ("?" + urlencode(resolved["params"], safe="()_*-.,") if resolved.get("params") else "")


def _number(v) -> tuple[float, str]:
    s = re.sub(r"\s", "", str(v if v is not None else ""))
    if s in _MISSING:
        return np.nan, s or ""
    try:
        return float(s.replace(",", ".")), ""
    except ValueError:
        raise ValueError(f"cell {v!r} is not a number") from None


def read_report_json(body, dataset: str, url: str) -> pd.DataFrame:
    """Parse the report API's JSON answer into the tidy long form (TIDY_COLUMNS).

    One row per unit (Hele landet, fylke) and column; `verdi` is a number (NaN where Udir shows
    none), `status` keeps what Udir showed instead ("" empty, "*" suppressed)."""

    def bad(why: str):
        keys = sorted(body)[:10] if isinstance(body, dict) else type(body).__name__
        return ResponseShapeError(
            f"dataset {dataset!r}: the answer of {url} is not Udir's report JSON ({why}; top-level keys: {keys})"
        )

    if isinstance(body, (bytes, str)):
        raise bad("a text body, not JSON (the CSV form is not used)")
    if not (isinstance(body, dict) and isinstance(body.get("metadata"), dict) and isinstance(body.get("rows"), list)):
        raise bad("`metadata.columns` and `rows[].data` are required")
    levels = body["metadata"].get("columns")
    if not isinstance(levels, list) or not levels:
        raise bad("`metadata.columns` is missing or empty")
    leaves: list[list[str]] = []
    for lvl in levels:
        names = []
        for c in lvl:
            if not isinstance(c, dict) or "name" not in c:
                raise bad("a column entry without `name`")
            names += [str(c["name"])] * int(c.get("columnCount", 1) or 1)
        leaves.append(names)
    width = len(leaves[0])
    if any(len(x) != width for x in leaves):
        raise bad(f"column levels of different widths {[len(x) for x in leaves]}")
    if len(leaves) != len(LEVELS):
        raise bad(f"{len(leaves)} column levels, expected {len(LEVELS)} ({', '.join(LEVELS)})")
    records = []
    for r in body["rows"]:
        data = r.get("data") if isinstance(r, dict) else None
        if not isinstance(data, list) or len(data) != width:
            row = repr(r.get("navn") if isinstance(r, dict) else r)
            raise bad(f"row {row} has {len(data) if isinstance(data, list) else 'no'} data cells for {width} columns")
        for j, cell in enumerate(data):
            try:
                verdi, status = _number(cell)
            except ValueError as exc:
                raise bad(f"row {r.get('navn')!r}: {exc}") from None
            rec: dict[str, Any] = {
                "enhet_kode": str(r.get("kode", "")),
                "enhet_navn": str(r.get("navn", "")),
                "enhet_id": str(r.get("id", "")),
            }
            rec.update({name: leaves[k][j] for k, name in enumerate(LEVELS)})
            rec["kull"] = int(rec["kull"]) if str(rec["kull"]).isdigit() else rec["kull"]
            rec.update(verdi=verdi, status=status)
            records.append(rec)
    if not records:
        raise bad("no rows")
    return pd.DataFrame.from_records(records)[TIDY_COLUMNS]


def fetch_gjennomforing(
    resolved: dict, dataset: str = "gjennomforing_udir", session: requests.Session | None = None, timeout: int = 30
) -> pd.DataFrame:
    s = session or requests.Session()
    url = query_url(resolved)
    resp = s.get(resolved["url"], params=resolved.get("params"), timeout=timeout)
    resp.raise_for_status()
    try:
        body = resp.json()
    except ValueError:
        raise ResponseShapeError(
            f"dataset {dataset!r}: the answer of {url} is not JSON "
            f"(content-type {resp.headers.get('content-type', '?')!r}, "
            f"first bytes {resp.content[:40]!r})"
        ) from None
    return read_report_json(body, dataset, url)
