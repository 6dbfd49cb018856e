"""HTML writer of the fallback renderer: a book like Quarto's, one page per chapter.

The pages have Quarto's file names (``index.html`` for ``index.qmd``, ``report/02_situasjonen.html``
for ``report/02_situasjonen.qmd``; compare ../shared/quarto-render/html), so relative links in
the staged sources (``../figurdata/…``, ``../notebooks/…``), the CSV paths and the accessibility
tests mean the same under both renderers. Each page: the book's sidebar (the table of contents of
the whole book, the current chapter marked), the chapter, and previous/next links
(`nav.page-navigation`, as Quarto). The page template is ``templates/book.html`` (Jinja2).

``write_pages(...)`` returns the pages written, in book order.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import jinja2

from .common import _esc
from .model import Heading

TEMPLATES = Path(__file__).parent / "templates"

__all__ = ["Page", "page_of", "write_pages", "book_html", "page_files", "toc_html"]

_NEXT = re.compile(r'<a\b[^>]*\brel="next"[^>]*\bhref="([^"]+)"')  # the page's «Neste» link (book order)


@dataclass
class Page:
    source: str  # chapter file (index.qmd, report/02_situasjonen.qmd)
    path: str  # page file (index.html, report/02_situasjonen.html)
    title: str  # "2 Situasjonen i Buskerud" (number and title, as in the sidebar)
    plain_title: str  # "Situasjonen i Buskerud"
    ident: str | None  # the chapter heading's id
    blocks: list
    fragment: str = ""


def page_of(source: str) -> str:
    """The page a chapter file becomes (Quarto: the same path, .html)."""
    return posixpath.splitext(source)[0] + ".html"


def _rel(target: str, page: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


_ID = re.compile(r'\bid="([^"]+)"')
_HREF_ANCHOR = re.compile(r'href="#([^"]+)"')


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def write_pages(
    pages: list[Page],
    out_dir: Path,
    *,
    to_html: Callable[[list], str],
    toc: str,
    context: dict[str, Any],
    first_part_pages: dict[str, str] | None = None,
) -> list[Path]:
    """Render every page's blocks (`to_html`), link anchors across pages, write them with the
    template. `toc`: the sidebar list with ``href="#id"`` links (rewritten per page);
    `first_part_pages`: part anchor -> the page of the part's first chapter."""
    for p in pages:
        p.fragment = to_html(p.blocks)
    where: dict[str, str] = {}
    for p in pages:
        for ident in _ID.findall(p.fragment):
            where.setdefault(ident, p.path)
    parts = dict(first_part_pages or {})
    template = _environment().get_template("book.html")
    written = []
    for i, p in enumerate(pages):
        own = set(_ID.findall(p.fragment))

        def link(m: re.Match, p: Page = p, own: set = own) -> str:
            ident = m.group(1)
            if ident in parts:  # a part has no page of its own: its first chapter's page
                return f'href="{_rel(parts[ident], p.path)}"'
            if ident in own or ident not in where:
                return m.group(0)
            target = where[ident]
            return f'href="{_rel(target, p.path)}#{ident}"' if target != p.path else m.group(0)

        base = _rel(".", p.path)
        base = "" if base == "." else base + "/"
        body = _HREF_ANCHOR.sub(link, p.fragment)
        body = re.sub(r'(<img\b[^>]*\bsrc=")(figures/)', r"\g<1>" + base + r"\g<2>", body)
        side = _HREF_ANCHOR.sub(link, toc)
        if p.ident:
            side = side.replace(f'<a href="#{p.ident}">', f'<a href="#{p.ident}" aria-current="page">', 1)
        prev_p = pages[i - 1] if i > 0 else None
        next_p = pages[i + 1] if i + 1 < len(pages) else None
        html = template.render(
            **context,
            base=base,
            body=body,
            toc=side,
            is_index=(i == 0),
            page_path=p.path,
            page_title=(p.plain_title if i else ""),
            prev={"href": _rel(prev_p.path, p.path), "title": prev_p.title} if prev_p else None,
            next={"href": _rel(next_p.path, p.path), "title": next_p.title} if next_p else None,
        )
        target = out_dir / p.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        written.append(target)
    _write_search_data(pages, out_dir)
    return written


_SECTION = re.compile(r'<section\b[^>]*\bid="([^"]+)"[^>]*>')
_HEADING = re.compile(r"<h[1-6]\b[^>]*>(.*?)</h[1-6]>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _text(html_part: str) -> str:
    import html as _html

    html_part = re.sub(r"<(script|style)\b.*?</\1>", " ", html_part, flags=re.S)
    return " ".join(_html.unescape(_TAG.sub(" ", html_part)).split())


def _write_search_data(pages: list[Page], out_dir: Path) -> None:
    """assets/search-data.js: every section of every page (page, id, title, text), so the search
    box finds text on all pages (a script, not fetched data: it works from file:// too)."""
    entries = []
    for p in pages:
        starts = list(_SECTION.finditer(p.fragment))
        for i, m in enumerate(starts):
            chunk = p.fragment[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(p.fragment)]
            h = _HEADING.search(chunk)
            entries.append({"p": p.path, "id": m.group(1), "t": _text(h.group(1)) if h else p.title, "x": _text(chunk)})
    data = json.dumps(entries, ensure_ascii=False).replace("</", "<\\/")
    target = out_dir / "assets" / "search-data.js"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"window.KG_SEARCH = {data};\n", encoding="utf-8")


def page_files(out_dir: Path) -> list[Path]:
    """The chapter pages of a rendered book in book order (index.html first)."""
    out_dir = Path(out_dir).resolve()
    pages: list[Path] = []
    page = out_dir / "index.html"
    while page.is_file() and page not in pages:  # follow the «Neste» links, as a reader would
        pages.append(page)
        m = _NEXT.search(page.read_text(encoding="utf-8"))
        page = (page.parent / m.group(1).split("#")[0]).resolve() if m else out_dir
    rest = sorted(f.resolve() for f in (out_dir / "report").rglob("*.html") if f.resolve() not in pages)
    return pages + rest


def book_html(out_dir: Path) -> str:
    """The HTML of every chapter page, in book order, one after the other."""
    return "\n".join(f.read_text(encoding="utf-8") for f in page_files(out_dir))


def toc_html(headings: list[Heading], depth: int) -> str:
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
