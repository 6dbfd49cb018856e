"""The immutable raw store: `data/raw/<dataset>/…` plus `data/raw/manifest.json`.

Every file written here is content-addressed (its sha256 is in its name and the manifest) and
never overwritten: a new vintage or a revised download is written beside the old file. Every
load verifies the sha256 against the manifest.

Safety nets (docs/troubleshooting.md, section "Data"):
- the manifest is written atomically (`atomic.write_bytes`), and the previous valid manifest is
  kept as `manifest.json.bak`; an invalid manifest is one clear `ManifestError` naming both, and
  `rebuild_manifest` reconstructs it from the files on disk (`fetch --rebuild-manifest`);
- a file that fails its checks is kept aside in `<dataset>/rejected/` with the reason (`reject`),
  never made current; a tampered file that `fetch` restores is moved to `<dataset>/tampered/`;
- a failed write (read-only folder, full disk) is a `StoreError`, and nothing half-written stays;
- `use_vintage` returns a dataset to an earlier stored vintage; every such action is appended to
  the dataset's `events` list in the manifest.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from . import atomic

MANIFEST = "manifest.json"
BACKUP = "manifest.json.bak"
ASIDE_DIRS = {"rejected", "tampered"}  # per-dataset folders of files that are never current


class RawDataError(RuntimeError):
    """A raw file is missing, tampered with or unreadable; the message names the file."""


class ManifestError(RawDataError):
    """data/raw/manifest.json is unreadable or not a manifest; the message says how to recover."""


class StoreError(RawDataError):
    """data/raw cannot be written (read-only, disk full, …); nothing was changed."""


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
    todo = ("free some space" if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else f"make {raw_dir} writable (e.g. `chmod -R u+w {raw_dir}`)")
    return StoreError(f"{dataset}: cannot write {target}: {what}. Nothing in {raw_dir} was changed; "
                      f"{todo} and run `kunnskapsgrunnlag fetch` again.")


class MissingData(LookupError):
    """The dataset is recorded as missing (no online or offline source was available)."""

    def __init__(self, dataset: str, entry: dict | None = None):
        self.dataset = dataset
        self.entry = entry or {}
        super().__init__(f"Dataset {dataset!r} is missing: {self.entry.get('reason', 'not fetched')}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", str(text)).strip("-").lower() or "na"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic.write_bytes(path, data)


def _parse_manifest(data: bytes) -> dict:
    """The manifest in `data`, or ValueError saying what is wrong with it."""
    try:
        man = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(man, dict) or not isinstance(man.get("datasets"), dict):
        raise ValueError("valid JSON but not a manifest (no `datasets` object)")
    for name, rec in man["datasets"].items():
        if not isinstance(rec, dict) or not isinstance(rec.get("current", {}), dict):
            raise ValueError(f"entry {name!r} is not a dataset record")
    return man


def manifest_recovery_hint(raw_dir: Path) -> str:
    raw_dir = Path(raw_dir)
    bak = raw_dir / BACKUP
    hint = []
    if bak.exists():
        try:
            n = len(_parse_manifest(bak.read_bytes())["datasets"])
            hint.append(f"restore the backup kept before the last change ({n} datasets): "
                        f"`cp {bak} {raw_dir / MANIFEST}`")
        except (OSError, ValueError):
            pass
    hint.append("or rebuild it from the files on disk: `kunnskapsgrunnlag fetch --rebuild-manifest` "
                "(add `--mirror PATH` as usual; every raw file is kept)")
    return "; ".join(hint)


def read_manifest(raw_dir: Path) -> dict:
    path = Path(raw_dir) / MANIFEST
    if not path.exists():
        return {"datasets": {}}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {_os_problem(exc)}") from None
    try:
        return _parse_manifest(data)
    except ValueError as exc:
        raise ManifestError(f"{path}: the raw-data manifest is {exc}. To recover, "
                            + manifest_recovery_hint(raw_dir) + ".") from None


def write_manifest(raw_dir: Path, manifest: dict) -> None:
    """Write the manifest atomically, keeping the previous valid one as manifest.json.bak."""
    raw_dir = Path(raw_dir)
    path = raw_dir / MANIFEST
    data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    try:
        if path.exists():
            old = path.read_bytes()
            try:
                _parse_manifest(old)
                if old != data:
                    atomic.write_bytes(raw_dir / BACKUP, old)
            except ValueError:
                pass  # never overwrite a good backup with a broken manifest
        atomic.write_bytes(path, data)
    except OSError as exc:
        raise store_error(raw_dir, "manifest", path, exc) from None


def add_event(rec: dict, action: str, **detail) -> None:
    """Append an action (restore, drop-remove, use, rebuild-manifest, …) to a dataset's events."""
    rec.setdefault("events", []).append({"at": now_iso(), "action": action, **detail})


