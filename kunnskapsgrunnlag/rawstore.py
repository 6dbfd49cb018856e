"""The immutable raw store: `data/raw/<dataset>/…` plus `data/raw/manifest.json`.

Every file written here is content-addressed (its sha256 is in its name and the manifest) and
never overwritten: a new vintage or a revised download is written beside the old file. Every
load verifies the sha256 against the manifest.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

MANIFEST = "manifest.json"


class RawDataError(RuntimeError):
    """A raw file is missing, tampered with or unreadable; the message names the file."""


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(raw_dir: Path) -> dict:
    path = Path(raw_dir) / MANIFEST
    if not path.exists():
        return {"datasets": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RawDataError(f"{path}: manifest is not valid JSON ({exc})") from exc


def write_manifest(raw_dir: Path, manifest: dict) -> None:
    data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    _atomic_write_bytes(Path(raw_dir) / MANIFEST, data + b"\n")


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
    if path.exists():
        if sha256_file(path) != digest:
            raise RawDataError(f"{path}: exists with different content; refusing to overwrite raw data")
    else:
        _atomic_write_bytes(path, payload)
        path.chmod(0o444)
    entry = {**meta, "dataset": dataset, "status": "ok", "file": rel.as_posix(), "sha256": digest}
    entry.setdefault("retrieved_at", now_iso())
    manifest = read_manifest(raw_dir)
    rec = manifest["datasets"].setdefault(dataset, {"history": []})
    rec["current"] = entry
    if not any(h.get("sha256") == digest for h in rec["history"]):
        rec["history"].append({k: entry[k] for k in ("file", "sha256", "retrieved_at", "vintage") if k in entry})
    write_manifest(raw_dir, manifest)
    return entry


def store_frame(raw_dir: Path, dataset: str, df: pd.DataFrame, meta: dict[str, Any]) -> dict:
    payload = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return store(raw_dir, dataset, payload, ".csv", {**meta, "rows": int(len(df))})


def record_missing(raw_dir: Path, dataset: str, reason: str, how_to_fetch: str, meta: dict | None = None) -> dict:
    """Record that a dataset has no source available. Keeps any earlier good file as history."""
    manifest = read_manifest(raw_dir)
    rec = manifest["datasets"].setdefault(dataset, {"history": []})
    previous = rec.get("current")
    if previous and previous.get("status") == "ok":
        # A file fetched earlier stays the current one: missing now does not erase data.
        rec["last_attempt"] = {"status": "missing", "reason": reason, "at": now_iso()}
        write_manifest(raw_dir, manifest)
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
        raise RawDataError(f"{path}: raw file of dataset {dataset!r} listed in the manifest is gone")
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise RawDataError(
            f"{path}: sha256 mismatch for dataset {dataset!r} (manifest {entry['sha256'][:12]}…, "
            f"file {actual[:12]}…). The raw file was changed after it was fetched; restore it or "
            "re-run `kunnskapsgrunnlag fetch`."
        )
    return path, entry


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
