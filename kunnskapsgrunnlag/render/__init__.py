"""Render the report (the Quarto book in the project root) to HTML and PDF.

``render(root, out_dir=None, renderer="auto")``

* ``"quarto"``: ``quarto render`` in ``root`` (``--output-dir out_dir`` when given), as real
  users do; fails with :class:`RenderError` when Quarto is not installed.
* ``"pandoc"``: the pandoc + Typst fallback (:mod:`kunnskapsgrunnlag.render.fallback`), which
  renders the same sources with exactly the Quarto features they use.
* ``"auto"``: Quarto when ``quarto`` is on the PATH, otherwise the fallback.

Returns ``{"renderer": "quarto" | "pandoc", "html": Path, "pdf": Path}``.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from .fallback import RenderError, render_fallback

__all__ = ["render", "RenderError"]

RENDERERS = ("auto", "quarto", "pandoc")


def _quarto_outputs(root: Path, out_dir: Path | None) -> tuple[Path, Path]:
    cfg = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8")) or {}
    out = Path(out_dir) if out_dir else root / str((cfg.get("project") or {}).get("output-dir") or "_book")
    book = cfg.get("book") or {}
    name = book.get("output-file")
    html = out / "index.html"
    if name:
        pdf = out / f"{Path(str(name)).stem}.pdf"
    else:
        pdfs = sorted(out.glob("*.pdf"))
        pdf = pdfs[0] if pdfs else out / "book.pdf"
    return html, pdf


def _render_quarto(root: Path, out_dir: Path | None) -> dict:
    exe = shutil.which("quarto")
    if exe is None:
        raise RenderError("renderer='quarto' but Quarto is not installed (no `quarto` on PATH); "
                          "install it (e.g. conda-forge `quarto`) or use renderer='pandoc'")
    cmd = [exe, "render"]
    if out_dir is not None:
        cmd += ["--output-dir", str(Path(out_dir).resolve())]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout or "").splitlines()[-40:])
        raise RenderError(f"quarto render failed in {root} (exit {proc.returncode}):\n{tail}")
    html, pdf = _quarto_outputs(root, out_dir)
    for p in (html, pdf):
        if not p.exists():
            raise RenderError(f"quarto render finished but {p} was not produced")
    return {"renderer": "quarto", "html": html, "pdf": pdf}


def render(root: Path, out_dir: Path | None = None, renderer: str = "auto") -> dict:
    """Render the book in ``root`` to HTML and PDF; see the module docstring."""
    root = Path(root).resolve()
    if renderer not in RENDERERS:
        raise RenderError(f"unknown renderer {renderer!r} (choose one of {', '.join(RENDERERS)})")
    if not (root / "_quarto.yml").exists():
        raise RenderError(f"{root}: no _quarto.yml (not a Quarto project)")
    if renderer == "auto":
        renderer = "quarto" if shutil.which("quarto") else "pandoc"
    if renderer == "quarto":
        return _render_quarto(root, Path(out_dir) if out_dir is not None else None)
    res = render_fallback(root, Path(out_dir) if out_dir is not None else None)
    return {"renderer": "pandoc", "html": res["html"], "pdf": res["pdf"]}
