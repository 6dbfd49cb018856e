"""Render the Quarto book with pandoc + Typst where Quarto is not installed.

Covers exactly the Quarto features the report sources use (docs/authoring.md):

* book structure from ``_quarto.yml`` (``book.chapters`` with parts, ``book.appendices``);
* shortcodes ``{{< include >}}``, ``{{< var >}}`` and ``{{< embed NB.ipynb#label >}}``;
* numbered headings (1, 3.1, 3.1.1; appendices A, B …), figures and tables numbered per
  chapter in HTML ("Figur 2.1", as Quarto's HTML book) and through the book in the PDF
  ("Figur 1", as the report's Quarto Typst format), cross-references ``@fig-``/``@tbl-``/``@sec-``;
* callouts (``.callout-note``/``-important``/``-tip``/``-warning``/``-caution``);
* conditional content (``.content-visible``/``.content-hidden`` with ``when-meta``,
  ``unless-meta``, ``when-format``, ``unless-format``) on divs and spans, metadata from
  ``_quarto.yml``;
* ``project: resources`` globs, copied into the output folder.

Where Quarto would render a source differently from what the fallback can show (a chapter whose
title arrives only through an include, two level-1 headings in one chapter file, a figure in an
unnumbered chapter, ...), the fallback stops with a :class:`RenderError` naming the file, so that
a source the fallback accepts renders the same under real Quarto.

Pipeline: the sources are expanded to one pandoc-markdown document (shortcodes resolved,
embeds turned into placeholder divs, source-file markers as HTML comments), parsed once by
pandoc into its JSON AST, numbered and transformed in Python (once per output format, using
raw HTML/Typst where pandoc's own output is not enough), then written by pandoc to an HTML
fragment (wrapped in templates/book.html) and to Typst (templates/book.typ +
report/assets/typst-template.typ), which ``typst.compile`` turns into the PDF.

Anything the fallback does not understand raises :class:`RenderError` naming the source file.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import json
import re
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATES = Path(__file__).parent / "templates"

__all__ = ["RenderError", "render_fallback", "load_book", "escape_typst"]


class RenderError(RuntimeError):
    """The book cannot be rendered; the message names the source file and the construct."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
_TYPST_SPECIAL = re.compile(r"([\\#\[\]*_@$<>`~=\-+/])")


def escape_typst(text: str) -> str:
    """Escape text for Typst markup mode (# [ ] * _ @ $ < > ` \\ and friends)."""
    out = _TYPST_SPECIAL.sub(r"\\\1", str(text))
    return out.replace("\n", " ")


def typst_string(text: str) -> str:
    """A Typst string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _esc(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def _slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})
    s = re.sub(r"[^A-Za-z0-9]+", "-", text.translate(table)).strip("-")
    return s or "book"


def _str_inlines(text: str) -> list[dict]:
    """Plain text as pandoc inlines (Str/Space)."""
    out: list[dict] = []
    for i, word in enumerate(str(text).split()):
        if i:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


def _raw(fmt: str, text: str, block: bool = False) -> dict:
    return {"t": "RawBlock" if block else "RawInline", "c": [fmt, text]}


def stringify(x: Any) -> str:
    """Plain text of pandoc inlines/blocks."""
    if isinstance(x, list):
        return "".join(stringify(e) for e in x)
    if not isinstance(x, dict):
        return ""
    t, c = x.get("t"), x.get("c")
    if t == "Str":
        return c
    if t in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if t in ("Code", "Math"):
        return c[1]
    if t == "Quoted":
        return "«" + stringify(c[1]) + "»"
    if t == "Cite":
        return stringify(c[1])
    if t in ("Link", "Image", "Span"):
        return stringify(c[1])
    if t in ("Para", "Plain"):
        return stringify(c) + " "
    if t in ("RawInline", "RawBlock", "Note"):
        return ""
    if isinstance(c, list):
        return stringify(c)
    return ""


_MONTHS_NB = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august",
              "september", "oktober", "november", "desember"]
_WEEKDAYS_NB = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]


def format_date(value: Any, fmt: str | None) -> str:
    """Quarto-style date formatting (tokens D DD M MM MMM MMMM YY YYYY dddd), Norwegian names."""
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        d = value.date()
    elif isinstance(value, _dt.date):
        d = value
    else:
        s = str(value).strip()
        if s in ("today", "now", "last-modified"):
            d = _dt.date.today()
        else:
            try:
                d = _dt.date.fromisoformat(s[:10])
            except ValueError:
                return s  # free text date: shown as written
    fmt = {None: "D. MMMM YYYY", "long": "D. MMMM YYYY", "full": "dddd D. MMMM YYYY",
           "medium": "D. MMM YYYY", "short": "DD.MM.YYYY", "iso": "YYYY-MM-DD"}.get(fmt, fmt)
    tokens = {
        "YYYY": f"{d.year:04d}", "YY": f"{d.year % 100:02d}",
        "MMMM": _MONTHS_NB[d.month - 1], "MMM": _MONTHS_NB[d.month - 1][:3] + ".",
        "MM": f"{d.month:02d}", "M": str(d.month),
        "DD": f"{d.day:02d}", "D": str(d.day), "dddd": _WEEKDAYS_NB[d.weekday()],
    }
    return re.sub(r"YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd", lambda m: tokens[m.group(0)], fmt)


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    return None


def _write_if_changed(path: Path, data: bytes | str) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == raw:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)


# --------------------------------------------------------------------------------------------
# Book configuration
# --------------------------------------------------------------------------------------------
@dataclass
class Entry:
    kind: str  # "chapter" | "part"
    path: str | None = None  # project-relative posix path of a chapter file
    title: str | None = None  # part title
    appendix: bool = False


@dataclass
class Book:
    root: Path
    config: dict
    entries: list[Entry]
    title: str
    subtitle: str | None
    authors: list[str]
    date: str
    publisher: str | None
    report_number: str | None
    edition_note: str | None
    output_name: str
    lang: str
    language: dict

    def label(self, key: str, default: str) -> str:
        return str(self.language.get(key, default))


def _project_path(root: Path, ref: str, base_dir: Path | None = None) -> Path:
    """`/x` = project root; otherwise relative to `base_dir` (default: the project root)."""
    ref = ref.strip()
    if ref.startswith("/"):
        return (root / ref.lstrip("/")).resolve()
    return ((base_dir or root) / ref).resolve()


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def typst_format(cfg: dict) -> tuple[str, dict]:
    """The Typst format of the book: ``format.typst`` or a Typst format extension
    (``format.<name>-typst``, e.g. the project's ``kg-typst`` from ``_extensions/kg``)."""
    formats = cfg.get("format") or {}
    if not isinstance(formats, dict):
        return "typst", {}
    for key, val in formats.items():
        if key == "typst" or str(key).endswith("-typst"):
            return str(key), (val if isinstance(val, dict) else {})
    return "typst", {}


def load_book(root: Path) -> Book:
    root = Path(root).resolve()
    cfg_file = root / "_quarto.yml"
    if not cfg_file.exists():
        raise RenderError(f"{cfg_file}: not found (the book configuration)")
    try:
        cfg = yaml.safe_load(cfg_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"_quarto.yml: invalid YAML: {exc}") from exc
    book = cfg.get("book") or {}
    if not book.get("chapters"):
        raise RenderError("_quarto.yml: book.chapters is missing or empty")
    language = cfg.get("language") or {}

    entries: list[Entry] = []

    def add_chapters(items: Any, appendix: bool, where: str) -> None:
        for item in items or []:
            if isinstance(item, str):
                entries.append(Entry("chapter", path=_rel(root, _project_path(root, item)), appendix=appendix))
            elif isinstance(item, dict) and "part" in item:
                part = str(item["part"])
                if part.endswith((".qmd", ".md")):
                    raise RenderError(f"_quarto.yml: {where}: a part given as a file ({part}) is not "
                                      "supported by the fallback renderer; use `part: Title`")
                entries.append(Entry("part", title=part, appendix=appendix))
                add_chapters(item.get("chapters"), appendix, where)
            else:
                raise RenderError(f"_quarto.yml: {where}: unsupported entry {item!r} "
                                  "(expected a file name or {part: ..., chapters: [...]})")

    add_chapters(book.get("chapters"), False, "book.chapters")
    if book.get("appendices"):
        entries.append(Entry("part", title=str(language.get("section-title-appendices", "Vedlegg")),
                             appendix=True))
        add_chapters(book.get("appendices"), True, "book.appendices")

    for e in entries:
        if e.kind == "chapter" and not (root / e.path).exists():
            raise RenderError(f"_quarto.yml: chapter file {e.path} does not exist")

    authors = book.get("author") or cfg.get("author") or []
    if not isinstance(authors, list):
        authors = [authors]
    authors = [a.get("name", "") if isinstance(a, dict) else str(a) for a in authors]
    title = str(book.get("title") or cfg.get("title") or "Rapport")
    output_file = book.get("output-file")
    output_name = Path(str(output_file)).stem if output_file else _slug(title)

    def opt(key: str) -> str | None:
        v = cfg.get(key, book.get(key))
        return None if v is None else str(v)

    return Book(
        root=root, config=cfg, entries=entries, title=title,
        subtitle=None if book.get("subtitle") is None else str(book.get("subtitle")),
        authors=[a for a in authors if a],
        date=format_date(book.get("date"), book.get("date-format")),
        publisher=opt("publisher"), report_number=opt("report-number"),
        edition_note=opt("edition-note"), output_name=output_name,
        lang=str(cfg.get("lang") or "nb"), language=language,
    )


# --------------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------------
def _joined(v: Any) -> str:
    return "".join(v) if isinstance(v, list) else str(v)


def cell_options(source: str) -> dict:
    """The `#| key: value` options at the top of a code cell (YAML)."""
    lines = []
    for line in source.splitlines():
        if line.startswith("#|"):
            lines.append(line[3:] if line.startswith("#| ") else line[2:])
        elif not line.strip() and not lines:
            continue
        else:
            break
    if not lines:
        return {}
    opts = yaml.safe_load("\n".join(lines))
    return opts if isinstance(opts, dict) else {}


@dataclass
class Embed:
    index: int
    label: str
    notebook: Path  # absolute
    notebook_rel: str
    cell_id: str | None
    options: dict
    images: list[bytes]
    markdown: str | None
    source_file: str  # the qmd that embeds it
    figure_files: list[str] = field(default_factory=list)  # out_dir-relative
    csv_href: str | None = None  # «Last ned tallene (CSV)» (an HTML-only output of the cell)


class Notebooks:
    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[Path, tuple[float, dict]] = {}

    def load(self, path: Path, where: str) -> dict:
        if not path.exists():
            raise RenderError(f"{where}: notebook {_rel(self.root, path)} does not exist "
                              "(run `kunnskapsgrunnlag build` to execute the notebooks)")
        mtime = path.stat().st_mtime
        hit = self._cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RenderError(f"{where}: notebook {_rel(self.root, path)} is not valid JSON: {exc}") from exc
        self._cache[path] = (mtime, nb)
        return nb

    def find(self, path: Path, label: str, where: str) -> tuple[dict, dict]:
        nb = self.load(path, where)
        rel = _rel(self.root, path)
        found = None
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            src = _joined(cell.get("source", ""))
            if "#|" not in src:
                continue
            try:
                opts = cell_options(src)
            except yaml.YAMLError as exc:
                raise RenderError(f"{where}: notebook {rel}: invalid `#|` cell options: {exc}") from exc
            if str(opts.get("label", "")) == label:
                if found is not None:
                    raise RenderError(f"{where}: notebook {rel} has two cells labelled '{label}'")
                found = (cell, opts)
        if found is None:
            raise RenderError(f"{where}: embed of '{label}': notebook {rel} has no cell with "
                              f"`#| label: {label}`")
        return found


# --------------------------------------------------------------------------------------------
# Source expansion (text level): front matter, shortcodes
# --------------------------------------------------------------------------------------------
_SHORTCODE = re.compile(r"(\{?)\{\{<\s*(.*?)\s*>\}\}(\}?)", re.S)
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?\n)?(---|\.\.\.)[ \t]*(\n|\Z)", re.S)
_MARKER = re.compile(r"^<!--kg:(\w+)(?: (.*?))?-->$")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_DIV_OPEN = re.compile(r"^\s*(:{3,})\s*\S")
_DIV_CLOSE = re.compile(r"^\s*(:{3,})\s*$")
_EMBED_FENCE = "::::::::::"


