"""Render the report (the Quarto book in the project root) to HTML and PDF.

``render(root, out_dir=None, renderer="auto")``

* ``"quarto"``: ``quarto render`` in ``root`` (``--output-dir out_dir`` when given), as real
  users do; fails with :class:`RenderError` when Quarto is not installed. The PDF uses the
  project's Typst book format ``kg-typst`` (``_extensions/kg``, copied into a staged ``root``
  that lacks it).
* ``"pandoc"``: the pandoc + Typst fallback (:mod:`kunnskapsgrunnlag.render.fallback`), which
  renders the same sources with exactly the Quarto features they use.
* ``"auto"``: Quarto when ``quarto`` is on the PATH, otherwise the fallback.

Returns ``{"renderer": "quarto" | "pandoc", "html": Path, "pdf": Path}``.

Everything published must use relative paths only: :func:`machine_paths` lists files of a
rendered book that contain the project's absolute path or a home/temporary folder. After a
Quarto render, embed markers Quarto left with absolute notebook paths (``data-notebook*``
attributes) are removed, and any remaining machine path is a :class:`RenderError`.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from . import compat, staging
from .fallback import RenderError, convert_notebooks, load_book, render_fallback

__all__ = ["render", "RenderError", "machine_paths"]

# Folders that only exist on the build machine; none may appear in a published file.
MACHINE_DIRS = ("/tmp/", "/home/", "/root/")
_TEXT_SUFFIXES = {
    ".html",
    ".htm",
    ".json",
    ".js",
    ".css",
    ".xml",
    ".txt",
    ".md",
    ".csv",
    ".svg",
    ".typ",
    ".yml",
    ".yaml",
    ".ipynb",
}


def _pdf_text(path: Path) -> str:
    import pypdf

    try:
        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)
    except Exception as exc:  # a broken PDF is reported by the caller's own checks
        return f"(unreadable PDF: {exc})"


def machine_paths(out_dir: Path, root: Path, dirs: tuple[str, ...] = MACHINE_DIRS) -> list[tuple[str, str]]:
    """(file relative to out_dir, offending text) for every published file in ``out_dir`` whose
    text (HTML, search index, scripts, notebooks, the PDF's text) contains the project's
    absolute path, its resolved path, or one of ``dirs`` (default /tmp/, /home/, /root/)."""
    out_dir, root = Path(out_dir), Path(root)
    needles = {str(root), str(root.resolve()), *dirs}
    needles = {n for n in needles if n and n != "/"}
    found: list[tuple[str, str]] = []
    for f in sorted(out_dir.rglob("*")):
        if not f.is_file():
            continue
        if f.suffix.lower() == ".pdf":
            text = _pdf_text(f)
        elif f.suffix.lower() in _TEXT_SUFFIXES:
            text = f.read_text(encoding="utf-8", errors="replace")
        else:
            continue
        for n in sorted(needles, key=len, reverse=True):
            at = text.find(n)
            if at >= 0:
                found.append((f.relative_to(out_dir).as_posix(), text[max(0, at - 40) : at + len(n) + 40]))
                break
    return found


_DATA_NOTEBOOK_ATTR = re.compile(r'\s+data-notebook(?:-[\w-]+)?="[^"]*"', re.I)


def _scrub_quarto_html(out_dir: Path) -> None:
    """Remove the embed markers (``data-notebook="/abs/…/X.ipynb"`` and friends) that Quarto
    uses internally to build notebook links, and papermill's absolute run paths from the
    published notebooks; a published file must not show this machine's folders."""
    for f in Path(out_dir).rglob("*.html"):
        text = f.read_text(encoding="utf-8", errors="replace")
        new = _DATA_NOTEBOOK_ATTR.sub("", text)
        if new != text:
            f.write_text(new, encoding="utf-8")
    # the notebooks offered for download beside their preview pages: papermill records the
    # absolute input and output paths of the run in the notebook's metadata
    for f in Path(out_dir).rglob("*.ipynb"):
        try:
            nb = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        pm = (nb.get("metadata") or {}).get("papermill")
        if isinstance(pm, dict) and ({"input_path", "output_path"} & set(pm)):
            for key in ("input_path", "output_path"):
                pm.pop(key, None)
            f.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def check_relative(out_dir: Path, root: Path) -> None:
    """RenderError when a published file contains the project's absolute path (the project
    itself may well live under /home, so only its own path is an error here)."""
    bad = machine_paths(out_dir, root, dirs=())
    if bad:
        listing = "\n".join(f"  {f}: …{snippet}…" for f, snippet in bad[:10])
        raise RenderError(
            f"{len(bad)} published file(s) in {Path(out_dir).name}/ contain absolute "
            f"paths of this machine (only relative paths may be published):\n{listing}"
        )


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


PROJECT_EXTENSIONS = Path(__file__).resolve().parents[2] / "_extensions"


def ensure_extensions(root: Path) -> list[Path]:
    """Quarto finds format extensions in the project's `_extensions/`. A staged copy of the
    sources (build/<id>/site/) gets the project's own (`kg`, the report's Typst book format)
    when it has none, so `format: kg-typst` resolves there too."""
    copied: list[Path] = []
    if not PROJECT_EXTENSIONS.is_dir() or Path(root).resolve() == PROJECT_EXTENSIONS.parent:
        return copied
    for ext in sorted(PROJECT_EXTENSIONS.iterdir()):
        target = Path(root) / "_extensions" / ext.name
        if ext.is_dir() and not target.exists():
            shutil.copytree(ext, target)
            copied.append(target)
    return copied


def _render_quarto(root: Path, out_dir: Path | None) -> dict:
    exe = shutil.which("quarto")
    if exe is None:
        raise RenderError(
            "renderer='quarto' but Quarto is not installed (no `quarto` on PATH); "
            "install it (e.g. conda-forge `quarto`) or use renderer='pandoc'"
        )
    ensure_extensions(root)
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
    _scrub_quarto_html(html.parent)
    notebook_pages(root, html.parent)
    _quarto_accessibility(html.parent)
    check_relative(html.parent, root)
    return {"renderer": "quarto", "html": html, "pdf": pdf}


def notebook_pages(root: Path, out_dir: Path) -> list[Path]:
    """The project's post-render step under Quarto: the executed notebooks behind the links
    «Vis notatboken» as pages ``notebooks/NB.html`` (the fallback's nbconvert template), each
    embedded cell linking back to its figure or table on the chapter's page. Quarto books make
    no notebook pages of their own (quarto-cli src/format/html/format-html-notebook.ts)."""
    embeds = staging.book_embeds(Path(root))
    figs = [e for e in embeds if e.label.split("-", 1)[0] in ("fig", "tbl") and e.notebook.exists()]
    if not figs:
        return []
    book = load_book(Path(root))
    titles: dict[Path, str] = {}
    for e in figs:
        titles.setdefault(e.notebook, e.chapter_title)
    back = {(e.notebook.stem, e.label): posixpath.relpath(e.page, staging.NOTEBOOK_PAGES) + "#" + e.label for e in figs}
    return convert_notebooks(
        [e.notebook for e in figs], Path(out_dir), titles=titles, lang=book.lang, book_title=book.title, backlinks=back
    )


# Landmarks Quarto leaves unlabelled (axe-core `landmark-unique`), by the element's class or id.
_NAV_LABELS = (
    ("page-navigation", "Forrige og neste kapittel"),
    ("quarto-secondary-nav", "Kapittelnavigasjon"),
    ('id="TOC"', "På denne siden"),
    ('id="quarto-sidebar"', "Innhold"),
)


def _quarto_accessibility(out_dir: Path) -> None:
    """What axe-core finds on Quarto's own HTML and Quarto offers no option for:

    * tables inside ``.cell-output-display`` scroll sideways (quarto-cli
      src/resources/formats/html/_quarto-rules.scss: `.cell-output-display:not(.no-overflow-x)`
      has `overflow-x: auto`) and must be reachable by keyboard (`scrollable-region-focusable`):
      the wrapper of every table gets ``tabindex="0"``;
    * every navigation landmark gets its own Norwegian name (`landmark-unique`), and the sidebar's
      collapse toggles (links with ``role="navigation"``) become buttons, which is what they are.
    """
    for f in Path(out_dir).rglob("*.html"):
        if staging.NOTEBOOK_PAGES in f.relative_to(out_dir).parts[:1]:
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        new = re.sub(
            r'<div class="(cell-output cell-output-display[^"]*)">(\s*<table\b)',
            r'<div class="\1" tabindex="0">\2',
            text,
        )
        for key, label in _NAV_LABELS:
            new = re.sub(
                r"<nav\b(?![^>]*\baria-label=)([^>]*" + re.escape(key) + r"[^>]*)>",
                '<nav aria-label="' + label + r'"\1>',
                new,
            )
        # two breadcrumb trails (the narrow-screen bar and the title block), both "breadcrumb"
        new = re.sub(
            r'<nav\b([^>]*)aria-label="breadcrumb"([^>]*quarto-title-breadcrumbs[^>]*)>',
            r'<nav\1aria-label="Brødsmulesti ved tittelen"\2>',
            new,
        )
        new = re.sub(
            r'<nav\b([^>]*quarto-title-breadcrumbs[^>]*)aria-label="breadcrumb"([^>]*)>',
            r'<nav\1aria-label="Brødsmulesti ved tittelen"\2>',
            new,
        )
        new = new.replace('aria-label="breadcrumb"', 'aria-label="Brødsmulesti"')
        new = re.sub(r'(<a\b[^>]*data-bs-toggle="collapse"[^>]*?)role="navigation"', r'\1role="button"', new)
        new = re.sub(r'role="navigation"([^>]*data-bs-toggle="collapse")', r'role="button"\1', new)
        if new != text:
            f.write_text(new, encoding="utf-8")


def publish_modes(out_dir: Path, root: Path) -> None:
    """Published files readable by everyone (0644, folders 0755): nbconvert pages and atomic
    writes would otherwise keep a temporary file's 0600. Only the book's own output folder: never
    a folder that holds the project (`root`) or the working directory."""
    out_dir = Path(out_dir).resolve()
    root = Path(root).resolve()
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the working directory was removed
        cwd = root
    if out_dir in (root, cwd) or out_dir in root.parents or out_dir in cwd.parents or not out_dir.is_dir():
        return
    for f in out_dir.rglob("*"):
        if f.is_symlink():
            continue
        f.chmod(0o755 if f.is_dir() else 0o644)


def render(root: Path, out_dir: Path | None = None, renderer: str = "auto") -> dict:
    """Render the book in ``root`` to HTML and PDF; see the module docstring."""
    root = Path(root).resolve()
    if renderer not in RENDERERS:
        raise RenderError(f"unknown renderer {renderer!r} (choose one of {', '.join(RENDERERS)})")
    if not (root / "_quarto.yml").exists():
        raise RenderError(f"{root}: no _quarto.yml (not a Quarto project)")
    if renderer == "auto":
        renderer = "quarto" if shutil.which("quarto") else "pandoc"
    compat.check(root)  # the same rules before either renderer starts
    if renderer == "quarto":
        res = _render_quarto(root, Path(out_dir) if out_dir is not None else None)
    else:
        res = render_fallback(root, Path(out_dir) if out_dir is not None else None)
        res = {"renderer": "pandoc", "html": res["html"], "pdf": res["pdf"]}
    cfg = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8")) or {}
    target = (
        Path(out_dir)
        if out_dir is not None
        else root / str(((cfg.get("project") or {}) if isinstance(cfg, dict) else {}).get("output-dir") or "_book")
    )
    publish_modes(target, root)
    return res