def store(raw_dir: Path, dataset: str, payload: bytes, suffix: str, meta: dict[str, Any]) -> dict:
    """Write `payload` as a new immutable raw file for `dataset` and record it in the manifest.

    Returns the manifest entry. Writing identical content again is a no-op (same file, entry
    refreshed with the new retrieval time); different content never replaces an existing file.
    """
    raw_dir = Path(raw_dir)
    digest = hashlib.sha256(payload).hexdigest()
    vintage = meta.get("vintage", "na")
    rel = Path(dataset) / f"{dataset}__{_slug(vintage)}__{digest[:12]}{suffix}"
    path = raw_dir / rel
    manifest = read_manifest(raw_dir)  # first: an invalid manifest stops before anything is written
    rec = manifest["datasets"].setdefault(dataset, {"history": []})
    rec.setdefault("history", [])
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
            _atomic_write_bytes(path, payload)
            created = True
            path.chmod(0o444)
    except OSError as exc:
        if restored is not None and not path.exists():
            os.replace(restored, path)  # put the altered file back: nothing changed
        raise store_error(raw_dir, dataset, path, exc) from None
    entry = {**meta, "dataset": dataset, "status": "ok", "file": rel.as_posix(), "sha256": digest}
    entry.setdefault("retrieved_at", now_iso())
    rec["current"] = entry
    rec.pop("pinned", None)
    if not any(h.get("sha256") == digest for h in rec["history"]):
        rec["history"].append({k: v for k, v in entry.items() if k not in ("status", "dataset")})
    if restored is not None:
        add_event(rec, "restore", file=rel.as_posix(), altered_copy=restored.relative_to(raw_dir).as_posix())
    try:
        write_manifest(raw_dir, manifest)
    except StoreError:
        if created:  # do not leave a file the manifest does not know
            path.chmod(0o644)
            path.unlink(missing_ok=True)
        if restored is not None:
            os.replace(restored, path)
        raise
    if restored is not None:
        entry = {**entry, "_restored_from": restored.relative_to(raw_dir).as_posix()}
    return entry


def reject(raw_dir: Path, dataset: str, payload: bytes, suffix: str, reason: str) -> Path | None:
    """Keep a file that failed its checks aside in `<dataset>/rejected/` with the reason.

    It is never made current and the manifest is not touched. Returns the path, or None when the
    raw folder cannot be written (the reason is still reported to the user by the caller).
    """
    digest = hashlib.sha256(payload).hexdigest()
    path = Path(raw_dir) / dataset / "rejected" / f"{dataset}__{digest[:12]}{suffix}"
    try:
        if not path.exists():
            _atomic_write_bytes(path, payload)
        atomic.write_text(path.with_name(path.name + ".reason.txt"), f"rejected at {now_iso()}\n{reason}\n")
        return path
    except OSError:
        return None


def store_frame(raw_dir: Path, dataset: str, df: pd.DataFrame, meta: dict[str, Any]) -> dict:
    payload = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return store(raw_dir, dataset, payload, ".csv", {**meta, "rows": int(len(df))})


def record_missing(raw_dir: Path, dataset: str, reason: str, how_to_fetch: str, meta: dict | None = None) -> dict:
    """Record that a dataset has no source available. Keeps any earlier good file as history."""
    manifest = read_manifest(raw_dir)
    rec = manifest["datasets"].setdefault(dataset, {"history": []})
    previous = rec.get("current")
    if previous and previous.get("status") == "ok":
        # A file fetched earlier stays the current one: missing now does not erase data, and the
        # manifest is left untouched (a fetch with no source at hand changes nothing).
        return previous
    new = {**(meta or {}), "dataset": dataset, "status": "missing", "reason": reason, "how_to_fetch": how_to_fetch}
    if previous and {k: v for k, v in previous.items() if k != "checked_at"} == new:
        return previous  # nothing new: leave the manifest untouched (keeps the build a no-op)
    rec["current"] = {**new, "checked_at": now_iso()}
    write_manifest(raw_dir, manifest)
    return rec["current"]


def current_entry(raw_dir: Path, dataset: str) -> dict:
    manifest = read_manifest(raw_dir)
    rec = manifest["datasets"].get(dataset)
    if not rec or "current" not in rec:
        raise MissingData(dataset, {"reason": "not fetched yet: run `kunnskapsgrunnlag fetch`"})
    return rec["current"]