class Sources:
    """Reads qmd files and resolves shortcodes into one pandoc-markdown text."""

    def __init__(self, book: Book, out_dir: Path):
        self.book = book
        self.root = book.root
        self.out_dir = out_dir
        self.notebooks = Notebooks(self.root)
        self.embeds: list[Embed] = []
        self._variables: dict | None = None
        self._variables_loaded = False

    # -- variables ------------------------------------------------------------------------
    def variables(self, where: str, key: str) -> dict:
        if not self._variables_loaded:
            self._variables_loaded = True
            f = self.root / "_variables.yml"
            if f.exists():
                try:
                    self._variables = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
                except yaml.YAMLError as exc:
                    raise RenderError(f"_variables.yml: invalid YAML: {exc}") from exc
        if self._variables is None:
            raise RenderError(f"{where}: {{{{< var {key} >}}}}: _variables.yml does not exist "
                              "(written by the notebooks; run `kunnskapsgrunnlag build`)")
        return self._variables

    def var(self, key: str, where: str) -> str:
        node: Any = self.variables(where, key)
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise RenderError(f"{where}: unknown variable '{key}' in {{{{< var {key} >}}}} "
                                  "(not in _variables.yml)")
        if isinstance(node, (dict, list)) or node is None:
            raise RenderError(f"{where}: variable '{key}' is not a single value in _variables.yml")
        if isinstance(node, bool):
            return "true" if node else "false"
        return str(node)

    # -- files ----------------------------------------------------------------------------
    def read(self, path: Path, where: str) -> tuple[str, dict]:
        if not path.exists():
            raise RenderError(f"{where}: file {_rel(self.root, path)} does not exist")
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        meta: dict = {}
        m = _FRONT_MATTER.match(text)
        if m:
            try:
                meta = yaml.safe_load(m.group(1) or "") or {}
            except yaml.YAMLError as exc:
                raise RenderError(f"{_rel(self.root, path)}: invalid YAML front matter: {exc}") from exc
            if not isinstance(meta, dict):
                meta = {}
            text = text[m.end():]
        return text, meta

    def expand_file(self, path: Path, stack: tuple[str, ...] = ()) -> str:
        rel = _rel(self.root, path)
        if rel in stack:
            raise RenderError(f"{stack[-1]}: circular include of {rel} ({' -> '.join(stack + (rel,))})")
        text, meta = self.read(path, stack[-1] if stack else "_quarto.yml")
        self._check_divs(text, rel)
        if meta.get("title") and not re.search(r"^#\s", text, re.M):
            text = f"# {meta['title']}\n\n" + text
        return self._shortcodes(text, path, stack + (rel,))

    def _check_chapter_title(self, path: Path, rel: str) -> None:
        """A chapter's title must be in the chapter file itself (a level-1 heading or a YAML
        `title`). Quarto takes a book chapter's title from the file before includes are
        expanded: a chapter whose heading arrives through an include is listed under its file
        name ("index.html") and numbered, and every later chapter is one off."""
        text, meta = self.read(path, "_quarto.yml")
        if meta.get("title"):
            return
        fence = None
        for line in text.split("\n"):
            m = _FENCE.match(line)
            if fence:
                if m and line.startswith(fence):
                    fence = None
                continue
            if m:
                fence = m.group(1)
                continue
            if re.match(r"^#\s", line):
                return
        if "{{< include" in text:
            raise RenderError(
                f"{rel}: the chapter's title comes only from an included file; Quarto names such "
                f"a chapter after the file and numbers it. Put the level-1 heading "
                f"(# Tittel {{#sec-…}}) in {rel} itself and include only the text")
        raise RenderError(f"{rel}: a chapter file must have a level-1 heading (# Tittel {{#sec-…}}) "
                          "or a YAML `title`")

    def _check_divs(self, text: str, rel: str) -> None:
        """Fenced divs must be closed; code fences are skipped."""
        depth, fence, opened_at = 0, None, []
        for n, line in enumerate(text.split("\n"), 1):
            m = _FENCE.match(line)
            if fence:
                if m and line.startswith(fence):
                    fence = None
                continue
            if m:
                fence = m.group(1)
                continue
            if _DIV_CLOSE.match(line):
                if depth == 0:
                    raise RenderError(f"{rel}:{n}: closing ':::' without an opening fenced div")
                depth -= 1
                opened_at.pop()
            elif _DIV_OPEN.match(line):
                depth += 1
                opened_at.append(n)
        if depth:
            raise RenderError(f"{rel}:{opened_at[-1]}: fenced div (':::') is never closed")

    def _shortcodes(self, text: str, path: Path, stack: tuple[str, ...]) -> str:
        rel = stack[-1]

        def repl(m: re.Match) -> str:
            if m.group(1) == "{" and m.group(3) == "}":  # {{{< x >}}} = literal shortcode
                return "{{< " + m.group(2) + " >}}"
            lead, trail = m.group(1), m.group(3)
            parts = m.group(2).split()
            if not parts:
                raise RenderError(f"{rel}: empty shortcode {m.group(0)!r}")
            name, args = parts[0], parts[1:]
            if name == "var":
                if len(args) != 1:
                    raise RenderError(f"{rel}: {{{{< var >}}}} takes exactly one key: {m.group(0)!r}")
                out = self.var(args[0], rel)
            elif name == "include":
                if len(args) != 1:
                    raise RenderError(f"{rel}: {{{{< include >}}}} takes exactly one path: {m.group(0)!r}")
                target = _project_path(self.root, args[0], path.parent)
                inner = self.expand_file(target, stack)
                out = (f"\n\n<!--kg:src {_rel(self.root, target)}-->\n\n{inner}\n\n"
                       f"<!--kg:src {rel}-->\n\n")
            elif name == "embed":
                if len(args) != 1:
                    raise RenderError(f"{rel}: {{{{< embed >}}}} options are not supported by the "
                                      f"fallback renderer: {m.group(0)!r}")
                out = self.embed(args[0], path, rel)
            else:
                raise RenderError(f"{rel}: unsupported shortcode {m.group(0)!r} "
                                  "(the fallback renderer knows include, var and embed)")
            return lead + out + trail

        return _SHORTCODE.sub(repl, text)

    # -- embeds ---------------------------------------------------------------------------
    def embed(self, ref: str, path: Path, rel: str) -> str:
        if "#" not in ref:
            raise RenderError(f"{rel}: {{{{< embed {ref} >}}}} needs a cell label: NOTEBOOK.ipynb#label")
        nb_ref, label = ref.rsplit("#", 1)
        if not nb_ref.endswith(".ipynb") or not label:
            raise RenderError(f"{rel}: {{{{< embed {ref} >}}}}: expected NOTEBOOK.ipynb#label")
        nb_path = _project_path(self.root, nb_ref, path.parent)
        where = f"{rel}: {{{{< embed {ref} >}}}}"
        cell, opts = self.notebooks.find(nb_path, label, where)
        outputs = cell.get("outputs", [])
        for o in outputs:
            if o.get("output_type") == "error":
                raise RenderError(f"{where}: the cell raised {o.get('ename')}: {o.get('evalue')}")
        images = [base64.b64decode(_joined(o["data"]["image/png"]))
                  for o in outputs if "image/png" in o.get("data", {})]
        markdowns = [_joined(o["data"]["text/markdown"])
                     for o in outputs if "text/markdown" in o.get("data", {})]
        markdown = "\n\n".join(markdowns) if markdowns else None
        # HTML-only outputs (no text/plain) are links for the HTML book, e.g. the figure's CSV;
        # hrefs are written for Quarto's chapter pages in report/, this book is one page at the root
        csv_href = next((m.group(1) for o in outputs if set(o.get("data", {})) == {"text/html"}
                         for m in [re.search(r'class="kg-csv"><a href="(?:\.\./)?([^"]+)"',
                                             _joined(o["data"]["text/html"]))] if m), None)
        kind = label.split("-", 1)[0]
        if kind == "fig":
            if not images and markdown is not None:
                pass  # a «Data mangler» note in place of the figure (text, no image)
            elif not images:
                raise RenderError(f"{where}: cell '{label}' has no image/png output")
            if not opts.get("fig-cap"):
                raise RenderError(f"{where}: cell '{label}' has no `#| fig-cap:`")
        elif kind == "tbl":
            if markdown is None:  # (a «Data mangler» note is text/markdown too)
                raise RenderError(f"{where}: cell '{label}' has no text/markdown output (a pipe table)")
            if not opts.get("tbl-cap"):
                raise RenderError(f"{where}: cell '{label}' has no `#| tbl-cap:`")
        elif markdown is None:
            raise RenderError(f"{where}: cell '{label}' has no text/markdown output to insert")
        for key in ("fig-cap", "tbl-cap", "fig-alt"):
            if key in opts and not isinstance(opts[key], (str, int, float)):
                raise RenderError(f"{where}: `#| {key}` must be a single string")
        e = Embed(index=len(self.embeds), label=label, notebook=nb_path,
                  notebook_rel=_rel(self.root, nb_path), cell_id=cell.get("id"), options=opts,
                  images=images, markdown=markdown, source_file=rel, csv_href=csv_href)
        if kind == "fig":
            for i, data in enumerate(images):
                name = f"{label}.png" if i == 0 else f"{label}-{i + 1}.png"
                _write_if_changed(self.out_dir / "figures" / name, data)
                e.figure_files.append(f"figures/{name}")
        self.embeds.append(e)
        caption = str(opts.get("fig-cap") or opts.get("tbl-cap") or "").strip()
        body = markdown if (kind != "fig" or not images) else ""
        return (f"\n\n{_EMBED_FENCE} {{.kg-embed data-kg=\"{e.index}\"}}\n\n"
                f"::: {{.kg-cap}}\n{caption}\n:::\n\n{body or ''}\n\n{_EMBED_FENCE}\n\n")

    # -- the book -------------------------------------------------------------------------
    def book_markdown(self) -> str:
        parts = []
        for i, e in enumerate(self.book.entries):
            if e.kind == "part":
                parts.append(f"<!--kg:part {i}-->")
                if e.appendix and not any(x.appendix for x in self.book.entries[:i]):
                    parts.append("<!--kg:appendix-->")
                continue
            if e.appendix and not any(x.appendix for x in self.book.entries[:i]):
                parts.append("<!--kg:appendix-->")
            self._check_chapter_title(self.root / e.path, e.path)
            body = self.expand_file(self.root / e.path)
            parts.append(f"<!--kg:chapter {e.path}-->\n\n{body}")
        return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------------
