"""The immutable raw store (`data/raw/<dataset>/…`) and its manifest (`data/raw/manifest.json`).

This module is the only writer of the manifest. `RawStore(raw_dir)` holds every mutation, each one
method: `store` (a new vintage, or a tampered file restored), `record_missing`, `record_restore`,
`use` (`kunnskapsgrunnlag use`), `drop_remove` (`kunnskapsgrunnlag drop remove`) and `rebuild`
(`fetch --rebuild-manifest`); `reject` keeps a refused file aside without touching the manifest.
`fetch/` decides where data comes from and calls these methods; it never edits the manifest.

The manifest is typed (`Manifest` → `DatasetRecord` → `Entry`, `Event`; pydantic): a file that is
not a manifest is one clear `ManifestError`. Entries keep every provenance key fetch gives them.
Readers get plain dicts (the manifest's JSON form), as notebooks and the runner always did.

Every file written here is content-addressed (its sha256 is in its name and the manifest) and
never overwritten: a new vintage or a revised download is written beside the old file. Every
load verifies the sha256 against the manifest.

Safety nets (docs/troubleshooting.md, section "Data"):
- the manifest is written atomically (`atomic.write_bytes`), and the previous valid manifest is
  kept as `manifest.json.bak`; an invalid manifest is one clear `ManifestError` naming both, and
  `rebuild` reconstructs it from the files on disk (`fetch --rebuild-manifest`);
- a file that fails its checks is kept aside in `<dataset>/rejected/` with the reason (`reject`),
  never made current; a tampered file that `fetch` restores is moved to `<dataset>/tampered/`;
- a failed write (read-only folder, full disk) is a `StoreError`, and nothing half-written stays;
- every action on a dataset (restore, use, drop-remove, rebuild-manifest) is appended to its
  `events` list in the manifest.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer

from . import atomic
from .fmt import file_slug

MANIFEST = "manifest.json"
BACKUP = "manifest.json.bak"
ASIDE_DIRS = {"rejected", "tampered"}  # per-dataset folders of files that are never current


class RawDataError(RuntimeError):
    """A raw file is missing, tampered with or unreadable; the message names the file."""


class ManifestError(RawDataError):
    """data/raw/manifest.json is unreadable or not a manifest; the message says how to recover."""


class StoreError(RawDataError):
    """data/raw cannot be written (read-only, disk full, …); nothing was changed."""


class MissingData(LookupError):
    """The dataset is recorded as missing (no online or offline source was available)."""

    def __init__(self, dataset: str, entry: dict | None = None):
        self.dataset = dataset
        self.entry = entry or {}
        super().__init__(f"Dataset {dataset!r} is missing: {self.entry.get('reason', 'not fetched')}")


# --- the typed manifest -------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", validate_assignment=True)

    def plain(self) -> dict:
        """The JSON form (only the keys that were given or set)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Entry(_Model):
    """A stored vintage (status ok: file, sha256, provenance) or a missing dataset (status missing:
    reason, how_to_fetch). Provenance keys from fetch (title, provider, licence, source, …) are kept."""

    dataset: str | None = None
    status: Literal["ok", "missing"] | None = None
    file: str | None = None
    sha256: str | None = None
    vintage: Any = None  # a label ("2020-2026", "2024-runden"), as the catalogue gives it
    retrieved_at: str | None = None
    rows: int | None = None
    source: dict[str, Any] | None = None
    reason: str | None = None
    how_to_fetch: str | None = None
    checked_at: str | None = None


class Event(_Model):
    """An action on a dataset: restore, use, drop-remove, rebuild-manifest (with its details)."""

    at: str
    action: str


class Pinned(_Model):
    sha256: str
    at: str


class DatasetRecord(_Model):
    current: Entry | None = None
    history: list[Entry] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    pinned: Pinned | None = None

    @model_serializer(mode="wrap")
    def _drop_cleared(self, handler):
        out = handler(self)
        return {k: v for k, v in out.items() if not (k in ("current", "pinned") and v is None)}

    def add_event(self, action: str, **detail) -> None:
        self.events = [*self.events, Event(at=now_iso(), action=action, **detail)]


