"""Fetch: catalogue -> (online API | offline mirror | published values | file drop) -> data/raw.

`fetch_all` goes through the catalogue (config/datasets.yml). For each dataset it tries, in
order: the online API (when online), the offline mirror (when given), and otherwise records the
dataset as missing with the exact query that would fetch it. Every route validates the tidy
table against the schema and plausibility expectations of the dataset's module (`sources/`) before
it is stored; a file that fails is kept aside (`data/raw/<dataset>/rejected/`) and the previous
vintage stays current. The boundary dataset (the kommune classification) is fetched first, since
the coverage checks of the others read it.

A current raw file that was changed or deleted is restored from its source (mirror, drop,
transcription or API) and the result says so. A dataset pinned with `kunnskapsgrunnlag use` is
left as it is. Only network and HTTP failures of the online route fall back to the mirror
(`ONLINE_ERRORS`); every write to data/raw and its manifest is a `store.RawStore` method.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import requests

from .. import classification
from ..config import ConfigError, Settings, load_catalogue, load_project, valid_regions
from ..division import Division
from ..editions import resolve_vintage, used_by_edition
from ..errors import DataFileError, FetchRefused, ValidationError
from ..store import ManifestError, MissingData, RawDataError, RawStore, restore_hint, sha256_file
from . import query, ssb, udir
from .query import ResponseShapeError, TemplateError

BOUNDARY_DATASET = classification.BOUNDARY_DATASET  # the classification source; fetched first
PROVIDERS = {"ssb", "udir", "kartverket", "published", "manual", "transcription"}
# What makes the online route fall back to the mirror: the network or the API failed (connection,
# timeout, an HTTP error such as SSB's 400/429/503, a body that is not JSON). Anything else (a
# wrong query, an answer of another shape, a refused answer, a bug) is reported, never papered over.
ONLINE_ERRORS: tuple[type[BaseException], ...] = (requests.RequestException, OSError)
REQUIRED_KEYS = {"ssb": ["table", "query"], "udir": ["query"], "published": ["file"], "manual": ["drop"]}


@dataclass
class FetchResult:
    dataset: str
    status: str  # ok | missing | refused (failed its checks; previous vintage kept) | bad (cannot restore)
    source: str  # online | mirror | published | manual | earlier | pinned | -
    detail: str
    restored: str | None = None  # what was restored (a tampered or missing raw file), if anything


def network_available(host: str = "data.ssb.no", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def fylker(settings: Settings) -> dict[str, str]:
    """The 15 fylker of the 2024 division, code -> name (config/project.yml `regions`)."""
    return valid_regions(settings.root)


def division(settings: Settings) -> Division:
    """The fylker and the classification's kommuner the checks of a new vintage compare with."""
    return classification.division_2024(settings.raw_dir, fylker(settings))


def _kommuner(settings: Settings, dataset: str) -> list[str]:
    try:
        df = classification.kommuner(settings.raw_dir, settings.edition, settings.region)
    except (classification.ClassificationError, RawDataError, MissingData, FileNotFoundError, KeyError) as exc:
        raise TemplateError(
            f"dataset {dataset!r}: {{kommuner}} needs the kommune classification for {settings.edition} "
            f"(fylke {settings.region}): {exc}. Fetch `kommuner_2024` first "
            "(`kunnskapsgrunnlag fetch --dataset kommuner_2024 --mirror ../shared/data`)."
        ) from None
    codes = list(df["kommune_code"])
    if not codes:
        raise TemplateError(f"dataset {dataset!r}: the classification has no kommuner for fylke {settings.region}")
    return codes


def region_lists(settings: Settings) -> query.RegionLists:
    """The codes of the query placeholders of a configuration: {fylker} all 15 fylker, {kommuner}
    the kommuner of its fylke in the classification of its edition year (read when a query uses it)."""
    return {
        "fylker": lambda dataset: sorted(fylker(settings)),
        "kommuner": lambda dataset: _kommuner(settings, dataset),
    }