# AST transformation
# --------------------------------------------------------------------------------------------
@dataclass
class Ref:
    kind: str  # fig | tbl | sec
    text: str  # "Figur 3", "kapittel 3.1"
    number: str  # "3", "3.1"


@dataclass
class Heading:
    level: int
    ident: str
    number: str | None
    title: str
    part: bool = False
    listed: bool = True  # false for `{.unlisted}` (left out of the table of contents)


CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution")
_CALLOUT_DEFAULT_TITLES = {"note": "Merk", "tip": "Tips", "important": "Viktig",
                           "warning": "Advarsel", "caution": "Forsiktig"}
_IGNORED_CALLOUT_ATTRS = {"title", "collapse", "appearance", "icon"}


class Transformer:
    """Numbers headings, figures and tables and rewrites the AST for one output format.

    mode "collect" only gathers the labels (so forward references resolve); "html" and
    "typst" produce the format-specific AST. ``fmt`` is the output format the numbers and the
    conditional content are for (a collect pass runs once per format).

    Numbering follows Quarto: in HTML every chapter is its own page and figures and tables are
    numbered per chapter ("Figur 2.1", appendix "Tabell A.1"); in the PDF (the report's
    kg-typst format) they are numbered through the book ("Figur 1").
    """

    def __init__(self, book: Book, embeds: list[Embed], mode: str, refs: dict[str, Ref] | None = None,
                 fmt: str | None = None):
        self.book = book
        self.embeds = embeds
        self.mode = mode
        self.fmt = fmt or mode
        if self.fmt not in ("html", "typst"):
            raise ValueError(f"Transformer: unknown output format {self.fmt!r}")
        self.refs: dict[str, Ref] = refs if refs is not None else {}
        self.headings: list[Heading] = []
        self.file = "_quarto.yml"
        self.chapter_file = "_quarto.yml"  # the chapter file being read (self.file may be an include)
        self.chapter_h1 = 0
        self.in_index = False
        self.appendix = False
        self.chapter = 0
        self.appendix_no = 0
        self.counters = [0, 0, 0]  # chapter label is kept separately
        self.chapter_label: str | None = None
        self.fig = 0
        self.tbl = 0
        self.chapter_fig = 0
        self.chapter_tbl = 0
        self.expect_chapter: str | None = None
        self.level = 0  # level of the last heading (a heading may go at most one level deeper)
        self.file_heading: dict[str, Heading] = {}  # source file -> its first heading
        self.notebook_chapters: dict[Path, str] = {}  # notebook -> "N Title" of its first embed

    # -- errors ---------------------------------------------------------------------------
    def err(self, msg: str) -> RenderError:
        return RenderError(f"{self.file}: {msg}")

    # -- generic walk ---------------------------------------------------------------------
    def walk_list(self, items: list) -> list:
        out: list = []
        for node in items:
            if isinstance(node, dict) and "t" in node:
                out.extend(self.node(node))
            else:
                out.append(self.generic(node))
        return out

    def generic(self, x: Any) -> Any:
        if isinstance(x, list):
            return self.walk_list(x)
        if isinstance(x, dict):
            if "t" in x:
                return {"t": x["t"], "c": self.generic(x["c"])} if "c" in x else x
            return {k: self.generic(v) for k, v in x.items()}
        return x

    def default(self, node: dict) -> list:
        if "c" in node:
            return [{"t": node["t"], "c": self.generic(node["c"])}]
        return [node]

    def blocks(self, blocks: list) -> list:
        return self.walk_list(blocks)

    def node(self, node: dict) -> list:
        t = node["t"]
        if self.expect_chapter and t not in ("RawBlock",) and t not in _INLINE_TYPES:
            if not (t == "Header" and node["c"][0] == 1):
                raise RenderError(f"{self.expect_chapter}: a chapter file must start with a "
                                  "level-1 heading (# Title {#sec-…})")
            self.expect_chapter = None
        handler = getattr(self, "on_" + t, None)
        if handler is None:
            return self.default(node)
        return handler(node)

    # -- raw content and markers ------------------------------------------------------------
    def on_RawBlock(self, node: dict) -> list:
        fmt, text = node["c"]
        s = text.strip()
        m = _MARKER.match(s)
        if fmt == "html" and m:
            return self.marker(m.group(1), m.group(2) or "")
        if fmt == "html" and s.startswith("<!--") and s.endswith("-->"):
            return []  # comments are dropped, as in Quarto
        raise self.err(f"raw {fmt} content is not supported by the fallback renderer "
                       f"(it would be lost in one of the formats): {s[:60]!r}")

    def on_RawInline(self, node: dict) -> list:
        fmt, text = node["c"]
        s = text.strip()
        if fmt == "html" and s.startswith("<!--") and s.endswith("-->"):
            return []
        raise self.err(f"raw {fmt} content is not supported by the fallback renderer: {s[:60]!r}")

    def marker(self, kind: str, arg: str) -> list:
        if kind == "src":
            self.file = arg
            return []
        if kind == "chapter":
            self.file = arg
            self.expect_chapter = arg
            self.chapter_file = arg
            self.chapter_h1 = 0
            # Quarto: "headings in the index.qmd file are unnumbered by default"
            # (https://quarto.org/docs/books/book-structure.html)
            self.in_index = arg == "index.qmd"
            return []
        if kind == "appendix":
            self.appendix = True
            return []
        if kind == "part":
            title = self.book.entries[int(arg)].title or ""
            ident = "part-" + _slug(title).lower() + f"-{arg}"
            self.headings.append(Heading(0, ident, None, title, part=True))
            if self.mode == "html":
                return [_raw("html", f'<div class="part-title" id="{ident}">{_esc(title)}</div>', True)]
            if self.mode == "typst":
                return [_raw("typst", f"#kg-part[{escape_typst(title)}]", True)]
            return []
        raise self.err(f"internal marker {kind!r}")

    # -- headings ---------------------------------------------------------------------------
    def _number(self, level: int, classes: list[str]) -> str | None:
        unnumbered = ("unnumbered" in classes or self.in_index
                      or not self.book.config.get("number-sections", True))
        if level > 1 and level > int(self.book.config.get("number-depth", 3)):
            unnumbered = True
        if level == 1:
            self.counters = [0, 0, 0]
            self.chapter_fig = self.chapter_tbl = 0
            if unnumbered:
                self.chapter_label = None
                return None
            if self.appendix:
                self.appendix_no += 1
                self.chapter_label = _letters(self.appendix_no)
            else:
                self.chapter += 1
                self.chapter_label = str(self.chapter)
            return self.chapter_label
        if level > 3 or unnumbered or self.chapter_label is None:
            return None
        if level == 2:
            self.counters[1] += 1
            self.counters[2] = 0
            return f"{self.chapter_label}.{self.counters[1]}"
        self.counters[2] += 1
        if self.counters[1] == 0:
            raise self.err("a level-3 heading directly under the chapter heading (no level-2 "
                           f"section before it); Quarto would number it {self.chapter_label}.0."
                           f"{self.counters[2]}. Make it a level-2 section")
        return f"{self.chapter_label}.{self.counters[1]}.{self.counters[2]}"

    def on_Header(self, node: dict) -> list:
        level, attr, inlines = node["c"]
        ident, classes, kv = attr
        if level == 1:
            self.chapter_h1 += 1
            if self.chapter_h1 > 1:
                where = self.chapter_file if self.file == self.chapter_file else \
                    f"{self.chapter_file} (in {self.file})"
                raise RenderError(
                    f"{where}: a second level-1 heading ({stringify(inlines).strip()!r}); Quarto "
                    "makes one chapter of each chapter file and numbers only its first level-1 "
                    "heading as the chapter. Make it a level-2 section or its own chapter file "
                    "in _quarto.yml")
        number = self._number(level, classes)
        title = stringify(inlines).strip()
        if self.mode == "collect" and level > self.level + 1:
            above = f"a level-{self.level} heading" if self.level else "the start of the book"
            raise self.err(f"heading '{title}' skips a level: {'#' * level} (level {level}) directly "
                           f"under {above}; use {'#' * (self.level + 1)} (add {{.unnumbered}} "
                           "to leave it unnumbered), see docs/authoring.md")
        self.level = level
        self.headings.append(Heading(level, ident, number, title, listed="unlisted" not in classes))
        self.file_heading.setdefault(self.file, self.headings[-1])
        if self.mode == "collect" and ident.startswith("sec-"):
            if ident in self.refs:
                raise self.err(f"duplicate label '{ident}'")
            if number:
                if self.appendix:
                    prefix = self.book.label("crossref-apx-prefix", "vedlegg")
                elif level == 1:
                    prefix = self.book.label("crossref-ch-prefix", "kapittel")
                else:
                    prefix = self.book.label("crossref-sec-prefix", "kapittel")
                self.refs[ident] = Ref("sec", f"{prefix}\u00a0{number}", number)
            else:
                self.refs[ident] = Ref("sec", title, title)
        new_inlines = self.walk_list(inlines)
        if number:
            if self.mode == "html":
                new_inlines = [{"t": "Span", "c": [["", ["header-section-number"], []],
                                                   [{"t": "Str", "c": number}]]},
                               {"t": "Space"}] + new_inlines
            elif self.mode == "typst":
                new_inlines = [{"t": "Str", "c": number}, _raw("typst", "#h(0.6em)")] + new_inlines
        return [{"t": "Header", "c": [level, self.generic(attr), new_inlines]}]

    # -- cross-references -------------------------------------------------------------------
    def on_Cite(self, node: dict) -> list:
        citations, _text = node["c"]
        if self.mode == "collect":
            return [node]
        out: list = []
        for i, c in enumerate(citations):
            cid = c["citationId"]
            key, cap = cid, False
            if cid[:1].isupper():
                key, cap = cid[0].lower() + cid[1:], True
            ref = self.refs.get(key)
            if ref is None:
                kind = key.split("-", 1)[0]
                hint = ("" if kind in ("fig", "tbl", "sec")
                        else " (only @fig-, @tbl- and @sec- cross-references are supported; "
                             "write a literal @ as \\@)")
                raise self.err(f"unknown cross-reference @{cid}{hint}")
            text = ref.number if c["citationMode"]["t"] == "SuppressAuthor" else ref.text
            if cap:
                text = text[:1].upper() + text[1:]
            if i:
                out += [{"t": "Str", "c": ";"}, {"t": "Space"}]
            prefix = self.walk_list(c.get("citationPrefix") or [])
            if prefix:
                out += prefix + [{"t": "Space"}]
            out.append({"t": "Link", "c": [["", ["kg-xref"], []], [{"t": "Str", "c": text}],
                                           ["#" + key, ""]]})
            suffix = self.walk_list(c.get("citationSuffix") or [])
            if suffix:
                out += suffix
        return out

    def on_Quoted(self, node: dict) -> list:
        qtype, inlines = node["c"]
        inner = self.walk_list(inlines)
        if qtype["t"] == "DoubleQuote":
            return [{"t": "Str", "c": "«"}] + inner + [{"t": "Str", "c": "»"}]
        return [{"t": "Str", "c": "\u2018"}] + inner + [{"t": "Str", "c": "\u2019"}]

    def on_Image(self, node: dict) -> list:
        raise self.err("images in the text are not supported; embed the figure from its notebook "
                       "with {{< embed /build/notebooks/NB.ipynb#fig-label >}}")

    def on_Figure(self, node: dict) -> list:
        return self.on_Image(node)

    def on_CodeBlock(self, node: dict) -> list:
        classes = node["c"][0][1]
        if any(c.startswith("{") for c in classes):
            raise self.err(f"executable code cells ({classes[0]}) are not supported in the report; "
                           "compute in a notebook and embed the result")
        return [node]

    def on_Table(self, node: dict) -> list:
        caption_blocks = node["c"][1][1]
        cap = stringify(caption_blocks)
        if re.search(r"\{#tbl-", cap):
            raise self.err("tables with a {#tbl-…} label in the qmd are not supported; make the "
                           "table in a notebook and embed it")
        return self.default(node)

    # -- divs: callouts and embeds ------------------------------------------------------------
    # -- conditional content (https://quarto.org/docs/authoring/conditional.html) -------------
    _CONDITIONS = ("when-meta", "unless-meta", "when-format", "unless-format")
    _FORMAT_ALIASES = {"html": {"html", "html4", "html5"}, "typst": {"typst", "pdf"}}

    def _meta_true(self, key: str) -> bool:
        """Quarto's rule: the (dotted) metadata key must hold the boolean true."""
        node: Any = self.book.config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return node is True

    def _visible(self, classes: list[str], kv: list) -> bool | None:
        """None when the element is not conditional content, else whether it is shown in this
        output format. Conditions combine with "and", as in Quarto."""
        behaviour = [c for c in classes if c in ("content-visible", "content-hidden")]
        if not behaviour:
            return None
        if len(behaviour) > 1:
            raise self.err("both .content-visible and .content-hidden on one element")
        known = {"when-profile", "unless-profile"}
        match = True
        for key, value in kv:
            if key in ("when-meta", "unless-meta"):
                hit = self._meta_true(value)
            elif key in ("when-format", "unless-format"):
                hit = value in self._FORMAT_ALIASES[self.fmt]
            elif key in known:
                raise self.err(f"conditional content with {key}= is not supported by the fallback "
                               "renderer (it has no Quarto profiles)")
            else:
                continue
            match = match and (hit != key.startswith("unless-"))
        return match if behaviour[0] == "content-visible" else not match

    def on_Span(self, node: dict) -> list:
        attr, content = node["c"]
        ident, classes, kv = attr
        visible = self._visible(classes, kv)
        if visible is None:
            return self.default(node)
        if not visible:
            return []
        rest_classes = [c for c in classes if c not in ("content-visible", "content-hidden")]
        rest_kv = [[k, v] for k, v in kv if k not in self._CONDITIONS]
        inner = self.walk_list(content)
        if not ident and not rest_classes and not rest_kv:
            return inner
        return [{"t": "Span", "c": [[ident, rest_classes, rest_kv], inner]}]

    def on_Div(self, node: dict) -> list:
        attr, content = node["c"]
        ident, classes, kv = attr
        visible = self._visible(classes, kv)
        if visible is not None:
            others = [c for c in classes if c not in ("content-visible", "content-hidden")]
            if ident or others:
                shown = " ".join([f"#{ident}"] * bool(ident) + [f".{c}" for c in others])
                raise self.err(f"conditional div with {shown}: put the conditional div around "
                               "the other div instead of combining them")
            return self.blocks(content) if visible else []
        if "kg-embed" in classes:
            return self.embed(node)
        callouts = [c for c in classes if c.startswith("callout-")]
        if callouts:
            return self.callout(attr, content, callouts[0][len("callout-"):])
        if "kg-cap" in classes:
            raise self.err("internal: stray caption div")
        shown = " ".join([f"#{ident}"] * bool(ident) + [f".{c}" for c in classes]
                         + [f'{k}="{v}"' for k, v in kv])
        raise self.err(f"fenced div ::: {{{shown}}} is not supported by the fallback renderer "
                       "(supported: .callout-note, .callout-important, .callout-tip)")

    def callout(self, attr: list, content: list, kind: str) -> list:
        ident, classes, kv = attr
        if kind not in CALLOUT_KINDS:
            raise self.err(f"unknown callout type .callout-{kind}")
        kvd = dict(kv)
        unknown = set(kvd) - _IGNORED_CALLOUT_ATTRS
        if unknown:
            raise self.err(f"callout attribute(s) {sorted(unknown)} not supported")
        title = kvd.get("title")
        content = list(content)
        title_inlines = None
        if title is None and content and content[0]["t"] == "Header":
            title_inlines = content.pop(0)["c"][2]  # Quarto: a leading heading is the title
            title = stringify(title_inlines).strip()
        if title is None:
            title = self.book.label(f"callout-{kind}-title", _CALLOUT_DEFAULT_TITLES[kind])
        body = self.blocks(content)
        if self.mode == "html":
            return [{"t": "Div", "c": [[ident, ["callout", f"callout-{kind}"], []], [
                _raw("html", f'<div class="callout-title">{_esc(title)}</div>', True),
                {"t": "Div", "c": [["", ["callout-body"], []], body]},
            ]]}]
        if self.mode == "typst":
            label = f" <{ident}>" if ident else ""
            return ([_raw("typst", f'#kg-callout(kind: "{kind}", title: [{escape_typst(title)}])[', True)]
                    + body + [_raw("typst", "]" + label, True)])
        return body

    def _caption(self, blocks: list) -> tuple[list, list]:
        """Caption inlines split into (caption, source) at "Kilde:"/"Kilder:"."""
        inl: list = []
        for b in blocks:
            if b["t"] in ("Para", "Plain"):
                if inl:
                    inl.append({"t": "Space"})
                inl.extend(b["c"])
            else:
                raise self.err("a figure/table caption must be a single paragraph of text")
        inl = self.walk_list(inl)
        for i, x in enumerate(inl):
            if x["t"] == "Str" and re.match(r"^(Kilde|Kilder|Source|Sources):", x["c"]):
                cap = inl[:i]
                while cap and cap[-1]["t"] in ("Space", "SoftBreak"):
                    cap.pop()
                return cap, inl[i:]
        return inl, []

    def embed(self, node: dict) -> list:
        attr, content = node["c"]
        e = self.embeds[int(dict(attr[2])["data-kg"])]
        if self.mode == "html" and e.notebook not in self.notebook_chapters:
            chapter = self.file_heading.get(e.source_file)
            if chapter is not None:
                self.notebook_chapters[e.notebook] = " ".join(x for x in (chapter.number, chapter.title) if x)
        saved = self.file
        self.file = e.source_file
        try:
            return self._embed(e, content)
        finally:
            self.file = saved

    def _embed(self, e: Embed, content: list) -> list:
        kind = e.label.split("-", 1)[0]
        if self.mode == "collect":
            if e.label in self.refs:
                raise self.err(f"duplicate label '{e.label}' (embedded twice, or also used as an id)")
        cap_blocks = content[0]["c"][1] if content and content[0]["t"] == "Div" else []
        rest = content[1:]
        if kind not in ("fig", "tbl"):
            return self.blocks(rest)  # verbatim markdown output
        if self.fmt == "html" and self.chapter_label is None:
            raise self.err(f"embed of '{e.label}': a figure or table in an unnumbered chapter "
                           f"({self.chapter_file}); Quarto numbers figures and tables per chapter "
                           "in the HTML book, so it would have no proper number. Embed it in a "
                           "numbered chapter")
        if kind == "fig":
            self.fig += 1
            self.chapter_fig += 1
            n = self.chapter_fig if self.fmt == "html" else self.fig
            word = self.book.label("crossref-fig-title", "Figur")
            prefix = self.book.label("crossref-fig-prefix", word)
        else:
            self.tbl += 1
            self.chapter_tbl += 1
            n = self.chapter_tbl if self.fmt == "html" else self.tbl
            word = self.book.label("crossref-tbl-title", "Tabell")
            prefix = self.book.label("crossref-tbl-prefix", word)
        number = f"{self.chapter_label}.{n}" if self.fmt == "html" else str(n)
        delim = str((self.book.config.get("crossref") or {}).get("title-delim", "."))
        label_text = f"{word}\u00a0{number}{delim}"
        if self.mode == "collect":
            self.refs[e.label] = Ref(kind, f"{prefix}\u00a0{number}", number)
            self.blocks(rest)
            return []
        caption, source = self._caption(cap_blocks)
        nb_href = f"notebooks/{e.notebook.stem}.html" + (f"#cell-id={e.cell_id}" if e.cell_id else "")
        nb_link = (f' <a class="kg-notebook" href="{_esc(nb_href)}" '
                   f'title="Cellen {_esc(e.label)} i {_esc(e.notebook_rel)}">Vis notatboken</a>')
        if e.csv_href:
            nb_link = (f' <a class="kg-csv" href="{_esc(e.csv_href)}" download>Last ned tallene (CSV)</a>'
                       + nb_link)
        note_only = (kind == "fig" and not e.figure_files) or (
            kind == "tbl" and not any(b["t"] == "Table" for b in rest))
        if note_only:  # the data are missing: the «Data mangler» note, then the caption
            note = self.blocks(rest)
            if self.mode == "html":
                cap = [_raw("html", f'<figcaption><span class="kg-label">{_esc(label_text)}</span> ')]
                cap += caption + [_raw("html", "</figcaption>")]
                return ([_raw("html", f'<figure class="kg-figure kg-missing" id="{_esc(e.label)}">', True)]
                        + note + [{"t": "Plain", "c": cap}, _raw("html", "</figure>", True)])
            # A figure element without an image still needs alternative text under PDF/UA-1.
            missing_alt = f"Data mangler: {stringify(caption).strip()}"
            inl = [_raw("typst", f"#kg-figure(label: [{escape_typst(label_text)}], images: (), "
                                 f"alt: {typst_string(missing_alt)}, caption: [")] + caption
            inl.append(_raw("typst", f"], source: none) <{e.label}>"))
            return note + [{"t": "Plain", "c": inl}]
        if kind == "fig":
            alt = str(e.options.get("fig-alt") or stringify(caption)).strip()
            if self.mode == "html":
                imgs = "".join(f'<img src="{_esc(f)}" alt="{_esc(alt)}" loading="lazy">'
                               for f in e.figure_files)
                inl = [_raw("html", f'<figure class="kg-figure" id="{_esc(e.label)}">{imgs}<figcaption>'
                                    f'<span class="kg-label">{_esc(label_text)}</span> ')]
                inl += caption
                if source:
                    inl += [_raw("html", '<span class="kg-source">')] + source + [_raw("html", "</span>")]
                inl.append(_raw("html", nb_link + "</figcaption></figure>"))
                return [{"t": "Plain", "c": inl}]
            images = []
            for f, data in zip(e.figure_files, e.images):
                size = _png_size(data)
                tall = size is not None and size[1] / max(size[0], 1) * 16.0 > 15.5
                images.append(f"({typst_string('/' + f)}, {typst_string('height' if tall else 'width')})")
            inl = [_raw("typst", f"#kg-figure(label: [{escape_typst(label_text)}], "
                                 f"images: ({', '.join(images)},), alt: {typst_string(alt)}, caption: [")]
            inl += caption
            inl.append(_raw("typst", "], source: " + ("[" if source else "none")))
            if source:
                inl += source + [_raw("typst", "]")]
            inl.append(_raw("typst", f") <{e.label}>"))
            return [{"t": "Plain", "c": inl}]
        # table
        tables = [b for b in rest if b["t"] == "Table"]
        others = [b for b in rest if b["t"] != "Table"]
        if len(tables) != 1 or others:
            raise self.err(f"embed of '{e.label}' from {e.notebook_rel}: the cell's text/markdown "
                           "output must be exactly one pipe table")
        table = self.walk_list(tables)[0]
        table["c"][1] = [None, []]  # caption is ours
        table["c"][0] = ["", [], []]
        _full_width(table)
        if self.mode == "html":  # the caption is the table's own <caption> (tied to the table)
            head = [_raw("html", f'<span class="kg-label">{_esc(label_text)}</span> ')] + caption
            table["c"][1] = [None, [{"t": "Plain", "c": head}]]
            foot = [_raw("html", '<div class="kg-source-line">')] + source + [_raw("html", nb_link + "</div>")]
            return [_raw("html", f'<div class="kg-table" id="{_esc(e.label)}">', True),
                    table, {"t": "Plain", "c": foot},
                    _raw("html", "</div>", True)]
        inl = [_raw("typst", f"#kg-table(label: [{escape_typst(label_text)}], caption: [")] + caption
        inl.append(_raw("typst", "], source: " + ("[" if source else "none")))
        if source:
            inl += source + [_raw("typst", "]")]
        inl.append(_raw("typst", ")["))
        return [{"t": "Plain", "c": inl}, table, _raw("typst", f"] <{e.label}>", True)]