class Manifest(_Model):
    datasets: dict[str, DatasetRecord] = Field(default_factory=dict)

    def record(self, dataset: str) -> DatasetRecord:
        """The dataset's record, created (empty history) when there is none."""
        if dataset not in self.datasets:
            self.datasets = {**self.datasets, dataset: DatasetRecord(history=[])}
        return self.datasets[dataset]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _slug(text: str) -> str:  # vintage labels in stored file names: as they have always been spelt
    return file_slug(text, "na", lower=True, transliterate=False)


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full (no space left on device)"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (is the folder read-only?)"
    return exc.strerror or str(exc)


def store_error(raw_dir: Path, dataset: str, target: Path, exc: OSError) -> StoreError:
    what = _os_problem(exc)
    todo = (
        "free some space"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else f"make {raw_dir} writable (e.g. `chmod -R u+w {raw_dir}`)"
    )
    return StoreError(
        f"{dataset}: cannot write {target}: {what}. Nothing in {raw_dir} was changed; "
        f"{todo} and run `kunnskapsgrunnlag fetch` again."
    )


def parse_manifest(data: bytes) -> Manifest:
    """The manifest in `data`, or ValueError saying what is wrong with it."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict):
        raise ValueError("valid JSON but not a manifest (no `datasets` object)")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(x) for x in err["loc"]]
        name = loc[1] if len(loc) > 1 else "?"
        where = ".".join(loc[2:]) or "the record"
        raise ValueError(f"entry {name!r} is not a dataset record ({where}: {err['msg']})") from None


def manifest_recovery_hint(raw_dir: Path) -> str:
    raw_dir = Path(raw_dir)
    bak = raw_dir / BACKUP
    hint = []
    if bak.exists():
        try:
            n = len(parse_manifest(bak.read_bytes()).datasets)
            hint.append(
                f"restore the backup kept before the last change ({n} datasets): `cp {bak} {raw_dir / MANIFEST}`"
            )
        except (OSError, ValueError):
            pass
    hint.append(
        "or rebuild it from the files on disk: `kunnskapsgrunnlag fetch --rebuild-manifest` "
        "(add `--mirror PATH` as usual; every raw file is kept)"
    )
    return "; ".join(hint)


FILE_RE = re.compile(r"^(?P<dataset>.+?)__(?P<vintage>[0-9a-z-]+)__(?P<sha>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9.]+)$")


class RawStore:
    """The raw store of one project (`data/raw`): reading, verifying, and every mutation."""

    def __init__(self, raw_dir: Path):
        self.raw_dir = Path(raw_dir)

    # --- the manifest itself ---------------------------------------------------------------

    def manifest(self) -> Manifest:
        path = self.raw_dir / MANIFEST
        if not path.exists():
            return Manifest(datasets={})
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ManifestError(f"{path}: cannot read the manifest: {_os_problem(exc)}") from None
        try:
            return parse_manifest(data)
        except ValueError as exc:
            raise ManifestError(
                f"{path}: the raw-data manifest is {exc}. To recover, " + manifest_recovery_hint(self.raw_dir) + "."
            ) from None

    def _write(self, manifest: Manifest) -> None:
        """Write the manifest atomically, keeping the previous valid one as manifest.json.bak."""
        path = self.raw_dir / MANIFEST
        data = json.dumps(manifest.plain(), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
        try:
            if path.exists():
                old = path.read_bytes()
                try:
                    parse_manifest(old)
                    if old != data:
                        atomic.write_bytes(self.raw_dir / BACKUP, old)
                except ValueError:
                    pass  # never overwrite a good backup with a broken manifest
            atomic.write_bytes(path, data)
        except OSError as exc:
            raise store_error(self.raw_dir, "manifest", path, exc) from None

    # --- reading ---------------------------------------------------------------------------

    def current_entry(self, dataset: str) -> dict:
        rec = self.manifest().datasets.get(dataset)
        if rec is None or rec.current is None:
            raise MissingData(dataset, {"reason": "not fetched yet: run `kunnskapsgrunnlag fetch`"})
        return rec.current.plain()

    def verified_path(self, dataset: str) -> tuple[Path, dict]:
        """The current raw file of `dataset`, after checking its sha256 against the manifest."""
        entry = self.current_entry(dataset)
        if entry.get("status") != "ok":
            raise MissingData(dataset, entry)
        path = self.raw_dir / entry["file"]
        if not path.exists():
            raise RawDataError(
                f"{path}: raw file of dataset {dataset!r} listed in the manifest is gone. "
                + restore_hint(dataset, entry)
            )
        actual = sha256_file(path)
        if actual != entry["sha256"]:
            raise RawDataError(
                f"{path}: sha256 mismatch for dataset {dataset!r} (manifest {entry['sha256'][:12]}…, "
                f"file {actual[:12]}…). The raw file was changed after it was fetched. " + restore_hint(dataset, entry)
            )
        return path, entry

    def file_state(self, entry: dict) -> str | None:
        """None when `entry`'s file exists with its recorded sha256, else "missing", "tampered"…"""
        path = self.raw_dir / entry.get("file", "")
        if not entry.get("file") or not path.is_file():
            return "missing"
        try:
            if sha256_file(path) != entry.get("sha256"):
                return "tampered"
        except OSError:
            return "unreadable"
        return None

    def check_current(self, dataset: str) -> str | None:
        """None when the dataset's current raw file verifies (or there is none); else what is wrong."""
        rec = self.manifest().datasets.get(dataset)
        if rec is None or rec.current is None or rec.current.status != "ok":
            return None
        return self.file_state(rec.current.plain())

    def verify_files(self) -> list[dict]:
        """Check the sha256 of every stored file (current and earlier vintages) against the manifest.

        One row per file: dataset, file, role (current | earlier), vintage, state (ok | missing |
        tampered | unreadable). Raises ManifestError for an invalid manifest.
        """
        rows = []
        for name, rec in sorted(self.manifest().datasets.items()):
            cur = rec.current.plain() if rec.current else {}
            seen = set()
            items = ([cur] if cur.get("status") == "ok" else []) + [h.plain() for h in rec.history]
            for h in items:
                if not h.get("file") or h.get("sha256") in seen:
                    continue
                seen.add(h.get("sha256"))
                role = (
                    "current"
                    if h is cur or (cur.get("status") == "ok" and h.get("sha256") == cur.get("sha256"))
                    else "earlier"
                )
                rows.append(
                    {
                        "dataset": name,
                        "file": h["file"],
                        "role": role,
                        "vintage": h.get("vintage", ""),
                        "retrieved_at": h.get("retrieved_at", ""),
                        "state": self.file_state(h) or "ok",
                    }
                )
        return rows

    def aside_files(self) -> list[Path]:
        """Files kept aside (rejected by the checks, or altered copies replaced by `fetch`)."""
        return sorted(
            p
            for d in ASIDE_DIRS
            for p in self.raw_dir.glob(f"*/{d}/*")
            if p.is_file() and not p.name.endswith(".reason.txt")
        )

    def verify_all(self) -> list[str]:
        """Check the sha256 of every current raw file; raise RawDataError naming the first bad one."""
        checked = []
        for name, rec in self.manifest().datasets.items():
            if rec.current is not None and rec.current.status == "ok":
                self.verified_path(name)
                checked.append(name)
        return checked

    def load(self, dataset: str, dtype: dict | None = None) -> pd.DataFrame:
        """Load a tabular raw dataset (verified). Region codes are always read as strings."""
        path, _ = self.verified_path(dataset)
        dt = {"region_code": str, "kommunenummer": str}
        dt.update(dtype or {})
        return pd.read_csv(path, dtype=dt, keep_default_na=True)

    def load_geo(self, dataset: str):
        """Load a boundary dataset (verified) as a GeoDataFrame with invalid polygons repaired."""
        import geopandas as gpd
        import shapely

        path, _ = self.verified_path(dataset)
        gdf = gpd.read_file(path)
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
        return gdf

    # --- mutations -------------------------------------------------------------------------

    def store(self, dataset: str, payload: bytes, suffix: str, meta: dict[str, Any]) -> dict:
        """Write `payload` as a new immutable raw file for `dataset` and make it current.

        Returns the manifest entry. Writing identical content again is a no-op (same file, entry
        refreshed with the new retrieval time); different content never replaces an existing file.
        A stored file whose content was changed since is kept aside in `tampered/` and written
        again (a restore, recorded as an event).
        """
        digest = hashlib.sha256(payload).hexdigest()
        vintage = meta.get("vintage", "na")
        rel = Path(dataset) / f"{dataset}__{_slug(vintage)}__{digest[:12]}{suffix}"
        path = self.raw_dir / rel
        manifest = self.manifest()  # first: an invalid manifest stops before anything is written
        rec = manifest.record(dataset)
        created = False
        restored = None
        try:
            if path.exists() and sha256_file(path) != digest:
                # The name carries the content's sha256, so this is our own file, changed after it was
                # stored: keep the altered copy aside (never destroyed) and write the file again.
                aside = path.parent / "tampered" / f"{path.name}.{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, aside)
                restored = aside
            if not path.exists():
                atomic.write_bytes(path, payload)
                created = True
                path.chmod(0o444)
        except OSError as exc:
            if restored is not None and not path.exists():
                os.replace(restored, path)  # put the altered file back: nothing changed
            raise store_error(self.raw_dir, dataset, path, exc) from None
        entry = {**meta, "dataset": dataset, "status": "ok", "file": rel.as_posix(), "sha256": digest}
        entry.setdefault("retrieved_at", now_iso())
        rec.current = Entry(**entry)
        rec.pinned = None
        if not any(h.sha256 == digest for h in rec.history):
            rec.history = [*rec.history, Entry(**{k: v for k, v in entry.items() if k not in ("status", "dataset")})]
        if restored is not None:
            rec.add_event("restore", file=rel.as_posix(), altered_copy=restored.relative_to(self.raw_dir).as_posix())
        try:
            self._write(manifest)
        except StoreError:
            if created:  # do not leave a file the manifest does not know
                path.chmod(0o644)
                path.unlink(missing_ok=True)
            if restored is not None:
                os.replace(restored, path)
            raise
        out = rec.current.plain()
        if restored is not None:
            out["_restored_from"] = restored.relative_to(self.raw_dir).as_posix()
        return out

    def store_frame(self, dataset: str, df: pd.DataFrame, meta: dict[str, Any]) -> dict:
        payload = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
        return self.store(dataset, payload, ".csv", {**meta, "rows": int(len(df))})

    def reject(self, dataset: str, payload: bytes, suffix: str, reason: str) -> Path | None:
        """Keep a file that failed its checks aside in `<dataset>/rejected/` with the reason.

        It is never made current and the manifest is not touched. Returns the path, or None when
        the raw folder cannot be written (the reason is still reported to the user by the caller).
        """
        digest = hashlib.sha256(payload).hexdigest()
        path = self.raw_dir / dataset / "rejected" / f"{dataset}__{digest[:12]}{suffix}"
        try:
            if not path.exists():
                atomic.write_bytes(path, payload)
            atomic.write_text(path.with_name(path.name + ".reason.txt"), f"rejected at {now_iso()}\n{reason}\n")
            return path
        except OSError:
            return None

    def record_missing(self, dataset: str, reason: str, how_to_fetch: str, meta: dict | None = None) -> dict:
        """Record that a dataset has no source available. Keeps any earlier good file current."""
        manifest = self.manifest()
        rec = manifest.record(dataset)
        previous = rec.current.plain() if rec.current else None
        if previous and previous.get("status") == "ok":
            # A file fetched earlier stays the current one: missing now does not erase data, and the
            # manifest is left untouched (a fetch with no source at hand changes nothing).
            return previous
        new = {**(meta or {}), "dataset": dataset, "status": "missing", "reason": reason, "how_to_fetch": how_to_fetch}
        if previous and {k: v for k, v in previous.items() if k != "checked_at"} == new:
            return previous  # nothing new: leave the manifest untouched (keeps the build a no-op)
        rec.current = Entry(**new, checked_at=now_iso())
        self._write(manifest)
        return rec.current.plain()

    def record_restore(self, dataset: str, file: str, was: str) -> None:
        """A current file that was missing (or unreadable) was written again from its source."""
        manifest = self.manifest()
        manifest.record(dataset).add_event("restore", file=file, was=was)
        self._write(manifest)

    def last_event(self, dataset: str) -> dict:
        rec = self.manifest().datasets.get(dataset)
        return rec.events[-1].plain() if rec and rec.events else {}

    def use(self, dataset: str, which: str) -> dict:
        """Make an earlier stored vintage of `dataset` current again (pinned until `use … latest`).

        `which` is a vintage label, a file name or a sha256 prefix from the dataset's history, or
        `latest` to unpin (the newest stored vintage becomes current; `fetch` may then update it).
        """
        manifest = self.manifest()
        rec = manifest.datasets.get(dataset)
        hist = [h.plain() for h in (rec.history if rec else []) if h.file]
        if rec is None or not hist:
            known = ", ".join(sorted(n for n, r in manifest.datasets.items() if r.history)) or "none"
            raise RawDataError(
                f"{dataset}: no stored vintages in {self.raw_dir / MANIFEST} (datasets with stored "
                f"vintages: {known}); run `kunnskapsgrunnlag fetch` first"
            )
        listing = "; ".join(
            f"{h.get('vintage', '?')} = {Path(h['file']).name} (retrieved {h.get('retrieved_at', '?')[:10]})"
            for h in hist
        )
        if which == "latest":
            matches = [hist[-1]]
        else:
            w = which.strip()
            matches = [h for h in hist if w in (h.get("vintage"), h["file"], Path(h["file"]).name)]
            if not matches and re.fullmatch(r"[0-9a-f]{6,64}", w):
                matches = [h for h in hist if h.get("sha256", "").startswith(w)]
        if not matches:
            raise RawDataError(f"{dataset}: no stored vintage {which!r}. Stored: {listing}")
        if len(matches) > 1:
            raise RawDataError(
                f"{dataset}: {which!r} matches {len(matches)} stored files; give the file name "
                f"or a sha256 prefix instead. Stored: {listing}"
            )
        h = matches[0]
        state = self.file_state(h)
        if state:
            raise RawDataError(
                f"{dataset}: the stored file {self.raw_dir / h['file']} of vintage {h.get('vintage')!r} "
                f"is {state}; it cannot be used (see `kunnskapsgrunnlag status`)"
            )
        previous = rec.current.plain() if rec.current else {}
        rec.current = Entry(**{**h, "dataset": dataset, "status": "ok"})
        rec.pinned = None if which == "latest" else Pinned(sha256=h["sha256"], at=now_iso())
        rec.add_event("use", which=which, file=h["file"], previous=previous.get("file") or previous.get("status"))
        self._write(manifest)
        return rec.current.plain()

    def drop_remove(self, dataset: str, drop: Path, label: str, missing: dict) -> str:
        """`kunnskapsgrunnlag drop remove`: stop using a file drop, without deleting anything.

        The drop file (`drop`; `label`: as the catalogue names it) is moved to `withdrawn/` beside it.
        If the dataset's current data came from that file, the dataset becomes missing (`missing`: its
        entry, from fetch: reason, how to fetch; its stored vintages stay and `use` brings one back);
        if the file was a newer drop that was refused, the current vintage stays. Returns a sentence
        saying what happened.
        """
        manifest = self.manifest()
        rec = manifest.record(dataset)
        cur = rec.current.plain() if rec.current else {}
        from_drop = cur.get("status") == "ok" and (cur.get("source") or {}).get("kind") == "manual"
        moved = None
        if drop.exists():
            drop_sha = sha256_file(drop)
            moved = drop.parent / "withdrawn" / f"{drop.stem}.{datetime.now(timezone.utc):%Y%m%dT%H%M%S}{drop.suffix}"
            try:
                moved.parent.mkdir(parents=True, exist_ok=True)
                os.replace(drop, moved)
            except OSError as exc:
                raise store_error(self.raw_dir, dataset, moved, exc) from None
            current_is_this = from_drop and (cur.get("source") or {}).get("drop_sha256") == drop_sha
        elif from_drop:
            current_is_this = True
        else:
            raise RawDataError(
                f"{dataset}: no file drop to withdraw ({drop} does not exist and the current data is not from a drop)"
            )
        if current_is_this:
            rec.current = Entry(**{**missing, "dataset": dataset, "status": "missing", "checked_at": now_iso()})
            rec.pinned = None
        rec.add_event(
            "drop-remove",
            drop=label,
            moved_to=str(moved) if moved else None,
            withdrawn_file=cur.get("file") if current_is_this else None,
        )
        try:
            self._write(manifest)
        except StoreError:
            if moved is not None:
                os.replace(moved, drop)  # nothing changed
            raise
        parts = [f"moved {drop} to {moved}" if moved else f"{drop} was already gone"]
        if current_is_this:
            parts.append(
                f"{dataset} is now missing (its stored vintages stay; `kunnskapsgrunnlag use {dataset} "
                "VINTAGE` brings one back)"
            )
        else:
            parts.append(
                f"the current vintage {cur['file']} stays current"
                if cur.get("file")
                else f"{dataset} stays missing, as before"
            )
        return "; ".join(parts)

    def rebuild(self, datasets: dict[str, dict]) -> tuple[dict, list[str]]:
        """Reconstruct the manifest from the raw files on disk (after an invalid manifest).

        Files whose content matches their name are taken; the newest per dataset becomes current.
        Provenance is taken from the backup manifest where it knows the file; `fetch` then refreshes
        each entry from its source. The invalid manifest is kept as manifest.json.invalid-<time>.
        Returns the new manifest (JSON form) and notes about skipped files.
        """
        known: dict[str, dict] = {}
        for cand in (self.raw_dir / MANIFEST, self.raw_dir / BACKUP):
            try:
                for rec in parse_manifest(cand.read_bytes()).datasets.values():
                    for h in ([rec.current] if rec.current else []) + rec.history:
                        if h.sha256 and h.file:
                            known.setdefault(h.sha256, h.plain())
            except (OSError, ValueError):
                continue
        notes: list[str] = []
        new = Manifest(datasets={})
        for name, spec in datasets.items():
            folder = self.raw_dir / name
            files = (
                sorted((p for p in folder.glob("*") if p.is_file()), key=lambda p: p.stat().st_mtime)
                if folder.is_dir()
                else []
            )
            hist = []
            for p in files:
                m = FILE_RE.match(p.name)
                if not m or m["dataset"] != name:
                    continue
                digest = sha256_file(p)
                if not digest.startswith(m["sha"]):
                    notes.append(f"{p}: content does not match its name (changed after it was stored); skipped")
                    continue
                base = {k: v for k, v in known.get(digest, {}).items() if k not in ("status", "dataset")}
                same = _slug(spec.get("vintage", "na")) == m["vintage"]
                vintage = base.get("vintage") or (spec.get("vintage") if same else m["vintage"])
                retrieved = (
                    base.get("retrieved_at")
                    or datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).replace(microsecond=0).isoformat()
                )
                hist.append(
                    {
                        **base,
                        "file": p.relative_to(self.raw_dir).as_posix(),
                        "sha256": digest,
                        "vintage": vintage,
                        "retrieved_at": retrieved,
                    }
                )
            if hist:
                rec = DatasetRecord(
                    history=[Entry(**h) for h in hist], current=Entry(**{**hist[-1], "dataset": name, "status": "ok"})
                )
                rec.add_event("rebuild-manifest", files=len(hist))
                new.datasets[name] = rec
        path = self.raw_dir / MANIFEST
        try:
            if path.exists():
                try:
                    parse_manifest(path.read_bytes())
                except ValueError:
                    os.replace(path, path.with_name(f"{MANIFEST}.invalid-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"))
        except OSError as exc:
            raise store_error(self.raw_dir, "manifest", path, exc) from None
        self._write(new)
        return new.plain(), notes


