"""The staged book sources: one text that Quarto and the fallback renderer both read as it is.

`pipeline.stage_site` mirrors the sources into ``build/<id>/site/`` and passes them through
:func:`prepare_sources` first, so that what is published depends on no renderer-specific trick:

* **Links under each embedded figure and table.** After every ``{{< embed NB.ipynb#fig-… >}}`` /
  ``#tbl-…`` line a block is written into the staged chapter::

      ::: {.content-visible when-format="html"}
      [Last ned tallene (CSV)](../figurdata/fig-x.csv){.kg-csv}
      [Vis notatboken](../notebooks/NB.html#cell-id=…){.kg-notebook …}
      :::

  This is the pattern real Quarto renders with one figure, a whole caption, and the link in the
  HTML only (case 1.6 of ../shared/quarto-behaviour; https://quarto.org/docs/authoring/conditional.html).
  A second cell output instead becomes a sub-figure («(a)», «(b)») and, in the PDF, a box
  «Unable to display output for mime type(s): text/html» (quarto-cli src/core/jupyter/jupyter.ts),
  so notebooks show exactly one output per embedded cell. Quarto books make no notebook links or
  preview pages of their own (quarto-cli src/format/html/format-html-notebook.ts: "Books don't
  currently support notebook previews"); the project renders the notebook pages itself
  (:func:`kunnskapsgrunnlag.render.fallback.convert_notebooks`, for both renderers) and links them here.
  Hrefs are relative to the page that shows the chapter (``report/02_situasjonen.html`` in
  Quarto's book; sections included by a chapter appear on the chapter's page).
* **Configuration values in headings.** ``{{< var key >}}`` in a heading or a front-matter title
  is replaced by its value from ``_variables.yml``. Quarto expands shortcodes in the heading
  itself but not in the navigation it builds from it (previous/next ``aria-label``, breadcrumbs,
  ``search.json``; case ``titles.qmd`` of the behaviour corpus), so the value must be in the
  source before Quarto reads it.

:func:`prepare_site` applies the same to a folder in place (a copy the caller owns).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

__all__ = [
    "CSV_LINK_TEXT",
    "NOTEBOOK_LINK_TEXT",
    "prepare_sources",
    "prepare_site",
    "link_block",
    "resolve_heading_vars",
    "add_embed_links",
    "book_pages",
    "book_embeds",
    "BookEmbed",
]

CSV_LINK_TEXT = "Last ned tallene (CSV)"
NOTEBOOK_LINK_TEXT = "Vis notatboken"
FIGURDATA = "figurdata"
NOTEBOOK_PAGES = "notebooks"

EMBED_LINE = re.compile(r"^[ \t]*\{\{<\s*embed\s+(?P<ref>[^\s>]+)\s*>\}\}[ \t]*$", re.M)
INCLUDE = re.compile(r"\{\{<\s*include\s+([^\s>]+)\s*>\}\}")
VAR = re.compile(r"(?<!\{)\{\{<\s*var\s+([\w.-]+)\s*>\}\}(?!\})")
HEADING = re.compile(r"^(#{1,6})([ \t].*)$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?\n)?(---|\.\.\.)[ \t]*(\n|\Z)", re.S)
_LINKS_START = '::: {.content-visible when-format="html"}'
_GENERATED = re.compile(r"\A\s*" + re.escape(_LINKS_START) + r"\n[^\n]*\{\.kg-notebook\b")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!$@~^])")


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _attr(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _lookup(variables: dict, key: str) -> str | None:
    node: Any = variables
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, (dict, list)) or node is None:
        return None
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def _outside_fences(text: str):
    """(index, line) of every line outside fenced code blocks."""
    fence: str | None = None
    for i, line in enumerate(text.split("\n")):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) <= {fence[0]}:
                fence = None
            continue
        yield i, line


def resolve_heading_vars(text: str, variables: dict) -> str:
    """``{{< var key >}}`` in ATX headings and in front-matter ``title``/``subtitle`` replaced by
    the value (escaped as Markdown). Unknown keys stay: the compatibility checker names them."""

    def sub(line: str) -> str:
        return VAR.sub(
            lambda m: _md_escape(v) if (v := _lookup(variables, m.group(1))) is not None else m.group(0), line
        )

    m = FRONT_MATTER.match(text)
    head, body = ("", text) if not m else (text[: m.end()], text[m.end() :])
    if head:
        head = re.sub(r"^((?:title|subtitle|pagetitle)\s*:.*)$", lambda x: sub(x.group(1)), head, flags=re.M)
    lines = body.split("\n")
    for i, line in _outside_fences(body):
        if HEADING.match(line) and "{{<" in line:
            lines[i] = sub(line)
    return head + "\n".join(lines)


def link_block(*, page_dir: str, label: str, notebook: str, cell_id: str | None, has_csv: bool) -> str:
    """The HTML-only block under an embed (see the module docstring); hrefs relative to `page_dir`."""

    def rel(target: str) -> str:
        return posixpath.relpath(target, page_dir or ".")

    nb_page = f"{NOTEBOOK_PAGES}/{PurePosixPath(notebook).stem}.html"
    href = rel(nb_page) + (f"#cell-id={cell_id}" if cell_id else "")
    title = f"Cellen {label} i {PurePosixPath(notebook).name}"
    links = []
    if has_csv:
        links.append(f"[{CSV_LINK_TEXT}]({rel(f'{FIGURDATA}/{label}.csv')}){{.kg-csv}}")
    links.append(f'[{NOTEBOOK_LINK_TEXT}]({href}){{.kg-notebook title="{_attr(title)}"}}')
    return f"{_LINKS_START}\n{' '.join(links)}\n:::"


def add_embed_links(
    text: str, *, page_dir: str, csv_labels: set[str], cell_ids: dict[str, dict[str, str | None]]
) -> str:
    """Write :func:`link_block` after every figure/table embed line (idempotent).

    `cell_ids`: notebook file name -> {cell label: cell id} of the executed notebooks."""
    out: list[str] = []
    pos = 0
    for m in EMBED_LINE.finditer(text):
        ref = m.group("ref")
        if "#" not in ref:
            continue
        nb_ref, label = ref.rsplit("#", 1)
        if label.split("-", 1)[0] not in ("fig", "tbl") or _GENERATED.match(text[m.end() :]):
            continue
        nb_name = PurePosixPath(nb_ref).name
        cell_id = (cell_ids.get(nb_name) or {}).get(label)
        block = link_block(
            page_dir=page_dir, label=label, notebook=nb_name, cell_id=cell_id, has_csv=label in csv_labels
        )
        out.append(text[pos : m.end()])
        out.append("\n\n" + block)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def cell_labels(nb: dict) -> dict[str, str | None]:
    """{label: cell id} of a notebook's code cells labelled with `#| label:`."""
    found: dict[str, str | None] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        for line in src.splitlines():
            m = re.match(r"^#\|\s*label:\s*['\"]?([\w-]+)", line)
            if m:
                found.setdefault(m.group(1), cell.get("id"))
                break
            if not line.startswith("#|"):
                break
    return found


