"""Owned outputs and run locks.

* Every folder the tool creates for its outputs (``build/``, ``build/<id>/``, ``_book/``,
  ``_book/<id>/``, ``data/processed/<id>/``, a ``--out`` folder) carries a stamp file
  (``.kunnskapsgrunnlag-output``). The tool replaces or deletes only stamped folders, and refuses,
  before touching anything, an output path that exists and is not its own, or that is, contains
  or lies inside the project's sources (the root itself, ``data/``, ``notebooks/``, ``report/``,
  ``config/``, the package, ``.git``).
* One run at a time per configuration: ``build/<id>/.lock`` names the holder's pid and start
  time. The lock is an OS file lock (``flock``), so a holder that dies releases it; the next run
  takes it over and says so. A second run refuses with a message naming the holder, or waits
  (``--wait``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, TextIO

import yaml

from . import atomic

STAMP = ".kunnskapsgrunnlag-output"
PROTECTED = ("data", "notebooks", "report", "config", "kunnskapsgrunnlag", ".git", "tests", "docs")


class OutputError(RuntimeError):
    """An output path the tool must not write (not its own, or part of the project's sources)."""


class LockBusy(RuntimeError):
    """Another run of the same configuration holds the lock."""


def is_owned(path: Path) -> bool:
    return (Path(path) / STAMP).is_file()


def stamp(path: Path, **info) -> None:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path / STAMP, {"made_by": "kunnskapsgrunnlag", **info})


def stamp_info(path: Path) -> dict:
    return atomic.read_json(Path(path) / STAMP, default={}) or {}


def _inside(p: Path, parent: Path) -> bool:
    return p == parent or parent in p.parents


def _both(path: Path) -> set[Path]:
    """A path as given (absolute) and with every symlink resolved: guards compare both, so a
    symlinked folder (e.g. data/raw elsewhere) neither defeats nor confuses them."""
    return {Path(os.path.abspath(path)), Path(path).resolve()}


def _protected(root: Path) -> list[tuple[str, Path]]:
    out = []
    for name in PROTECTED:
        for q in _both(root / name):
            out.append((name, q))
    data = root / "data"
    if data.is_dir():  # symlinks inside data/ (data/raw on another disk, …) protect their targets too
        for child in [*data.iterdir(), *[g for c in data.iterdir() if c.is_dir() for g in c.iterdir()]]:
            if child.is_symlink():
                out.append(("data", child.resolve()))
    return out


CONFIG_ID = re.compile(r"^\d{4}-\w+$")


def _books_in(p: Path) -> list[Path]:
    """Book folders (stamped `kind: book`) at or below `p`."""
    if not p.is_dir():
        return []
    found = []
    for st in p.rglob(STAMP):
        info = atomic.read_json(st, default={}) or {}
        if isinstance(info, dict) and info.get("kind") == "book":
            found.append(st.parent)
    return found


def check_output_dir(path: Path, root: Path, *, what: str = "output folder") -> Path:
    """Refuse (OutputError) a folder the tool may not replace; return it resolved.

    Allowed: a folder that does not exist yet (outside the sources), an empty folder, or a folder
    stamped as the tool's own that holds no other book. Never the books' folder `_book/`, a
    configuration's book `_book/<id>/` (or anything in it), `build/`, or a folder holding a book.
    Paths are compared as given and with symlinks resolved.
    """
    root = Path(root).resolve()
    given = Path(path).expanduser()
    given = given if given.is_absolute() else Path.cwd() / given
    cands = _both(given)
    p = Path(given).resolve()
    hint = "Choose a new folder, e.g. --out _book/kopi"
    for q in cands:
        if _inside(root, q):
            which = "the project root" if q == root else "a folder that contains the project"
            raise OutputError(f"{what} {p} is {which}; refusing to replace it (nothing was changed). {hint}")
    for name, prot in _protected(root):
        if any(_inside(q, prot) or _inside(prot, q) for q in cands):
            raise OutputError(
                f"{what} {p} is or lies inside the project's {name}/ folder, which the tool never "
                f"replaces (nothing was changed). {hint}"
            )
    for area in ("_book", "build"):
        for a in _both(root / area):
            for q in cands:
                if _inside(a, q):
                    raise OutputError(
                        f"{what} {p} is or holds the project's {area}/ folder "
                        f"({'every built book' if area == '_book' else 'every build'}); refusing to "
                        f"replace it (nothing was changed). {hint}"
                    )
                if area == "build" and _inside(q, a):
                    raise OutputError(
                        f"{what} {p} lies inside build/, the tool's build state (nothing was changed). {hint}"
                    )
                if area == "_book" and _inside(q, a) and q != a:
                    first = q.relative_to(a).parts[0]
                    if (
                        CONFIG_ID.match(first)
                        or (a / first / STAMP).is_file()
                        and (stamp_info(a / first).get("configuration") == first)
                    ):
                        raise OutputError(
                            f"{what} {p} is or lies inside the book _book/{first}/ of a configuration; "
                            f"`render` writes that book itself (without --out). Refusing to replace it "
                            f"(nothing was changed). {hint}"
                        )
    if p.exists() and not p.is_dir():
        raise OutputError(f"{what} {p} exists and is a file, not a folder the tool made (nothing was changed)")
    if p.is_dir() and not is_owned(p) and any(p.iterdir()):
        raise OutputError(
            f"{what} {p} exists and was not made by kunnskapsgrunnlag (no {STAMP} in it); "
            "refusing to replace it (nothing was changed). Choose a new or empty folder"
        )
    others = [b for b in _books_in(p) if b != p]
    if others:
        raise OutputError(
            f"{what} {p} holds {len(others)} other book(s) ({others[0]}); refusing to replace it "
            f"(nothing was changed). {hint}"
        )
    return p