# --- hints ----------------------------------------------------------------------------------------


def mirror_root(entry: dict) -> str | None:
    """The mirror folder a mirror-sourced entry was read from (as given to `--mirror`; the fetch records
    it in `source.mirror`); for an entry stored before it did, the folder of its first file."""
    src = entry.get("source") or {}
    files = src.get("mirror_files") or []
    if src.get("kind") != "mirror" or not files:
        return None
    return str(src["mirror"]) if src.get("mirror") else str(Path(files[0]).parent)


def restore_hint(dataset: str, entry: dict) -> str:
    """What to run to restore a dataset's raw file from its source."""
    src = (entry.get("source") or {}).get("kind")
    cmd = f"kunnskapsgrunnlag fetch --dataset {dataset}"
    if src == "mirror":
        cmd = f"kunnskapsgrunnlag fetch --mirror {mirror_root(entry)} --dataset {dataset}"
    where = {
        "mirror": "the offline mirror",
        "online": "the online API",
        "manual": "the file drop",
        "published": "the project's transcription",
    }.get(str(src), "its source")
    return (
        f"Run `{cmd}` to restore it from {where} (the changed copy is kept aside), "
        f"or `kunnskapsgrunnlag use {dataset} VINTAGE` to use an earlier stored vintage."
    )