def verified_path(raw_dir: Path, dataset: str) -> tuple[Path, dict]:
    """The current raw file of `dataset`, after checking its sha256 against the manifest."""
    entry = current_entry(raw_dir, dataset)
    if entry.get("status") != "ok":
        raise MissingData(dataset, entry)
    path = Path(raw_dir) / entry["file"]
    if not path.exists():
        raise RawDataError(f"{path}: raw file of dataset {dataset!r} listed in the manifest is gone. "
                           + restore_hint(dataset, entry))
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise RawDataError(
            f"{path}: sha256 mismatch for dataset {dataset!r} (manifest {entry['sha256'][:12]}…, "
            f"file {actual[:12]}…). The raw file was changed after it was fetched. " + restore_hint(dataset, entry)
        )
    return path, entry


def mirror_root(entry: dict) -> str | None:
    """The mirror folder a mirror-sourced entry was read from (as given to `--mirror`)."""
    src = entry.get("source") or {}
    files = src.get("mirror_files") or []
    if src.get("kind") != "mirror" or not files:
        return None
    from .config import ConfigError, load_catalogue

    try:
        rel = load_catalogue()[entry["dataset"]]["mirror"]["files"][0]
    except (ConfigError, KeyError, IndexError, TypeError):  # no longer catalogued with a mirror: a hint only
        return str(Path(files[0]).parent)
    f = str(files[0])
    return f[: -len(rel)].rstrip("/") or "." if f.endswith(rel) else str(Path(f).parent)


def restore_hint(dataset: str, entry: dict) -> str:
    """What to run to restore a dataset's raw file from its source."""
    src = (entry.get("source") or {}).get("kind")
    cmd = f"kunnskapsgrunnlag fetch --dataset {dataset}"
    if src == "mirror":
        cmd = f"kunnskapsgrunnlag fetch --mirror {mirror_root(entry)} --dataset {dataset}"
    where = {"mirror": "the offline mirror", "online": "the online API", "manual": "the file drop",
             "published": "the project's transcription"}.get(src, "its source")
    return (f"Run `{cmd}` to restore it from {where} (the changed copy is kept aside), "
            f"or `kunnskapsgrunnlag use {dataset} VINTAGE` to use an earlier stored vintage.")


def check_current(raw_dir: Path, dataset: str) -> str | None:
    """None when the dataset's current raw file verifies (or there is none); else what is wrong."""
    cur = read_manifest(raw_dir)["datasets"].get(dataset, {}).get("current")
    if not cur or cur.get("status") != "ok":
        return None
    return file_state(raw_dir, cur)


def file_state(raw_dir: Path, entry: dict) -> str | None:
    """None when `entry`'s file exists with its recorded sha256, else "missing" or "tampered"."""
    path = Path(raw_dir) / entry.get("file", "")
    if not entry.get("file") or not path.is_file():
        return "missing"
    try:
        if sha256_file(path) != entry.get("sha256"):
            return "tampered"
    except OSError:
        return "unreadable"
    return None


def verify_files(raw_dir: Path) -> list[dict]:
    """Check the sha256 of every stored file (current and earlier vintages) against the manifest.

    One row per file: dataset, file, role (current | earlier), vintage, state (ok | missing |
    tampered | unreadable). Raises ManifestError for an invalid manifest.
    """
    rows = []
    for name, rec in sorted(read_manifest(raw_dir)["datasets"].items()):
        cur = rec.get("current", {})
        seen = set()
        items = ([cur] if cur.get("status") == "ok" else []) + list(rec.get("history", []))
        for h in items:
            if not h.get("file") or h.get("sha256") in seen:
                continue
            seen.add(h.get("sha256"))
            role = "current" if h is cur or (cur.get("status") == "ok" and h.get("sha256") == cur.get("sha256")) else "earlier"
            rows.append({"dataset": name, "file": h["file"], "role": role, "vintage": h.get("vintage", ""),
                         "retrieved_at": h.get("retrieved_at", ""), "state": file_state(raw_dir, h) or "ok"})
    return rows


def aside_files(raw_dir: Path) -> list[Path]:
    """Files kept aside (rejected by the checks, or altered copies replaced by `fetch`)."""
    raw_dir = Path(raw_dir)
    return sorted(p for d in ASIDE_DIRS for p in raw_dir.glob(f"*/{d}/*")
                  if p.is_file() and not p.name.endswith(".reason.txt"))


