"""Book assembly: the book structure of ``_quarto.yml`` (chapters, parts, appendices, cover
fields, formats) and the project resources copied into the output.

A stage of the pandoc + Typst fallback renderer (kunnskapsgrunnlag.render.fallback).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..fmt import file_slug, relative_path
from .common import RenderError, _project_path, _write_if_changed, format_date
from .model import Book, Entry, typst_format  # noqa: F401 - re-exported (fallback, typst_writer, tests)


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
                entries.append(Entry("chapter", path=relative_path(_project_path(root, item), root), appendix=appendix))
            elif isinstance(item, dict) and "part" in item:
                part = str(item["part"])
                if part.endswith((".qmd", ".md")):
                    raise RenderError(
                        f"_quarto.yml: {where}: a part given as a file ({part}) is not "
                        "supported by the fallback renderer; use `part: Title`"
                    )
                entries.append(Entry("part", title=part, appendix=appendix))
                add_chapters(item.get("chapters"), appendix, where)
            else:
                raise RenderError(
                    f"_quarto.yml: {where}: unsupported entry {item!r} "
                    "(expected a file name or {part: ..., chapters: [...]})"
                )

    add_chapters(book.get("chapters"), False, "book.chapters")
    if book.get("appendices"):
        entries.append(Entry("part", title=str(language.get("section-title-appendices", "Vedlegg")), appendix=True))
        add_chapters(book.get("appendices"), True, "book.appendices")

    for e in entries:
        if e.kind == "chapter" and e.path is not None and not (root / e.path).exists():  # chapters have a path
            raise RenderError(f"_quarto.yml: chapter file {e.path} does not exist")

    authors = book.get("author") or cfg.get("author") or []
    if not isinstance(authors, list):
        authors = [authors]
    authors = [a.get("name", "") if isinstance(a, dict) else str(a) for a in authors]
    title = str(book.get("title") or cfg.get("title") or "Rapport")
    output_file = book.get("output-file")
    output_name = Path(str(output_file)).stem if output_file else file_slug(title, "book")

    def opt(key: str) -> str | None:
        v = cfg.get(key, book.get(key))
        return None if v is None else str(v)

    return Book(
        root=root,
        config=cfg,
        entries=entries,
        title=title,
        subtitle=None if book.get("subtitle") is None else str(book.get("subtitle")),
        authors=[a for a in authors if a],
        date=format_date(book.get("date"), book.get("date-format")),
        publisher=opt("publisher"),
        report_number=opt("report-number"),
        edition_note=opt("edition-note"),
        output_name=output_name,
        lang=str(cfg.get("lang") or "nb"),
        language=language,
    )


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
            raise RenderError(
                f"_quarto.yml: project.resources {pattern!r}: only plain globs inside "
                "the project are supported by the fallback renderer"
            )
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
