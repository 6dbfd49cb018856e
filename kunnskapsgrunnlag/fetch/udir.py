"""Udir's statistics portal (gjennomføring i videregående opplæring).

The portal's report API first resolves a report page to its data endpoint, then serves CSV
(UTF-16) for a filter. Cohorts up to 2019 are reported on the pre-2020 fylker.

Response shapes (see tests/fixtures/online/README.md for the sources):
- `GET …/rest/v1/Rapportside/{kode}` answers `{"rappside": {"rapportElementer": [{"dataEndepunkt":
  "rest/v1/Statistikk/…/data", …}], "filterDefaultVerdier": {…}, …}}`; the endpoint is relative to
  the API root (`https://statistikkportalen.udir.no/api/rapportering/`).
- `GET {dataEndepunkt}.csv?radSti=…&filter=…` answers UTF-16, tab-separated text whose first line
  is `sep=<tab>`; numbers use a space as thousands separator and a decimal comma, and `*` marks a
  suppressed cell.
"""
from __future__ import annotations

import io
import re
from urllib.parse import urljoin

import numpy as np
import pandas as pd
import requests

_MISSING = {"", "-", ".", "*"}  # "*" = suppressed (skjermet), "", "-" and "." = no number


def query_url(spec: dict, cohort: int) -> str:
    q = spec["query"]
    return f"{q['url']} -> {{dataendepunkt}}.csv?radSti=*.*&filter=" + q["filter"].format(cohort=cohort)


def data_endpoint(page_url: str, meta: dict) -> str:
    """The absolute URL of a report page's data endpoint (from the Rapportside response)."""
    endpoint = None
    rappside = meta.get("rappside") if isinstance(meta, dict) else None
    if isinstance(rappside, dict):
        elements = rappside.get("rapportElementer") or []
        if elements and isinstance(elements[0], dict):
            endpoint = elements[0].get("dataEndepunkt")
    if not endpoint and isinstance(meta, dict):
        endpoint = meta.get("DataEndepunkt") or meta.get("dataEndepunkt") or meta.get("dataUrl")
    if not endpoint:
        keys = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise ValueError(f"Udir: no data endpoint (rappside.rapportElementer[0].dataEndepunkt) in the response of {page_url}: keys {keys}")
    if re.match(r"^https?://", endpoint):
        return endpoint
    if endpoint.startswith("/"):
        return urljoin(page_url, endpoint)
    root = page_url[: page_url.index("rest/")] if "rest/" in page_url else page_url.rsplit("/", 1)[0] + "/"
    return root + endpoint


def _to_number(values: pd.Series) -> pd.Series | None:
    """Norwegian-formatted numbers ("2 235", "81,0", "*") as numbers; None if a cell is not a number."""
    cleaned = values.map(lambda v: re.sub(r"\s", "", v))
    out = []
    for v in cleaned:
        if v in _MISSING:
            out.append(np.nan)
            continue
        try:
            out.append(float(v.replace(",", ".")))
        except ValueError:
            return None
    num = pd.Series(out, index=values.index, dtype=float)
    integral = not cleaned.str.contains(",", regex=False).any() and (num.dropna() % 1 == 0).all()
    return num.astype("Int64") if integral else num


def read_report_csv(content: bytes) -> pd.DataFrame:
    """Parse a CSV answer from the report API (UTF-16, `sep=` line, tab-separated, decimal comma).

    Label columns stay text (codes such as "06" keep their leading zero). Value columns, whose
    names are the filter values joined by dots (e.g. "2018.Alle kjønn.Fullført.Prosent"), become
    numbers: whole numbers as Int64, others as float; suppressed ("*") or empty cells become missing.
    """
    text = content.decode("utf-16").lstrip("\ufeff")
    lines = text.splitlines()
    sep = "\t"
    if lines and lines[0].lower().startswith("sep="):
        sep = lines[0][4:5] or "\t"
        lines = lines[1:]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise ValueError("Udir: the report API returned an empty table")
    df = pd.read_csv(io.StringIO("\n".join(lines)), sep=sep, dtype=str, keep_default_na=False)
    df.columns = [str(c).strip() for c in df.columns]
    df = df.apply(lambda s: s.str.strip())
    for col in df.columns:
        if "." in col:
            num = _to_number(df[col])
            if num is not None:
                df[col] = num
    return df


def fetch_gjennomforing(spec: dict, cohort: int, session: requests.Session | None = None, timeout: int = 30) -> pd.DataFrame:
    s = session or requests.Session()
    q = spec["query"]
    page = s.get(q["url"], timeout=timeout)
    page.raise_for_status()
    endpoint = data_endpoint(q["url"], page.json())
    resp = s.get(f"{endpoint}.csv", params={"radSti": "*.*", "filter": q["filter"].format(cohort=cohort)}, timeout=timeout)
    resp.raise_for_status()
    return read_report_csv(resp.content)