def _cell_measure(blocks: list) -> tuple[float, float]:
    """(length of the whole text, length of the longest unbreakable word) of a table cell.
    Code counts a little wider (monospace) and cannot hyphenate; other long words can."""
    words: list[float] = []
    current = [0.0, False]  # length of the word being built, contains code

    def flush() -> None:
        if current[0]:
            words.append(current[0] if current[1] else min(current[0], 14.0))
            total_parts.append(current[0])
        current[0], current[1] = 0.0, False

    total_parts: list[float] = []

    def visit(x: Any, factor: float = 1.0) -> None:
        if isinstance(x, list):
            for e in x:
                visit(e, factor)
        elif isinstance(x, dict):
            t = x.get("t")
            if t in ("Space", "SoftBreak", "LineBreak"):
                flush()
            elif t == "Code":
                for i, w in enumerate(x["c"][1].split(" ")):
                    if i:
                        flush()
                    current[0] += len(w) * 1.1
                    current[1] = True
            elif t == "Str":  # capitals are wider
                current[0] += (len(x["c"]) + 0.4 * sum(ch.isupper() for ch in x["c"])) * factor
            elif t in ("Para", "Plain"):
                visit(x["c"], factor)
                flush()
            elif t == "Strong":
                visit(x["c"], factor * 1.2)  # bold is wider
            elif t in ("Link", "Span", "Quoted", "Cite"):
                visit(x["c"][1], factor)
            elif "c" in x:
                visit(x["c"], factor)

    visit(blocks)
    flush()
    if not words:
        return 0.0, 0.0
    return sum(total_parts) + len(total_parts) - 1, max(words)


