"""Udir's statistics portal (gjennomføring i videregående opplæring).

The portal's report API first resolves a report page to its data endpoint, then serves CSV
(UTF-16) for a filter. Cohorts up to 2019 are reported on the pre-2020 fylker.
"""
from __future__ import annotations

import io

import pandas as pd
import requests


def query_url(spec: dict, cohort: int) -> str:
    q = spec["query"]
    return f"{q['url']} -> {{dataendepunkt}}.csv?radSti=*.*&filter=" + q["filter"].format(cohort=cohort)


def fetch_gjennomforing(spec: dict, cohort: int, session: requests.Session | None = None, timeout: int = 30) -> pd.DataFrame:
    s = session or requests.Session()
    q = spec["query"]
    page = s.get(q["url"], timeout=timeout)
    page.raise_for_status()
    meta = page.json()
    endpoint = meta.get("DataEndepunkt") or meta.get("dataEndepunkt") or meta.get("dataUrl")
    if not endpoint:
        raise ValueError(f"Udir: no data endpoint in the response of {q['url']}: keys {sorted(meta)}")
    resp = s.get(f"{endpoint}.csv", params={"radSti": "*.*", "filter": q["filter"].format(cohort=cohort)}, timeout=timeout)
    resp.raise_for_status()
    text = resp.content.decode("utf-16")
    return pd.read_csv(io.StringIO(text), sep=None, engine="python")
