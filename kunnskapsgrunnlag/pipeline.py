"""The three phases behind the CLI and `make`: fetch -> build (notebooks) -> render."""
from __future__ import annotations

import shutil
from pathlib import Path

from . import rawstore
from .config import Settings
from .fetch import fetch_all, network_available
from .runner import build_notebooks


def fetch(settings: Settings, *, mirror: Path | None, offline: bool = False, only=None, on_result=None):
    online = (not offline) and network_available()
    return online, fetch_all(settings, online=online, mirror=mirror, only=only, on_result=on_result)


def build(settings: Settings, *, jobs: int = 1, force: bool = False, only=None, on_event=None):
    """Verify every raw file first (a tampered file stops the build before anything runs)."""
    rawstore.verify_all(settings.raw_dir)
    return build_notebooks(settings, jobs=jobs, force=force, only=only, on_event=on_event)


def render(settings: Settings, *, renderer: str = "auto", out_dir: Path | None = None) -> dict:
    """Render into a fresh folder, then swap it in: a failed render leaves the previous book intact."""
    from .render import render as do_render

    out = Path(out_dir or settings.root / "_book")
    tmp = out.with_name(out.name + ".new")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        res = do_render(settings.root, tmp, renderer)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.with_name(out.name + ".old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return {k: (out / Path(v).relative_to(tmp) if isinstance(v, Path) and tmp in Path(v).parents else v)
            for k, v in res.items()}