def _full_width(table: dict, line_chars: float = 100.0) -> None:
    """Relative column widths (the table spans the text width): every column gets at least its
    longest word, the rest is shared in proportion to how much more text a column holds."""
    colspecs = table["c"][2]
    n = len(colspecs)
    if n == 0:
        return
    natural = [3.0] * n
    minimum = [3.0] * n
    head, bodies = table["c"][3], table["c"][4]
    rows = [(r, True) for r in head[1]]
    for body in bodies:
        rows += [(r, False) for r in body[2] + body[3]]
    for row, is_head in rows:
        col = 0
        for cell in row[1]:
            span = cell[3]
            if col < n and span == 1:
                total, word = _cell_measure(cell[4])
                if is_head:  # bold sans-serif header words are wider; they break between words only
                    word, total = word * 1.35, total * 1.2
                natural[col] = max(natural[col], min(total, 70.0))
                minimum[col] = max(minimum[col], min(word, 32.0))
            col += span
    natural = [max(a, b) for a, b in zip(natural, minimum)]
    line_chars -= 2.0 * n
    if sum(natural) <= line_chars:
        widths = natural
    elif sum(minimum) >= line_chars:
        widths = minimum
    else:
        extra = line_chars - sum(minimum)
        slack = [a - b for a, b in zip(natural, minimum)]
        widths = [m + extra * sl / sum(slack) for m, sl in zip(minimum, slack)]
    widths = [w + 2.0 for w in widths]  # cell padding
    # a table whose text fits on one line per cell is as wide as its content (a narrow table of
    # numbers is not stretched across the page); a wider one spans the text width
    total = max(sum(widths), line_chars + 2.0 * n)
    for spec, w in zip(colspecs, widths):
        spec[1] = {"t": "ColWidth", "c": round(w / total, 4)}


