"""The three phases behind the CLI and `make`: fetch -> build (notebooks) -> render."""
from __future__ import annotations

import hashlib
import json
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


def render_inputs_hash(settings: Settings, renderer: str) -> str:
    """Hash of everything the rendered book depends on (sources, variables, executed notebooks, renderer)."""
    root = settings.root
    files = [root / "_quarto.yml", root / "index.qmd", root / "_variables.yml"]
    files += sorted((root / "report").rglob("*"))
    files += sorted((settings.build_dir / "notebooks").glob("*.ipynb"))
    files += sorted((Path(__file__).parent / "render").rglob("*"))
    h = hashlib.sha256(renderer.encode())
    for f in files:
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(str(f).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def render(settings: Settings, *, renderer: str = "auto", out_dir: Path | None = None, force: bool = False) -> dict:
    """Render into a fresh folder, then swap it in: a failed render leaves the previous book intact.

    Skipped when nothing the book depends on has changed since the last render into `out_dir`.
    """
    from .render import render as do_render

    out = Path(out_dir or settings.root / "_book")
    state_file = settings.build_dir / "render-state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    key = render_inputs_hash(settings, renderer)
    prev = state.get(str(out))
    if not force and prev and prev["hash"] == key and all(Path(p).exists() for p in prev["outputs"].values() if p):
        return {**prev["outputs"], "renderer": prev["renderer"], "skipped": True}
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
    res = {k: (out / Path(v).relative_to(tmp) if isinstance(v, Path) and tmp in Path(v).parents else v)
           for k, v in res.items()}
    state[str(out)] = {"hash": key, "renderer": res.get("renderer"),
                       "outputs": {k: str(v) for k, v in res.items() if k in ("html", "pdf")}}
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=2))
    return res
