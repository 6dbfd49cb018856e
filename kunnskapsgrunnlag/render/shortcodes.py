"""Shortcode expansion: the chapter files with ``{{< include >}}``, ``{{< var >}}`` and
``{{< embed NB.ipynb#label >}}`` resolved into one pandoc-markdown text (embeds as placeholder
divs, source files as markers).

A stage of the pandoc + Typst fallback renderer (kunnskapsgrunnlag.render.fallback).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..fmt import relative_path
from .common import (
    _DIV_CLOSE,
    _DIV_OPEN,
    _EMBED_FENCE,
    _FRONT_MATTER,
    _SHORTCODE,
    RenderError,
    _joined,
    _project_path,
    _write_if_changed,
    cell_options,
)
from .model import Book, Embed  # noqa: F401 - Embed re-exported
from .staging import _outside_fences


class Notebooks:
    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[Path, tuple[float, dict]] = {}

    def load(self, path: Path, where: str) -> dict:
        if not path.exists():
            raise RenderError(
                f"{where}: notebook {relative_path(path, self.root)} does not exist "
                "(run `kunnskapsgrunnlag build` to execute the notebooks)"
            )
        mtime = path.stat().st_mtime
        hit = self._cache.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RenderError(f"{where}: notebook {relative_path(path, self.root)} is not valid JSON: {exc}") from exc
        self._cache[path] = (mtime, nb)
        return nb

    def find(self, path: Path, label: str, where: str) -> tuple[dict, dict]:
        nb = self.load(path, where)
        rel = relative_path(path, self.root)
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
            raise RenderError(f"{where}: embed of '{label}': notebook {rel} has no cell with `#| label: {label}`")
        return found


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
            raise RenderError(
                f"{where}: {{{{< var {key} >}}}}: _variables.yml does not exist "
                "(written by the notebooks; run `kunnskapsgrunnlag build`)"
            )
        return self._variables

    def var(self, key: str, where: str) -> str:
        node: Any = self.variables(where, key)
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise RenderError(f"{where}: unknown variable '{key}' in {{{{< var {key} >}}}} (not in _variables.yml)")
        if isinstance(node, (dict, list)) or node is None:
            raise RenderError(f"{where}: variable '{key}' is not a single value in _variables.yml")
        if isinstance(node, bool):
            return "true" if node else "false"
        return str(node)

    # -- files ----------------------------------------------------------------------------
    def read(self, path: Path, where: str) -> tuple[str, dict]:
        if not path.exists():
            raise RenderError(f"{where}: file {relative_path(path, self.root)} does not exist")
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        meta: dict = {}
        m = _FRONT_MATTER.match(text)
        if m:
            try:
                meta = yaml.safe_load(m.group(1) or "") or {}
            except yaml.YAMLError as exc:
                raise RenderError(f"{relative_path(path, self.root)}: invalid YAML front matter: {exc}") from exc
            if not isinstance(meta, dict):
                meta = {}
            text = text[m.end() :]
        return text, meta

    def expand_file(self, path: Path, stack: tuple[str, ...] = ()) -> str:
        rel = relative_path(path, self.root)
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
        for _, line in _outside_fences(text):
            if re.match(r"^#\s", line):
                return
        if "{{< include" in text:
            raise RenderError(
                f"{rel}: the chapter's title comes only from an included file; Quarto names such "
                f"a chapter after the file and numbers it. Put the level-1 heading "
                f"(# Tittel {{#sec-…}}) in {rel} itself and include only the text"
            )
        raise RenderError(f"{rel}: a chapter file must have a level-1 heading (# Tittel {{#sec-…}}) or a YAML `title`")

    def _check_divs(self, text: str, rel: str) -> None:
        """Fenced divs must be closed; code fences are skipped."""
        depth = 0
        opened_at: list[int] = []
        for i, line in _outside_fences(text):
            n = i + 1
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
                out = f"\n\n<!--kg:src {relative_path(target, self.root)}-->\n\n{inner}\n\n<!--kg:src {rel}-->\n\n"
            elif name == "embed":
                if len(args) != 1:
                    raise RenderError(
                        f"{rel}: {{{{< embed >}}}} options are not supported by the fallback renderer: {m.group(0)!r}"
                    )
                out = self.embed(args[0], path, rel)
            else:
                raise RenderError(
                    f"{rel}: unsupported shortcode {m.group(0)!r} (the fallback renderer knows include, var and embed)"
                )
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
        images = [
            base64.b64decode(_joined(o["data"]["image/png"])) for o in outputs if "image/png" in o.get("data", {})
        ]
        markdowns = [_joined(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {})]
        markdown = "\n\n".join(markdowns) if markdowns else None
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
        e = Embed(
            index=len(self.embeds),
            label=label,
            notebook=nb_path,
            notebook_rel=relative_path(nb_path, self.root),
            cell_id=cell.get("id"),
            options=opts,
            images=images,
            markdown=markdown,
            source_file=rel,
        )
        if kind == "fig":
            for i, data in enumerate(images):
                name = f"{label}.png" if i == 0 else f"{label}-{i + 1}.png"
                _write_if_changed(self.out_dir / "figures" / name, data)
                e.figure_files.append(f"figures/{name}")
        self.embeds.append(e)
        caption = str(opts.get("fig-cap") or opts.get("tbl-cap") or "").strip()
        body = markdown if (kind != "fig" or not images) else ""
        return (
            f'\n\n{_EMBED_FENCE} {{.kg-embed data-kg="{e.index}"}}\n\n'
            f"::: {{.kg-cap}}\n{caption}\n:::\n\n{body or ''}\n\n{_EMBED_FENCE}\n\n"
        )

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
            assert e.path is not None  # book.py gives every chapter entry its path
            self._check_chapter_title(self.root / e.path, e.path)
            body = self.expand_file(self.root / e.path)
            parts.append(f"<!--kg:chapter {e.path}-->\n\n{body}")
        return "\n\n".join(parts) + "\n"