_INLINE_TYPES = {"Str", "Emph", "Underline", "Strong", "Strikeout", "Superscript", "Subscript",
                 "SmallCaps", "Quoted", "Cite", "Code", "Space", "SoftBreak", "LineBreak", "Math",
                 "RawInline", "Link", "Image", "Note", "Span"}


def _letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# --------------------------------------------------------------------------------------------
# pandoc, typst, nbconvert
# --------------------------------------------------------------------------------------------
def pandoc_path() -> str:
    try:
        import pypandoc
        return pypandoc.get_pandoc_path()
    except Exception:  # pragma: no cover - pypandoc-binary is a dependency
        exe = shutil.which("pandoc")
        if not exe:
            raise RenderError("pandoc not found (install pypandoc-binary)")
        return exe


def run_pandoc(args: list[str], stdin: str) -> str:
    proc = subprocess.run([pandoc_path(), *args], input=stdin.encode("utf-8"),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RenderError(f"pandoc {' '.join(args)} failed: {proc.stderr.decode('utf-8', 'replace')}")
    return proc.stdout.decode("utf-8")


_NOTEBOOK_TEMPLATE = "notebook"  # templates/notebook/: nbconvert template (extends "lab")


def _notebook_alt(cell: dict, n: int) -> str:
    """Alt text of a code cell's image: its `fig-alt`, else its `fig-cap`, else a plain note."""
    try:
        opts = cell_options(_joined(cell.get("source", "")))
    except yaml.YAMLError:
        opts = {}
    alt = str(opts.get("fig-alt") or opts.get("fig-cap") or "").strip()
    return alt or f"Figur fra kodecelle {n} i notatboken (uten egen beskrivelse)"


def _scope_table_headers(html: str) -> str:
    """Tie table header cells to their data: scope="col" in <thead>, scope="row" in <tbody>."""
    def scoped(scope: str) -> Any:
        return lambda m: re.sub(r"<th(?![^>]*\bscope=)(?=[\s>])", f'<th scope="{scope}"', m.group(0))
    html = re.sub(r"<th\b[^>]*>\s*</th>", "<td></td>", html)  # an empty corner cell is no header
    html = re.sub(r"<thead\b.*?</thead>", scoped("col"), html, flags=re.S)
    return re.sub(r"<tbody\b.*?</tbody>", scoped("row"), html, flags=re.S)


def convert_notebooks(notebooks: list[Path], out_dir: Path, titles: dict[Path, str] | None = None,
                      lang: str = "nb", book_title: str | None = None) -> list[Path]:
    """Executed notebooks as accessible, offline HTML pages (nbconvert, templates/notebook).

    Each page: `lang`, a title naming the notebook and the chapter that embeds it (`titles`),
    the cell's own `fig-alt` as alt text, no prompts, AA-contrast highlighting, no CDN scripts,
    table header cells tied to their data. Pages whose notebook, title and template are
    unchanged are skipped (key in _build/notebooks.json).
    """
    import hashlib

    from kunnskapsgrunnlag.atomic import read_json, write_json, write_text

    titles = titles or {}
    stamp_file = out_dir / "_build" / "notebooks.json"
    stamps = read_json(stamp_file, {}) or {}
    tpl = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((TEMPLATES / _NOTEBOOK_TEMPLATE).iterdir())))
    done = []
    exporter = None
    for nb in sorted(set(notebooks)):
        target = out_dir / "notebooks" / f"{nb.stem}.html"
        chapter = titles.get(nb, "")
        heading = f"Notatbok {nb.stem}" + (f" – {chapter}" if chapter else "")
        title = heading + (f" – {book_title}" if book_title else "")
        key = hashlib.sha256(f"{tpl.hexdigest()}|{nb.stat().st_mtime_ns}|{title}|{lang}|v1".encode()).hexdigest()
        if target.exists() and stamps.get(nb.stem) == key:
            done.append(target)
            continue
        if exporter is None:
            import nbformat
            from nbconvert import HTMLExporter
            exporter = HTMLExporter(template_name=_NOTEBOOK_TEMPLATE, extra_template_basedirs=[str(TEMPLATES)],
                                    exclude_input_prompt=True, exclude_output_prompt=True)
            if re.fullmatch(r"[a-z]{2}", lang):
                exporter.language_code = lang
        node = nbformat.read(str(nb), as_version=4)
        node.metadata["title"] = title
        node.metadata["kg_heading"] = heading
        for n, cell in enumerate(node.cells, 1):
            if cell.get("cell_type") == "code" and any(
                    "image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
                cell.metadata["kg_alt"] = _notebook_alt(cell, n)
        body, _ = exporter.from_notebook_node(node)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, _scope_table_headers(body))
        stamps[nb.stem] = key
        done.append(target)
    write_json(stamp_file, stamps)
    return done