def book_pages(quarto_cfg: dict, texts: dict[str, str]) -> dict[str, str]:
    """Source file (posix, relative to the book root) -> the page that shows it: a chapter is its
    own page (``report/x.qmd`` -> ``report/x.html``); an included file appears on its chapter's."""
    book = quarto_cfg.get("book") or {}
    chapters: list[str] = []

    def walk(items: Any) -> None:
        for it in items or []:
            if isinstance(it, str):
                chapters.append(it)
            elif isinstance(it, dict):
                if it.get("href") or it.get("file"):
                    chapters.append(str(it.get("href") or it.get("file")))
                walk(it.get("chapters"))

    walk(book.get("chapters"))
    walk(book.get("appendices"))
    pages: dict[str, str] = {}

    def visit(src: str, page: str, depth: int = 0) -> None:
        if src in pages or depth > 20:
            return
        pages[src] = page
        for m in INCLUDE.finditer(texts.get(src, "")):
            target = m.group(1)
            inc = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(posixpath.dirname(src), target))
            )
            visit(inc, page, depth + 1)

    for ch in chapters:
        ch = ch.lstrip("/")
        visit(ch, str(PurePosixPath(ch).with_suffix(".html")))
    for src in texts:  # files not reachable from the book: their own page
        pages.setdefault(src, str(PurePosixPath(src).with_suffix(".html")))
    return pages


def _transform(
    texts: dict[str, str],
    quarto_text: str | None,
    variables: dict,
    csv_labels: set[str],
    cell_ids: dict[str, dict[str, str | None]],
) -> dict[str, str]:
    try:
        cfg = yaml.safe_load(quarto_text or "") or {}
    except yaml.YAMLError:
        cfg = {}
    pages = book_pages(cfg if isinstance(cfg, dict) else {}, texts)
    out = {}
    for rel, text in texts.items():
        new = resolve_heading_vars(text, variables)
        new = add_embed_links(new, page_dir=posixpath.dirname(pages[rel]), csv_labels=csv_labels, cell_ids=cell_ids)
        out[rel] = new
    return out


