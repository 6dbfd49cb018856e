"""The data of the fallback renderer's stages: the book (`Book`, its `Entry`s and its Typst format),
an embedded notebook cell (`Embed`), a cross-reference target (`Ref`) and a heading (`Heading`).
Plain data with no imports from the other stages, so that every stage can depend on it and the
stages need not import each other for their types (kunnskapsgrunnlag.render.fallback runs them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
