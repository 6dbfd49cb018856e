"""Typst writer: the transformed blocks to Typst with the report's one template
(report/assets/typst-template.typ, the partial of the Quarto format kg-typst) and to a PDF.

A stage of the pandoc + Typst fallback renderer (kunnskapsgrunnlag.render.fallback).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .common import TEMPLATES, RenderError, _meta_inlines, _project_path, _write_if_changed, run_pandoc
from .model import Book, typst_format

if TYPE_CHECKING:
    from typst import PDFStandard

# The report's one Typst template (cover and look; the Quarto partial of format kg-typst).
PROJECT_TYPST_TEMPLATE = Path(__file__).resolve().parents[2] / "report" / "assets" / "typst-template.typ"


def _typst_partial(book: Book) -> str:
    """The Quarto partial (report/assets/typst-template.typ) if the project has one."""
    fmt = typst_format(book.config)[1]
    for p in fmt.get("template-partials") or []:
        path = _project_path(book.root, str(p))
        if path.name == "typst-template.typ" and path.exists():
            return path.read_text(encoding="utf-8")
    # one template: a book without its own partial gets the project's (report/assets/), never a copy
    if not PROJECT_TYPST_TEMPLATE.exists():
        raise RenderError(
            f"no Typst template: _quarto.yml names no `template-partials` typst-template.typ "
            f"and {PROJECT_TYPST_TEMPLATE} does not exist"
        )
    return PROJECT_TYPST_TEMPLATE.read_text(encoding="utf-8")


def _typst_length(v: Any, default: str) -> str:
    if v is None:
        return default
    s = str(v).strip()
    if re.fullmatch(r"\d+(\.\d+)?(pt|mm|cm|in|em)", s):
        return s
    raise RenderError(f"_quarto.yml: format.typst: cannot use length {v!r}")


_PDF_STANDARDS = {
    "1.4",
    "1.5",
    "1.6",
    "1.7",
    "2.0",
    "a-1a",
    "a-1b",
    "a-2a",
    "a-2b",
    "a-2u",
    "a-3a",
    "a-3b",
    "a-3u",
    "a-4",
    "a-4e",
    "a-4f",
    "ua-1",
}


def _pdf_standards(typst_cfg: dict) -> list[PDFStandard]:
    """`format.typst.pdf-standard` (Quarto 1.9; one value or a list), default PDF/UA-1."""
    value = typst_cfg.get("pdf-standard", "ua-1")
    values = [str(v).lower() for v in (value if isinstance(value, list) else [value]) if v is not None]
    bad = [v for v in values if v not in _PDF_STANDARDS]
    if bad:
        raise RenderError(
            f"_quarto.yml: format.typst.pdf-standard: unknown standard(s) {bad} "
            f"(Typst knows {', '.join(sorted(_PDF_STANDARDS))})"
        )
    return cast("list[PDFStandard]", values)  # each one checked against _PDF_STANDARDS above


def write_pdf(
    book: Book, ast: dict, typst_blocks: list, *, build: Path, out_dir: Path, pdf_name: str, toc_title: str
) -> Path:
    """The transformed blocks as Typst (pandoc, templates/book.typ with the project's one template,
    report/assets/typst-template.typ) compiled to a tagged PDF (PDF/UA-1 when asked)."""
    typst_cfg = typst_format(book.config)[1]
    template = (
        (TEMPLATES / "book.typ").read_text(encoding="utf-8").replace("//@@KG-TYPST-TEMPLATE@@", _typst_partial(book))
    )
    template_path = build / "template.typ"
    _write_if_changed(template_path, template)
    margin = typst_cfg.get("margin") or {}
    margin_code = (
        "("
        + ", ".join(
            f"{k}: {_typst_length(v, '2.5cm')}" for k, v in (margin.items() if isinstance(margin, dict) else [])
        )
        + ")"
    )
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
    for key, val in (
        ("publisher", book.publisher),
        ("report-number", book.report_number),
        ("edition-note", book.edition_note),
    ):
        if val:
            meta[key] = _meta_inlines(val)
    papersize = str(typst_cfg.get("papersize", "a4"))
    if not re.fullmatch(r"[a-z0-9-]+", papersize):
        raise RenderError(f"_quarto.yml: format.typst.papersize {papersize!r} is not a Typst paper name")
    typ = run_pandoc(
        [
            "-f",
            "json",
            "-t",
            "typst",
            "--wrap=none",
            f"--template={template_path}",
            "-V",
            f"kg-lang={book.lang if re.fullmatch(r'[a-z]{2,3}', book.lang) else 'nb'}",
            "-V",
            f"kg-paper={papersize}",
            "-V",
            f"kg-margin={margin_code}",
            "-V",
            f"kg-fontsize={_typst_length(typst_cfg.get('fontsize'), '10.5pt')}",
            "-V",
            f"kg-toc={'true' if typst_cfg.get('toc', True) else 'false'}",
            "-V",
            f"kg-toc-depth={int(typst_cfg.get('toc-depth', 2))}",
        ],
        json.dumps({**ast, "blocks": typst_blocks, "meta": meta}),
    )
    typ_path = build / "book.typ"
    typ_path.write_text(typ, encoding="utf-8")
    pdf_path = out_dir / pdf_name
    import typst

    try:
        typst.compile(str(typ_path), output=str(pdf_path), root=str(out_dir), pdf_standards=_pdf_standards(typst_cfg))
    except Exception as exc:  # typst.TypstError and friends
        raise RenderError(f"typst could not compile {typ_path}: {exc}") from exc
    return pdf_path