def ensure_dir(path: Path, root: Path, **info) -> Path:
    """Create (and stamp) an output folder, or accept it when it is already the tool's own or empty."""
    p = check_output_dir(path, root)
    if not is_owned(p):
        stamp(p, **info)
    return p


def check_owned_subdir(path: Path) -> Path:
    """Refuse (OutputError) a folder in the tool's artifact areas that holds files the tool did not make."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(
            f"{p} exists and is a file, not a folder the tool made; move it away and run again (nothing was changed)"
        )
    if p.is_dir() and not is_owned(p) and any(p.iterdir()):
        raise OutputError(
            f"{p} exists and was not made by kunnskapsgrunnlag (no {STAMP} in it); "
            "move it away (or delete it yourself) and run again (nothing was changed)"
        )
    return p


def ensure_owned_subdir(path: Path, **info) -> Path:
    """A folder the tool makes inside its artifact areas (build/<id>/, _book/<id>/, data/processed/<id>/):
    created and stamped when absent or empty; refused when it holds files the tool did not make."""
    p = check_owned_subdir(path)
    if not is_owned(p):
        stamp(p, **info)
    return p


def ensure_artifact_root(path: Path, **info) -> Path:
    """`build/` and `_book/` at the project root are the tool's by definition (README); stamp them."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if not is_owned(path):
        stamp(path, **info)
    return path


def remove_owned(path: Path) -> bool:
    """Delete a folder only when it carries the stamp; return whether it was deleted."""
    path = Path(path)
    if path.is_dir() and is_owned(path):
        shutil.rmtree(path)
        return True
    return False


# --------------------------------------------------------------------------------------------
# Locks
# --------------------------------------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError, TypeError):
        return False
    return True


def _describe(holder: dict) -> str:
    if not holder:
        return "another run"
    return f"pid {holder.get('pid', '?')} started {holder.get('started', '?')}" + (
        f" (`{holder['command']}`)" if holder.get("command") else ""
    )


class RunLock:
    """``with RunLock(build_dir / ".lock", "configuration 2026-33", wait=False): ...``"""

    def __init__(self, path: Path, what: str, *, wait: bool = False, on_message=None, poll: float = 0.5):
        self.path = Path(path)
        self.what = what
        self.wait = wait
        self.poll = poll
        self.say = on_message or (lambda msg: None)
        self._fh: TextIO | None = None

    def _read_holder(self) -> dict:
        try:
            text = self.path.read_text(encoding="utf-8")
            return json.loads(text) if text.strip() else {}
        except (OSError, ValueError):
            return {}

    def _busy_holder(self, patience: float = 0.5) -> dict:
        """Who holds the lock, for the message. The holder writes its pid just after it takes the
        lock, so an empty file is read again for a moment before the message says "another run"."""
        deadline = time.monotonic() + patience
        holder = self._read_holder()
        while not holder and time.monotonic() < deadline:
            time.sleep(0.02)
            holder = self._read_holder()
        return holder

    def _try(self) -> bool:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: exclusive create + pid check
            return self._try_excl()
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def _try_excl(self) -> bool:  # pragma: no cover - only without fcntl
        holder = self._read_holder()
        if holder and pid_alive(holder.get("pid", -1)):
            return False
        self.path.unlink(missing_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        return True

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        announced = False
        while not self._try():
            holder = self._busy_holder()
            if not self.wait:
                raise LockBusy(
                    f"{self.what} is already being built by {_describe(holder)}; "
                    f"wait for it to finish, or run again with --wait. (Lock file: {self.path})"
                )
            if not announced:
                self.say(f"Waiting for {_describe(holder)} to finish ({self.what}) …")
                announced = True
            time.sleep(self.poll)
        previous = self._read_holder()
        if previous.get("pid") and previous.get("pid") != os.getpid():
            self.say(f"Took over the lock of {self.what} left by {_describe(previous)}, which is no longer running")
        info = {
            "pid": os.getpid(),
            "started": datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": socket.gethostname(),
            "command": " ".join(["kunnskapsgrunnlag", *sys.argv[1:]]),
        }
        fh = self._fh
        assert fh is not None  # _try() or _try_excl() opened it
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(info))
        fh.flush()
        os.fsync(fh.fileno())
        return self

    def release(self) -> None:
        if self._fh is None:
            return
        try:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.flush()
        except OSError:
            pass
        finally:
            self._fh.close()  # closing releases the flock
            self._fh = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# --- the built variables of a configuration (build/<id>/_variables.yml) ---------------------------
def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = str(v)
    return out


def variables_path(settings) -> Path:
    return settings.build_dir / "_variables.yml"


def read_variables(path: Path) -> dict:
    """Flattened variables of a `_variables.yml` ({} when absent or corrupt)."""
    try:
        data = (
            yaml.load(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            if Path(path).exists()
            else {}
        )
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    return _flatten(data) if isinstance(data, dict) else {}


@contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """A new version of folder `out`: the block writes it into a sibling temporary folder (yielded),
    which replaces `out` only when the block succeeds. On any failure (Ctrl-C included) the temporary
    folder is removed and the previous `out` stays, or is put back."""
    out = Path(out)
    run = f"{os.getpid()}-{time.time_ns() % 10**9:09d}"
    tmp = out.with_name(f".{out.name}.new-{run}")
    old = out.with_name(f".{out.name}.old-{run}")
    try:
        yield tmp
        if out.exists():
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            old.rename(out)  # put the previous version back
        raise
    shutil.rmtree(old, ignore_errors=True)