def use_vintage(raw_dir: Path, dataset: str, which: str) -> dict:
    """Make an earlier stored vintage of `dataset` current again (pinned until `use … latest`).

    `which` is a vintage label, a file name or a sha256 prefix from the dataset's history, or
    `latest` to unpin (the newest stored vintage becomes current; `fetch` may then update it).
    """
    raw_dir = Path(raw_dir)
    manifest = read_manifest(raw_dir)
    rec = manifest["datasets"].get(dataset)
    hist = [h for h in (rec or {}).get("history", []) if h.get("file")]
    if not hist:
        known = ", ".join(sorted(n for n, r in manifest["datasets"].items() if r.get("history"))) or "none"
        raise RawDataError(f"{dataset}: no stored vintages in {raw_dir / MANIFEST} (datasets with stored "
                           f"vintages: {known}); run `kunnskapsgrunnlag fetch` first")
    listing = "; ".join(f"{h.get('vintage', '?')} = {Path(h['file']).name} (retrieved {h.get('retrieved_at', '?')[:10]})"
                        for h in hist)
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
        raise RawDataError(f"{dataset}: {which!r} matches {len(matches)} stored files; give the file name "
                           f"or a sha256 prefix instead. Stored: {listing}")
    h = matches[0]
    state = file_state(raw_dir, h)
    if state:
        raise RawDataError(f"{dataset}: the stored file {raw_dir / h['file']} of vintage {h.get('vintage')!r} is "
                           f"{state}; it cannot be used (see `kunnskapsgrunnlag status`)")
    previous = rec.get("current", {})
    rec["current"] = {**h, "dataset": dataset, "status": "ok"}
    if which == "latest":
        rec.pop("pinned", None)
    else:
        rec["pinned"] = {"sha256": h["sha256"], "at": now_iso()}
    add_event(rec, "use", which=which, file=h["file"], previous=previous.get("file") or previous.get("status"))
    write_manifest(raw_dir, manifest)
    return rec["current"]


FILE_RE = re.compile(r"^(?P<dataset>.+?)__(?P<vintage>[0-9a-z-]+)__(?P<sha>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9.]+)$")


def rebuild_manifest(raw_dir: Path, datasets: dict[str, dict]) -> tuple[dict, list[str]]:
    """Reconstruct the manifest from the raw files on disk (after an invalid manifest).

    Files whose content matches their name are taken; the newest per dataset becomes current.
    Provenance is taken from the backup manifest where it knows the file; `fetch` then refreshes
    each entry from its source. The invalid manifest is kept as manifest.json.invalid-<time>.
    Returns the new manifest and notes about skipped files.
    """
    raw_dir = Path(raw_dir)
    known: dict[str, dict] = {}
    for cand in (raw_dir / MANIFEST, raw_dir / BACKUP):
        try:
            for rec in _parse_manifest(cand.read_bytes())["datasets"].values():
                for h in [rec.get("current", {})] + rec.get("history", []):
                    if h.get("sha256") and h.get("file"):
                        known.setdefault(h["sha256"], h)
        except (OSError, ValueError):
            continue
    notes: list[str] = []
    new: dict = {"datasets": {}}
    for name, spec in datasets.items():
        folder = raw_dir / name
        files = sorted((p for p in folder.glob("*") if p.is_file()), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
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
            vintage = base.get("vintage") or (spec.get("vintage") if _slug(spec.get("vintage", "na")) == m["vintage"] else m["vintage"])
            retrieved = base.get("retrieved_at") or datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).replace(microsecond=0).isoformat()
            hist.append({**base, "file": p.relative_to(raw_dir).as_posix(), "sha256": digest,
                         "vintage": vintage, "retrieved_at": retrieved})
        if hist:
            rec = {"history": hist, "current": {**hist[-1], "dataset": name, "status": "ok"}}
            add_event(rec, "rebuild-manifest", files=len(hist))
            new["datasets"][name] = rec
    path = raw_dir / MANIFEST
    try:
        if path.exists():
            try:
                _parse_manifest(path.read_bytes())
            except ValueError:
                os.replace(path, path.with_name(f"{MANIFEST}.invalid-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"))
    except OSError as exc:
        raise store_error(raw_dir, "manifest", path, exc) from None
    write_manifest(raw_dir, new)
    return new, notes


def load(raw_dir: Path, dataset: str, dtype: dict | None = None) -> pd.DataFrame:
    """Load a tabular raw dataset (verified). Region codes are always read as strings."""
    path, _ = verified_path(raw_dir, dataset)
    dt = {"region_code": str, "kommunenummer": str}
    dt.update(dtype or {})
    return pd.read_csv(path, dtype=dt, keep_default_na=True)


def load_geo(raw_dir: Path, dataset: str):
    """Load a boundary dataset (verified) as a GeoDataFrame with invalid polygons repaired."""
    import geopandas as gpd
    import shapely

    path, _ = verified_path(raw_dir, dataset)
    gdf = gpd.read_file(path)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    return gdf


def verify_all(raw_dir: Path) -> list[str]:
    """Check the sha256 of every current raw file; raise RawDataError naming the first bad one."""
    checked = []
    for name, rec in read_manifest(raw_dir)["datasets"].items():
        if rec.get("current", {}).get("status") == "ok":
            verified_path(raw_dir, name)
            checked.append(name)
    return checked
