"""Document transform: the pandoc AST numbered (chapters, sections, figures, tables), cross-
references resolved, callouts, conditional content and embeds rewritten for one output format
(HTML or Typst), checks for what Quarto would render differently.

A stage of the pandoc + Typst fallback renderer (kunnskapsgrunnlag.render.fallback).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..fmt import file_slug
from .common import (
    _INLINE_TYPES,
    _MARKER,
    RenderError,
    _esc,
    _png_size,
    _raw,
    escape_typst,
    stringify,
    typst_string,
)
from .model import Book, Embed, Heading, Ref  # noqa: F401 - Heading, Ref re-exported

CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution")


_CALLOUT_DEFAULT_TITLES = {
    "note": "Merk",
    "tip": "Tips",
    "important": "Viktig",
    "warning": "Advarsel",
    "caution": "Forsiktig",
}


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

    def __init__(
        self, book: Book, embeds: list[Embed], mode: str, refs: dict[str, Ref] | None = None, fmt: str | None = None
    ):
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
        self.embed_chapter: dict[str, str] = {}  # figure/table label -> chapter file (its page)
        self.part_chapter: dict[str, str] = {}  # part anchor -> its first chapter file
        self._pending_parts: list[str] = []

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
                raise RenderError(
                    f"{self.expect_chapter}: a chapter file must start with a level-1 heading (# Title {{#sec-…}})"
                )
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
        raise self.err(
            f"raw {fmt} content is not supported by the fallback renderer "
            f"(it would be lost in one of the formats): {s[:60]!r}"
        )

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
            for ident in self._pending_parts:
                self.part_chapter[ident] = arg
            self._pending_parts = []
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
            ident = "part-" + file_slug(title, "book").lower() + f"-{arg}"
            self.headings.append(Heading(0, ident, None, title, part=True))
            if self.mode == "html":  # as Quarto's HTML book: parts only in the sidebar
                self._pending_parts.append(ident)
                return []
            if self.mode == "typst":
                return [_raw("typst", f"#kg-part[{escape_typst(title)}]", True)]
            return []
        raise self.err(f"internal marker {kind!r}")

    # -- headings ---------------------------------------------------------------------------
    def _number(self, level: int, classes: list[str]) -> str | None:
        unnumbered = "unnumbered" in classes or self.in_index or not self.book.config.get("number-sections", True)
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
            raise self.err(
                "a level-3 heading directly under the chapter heading (no level-2 "
                f"section before it); Quarto would number it {self.chapter_label}.0."
                f"{self.counters[2]}. Make it a level-2 section"
            )
        return f"{self.chapter_label}.{self.counters[1]}.{self.counters[2]}"

    def on_Header(self, node: dict) -> list:
        level, attr, inlines = node["c"]
        ident, classes, kv = attr
        if level == 1:
            self.chapter_h1 += 1
            if self.chapter_h1 > 1:
                where = self.chapter_file if self.file == self.chapter_file else f"{self.chapter_file} (in {self.file})"
                raise RenderError(
                    f"{where}: a second level-1 heading ({stringify(inlines).strip()!r}); Quarto "
                    "makes one chapter of each chapter file and numbers only its first level-1 "
                    "heading as the chapter. Make it a level-2 section or its own chapter file "
                    "in _quarto.yml"
                )
        number = self._number(level, classes)
        title = stringify(inlines).strip()
        if self.mode == "collect" and level > self.level + 1:
            above = f"a level-{self.level} heading" if self.level else "the start of the book"
            raise self.err(
                f"heading '{title}' skips a level: {'#' * level} (level {level}) directly "
                f"under {above}; use {'#' * (self.level + 1)} (add {{.unnumbered}} "
                "to leave it unnumbered), see docs/authoring.md"
            )
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
                new_inlines = [
                    {"t": "Span", "c": [["", ["header-section-number"], []], [{"t": "Str", "c": number}]]},
                    {"t": "Space"},
                ] + new_inlines
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
                hint = (
                    ""
                    if kind in ("fig", "tbl", "sec")
                    else " (only @fig-, @tbl- and @sec- cross-references are supported; write a literal @ as \\@)"
                )
                raise self.err(f"unknown cross-reference @{cid}{hint}")
            text = ref.number if c["citationMode"]["t"] == "SuppressAuthor" else ref.text
            if cap:
                text = text[:1].upper() + text[1:]
            if i:
                out += [{"t": "Str", "c": ";"}, {"t": "Space"}]
            prefix = self.walk_list(c.get("citationPrefix") or [])
            if prefix:
                out += prefix + [{"t": "Space"}]
            out.append({"t": "Link", "c": [["", ["kg-xref"], []], [{"t": "Str", "c": text}], ["#" + key, ""]]})
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
        raise self.err(
            "images in the text are not supported; embed the figure from its notebook "
            "with {{< embed /build/notebooks/NB.ipynb#fig-label >}}"
        )

    def on_Figure(self, node: dict) -> list:
        return self.on_Image(node)

    def on_CodeBlock(self, node: dict) -> list:
        classes = node["c"][0][1]
        if any(c.startswith("{") for c in classes):
            raise self.err(
                f"executable code cells ({classes[0]}) are not supported in the report; "
                "compute in a notebook and embed the result"
            )
        return [node]

    def on_Table(self, node: dict) -> list:
        caption_blocks = node["c"][1][1]
        cap = stringify(caption_blocks)
        if re.search(r"\{#tbl-", cap):
            raise self.err(
                "tables with a {#tbl-…} label in the qmd are not supported; make the table in a notebook and embed it"
            )
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
                raise self.err(
                    f"conditional content with {key}= is not supported by the fallback "
                    "renderer (it has no Quarto profiles)"
                )
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
                raise self.err(
                    f"conditional div with {shown}: put the conditional div around "
                    "the other div instead of combining them"
                )
            return self.blocks(content) if visible else []
        if "kg-embed" in classes:
            return self.embed(node)
        callouts = [c for c in classes if c.startswith("callout-")]
        if callouts:
            return self.callout(attr, content, callouts[0][len("callout-") :])
        if "kg-cap" in classes:
            raise self.err("internal: stray caption div")
        shown = " ".join([f"#{ident}"] * bool(ident) + [f".{c}" for c in classes] + [f'{k}="{v}"' for k, v in kv])
        raise self.err(
            f"fenced div ::: {{{shown}}} is not supported by the fallback renderer "
            "(supported: .callout-note, .callout-important, .callout-tip)"
        )

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
            return [
                {
                    "t": "Div",
                    "c": [
                        [ident, ["callout", f"callout-{kind}"], []],
                        [
                            _raw("html", f'<div class="callout-title">{_esc(title)}</div>', True),
                            {"t": "Div", "c": [["", ["callout-body"], []], body]},
                        ],
                    ],
                }
            ]
        if self.mode == "typst":
            label = f" <{ident}>" if ident else ""
            return (
                [_raw("typst", f'#kg-callout(kind: "{kind}", title: [{escape_typst(title)}])[', True)]
                + body
                + [_raw("typst", "]" + label, True)]
            )
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
        if self.mode == "html":
            self.embed_chapter.setdefault(e.label, self.chapter_file)
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
            raise self.err(
                f"embed of '{e.label}': a figure or table in an unnumbered chapter "
                f"({self.chapter_file}); Quarto numbers figures and tables per chapter "
                "in the HTML book, so it would have no proper number. Embed it in a "
                "numbered chapter"
            )
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
        # «Last ned tallene (CSV)» and «Vis notatboken» are not part of the figure: the staged
        # sources carry them in an HTML-only block under the embed (render/staging.py), as Quarto
        # reads them too
        note_only = (kind == "fig" and not e.figure_files) or (
            kind == "tbl" and not any(b["t"] == "Table" for b in rest)
        )
        if note_only:  # the data are missing: the «Data mangler» note, then the caption
            note = self.blocks(rest)
            if self.mode == "html":
                cap = [_raw("html", f'<figcaption><span class="kg-label">{_esc(label_text)}</span> ')]
                cap += caption + [_raw("html", "</figcaption>")]
                return (
                    [_raw("html", f'<figure class="kg-figure kg-missing" id="{_esc(e.label)}">', True)]
                    + note
                    + [{"t": "Plain", "c": cap}, _raw("html", "</figure>", True)]
                )
            # A figure element without an image still needs alternative text under PDF/UA-1.
            missing_alt = f"Data mangler: {stringify(caption).strip()}"
            inl = [
                _raw(
                    "typst",
                    f"#kg-figure(label: [{escape_typst(label_text)}], images: (), "
                    f"alt: {typst_string(missing_alt)}, caption: [",
                )
            ] + caption
            inl.append(_raw("typst", f"], source: none) <{e.label}>"))
            return note + [{"t": "Plain", "c": inl}]
        if kind == "fig":
            alt = str(e.options.get("fig-alt") or stringify(caption)).strip()
            if self.mode == "html":
                imgs = "".join(f'<img src="{_esc(f)}" alt="{_esc(alt)}" loading="lazy">' for f in e.figure_files)
                inl = [
                    _raw(
                        "html",
                        f'<figure class="kg-figure" id="{_esc(e.label)}">{imgs}<figcaption>'
                        f'<span class="kg-label">{_esc(label_text)}</span> ',
                    )
                ]
                inl += caption
                if source:
                    inl += [_raw("html", '<span class="kg-source">')] + source + [_raw("html", "</span>")]
                inl.append(_raw("html", "</figcaption></figure>"))
                return [{"t": "Plain", "c": inl}]
            images = []
            for f, data in zip(e.figure_files, e.images, strict=False):
                size = _png_size(data)
                tall = size is not None and size[1] / max(size[0], 1) * 16.0 > 15.5
                images.append(f"({typst_string('/' + f)}, {typst_string('height' if tall else 'width')})")
            inl = [
                _raw(
                    "typst",
                    f"#kg-figure(label: [{escape_typst(label_text)}], "
                    f"images: ({', '.join(images)},), alt: {typst_string(alt)}, caption: [",
                )
            ]
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
            raise self.err(
                f"embed of '{e.label}' from {e.notebook_rel}: the cell's text/markdown "
                "output must be exactly one pipe table"
            )
        table = self.walk_list(tables)[0]
        table["c"][1] = [None, []]  # caption is ours
        table["c"][0] = ["", [], []]
        _full_width(table)
        if self.mode == "html":  # the caption is the table's own <caption> (tied to the table)
            head = [_raw("html", f'<span class="kg-label">{_esc(label_text)}</span> ')] + caption
            table["c"][1] = [None, [{"t": "Plain", "c": head}]]
            foot = [_raw("html", '<div class="kg-source-line">')] + source + [_raw("html", "</div>")]
            return [
                _raw("html", f'<div class="kg-table" id="{_esc(e.label)}">', True),
                table,
                {"t": "Plain", "c": foot},
                _raw("html", "</div>", True),
            ]
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
    natural = [max(a, b) for a, b in zip(natural, minimum, strict=False)]
    line_chars -= 2.0 * n
    if sum(natural) <= line_chars:
        widths = natural
    elif sum(minimum) >= line_chars:
        widths = minimum
    else:
        extra = line_chars - sum(minimum)
        slack = [a - b for a, b in zip(natural, minimum, strict=False)]
        widths = [m + extra * sl / sum(slack) for m, sl in zip(minimum, slack, strict=False)]
    widths = [w + 2.0 for w in widths]  # cell padding
    # a table whose text fits on one line per cell is as wide as its content (a narrow table of
    # numbers is not stretched across the page); a wider one spans the text width
    total = max(sum(widths), line_chars + 2.0 * n)
    for spec, w in zip(colspecs, widths, strict=False):
        spec[1] = {"t": "ColWidth", "c": round(w / total, 4)}


def _letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s