# --- the functions other modules call (raw_dir first), each one RawStore method ---------------------


def read_manifest(raw_dir: Path) -> dict:
    """The manifest's JSON form (validated): {"datasets": {name: {current, history, events, …}}}."""
    return RawStore(raw_dir).manifest().plain()


def write_manifest(raw_dir: Path, manifest: dict | Manifest) -> None:
    """Replace the whole manifest (validated first); for tests and tools that set one up."""
    m = manifest if isinstance(manifest, Manifest) else Manifest.model_validate(manifest)
    RawStore(raw_dir)._write(m)


def current_entry(raw_dir: Path, dataset: str) -> dict:
    return RawStore(raw_dir).current_entry(dataset)


def verified_path(raw_dir: Path, dataset: str) -> tuple[Path, dict]:
    return RawStore(raw_dir).verified_path(dataset)


def check_current(raw_dir: Path, dataset: str) -> str | None:
    return RawStore(raw_dir).check_current(dataset)


def file_state(raw_dir: Path, entry: dict) -> str | None:
    return RawStore(raw_dir).file_state(entry)


def verify_files(raw_dir: Path) -> list[dict]:
    return RawStore(raw_dir).verify_files()


def aside_files(raw_dir: Path) -> list[Path]:
    return RawStore(raw_dir).aside_files()