def _meta_inlines(text: str) -> dict:
    """Metadata for the Typst template: a Typst string literal, so nothing in the value is read
    as markup (a date such as "2. februar 2026" would otherwise become a numbered list)."""
    return {"t": "MetaInlines", "c": [_raw("typst", "#" + typst_string(text))]}


def _toc_html(headings: list[Heading], depth: int) -> str:
    """Nested <ul id="toc"> from the numbered heading list (parts at the top level)."""
    lines: list[str] = []
    prev = 0
    for h in headings:
        if not h.part and (h.level > depth or not h.ident or not h.listed):
            continue
        d = 1 if (h.part or prev == 0) else min(h.level, prev + 1)
        if prev == 0:
            lines.append('<ul id="toc">')
        elif d > prev:
            lines.append("<ul>")
        else:
            lines.append("</li>" + "</ul></li>" * (prev - d))
        if h.part:
            lines.append(f'<li class="toc-part"><a href="#{_esc(h.ident)}">{_esc(h.title)}</a>')
        else:
            num = f'<span class="toc-num">{_esc(h.number)}</span>' if h.number else ""
            lines.append(f'<li class="toc-l{h.level}"><a href="#{_esc(h.ident)}">{num}{_esc(h.title)}</a>')
        prev = d
    if prev:
        lines.append("</li>" + "</ul></li>" * (prev - 1) + "</ul>")
    else:
        lines.append('<ul id="toc"></ul>')
    return "\n".join(lines)


def copy_resources(book: Book, out_dir: Path) -> list[Path]:
    """Quarto's `project: resources`: files matching the globs (relative to the project root)
    are copied into the output folder with their relative paths
    (https://quarto.org/docs/projects/quarto-projects.html)."""
    globs = (book.config.get("project") or {}).get("resources") or []
    if isinstance(globs, str):
        globs = [globs]
    copied = []
    for pattern in globs:
        pattern = str(pattern).lstrip("/")
        if pattern.startswith("!") or ".." in Path(pattern).parts:
            raise RenderError(f"_quarto.yml: project.resources {pattern!r}: only plain globs inside "
                              "the project are supported by the fallback renderer")
        for match in sorted(book.root.glob(pattern.rstrip("/"))):
            files = [match] if match.is_file() else sorted(f for f in match.rglob("*") if f.is_file())
            for src in files:  # a matching folder is copied with everything in it
                rel = src.relative_to(book.root)
                if rel.parts[0] in ("_book", ".quarto") or out_dir in src.parents:
                    continue
                target = out_dir / rel
                _write_if_changed(target, src.read_bytes())
                copied.append(target)
    return copied


