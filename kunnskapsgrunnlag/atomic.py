"""Crash-safe state files: write to a temporary file in the same folder, fsync, rename.

Every state file the tool writes (manifest, build state, render state, records, variables)
goes through `write_text`/`write_json`; `read_json` reads one defensively: a corrupt file is
set aside (renamed to `<name>.corrupt-<timestamp>`) with a warning and the default is returned,
so a cut write never leaves every later run failing.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes 0600; published files are readable by everyone (0644)
            os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


class CorruptStateWarning(UserWarning):
    """A state file could not be read and was set aside."""


def read_json(path: Path, default: Any = None) -> Any:
    """Parsed JSON of `path`; a missing file gives `default`, a corrupt one is set aside + warned."""
    path = Path(path)
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        set_aside(path, str(exc), stacklevel=3)
        return default


def set_aside(path: Path, why: str, stacklevel: int = 2) -> Path:
    """The one policy for a corrupt state or output file: renamed to `<name>.corrupt-<timestamp>`
    (never deleted) with a CorruptStateWarning, so that what made it rebuilds it. Returns the new path."""
    path = Path(path)
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
    os.replace(path, aside)
    warnings.warn(
        f"{path} was corrupt ({why}); set aside as {aside.name} and rebuilt",
        CorruptStateWarning,
        stacklevel=stacklevel + 1,
    )
    return aside