def resolve_query(spec: dict, settings: Settings):
    """The concrete request(s) of a catalogue entry for a configuration (`query.resolve_query` with
    the configuration's fylker and kommuner)."""
    return query.resolve_query(spec, settings, region_lists(settings))


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
        table = spec["table"]
        return [
            PlannedRequest(name, "POST", ssb.data_url(table), ssb.post_body(q), ssb.query_url(table, q))
            for q in resolve_query(spec, settings)
        ]
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "(no message)"


def _base_meta(spec: dict) -> dict:
    return {
        "title": spec.get("title", ""),
        "provider": spec["provider"],
        "table": spec.get("table"),
        "licence": spec.get("licence", ""),
        "vintage": spec.get("vintage", "na"),
    }


def check_spec(name: str, spec: dict) -> None:
    """A catalogue entry has what fetch needs; else one message naming the file, dataset and key."""
    where = "config/datasets.yml"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: dataset {name!r} must be a mapping of keys (provider, title, …)")
    prov = spec.get("provider")
    if prov not in PROVIDERS:
        got = "has no `provider`" if prov is None else f"has unknown provider {prov!r}"
        raise ConfigError(f"{where}: dataset {name!r} {got}; valid providers: {', '.join(sorted(PROVIDERS))}")
    for key in REQUIRED_KEYS.get(prov, []):
        if key not in spec:
            raise ConfigError(f"{where}: dataset {name!r} (provider {prov}) has no `{key}`")
    m = spec.get("mirror")
    if m is not None and not (isinstance(m, dict) and isinstance(m.get("files"), list) and m["files"]):
        raise ConfigError(f"{where}: dataset {name!r}: `mirror` needs a non-empty `files:` list")