def _typst_partial(book: Book) -> str:
    """The Quarto partial (report/assets/typst-template.typ) if the project has one."""
    fmt = typst_format(book.config)[1]
    for p in fmt.get("template-partials") or []:
        path = _project_path(book.root, str(p))
        if path.name == "typst-template.typ" and path.exists():
            return path.read_text(encoding="utf-8")
    return (TEMPLATES / "typst-template.typ").read_text(encoding="utf-8")


def _typst_length(v: Any, default: str) -> str:
    if v is None:
        return default
    s = str(v).strip()
    if re.fullmatch(r"\d+(\.\d+)?(pt|mm|cm|in|em)", s):
        return s
    raise RenderError(f"_quarto.yml: format.typst: cannot use length {v!r}")


_PDF_STANDARDS = {"1.4", "1.5", "1.6", "1.7", "2.0", "a-1a", "a-1b", "a-2a", "a-2b", "a-2u", "a-3a",
                  "a-3b", "a-3u", "a-4", "a-4e", "a-4f", "ua-1"}


def _pdf_standards(typst_cfg: dict) -> list[str]:
    """`format.typst.pdf-standard` (Quarto 1.9; one value or a list), default PDF/UA-1."""
    value = typst_cfg.get("pdf-standard", "ua-1")
    values = [str(v).lower() for v in (value if isinstance(value, list) else [value]) if v is not None]
    bad = [v for v in values if v not in _PDF_STANDARDS]
    if bad:
        raise RenderError(f"_quarto.yml: format.typst.pdf-standard: unknown standard(s) {bad} "
                          f"(Typst knows {', '.join(sorted(_PDF_STANDARDS))})")
    return values


# --------------------------------------------------------------------------------------------
# Main entry
# --------------------------------------------------------------------------------------------
def render_fallback(root: Path, out_dir: Path | None = None) -> dict:
    t0 = time.perf_counter()
    root = Path(root).resolve()
    book = load_book(root)
    if out_dir is None:
        out_dir = root / str(((book.config.get("project") or {}).get("output-dir")) or "_book")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    build = out_dir / "_build"
    build.mkdir(exist_ok=True)

    # 1. sources -> one markdown text -> pandoc AST
    sources = Sources(book, out_dir)
    md = sources.book_markdown()
    _write_if_changed(build / "book.md", md)
    ast = json.loads(run_pandoc(["-f", "markdown-raw_tex", "-t", "json"], md))

    # 2. number (collect labels first so forward references resolve), then transform
    refs = {}
    for fmt in ("html", "typst"):
        collect = Transformer(book, sources.embeds, "collect", fmt=fmt)
        collect.blocks(ast["blocks"])
        refs[fmt] = collect.refs
    html_t = Transformer(book, sources.embeds, "html", refs["html"])
    html_blocks = html_t.blocks(ast["blocks"])
    typst_t = Transformer(book, sources.embeds, "typst", refs["typst"])
    typst_blocks = typst_t.blocks(ast["blocks"])

    # 3. notebooks as HTML (for «Vis notatboken»)
    convert_notebooks([e.notebook for e in sources.embeds if e.label.split("-")[0] in ("fig", "tbl")],
                      out_dir, titles=html_t.notebook_chapters, lang=book.lang, book_title=book.title)

    # 4. HTML
    pdf_name = f"{book.output_name}.pdf"
    html_fragment = run_pandoc(
        ["-f", "json", "-t", "html5", "--section-divs", "--wrap=none"],
        json.dumps({**ast, "blocks": html_blocks, "meta": {}}))
    html_fragment = _scope_table_headers(html_fragment)
    html_cfg = ((book.config.get("format") or {}).get("html") or {})
    toc = _toc_html(html_t.headings, int(html_cfg.get("toc-depth", 2)))
    cover = [f'<p class="publisher">{_esc(book.publisher)}</p>' if book.publisher else "",
             f'<h1 class="book-title">{_esc(book.title)}</h1>',
             f'<p class="subtitle">{_esc(book.subtitle)}</p>' if book.subtitle else ""]
    meta_line = [x for x in [", ".join(book.authors), book.date,
                             f"Rapport {book.report_number}" if book.report_number else ""] if x]
    if meta_line:
        cover.append(f'<p class="meta">{" · ".join(_esc(x) for x in meta_line)}</p>')
    if book.edition_note:
        cover.append(f'<p class="edition">{_esc(book.edition_note)}</p>')
    cover.append(f'<a class="pdf-link" href="{_esc(pdf_name)}" download>Last ned PDF</a>')
    toc_title = book.label("toc-title-document", "Innhold")
    page = (TEMPLATES / "book.html").read_text(encoding="utf-8")
    values = {"lang": _esc(book.lang), "title": _esc(book.title), "cover": "\n".join(c for c in cover if c),
              "toc": toc, "toc_title": _esc(toc_title), "pdf": _esc(pdf_name), "body": html_fragment,
              "search_label": _esc(book.label("search-label", "Søk i rapporten")),
              "search_placeholder": _esc(book.label("search-text-placeholder", "Søk …"))}
    page = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], page)
    html_path = out_dir / "index.html"
    html_path.write_text(page, encoding="utf-8")
    assets = out_dir / "assets"
    assets.mkdir(exist_ok=True)
    for name in ("book.css", "search.js"):
        _write_if_changed(assets / name, (TEMPLATES / name).read_bytes())
    copy_resources(book, out_dir)

    # 5. Typst -> PDF
    typst_cfg = typst_format(book.config)[1]
    template = (TEMPLATES / "book.typ").read_text(encoding="utf-8").replace(
        "//@@KG-TYPST-TEMPLATE@@", _typst_partial(book))
    template_path = build / "template.typ"
    _write_if_changed(template_path, template)
    margin = typst_cfg.get("margin") or {}
    margin_code = "(" + ", ".join(f"{k}: {_typst_length(v, '2.5cm')}" for k, v in
                                  (margin.items() if isinstance(margin, dict) else [])) + ")"
    if margin_code == "()":
        margin_code = "(x: 2.5cm, y: 2.5cm)"
    meta = {
        "title": _meta_inlines(book.title),
        "toc-title": _meta_inlines(toc_title),
    }
    if book.subtitle:
        meta["subtitle"] = _meta_inlines(book.subtitle)
    if book.authors:
        meta["author"] = {"t": "MetaList", "c": [_meta_inlines(a) for a in book.authors]}
    if book.date:
        meta["date"] = _meta_inlines(book.date)
    for key, val in (("publisher", book.publisher), ("report-number", book.report_number),
                     ("edition-note", book.edition_note)):
        if val:
            meta[key] = _meta_inlines(val)
    papersize = str(typst_cfg.get("papersize", "a4"))
    if not re.fullmatch(r"[a-z0-9-]+", papersize):
        raise RenderError(f"_quarto.yml: format.typst.papersize {papersize!r} is not a Typst paper name")
    typ = run_pandoc(
        ["-f", "json", "-t", "typst", "--wrap=none", f"--template={template_path}",
         "-V", f"kg-lang={book.lang if re.fullmatch(r'[a-z]{2,3}', book.lang) else 'nb'}",
         "-V", f"kg-paper={papersize}",
         "-V", f"kg-margin={margin_code}",
         "-V", f"kg-fontsize={_typst_length(typst_cfg.get('fontsize'), '10.5pt')}",
         "-V", f"kg-toc={'true' if typst_cfg.get('toc', True) else 'false'}",
         "-V", f"kg-toc-depth={int(typst_cfg.get('toc-depth', 2))}"],
        json.dumps({**ast, "blocks": typst_blocks, "meta": meta}))
    typ_path = build / "book.typ"
    typ_path.write_text(typ, encoding="utf-8")
    pdf_path = out_dir / pdf_name
    import typst
    try:
        typst.compile(str(typ_path), output=str(pdf_path), root=str(out_dir),
                      pdf_standards=_pdf_standards(typst_cfg))
    except Exception as exc:  # typst.TypstError and friends
        raise RenderError(f"typst could not compile {typ_path}: {exc}") from exc

    return {"renderer": "pandoc", "html": html_path, "pdf": pdf_path,
            "seconds": round(time.perf_counter() - t0, 2)}