def _read(src: bytes | Path) -> bytes:
    return src if isinstance(src, bytes) else Path(src).read_bytes()


def prepare_sources(wanted: dict[Path, bytes | Path]) -> dict[Path, bytes | Path]:
    """The staged site's files (path in the site -> content or source file), with every ``.qmd``
    prepared as described in the module docstring (other files unchanged)."""
    qmds = {Path(r).as_posix(): r for r in wanted if Path(r).suffix == ".qmd"}
    texts = {p: _read(wanted[r]).decode("utf-8").replace("\r\n", "\n") for p, r in qmds.items()}
    quarto = wanted.get(Path("_quarto.yml"))
    var_src = wanted.get(Path("_variables.yml"))
    variables: dict = {}
    if var_src is not None:
        try:
            variables = yaml.safe_load(_read(var_src).decode("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            variables = {}
    csv_labels = {Path(r).stem for r in wanted if Path(r).parts[:1] == (FIGURDATA,) and Path(r).suffix == ".csv"}
    cell_ids: dict[str, dict[str, str | None]] = {}
    for r, src in wanted.items():
        if Path(r).suffix == ".ipynb" and Path(r).parts[:2] == ("build", "notebooks"):
            try:
                cell_ids[Path(r).name] = cell_labels(json.loads(_read(src).decode("utf-8")))
            except (ValueError, UnicodeDecodeError):
                cell_ids[Path(r).name] = {}
    new = _transform(
        texts,
        _read(quarto).decode("utf-8") if quarto is not None else None,
        variables if isinstance(variables, dict) else {},
        csv_labels,
        cell_ids,
    )
    result = dict(wanted)
    for p, r in qmds.items():
        if new[p] != texts[p]:
            result[r] = new[p].encode("utf-8")
    return result


def prepare_site(root: Path) -> list[Path]:
    """:func:`prepare_sources` applied in place to the book in `root` (a copy the caller owns:
    a test project, a staged site). Returns the files changed."""
    root = Path(root)
    wanted: dict[Path, bytes | Path] = {}
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if f.is_file() and not any(p.startswith(("_book", ".quarto", "_site")) for p in rel.parts):
            if f.suffix in (".qmd", ".ipynb", ".yml", ".csv"):
                wanted[rel] = f
    changed = []
    for rel, data in prepare_sources(wanted).items():
        if isinstance(data, bytes):
            (root / rel).write_bytes(data)
            changed.append(root / rel)
    return changed


@dataclass(frozen=True)
class BookEmbed:
    source: str  # the qmd with the embed line (posix, relative to the book root)
    page: str  # the HTML page that shows it (report/02_situasjonen.html)
    notebook: Path  # the executed notebook
    label: str
    chapter_title: str  # the chapter's heading text (attributes removed)


def book_embeds(root: Path) -> list[BookEmbed]:
    """Every ``{{< embed >}}`` of the book at `root`, in book order, with the page that shows it."""
    root = Path(root)
    try:
        cfg = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    texts = {
        f.relative_to(root).as_posix(): f.read_text(encoding="utf-8", errors="replace")
        for f in sorted(root.rglob("*.qmd"))
        if not any(p.startswith(("_book", ".quarto", "_site")) for p in f.relative_to(root).parts)
    }
    pages = book_pages(cfg if isinstance(cfg, dict) else {}, texts)
    chapter_of_page = {str(PurePosixPath(s).with_suffix(".html")): s for s in texts}
    out = []
    for src, text in texts.items():
        page = pages[src]
        chapter_src = chapter_of_page.get(page, src)
        title = ""
        for _, line in _outside_fences(texts.get(chapter_src, "")):
            if line.startswith("# "):
                title = re.sub(r"\s*\{[^}]*\}\s*$", "", line[2:]).strip()
                break
        for m in EMBED_LINE.finditer(text):
            ref = m.group("ref")
            if "#" not in ref:
                continue
            nb_ref, label = ref.rsplit("#", 1)
            nb = root / nb_ref.lstrip("/") if nb_ref.startswith("/") else (root / src).parent / nb_ref
            out.append(BookEmbed(src, page, nb, label, title))
    return out