def _header(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().strip()[:200]
    except OSError:
        return "?"


def read_source(name: str, path: Path, read: Callable[[], pd.DataFrame], what: str = "file") -> pd.DataFrame:
    """Run `read` (a CSV reader of `path`), turning unreadable input into one DataFileError that
    names the dataset and the file and says what to do (never a traceback)."""
    path = Path(path)
    fix = "fix the file and run `kunnskapsgrunnlag fetch` again"
    try:
        if not path.is_file():
            raise DataFileError(f"{name}: {path}: {what} not found")
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{name}: {path}: cannot read the {what}: {exc.strerror or exc}") from None
    if not data.strip():
        raise DataFileError(
            f"{name}: {path}: the {what} is empty ({len(data)} bytes); expected a header row "
            f"and at least one data row; {fix}"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFileError(
            f"{name}: {path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}; "
            'probably Latin-1/Windows-1252). Save it as UTF-8 (in Excel: "CSV UTF-8") '
            "and run `kunnskapsgrunnlag fetch` again"
        ) from None
    head = data.decode("utf-8").lstrip("\ufeff").split("\n", 1)[0]
    if ";" in head and "," not in head:
        raise DataFileError(
            f"{name}: {path}: the columns are separated by semicolons (Excel with Norwegian "
            "settings); save it comma-separated (decimal point, not comma), as in "
            f"docs/file-drops.md, and run `kunnskapsgrunnlag fetch` again"
        )
    try:
        return read()
    except KeyError as exc:
        col = str(exc).strip("'\"")
        raise DataFileError(
            f"{name}: {path}: column {col!r} not found (the header is: {_header(path)}); "
            f"the {what} does not have the expected layout; {fix}"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{name}: {path}: no header row; {fix}") from None
    except pd.errors.ParserError as exc:
        why = str(exc).strip().splitlines()[-1][:200]
        raise DataFileError(f"{name}: {path}: not a valid CSV table ({why}); {fix}") from None
    except (ValueError, TypeError) as exc:
        raise DataFileError(f"{name}: {path}: cannot read: {str(exc).splitlines()[0][:200]}; {fix}") from None


def _refuse(settings: Settings, name: str, exc: ValidationError, payload: bytes, suffix: str, *, drop: bool = False):
    """Keep a refused file aside, add where and what to do to the message, and re-raise."""
    reason = str(exc)
    aside = RawStore(settings.raw_dir).reject(name, payload, suffix, reason)
    try:
        cur = RawStore(settings.raw_dir).current_entry(name)
    except (ManifestError, MissingData):
        cur = {}
    kept = (
        f"the current vintage ({cur['file']}) stays current"
        if cur.get("status") == "ok"
        else "the dataset stays as it was (no vintage of it is stored)"
    )
    where = f"kept aside as {aside}" if aside else "not kept aside (the raw folder cannot be written)"
    todo = (
        (
            f"fix the file and run `kunnskapsgrunnlag fetch` again, or withdraw it with "
            f"`kunnskapsgrunnlag drop remove {name}`"
        )
        if drop
        else "check the source and run `kunnskapsgrunnlag fetch` again"
    )
    exc.args = (f"{reason}\n{name}: refused, nothing stored: {kept}; the refused file is {where}. To go on: {todo}.",)
    raise exc


def _store_validated(
    settings: Settings,
    name: str,
    df: pd.DataFrame,
    meta: dict,
    file_label: str,
    original: tuple[bytes, str] | None = None,
) -> dict:
    from .. import plausibility, sources  # pandera is slow to import; only needed when something is stored

    try:
        checked = sources.validate(name, df, file_label, fylker=sorted(fylker(settings)))
        notes = plausibility.check_dataset(
            name, checked, sources.expectations(name), file_label, division(settings), meta.get("vintage")
        )
    except ValidationError as exc:
        payload, suffix = original or (df.to_csv(index=False, lineterminator="\n").encode("utf-8"), ".csv")
        _refuse(settings, name, exc, payload, suffix, drop=(meta.get("source") or {}).get("kind") == "manual")
    if notes:
        meta = {**meta, "checks_not_made": notes}
    # the query resolved for this configuration, read back by the notebooks (ctx.note_missing) from the manifest
    meta.setdefault("how_to_fetch", how_to_fetch(load_catalogue()[name], settings))
    return RawStore(settings.raw_dir).store_frame(name, checked, meta)


def _source(name: str):
    """The dataset's module (kunnskapsgrunnlag/sources/<name>.py); a dataset without one is an error."""
    from .. import sources  # pandera is slow to import; only needed when something is read or stored

    src = sources.get(name)
    if src is None:
        raise DataFileError(
            f"{name}: no dataset module kunnskapsgrunnlag/sources/{name}.py (its schema, "
            "expectations, mirror reader and online tidy function); see CONTRIBUTING.md"
        )
    return src


def fetch_online(settings: Settings, name: str, spec: dict, api=None) -> dict:
    names = load_project()["regions"]
    src = _source(name)
    if spec["provider"] == "ssb":
        queries = resolve_query(spec, settings)
        url = ssb.query_url(spec["table"], queries)
        df = ssb.fetch_table(spec["table"], queries, api=api, dataset=name)
    elif spec["provider"] == "udir":
        resolved = resolve_query(spec, settings)
        url = udir.query_url(resolved)
        df = udir.fetch_gjennomforing(resolved, name)
    else:
        raise NotImplementedError(f"no online fetcher for provider {spec['provider']!r}")
    if src.tidy_online is None:
        raise DataFileError(f"{name}: kunnskapsgrunnlag/sources/{name}.py has no online tidy function (`tidy_online`)")
    try:
        tidy = src.tidy_online(df, names)
    except (ValueError, KeyError) as exc:  # the answer is not shaped as the tidy function expects
        table = f" (SSB table {spec['table']})" if spec.get("table") else ""
        raise ResponseShapeError(f"dataset {name!r}{table}, answer of {url}: {exc}") from None
    meta = {
        **_base_meta(spec),
        "vintage": resolve_vintage(spec.get("vintage"), settings.edition_params),
        "source": {"kind": "online", "url": url},
    }
    return _store_validated(settings, name, tidy, meta, url)


def reader_sha(name: str) -> str:
    """sha256 of the code that turns the dataset's mirror files into its stored table: its module
    and the shared code of `sources/` its reader may be (`_ssb.py`, `_base.py`)."""
    from .. import sources

    folder = Path(sources.__file__).parent
    shared = sorted(p for p in folder.glob("_*.py") if not p.name.startswith("__"))
    shas = [sha256_file(p) for p in (folder / f"{name}.py", *shared)]
    return hashlib.sha256("\n".join(shas).encode("ascii")).hexdigest()


def _unchanged(settings: Settings, name: str, key: str, value, reader: str | None = None) -> dict | None:
    """The current entry, if it was made from exactly the same source by the same reader code
    (and still verifies): re-importing it would write the identical file again."""
    try:
        cur = RawStore(settings.raw_dir).current_entry(name)
    except MissingData:
        return None
    src = cur.get("source", {})
    if cur.get("status") != "ok" or src.get(key) != value or src.get("reader_sha256", reader) != reader:
        return None
    if RawStore(settings.raw_dir).file_state(cur):  # tampered or gone: read the source again (restore)
        return None
    return cur


def fetch_from_mirror(settings: Settings, name: str, spec: dict, mirror: Path, online_error: str | None = None) -> dict:
    m = spec["mirror"]
    files = [Path(mirror) / f for f in m["files"]]
    for f in files:
        if not f.is_file():
            raise DataFileError(
                f"{name}: mirror file {f} not found (is {mirror} the offline mirror? its README.md lists the folders)"
            )
    shas = [sha256_file(f) for f in files]
    src = _source(name)
    code_sha = reader_sha(name)
    if not online_error and (cur := _unchanged(settings, name, "mirror_sha256", shas, code_sha)):
        return cur
    meta = {
        **_base_meta(spec),
        "vintage": m.get("vintage") or resolve_vintage(spec.get("vintage"), settings.edition_params),
        "source": {
            "kind": "mirror",
            "mirror": str(mirror),  # the folder given to --mirror (store.restore_hint names it)
            "mirror_files": [str(f) for f in files],
            "mirror_sha256": shas,
            "reader_sha256": code_sha,
            "provenance": str(Path(mirror) / m["provenance"]) if m.get("provenance") else None,
            "upstream": m.get("upstream"),
            "coverage": m.get("coverage"),
        },
    }
    if online_error:
        meta["online_error"] = online_error  # why the online route was not used
    if src.kind == "boundaries":
        from .. import plausibility

        payload = files[0].read_bytes()
        try:
            plausibility.check_boundary_file(
                name, payload, str(files[0]), src.expectations.get("boundaries"), fylker(settings)
            )
        except ValidationError as exc:
            _refuse(settings, name, exc, payload, files[0].suffix)
        entry = RawStore(settings.raw_dir).store(name, payload, files[0].suffix, meta)
        classification._kommuner_from_raw.cache_clear()  # a new vintage of the classification
        return entry
    if src.read_mirror is None:
        raise DataFileError(
            f"{name}: config/datasets.yml lists mirror files but there is no mirror reader "
            f"for this dataset (`read_mirror` in kunnskapsgrunnlag/sources/{name}.py)"
        )
    read = src.read_mirror
    df = read_source(name, files[0], lambda: read(files, load_project()["regions"]), "mirror file")
    return _store_validated(settings, name, df, meta, str(files[0]))


def fetch_published(settings: Settings, name: str, spec: dict) -> dict:
    path = settings.root / spec["file"]
    if not path.is_file():
        raise DataFileError(f"{name}: {path}: transcription file not found (config/datasets.yml `file`)")
    sha = sha256_file(path)
    if cur := _unchanged(settings, name, "file_sha256", sha):
        return cur
    df = read_source(name, path, lambda: pd.read_csv(path, dtype=str, encoding="utf-8-sig"))
    meta = {
        **_base_meta(spec),
        "source": {
            "kind": "published",
            "file": spec["file"],
            "file_sha256": sha,
            "note": "Verdier slik de er trykt i R1023460 (februar 2026), transkribert av prosjektet.",
        },
    }
    return _store_validated(settings, name, df, meta, str(path), (path.read_bytes(), path.suffix))


def fetch_manual(settings: Settings, name: str, spec: dict) -> dict | None:
    drop = settings.root / spec["drop"]
    if not drop.exists():
        return None
    sha = sha256_file(drop)
    if cur := _unchanged(settings, name, "drop_sha256", sha):
        return cur
    df = read_source(name, drop, lambda: pd.read_csv(drop, dtype=str, encoding="utf-8-sig"), "file drop")  # Excel's BOM
    meta = {**_base_meta(spec), "source": {"kind": "manual", "file": spec["drop"], "drop_sha256": sha}}
    return _store_validated(settings, name, df, meta, str(drop), (drop.read_bytes(), drop.suffix))


def fetch_dataset(
    settings: Settings, name: str, spec: dict, *, online: bool, mirror: Path | None, api=None
) -> FetchResult:
    """Fetch one dataset; restore its current raw file from the source if it was changed or deleted."""
    check_spec(name, spec)
    raw = RawStore(settings.raw_dir)
    rec = raw.manifest().datasets.get(name)
    cur = rec.current.plain() if rec and rec.current else {}
    bad = raw.check_current(name)
    if rec and rec.pinned and cur.get("status") == "ok":
        if bad:
            return FetchResult(
                name,
                "bad",
                "pinned",
                f"{name}: {settings.raw_dir / cur['file']} (pinned with "
                f"`kunnskapsgrunnlag use`) is {bad}; run `kunnskapsgrunnlag use {name} latest` "
                "and fetch again, or pin another vintage (see `kunnskapsgrunnlag status`)",
            )
        return FetchResult(
            name,
            "ok",
            "pinned",
            f"{cur['file']} (pinned by `kunnskapsgrunnlag use`; "
            f"`kunnskapsgrunnlag use {name} latest` follows new vintages again)",
        )
    r = _fetch_dataset(settings, name, spec, online=online, mirror=mirror, api=api)
    if r.status == "ok" and (notes := raw.current_entry(name).get("checks_not_made")):
        r.detail += " (" + "; ".join(notes) + ")"
    if not bad:
        return r
    if r.status != "ok" or r.source == "earlier":
        why = r.detail.split("(kept; ", 1)[-1].rstrip(")") if r.source == "earlier" else r.detail
        return FetchResult(
            name,
            "bad",
            "-",
            f"{name}: the current raw file {settings.raw_dir / cur['file']} is {bad} "
            f"and no source is available to restore it from ({why}). " + restore_hint(name, cur),
        )
    new = raw.current_entry(name)
    if new.get("sha256") == cur.get("sha256"):
        ev = raw.last_event(name)
        aside = f"; the altered copy is kept as {ev['altered_copy']}" if ev.get("action") == "restore" else ""
        if bad != "tampered":  # a tampered file's restore is recorded by RawStore.store
            raw.record_restore(name, cur["file"], bad)
        r.restored = f"{cur['file']} ({bad})"
        r.detail = f"restored {cur['file']} from {r.source} (it was {bad}{aside})"
    else:
        r.restored = f"{cur['file']} ({bad})"
        r.detail = (
            f"{new['file']}: new vintage from {r.source}; the previous current file {cur['file']} "
            f"was {bad} and is left as it is"
        )
    return r


def _fetch_dataset(
    settings: Settings, name: str, spec: dict, *, online: bool, mirror: Path | None, api=None
) -> FetchResult:
    prov = spec["provider"]
    errors: list[str] = []
    if prov == "published":
        e = fetch_published(settings, name, spec)
        return FetchResult(name, "ok", "published", e["file"])
    if prov == "manual":
        dropped = fetch_manual(settings, name, spec)
        if dropped:
            return FetchResult(name, "ok", "manual", dropped["file"])
        errors.append(f"ingen fil i {spec['drop']}")
    if online and prov in {"ssb", "udir"}:
        try:
            e = fetch_online(settings, name, spec, api=api)
            return FetchResult(name, "ok", "online", e["file"])
        except (ssb.InvalidQuery, ResponseShapeError):
            raise  # a wrong catalogue query or an answer we cannot read is an error to fix, not to paper over
        except ValidationError:
            raise  # the answer failed its checks: refused (kept aside), not papered over by the mirror
        except TemplateError as exc:
            errors.append(f"spørringen kan ikke fylles ut: {exc}")
        except ONLINE_ERRORS as exc:  # network or HTTP failure only: fall back to the mirror
            errors.append(f"online-feil: {type(exc).__name__}: {_first_line(exc)}")
    if mirror is not None and spec.get("mirror"):
        e = fetch_from_mirror(settings, name, spec, mirror, "; ".join(errors) or None)
        return FetchResult(name, "ok", "mirror", e["file"] + (f" (online failed: {errors[0][:80]})" if errors else ""))
    if not online and prov in {"ssb", "udir"}:
        errors.append("uten nett (offline)")
    if prov not in {"manual"} and not spec.get("mirror"):
        errors.append("ingen fil i offline-speilet")
    reason = "; ".join(errors) or "ingen kilde tilgjengelig"
    entry = RawStore(settings.raw_dir).record_missing(name, reason, how_to_fetch(spec, settings), _base_meta(spec))
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
    """Fetch every catalogued dataset (or `only` these), the boundary dataset first.

    A dataset refused by its checks (or whose tampered file cannot be restored) does not stop the
    others; at the end `FetchRefused` is raised, carrying every result. Problems of the raw store
    itself (invalid manifest, read-only folder, full disk) stop at once.
    """
    catalogue = load_catalogue()
    unknown = sorted(set(only or []) - set(catalogue))
    if unknown:
        raise KeyError(f"Unknown dataset(s) {unknown}; valid: {sorted(catalogue)}")
    if mirror is not None and not Path(mirror).is_dir():
        raise FileNotFoundError(f"Mirror folder {mirror} does not exist")
    for name, spec in catalogue.items():
        check_spec(name, spec)
    RawStore(settings.raw_dir).manifest()  # an invalid manifest stops here, before anything is read
    # The boundary/classification dataset first: the {kommuner} of other queries are read from it.
    order = sorted(catalogue, key=lambda n: n != BOUNDARY_DATASET)
    results = []
    for name in order:
        if (only and name not in only) or not used_by_edition(catalogue[name], settings.edition_params):
            continue  # a projection round the edition does not use (editions.used_by_edition)
        try:
            r = fetch_dataset(settings, name, catalogue[name], online=online, mirror=mirror, api=api)
        except ssb.InvalidQuery:
            raise
        except ValidationError as exc:  # schema, plausibility or unreadable file: this dataset only
            r = FetchResult(name, "refused", "-", str(exc))
        results.append(r)
        if on_result:
            on_result(r)
    if any(r.status in {"refused", "bad"} for r in results):
        raise FetchRefused(results, online)
    return results


def withdraw_drop(settings: Settings, name: str) -> str:
    """`kunnskapsgrunnlag drop remove NAME`: stop using a file drop, without deleting anything
    (`RawStore.drop_remove`: the drop is moved to `withdrawn/`; if the current data came from it,
    the dataset becomes missing, with how to fetch it). Returns a sentence saying what happened."""
    catalogue = load_catalogue()
    drops = sorted(n for n, sp in catalogue.items() if sp.get("provider") == "manual")
    if name not in drops:
        raise RawDataError(f"{name} is not a file-drop dataset; file-drop datasets: {', '.join(drops)}")
    spec = catalogue[name]
    missing = {
        **_base_meta(spec),
        "reason": "fildroppet er trukket tilbake (`kunnskapsgrunnlag drop remove`)",
        "how_to_fetch": how_to_fetch(spec, settings),
    }
    return RawStore(settings.raw_dir).drop_remove(name, settings.root / spec["drop"], spec["drop"], missing)
