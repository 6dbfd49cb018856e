"""Fetch: catalogue -> (online API | offline mirror | published values | file drop) -> data/raw.

`fetch_all` goes through the catalogue (config/datasets.yml). For each dataset it tries, in
order: the online API (when online), the offline mirror (when given), and otherwise records the
dataset as missing with the exact query that would fetch it. Every route validates the tidy
table against the dataset's schema before it is stored.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import rawstore
from ..config import Settings, load_catalogue, load_project
from . import mirror as mirror_mod
from . import ssb, udir
from .query import ResponseShapeError, TemplateError, resolve_query


@dataclass
class FetchResult:
    dataset: str
    status: str  # ok | missing
    source: str  # online | mirror | published | manual | -
    detail: str


def network_available(host: str = "data.ssb.no", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class PlannedRequest:
    """One HTTP request the online route would send for a dataset (what `fetch --dry-run` prints)."""
    dataset: str
    method: str
    url: str
    body: dict | None = None
    get_url: str | None = None  # the same request as a GET URL (SSB), for reading and replaying


def plan_requests(name: str, spec: dict, settings: Settings) -> list[PlannedRequest]:
    """Every request the online route sends for a dataset and configuration (no network)."""
    prov = spec.get("provider")
    if prov == "ssb":
        return [PlannedRequest(name, "POST", ssb.data_url(spec["table"]), ssb.post_body(q), ssb.query_url(spec["table"], q))
                for q in resolve_query(spec, settings)]
    if prov == "udir":
        r = resolve_query(spec, settings)
        return [PlannedRequest(name, "GET", udir.query_url(r))]
    return []


def how_to_fetch(spec: dict, settings: Settings) -> str:
    prov = spec["provider"]
    if prov in {"ssb", "udir"}:
        try:
            reqs = plan_requests(spec.get("name", "?"), spec, settings)
        except TemplateError as exc:
            return f"(spørringen kan ikke fylles ut: {exc})"
        return " + ".join("GET " + (r.get_url or r.url) for r in reqs)
    if prov == "manual":
        return f"Fyll ut {spec['drop']} etter formatet i docs/file-drops.md og kjør `kunnskapsgrunnlag fetch` på nytt."
    if prov == "kartverket":
        return f"Last ned fra Geonorge: {spec.get('url', '')}"
    if prov == "transcription":
        return spec.get("online_note", "Transkriberes fra kildene som er oppgitt per rad.")
    if prov == "published" and spec.get("online_dataset"):
        return f"Online for andre år: datasettet {spec['online_dataset']} (config/datasets.yml)."
    return "-"


def _base_meta(spec: dict) -> dict:
    return {
        "title": spec.get("title", ""),
        "provider": spec["provider"],
        "table": spec.get("table"),
        "licence": spec.get("licence", ""),
        "vintage": spec.get("vintage", "na"),
    }


def _store_validated(settings: Settings, name: str, df: pd.DataFrame, meta: dict, file_label: str) -> dict:
    from .. import schemas  # pandera is slow to import; only needed when something is stored

    df = schemas.validate(name, df, file_label)
    return rawstore.store_frame(settings.raw_dir, name, df, meta)


def fetch_online(settings: Settings, name: str, spec: dict, api=None) -> dict:
    names = load_project()["regions"]
    if spec["provider"] == "ssb":
        queries = resolve_query(spec, settings)
        url = ssb.query_url(spec["table"], queries)
        df = ssb.fetch_table(spec["table"], queries, api=api, dataset=name)
        try:
            tidy = ssb.TIDY.get(name, ssb.tidy_generic)(df, names)
        except (ValueError, KeyError) as exc:
            raise ResponseShapeError(f"dataset {name!r} (SSB table {spec['table']}), answer of {url}: {exc}") from None
        meta = {**_base_meta(spec), "source": {"kind": "online", "url": url}}
        return _store_validated(settings, name, tidy, meta, url)
    if spec["provider"] == "udir":
        resolved = resolve_query(spec, settings)
        url = udir.query_url(resolved)
        df = udir.fetch_gjennomforing(resolved, name)
        meta = {**_base_meta(spec), "source": {"kind": "online", "url": url}}
        return _store_validated(settings, name, df, meta, url)
    raise NotImplementedError(f"no online fetcher for provider {spec['provider']!r}")


READER_SHA = rawstore.sha256_file(Path(__file__).with_name("mirror.py"))


def _unchanged(settings: Settings, name: str, key: str, value) -> dict | None:
    """The current entry, if it was made from exactly the same source by the same reader code
    (and still verifies): re-importing it would write the identical file again."""
    try:
        cur = rawstore.current_entry(settings.raw_dir, name)
    except rawstore.MissingData:
        return None
    src = cur.get("source", {})
    if cur.get("status") != "ok" or src.get(key) != value or src.get("reader_sha256", READER_SHA) != READER_SHA:
        return None
    rawstore.verified_path(settings.raw_dir, name)  # a tampered file is reported, not silently kept
    return cur


def fetch_from_mirror(settings: Settings, name: str, spec: dict, mirror: Path, online_error: str | None = None) -> dict:
    m = spec["mirror"]
    files = [Path(mirror) / f for f in m["files"]]
    for f in files:
        if not f.exists():
            raise FileNotFoundError(f"mirror file {f} for dataset {name!r} not found")
    shas = [rawstore.sha256_file(f) for f in files]
    if not online_error and (cur := _unchanged(settings, name, "mirror_sha256", shas)):
        return cur
    meta = {
        **_base_meta(spec),
        "source": {
            "kind": "mirror",
            "mirror_files": [str(f) for f in files],
            "mirror_sha256": shas,
            "reader_sha256": READER_SHA,
            "provenance": str(Path(mirror) / m["provenance"]) if m.get("provenance") else None,
            "upstream": m.get("upstream"),
            "coverage": m.get("coverage"),
        },
    }
    if online_error:
        meta["online_error"] = online_error  # why the online route was not used
    if spec["provider"] == "kartverket":
        return rawstore.store(settings.raw_dir, name, files[0].read_bytes(), files[0].suffix, meta)
    df = mirror_mod.READERS[name](files, load_project()["regions"])
    return _store_validated(settings, name, df, meta, str(files[0]))


def fetch_published(settings: Settings, name: str, spec: dict) -> dict:
    path = settings.root / spec["file"]
    sha = rawstore.sha256_file(path)
    if cur := _unchanged(settings, name, "file_sha256", sha):
        return cur
    df = pd.read_csv(path, dtype=str)
    meta = {**_base_meta(spec), "source": {"kind": "published", "file": spec["file"], "file_sha256": sha,
            "note": "Verdier slik de er trykt i R1023460 (februar 2026), transkribert av prosjektet."}}
    return _store_validated(settings, name, df, meta, str(path))


def fetch_manual(settings: Settings, name: str, spec: dict) -> dict | None:
    drop = settings.root / spec["drop"]
    if not drop.exists():
        return None
    sha = rawstore.sha256_file(drop)
    if cur := _unchanged(settings, name, "drop_sha256", sha):
        return cur
    df = pd.read_csv(drop, dtype=str)
    meta = {**_base_meta(spec), "source": {"kind": "manual", "file": spec["drop"], "drop_sha256": sha}}
    return _store_validated(settings, name, df, meta, str(drop))


def fetch_dataset(settings: Settings, name: str, spec: dict, *, online: bool, mirror: Path | None, api=None) -> FetchResult:
    prov = spec["provider"]
    errors: list[str] = []
    if prov == "published":
        e = fetch_published(settings, name, spec)
        return FetchResult(name, "ok", "published", e["file"])
    if prov == "manual":
        e = fetch_manual(settings, name, spec)
        if e:
            return FetchResult(name, "ok", "manual", e["file"])
        errors.append(f"ingen fil i {spec['drop']}")
    if online and prov in {"ssb", "udir"}:
        try:
            e = fetch_online(settings, name, spec, api=api)
            return FetchResult(name, "ok", "online", e["file"])
        except (ssb.InvalidQuery, ResponseShapeError):
            raise  # a wrong catalogue query or an answer we cannot read is an error to fix, not to paper over
        except TemplateError as exc:
            errors.append(f"spørringen kan ikke fylles ut: {exc}")
        except Exception as exc:  # network or API failure: fall back to the mirror
            errors.append(f"online-feil: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    if mirror is not None and spec.get("mirror"):
        e = fetch_from_mirror(settings, name, spec, mirror, "; ".join(errors) or None)
        return FetchResult(name, "ok", "mirror", e["file"] + (f" (online failed: {errors[0][:80]})" if errors else ""))
    if not online and prov in {"ssb", "udir"}:
        errors.append("uten nett (offline)")
    if prov not in {"manual"} and not spec.get("mirror"):
        errors.append("ingen fil i offline-speilet")
    reason = "; ".join(errors) or "ingen kilde tilgjengelig"
    entry = rawstore.record_missing(settings.raw_dir, name, reason, how_to_fetch(spec, settings), _base_meta(spec))
    if entry.get("status") == "ok":
        return FetchResult(name, "ok", "earlier", entry["file"] + " (kept; " + reason + ")")
    return FetchResult(name, "missing", "-", reason)


def fetch_all(
    settings: Settings,
    *,
    online: bool,
    mirror: Path | None,
    only: list[str] | None = None,
    on_result: Callable[[FetchResult], None] | None = None,
    api=None,
) -> list[FetchResult]:
    catalogue = load_catalogue()
    unknown = sorted(set(only or []) - set(catalogue))
    if unknown:
        raise KeyError(f"Unknown dataset(s) {unknown}; valid: {sorted(catalogue)}")
    if mirror is not None and not Path(mirror).is_dir():
        raise FileNotFoundError(f"Mirror folder {mirror} does not exist")
    results = []
    # The boundary/classification dataset first: the {kommuner} of other queries are read from it.
    ordered = sorted(catalogue.items(), key=lambda kv: kv[1].get("provider") != "kartverket")
    for name, spec in ordered:
        if only and name not in only:
            continue
        r = fetch_dataset(settings, name, spec, online=online, mirror=mirror, api=api)
        results.append(r)
        if on_result:
            on_result(r)
    return results