def verify_all(raw_dir: Path) -> list[str]:
    return RawStore(raw_dir).verify_all()


def load(raw_dir: Path, dataset: str, dtype: dict | None = None) -> pd.DataFrame:
    return RawStore(raw_dir).load(dataset, dtype)


def load_geo(raw_dir: Path, dataset: str):
    return RawStore(raw_dir).load_geo(dataset)


def store(raw_dir: Path, dataset: str, payload: bytes, suffix: str, meta: dict[str, Any]) -> dict:
    return RawStore(raw_dir).store(dataset, payload, suffix, meta)


def store_frame(raw_dir: Path, dataset: str, df: pd.DataFrame, meta: dict[str, Any]) -> dict:
    return RawStore(raw_dir).store_frame(dataset, df, meta)


def reject(raw_dir: Path, dataset: str, payload: bytes, suffix: str, reason: str) -> Path | None:
    return RawStore(raw_dir).reject(dataset, payload, suffix, reason)


def record_missing(raw_dir: Path, dataset: str, reason: str, how_to_fetch: str, meta: dict | None = None) -> dict:
    return RawStore(raw_dir).record_missing(dataset, reason, how_to_fetch, meta)


def use_vintage(raw_dir: Path, dataset: str, which: str) -> dict:
    return RawStore(raw_dir).use(dataset, which)


def rebuild_manifest(raw_dir: Path, datasets: dict[str, dict]) -> tuple[dict, list[str]]:
    return RawStore(raw_dir).rebuild(datasets)
