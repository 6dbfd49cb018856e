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
raw HTML/Typst where pandoc's own output is not enough), then written by pandoc to one HTML
page per chapter (Quarto's file names, templates/book.html; render/html_book.py) and to Typst
(templates/book.typ + report/assets/typst-template.typ; render/typst_writer.py), which
``typst.compile`` turns into the PDF.

Stages, one module each: book assembly (``book``), shortcode expansion (``shortcodes``),
document transform (``transform``), HTML writer (``html_book``), notebook pages
(``notebook_pages``), Typst writer (``typst_writer``); shared helpers in ``common``. The
compatibility checker (``compat``) runs before this renderer or Quarto starts.

Anything the fallback does not understand raises :class:`RenderError` naming the source file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .book import Book, copy_resources, load_book, typst_format
from .common import (
    TEMPLATES,
    RenderError,
    _esc,
    _write_if_changed,
    cell_options,
    escape_typst,
    format_date,
    pandoc_path,
    run_pandoc,
    stringify,
    typst_string,
)
from .html_book import Page, page_of, toc_html, write_pages
from .notebook_pages import _scope_table_headers, convert_notebooks
from .shortcodes import Sources
from .transform import Transformer
from .typst_writer import PROJECT_TYPST_TEMPLATE, write_pdf

# the stages are modules of their own (book, shortcodes, transform, html_book, notebook_pages,
# typst_writer); these names stay importable from here
__all__ = [
    "RenderError",
    "render_fallback",
    "load_book",
    "escape_typst",
    "format_date",
    "cell_options",
    "convert_notebooks",
    "typst_format",
    "copy_resources",
    "pandoc_path",
    "PROJECT_TYPST_TEMPLATE",
    "TEMPLATES",
    "Book",
    "Sources",
    "Transformer",
    "run_pandoc",
    "stringify",
    "typst_string",
]


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
    chapters: list[tuple[str, list]] = []  # (chapter file, its HTML blocks): one page each
    for blk in ast["blocks"]:
        before = html_t.chapter_file
        out = html_t.blocks([blk])
        if html_t.chapter_file != before or not chapters:
            chapters.append((html_t.chapter_file, []))
        chapters[-1][1].extend(out)
    typst_t = Transformer(book, sources.embeds, "typst", refs["typst"])
    typst_blocks = typst_t.blocks(ast["blocks"])

    # 3. notebooks as HTML (for «Vis notatboken»)
    figs = [e for e in sources.embeds if e.label.split("-")[0] in ("fig", "tbl")]
    convert_notebooks(
        [e.notebook for e in figs],
        out_dir,
        titles=html_t.notebook_chapters,
        lang=book.lang,
        book_title=book.title,
        backlinks={
            (e.notebook.stem, e.label): "../" + page_of(html_t.embed_chapter.get(e.label, "index.qmd")) + f"#{e.label}"
            for e in figs
        },
    )

    # 4. HTML: one page per chapter, Quarto's file names (render/html_book.py)
    pdf_name = f"{book.output_name}.pdf"
    html_cfg = (book.config.get("format") or {}).get("html") or {}
    toc = toc_html(html_t.headings, int(html_cfg.get("toc-depth", 2)))
    cover = [
        f'<p class="publisher">{_esc(book.publisher)}</p>' if book.publisher else "",
        f'<h1 class="book-title">{_esc(book.title)}</h1>',
        f'<p class="subtitle">{_esc(book.subtitle)}</p>' if book.subtitle else "",
    ]
    meta_line = [
        x
        for x in [", ".join(book.authors), book.date, f"Rapport {book.report_number}" if book.report_number else ""]
        if x
    ]
    if meta_line:
        cover.append(f'<p class="meta">{" · ".join(_esc(x) for x in meta_line)}</p>')
    if book.edition_note:
        cover.append(f'<p class="edition">{_esc(book.edition_note)}</p>')
    cover.append(f'<a class="pdf-link" href="{_esc(pdf_name)}" download>Last ned PDF</a>')
    toc_title = book.label("toc-title-document", "Innhold")
    pages: list[Page] = []
    for src, blocks in chapters:
        if src == "_quarto.yml" or not src.endswith(".qmd"):
            if pages or not blocks:
                continue
        h = html_t.file_heading.get(src)
        title = f"{h.number} {h.title}" if h and h.number else (h.title if h else src)
        pages.append(Page(src, page_of(src), title, h.title if h else src, h.ident if h else None, blocks))

    def to_html(blocks: list) -> str:
        frag = run_pandoc(
            ["-f", "json", "-t", "html5", "--section-divs", "--wrap=none"],
            json.dumps({**ast, "blocks": blocks, "meta": {}}),
        )
        return _scope_table_headers(frag)

    written = write_pages(
        pages,
        out_dir,
        to_html=to_html,
        toc=toc,
        context={
            "lang": book.lang,
            "title": book.title,
            "cover": "\n".join(c for c in cover if c),
            "toc_title": toc_title,
            "pdf": pdf_name,
            "search_label": book.label("search-label", "Søk i rapporten"),
            "search_placeholder": book.label("search-text-placeholder", "Søk …"),
        },
        first_part_pages={ident: page_of(ch) for ident, ch in html_t.part_chapter.items()},
    )
    html_path = written[0] if written else out_dir / "index.html"
    assets = out_dir / "assets"
    assets.mkdir(exist_ok=True)
    for name in ("book.css", "search.js"):  # (search-data.js is written with the pages)
        _write_if_changed(assets / name, (TEMPLATES / name).read_bytes())
    copy_resources(book, out_dir)

    # 5. Typst -> PDF (render/typst_writer.py)
    pdf_path = write_pdf(book, ast, typst_blocks, build=build, out_dir=out_dir, pdf_name=pdf_name, toc_title=toc_title)

    return {"renderer": "pandoc", "html": html_path, "pdf": pdf_path, "seconds": round(time.perf_counter() - t0, 2)}
