"""Captions into the executed notebook: the runner calls `apply_captions` after papermill, with the
captions the notebook recorded through `ctx.caption()` (records/<name>.json). A module of its own, so
that the runner does not import the in-notebook API (notebook.py) for it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from . import atomic

if TYPE_CHECKING:
    from .config import Settings

_OPT = re.compile(r"^#\|\s*([\w-]+)\s*:")


def apply_captions(settings: Settings, name: str, notebook_path: Path) -> int:
    """Write the captions the notebook recorded (`ctx.caption`) into the `#| fig-cap:` /
    `#| tbl-cap:` / `#| fig-alt:` options of the executed notebook. Returns the number of cells
    changed. A label the notebook does not have is an error (a typo in `ctx.caption`)."""
    rec = atomic.read_json(Path(settings.build_dir) / "records" / f"{name}.json", default={}) or {}
    caps: dict = rec.get("captions") or {}
    if not caps:
        return 0
    nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    found, changed = set(), 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = src.split("\n")
        opts = []
        for i, line in enumerate(lines):
            m = _OPT.match(line)
            if not m:
                break
            opts.append((i, m.group(1), line))
        label = next((ln.split(":", 1)[1].strip() for _, k, ln in opts if k == "label"), None)
        if label not in caps:
            continue
        found.add(label)
        new_opts = [(k, ln) for _, k, ln in opts if k not in caps[label]]
        for key, value in caps[label].items():
            new_opts.append((key, f"#| {key}: {json.dumps(value, ensure_ascii=False)}"))
        lines = [ln for _, ln in new_opts] + lines[len(opts) :]
        cell["source"] = "\n".join(lines)
        changed += 1
    unknown = sorted(set(caps) - found)
    if unknown:
        raise ValueError(f"notebook {name}: ctx.caption() for label(s) {unknown} that no cell has")
    atomic.write_text(Path(notebook_path), json.dumps(nb, ensure_ascii=False, indent=1) + "\n")
    return changed
