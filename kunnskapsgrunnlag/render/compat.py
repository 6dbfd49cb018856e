"""One compatibility checker for the staged book, run before either renderer starts.

The team here can run only the fallback renderer; readers with Quarto get Quarto's book. A
source that Quarto renders differently from the fallback is therefore refused for both, with a
:class:`RenderError` naming the file, the cell or line, and the rule. Every rule is in
:data:`RULES` with the quarto-cli source file or documentation page (and the behaviour case in
``../shared/quarto-behaviour``) that shows what Quarto does.

``check(root)`` raises on the first file with problems (all problems of the book are listed);
``problems(root)`` returns them as :class:`Problem` items.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .common import RenderError
from .staging import EMBED_LINE, FRONT_MATTER, HEADING, INCLUDE, _outside_fences

__all__ = ["RULES", "Problem", "problems", "check", "TYPST_MIME"]


@dataclass(frozen=True)
class Rule:
    id: str
    text: str  # what is refused, for the author
    why: str  # what Quarto does instead, with its source


RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule(
            "one-output",
            "an embedded figure or table cell must have exactly one display output",
            "Quarto makes each display output of an embedded figure cell a sub-figure: the caption "
            "becomes «(a) …», a «(b)» panel appears and the figure's own caption is reduced to «Figur N:» "
            "(quarto-cli src/resources/filters/quarto-pre/parsefiguredivs.lua, layout of cell outputs; "
            "behaviour cases 1.2 and 1.3). Write links in the report, not as outputs (docs/authoring.md)",
        ),
        Rule(
            "printed-output",
            "an embedded figure or table cell must not print (stdout/stderr stream output)",
            "Quarto shows the printed text as code output above the figure, in the PDF too "
            "(quarto-cli src/core/jupyter/jupyter.ts, mdOutputStream; behaviour case 1.4)",
        ),
        Rule(
            "error-output",
            "an embedded cell must not end in an error",
            "Quarto embeds the traceback as output (quarto-cli src/core/jupyter/jupyter.ts, mdOutputError)",
        ),
        Rule(
            "mime",
            "every output of an embedded figure/table cell must carry a type the Typst PDF can show "
            "(image/png, image/jpeg, image/svg+xml or text/markdown)",
            "for other types Quarto's PDF shows a grey box «Unable to display output for mime type(s): …» "
            "(quarto-cli src/core/jupyter/jupyter.ts, mdOutputDisplayData; behaviour case 1.2)",
        ),
        Rule(
            "shortcode-in-title",
            "no shortcode may remain in a heading or title of the staged book",
            "Quarto expands shortcodes in the heading itself but publishes them raw in the navigation "
            "it builds from it: previous/next aria-label, breadcrumbs, <title>, search.json, PDF bookmarks "
            "(behaviour case titles.qmd; the navigation is built from the unexpanded title in quarto-cli "
            "src/project/types/website/website-navigation.ts). `{{< var >}}` in headings is resolved when "
            "the site is staged (kunnskapsgrunnlag.render.staging); "
            "any other shortcode, or an unknown key, is an error",
        ),
        Rule(
            "notebook-preview",
            "`notebook-links`/`notebook-view` must not be set in a book",
            "Quarto books make no notebook links or preview pages (quarto-cli "
            "src/format/html/format-html-notebook.ts: \"Books don't currently support notebook "
            'previews"; behaviour corpus, last row); the project writes its own links and pages '
            "(kunnskapsgrunnlag.render.staging)",
        ),
        Rule(
            "embed-twice",
            "a figure or table may be embedded only once in the book",
            'Quarto\'s Typst render fails: "label `<fig-…>` occurs multiple times in the document" '
            "(behaviour corpus README; https://quarto.org/docs/authoring/cross-references.html: ids are unique)",
        ),
        Rule(
            "crossref-kind",
            "cross-references only to figures, tables and sections (@fig-, @tbl-, @sec-)",
            "the fallback renders only these kinds; other Quarto kinds (eq, lst, thm, …) need Quarto's "
            "own numbering (https://quarto.org/docs/authoring/cross-references.html)",
        ),
        Rule(
            "crossref-target",
            "a cross-reference must name a figure/table embedded in the book or a section id",
            "Quarto prints the unresolved reference as «?@fig-x» and warns "
            "(https://quarto.org/docs/authoring/cross-references.html; quarto-cli "
            "src/resources/filters/crossref/refs.lua)",
        ),
        Rule(
            "embed-missing",
            "an embedded cell must exist in the executed notebook",
            "Quarto stops: the embed shortcode cannot find the cell (quarto-cli "
            "src/resources/extensions/quarto/embed/embed.lua; https://quarto.org/docs/authoring/notebook-embed.html)",
        ),
    ]
}

# Output types Quarto's Typst format can show for an embedded figure or table
# (quarto-cli src/core/jupyter/display-data.ts, displayDataMimeType for non-HTML formats).
TYPST_MIME = {"image/png", "image/jpeg", "image/svg+xml", "text/markdown"}
_CROSSREF = re.compile(r"(?<![\w.@])@([A-Za-z]+)-([\w-]*\w)")
_HEADING_ID = re.compile(r"\{[^}]*#((?:sec|fig|tbl)-[\w-]+)[^}]*\}\s*$")
_ID_ATTR = re.compile(r"\{#((?:sec|fig|tbl)-[\w-]+)")


@dataclass(frozen=True)
class Problem:
    rule: str
    file: str
    where: str  # line, cell or option
    detail: str

    def __str__(self) -> str:
        r = RULES[self.rule]
        return f"{self.file}: {self.where}: {self.detail} [rule {self.rule}: {r.text}; {r.why}]"


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def _label(cell: dict) -> str | None:
    for line in _src(cell).splitlines():
        if not line.startswith("#|"):
            break
        m = re.match(r"^#\|\s*label:\s*['\"]?([\w-]+)", line)
        if m:
            return m.group(1)
    return None


def check_cell(cell: dict, *, file: str, where: str) -> list[Problem]:
    """The output rules for one embedded figure/table cell."""
    found = []
    outputs = cell.get("outputs") or []
    display = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")]
    streams = [o for o in outputs if o.get("output_type") == "stream"]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if len(display) > 1:
        kinds = ", ".join("+".join(sorted(o.get("data", {}))) for o in display)
        found.append(Problem("one-output", file, where, f"{len(display)} display outputs ({kinds})"))
    if streams:
        text = "".join(_src({"source": o.get("text", "")}) for o in streams).strip().splitlines()
        found.append(
            Problem(
                "printed-output",
                file,
                where,
                f"{len(streams)} printed output(s), first line: {text[0][:80] if text else ''!r}",
            )
        )
    if errors:
        found.append(Problem("error-output", file, where, f"{errors[0].get('ename')}: {errors[0].get('evalue')}"))
    for n, o in enumerate(display, 1):
        types = set(o.get("data", {}))
        if not types & TYPST_MIME:
            found.append(Problem("mime", file, where, f"output {n} has only {', '.join(sorted(types)) or 'no data'}"))
    return found


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}


def _book_files(root: Path, cfg: dict) -> list[str]:
    book = cfg.get("book") or {}
    chapters: list[str] = []

    def walk(items: Any) -> None:
        for it in items or []:
            if isinstance(it, str):
                chapters.append(it.lstrip("/"))
            elif isinstance(it, dict):
                if it.get("href") or it.get("file"):
                    chapters.append(str(it.get("href") or it.get("file")).lstrip("/"))
                walk(it.get("chapters"))

    walk(book.get("chapters"))
    walk(book.get("appendices"))
    seen: list[str] = []

    def visit(rel: str, depth: int = 0) -> None:
        if rel in seen or depth > 20 or not (root / rel).is_file():
            return
        seen.append(rel)
        for m in INCLUDE.finditer((root / rel).read_text(encoding="utf-8", errors="replace")):
            t = m.group(1)
            visit(
                t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(posixpath.dirname(rel), t)),
                depth + 1,
            )

    for ch in chapters:
        visit(ch)
    return seen


def _titles_in_config(cfg: dict) -> list[tuple[str, str]]:
    out = []
    book = cfg.get("book") or {}
    for key in ("title", "subtitle"):
        if isinstance(book.get(key), str):
            out.append((f"book.{key}", book[key]))
    for key in ("title", "pagetitle", "subtitle"):
        if isinstance(cfg.get(key), str):
            out.append((key, cfg[key]))

    def walk(items: Any, where: str) -> None:
        for i, it in enumerate(items or []):
            if isinstance(it, dict):
                for k in ("part", "text"):
                    if isinstance(it.get(k), str):
                        out.append((f"{where}[{i}].{k}", it[k]))
                walk(it.get("chapters"), f"{where}[{i}].chapters")

    walk(book.get("chapters"), "book.chapters")
    walk(book.get("appendices"), "book.appendices")
    return out


def problems(root: Path) -> list[Problem]:
    """Every rule violation in the book at `root` (its _quarto.yml, chapter files, includes and
    the executed notebooks they embed)."""
    root = Path(root)
    cfg = _load_yaml(root / "_quarto.yml")
    cfg = cfg if isinstance(cfg, dict) else {}
    found: list[Problem] = []
    # options
    fmt = cfg.get("format") or {}
    for name, opts in fmt.items() if isinstance(fmt, dict) else []:
        if isinstance(opts, dict) and (cfg.get("project") or {}).get("type") == "book":
            for key in ("notebook-links", "notebook-view"):
                if opts.get(key) not in (None, False):
                    found.append(
                        Problem("notebook-preview", "_quarto.yml", f"format.{name}.{key}", f"{key}: {opts.get(key)!r}")
                    )
    for where, text in _titles_in_config(cfg):
        if "{{<" in text:
            found.append(Problem("shortcode-in-title", "_quarto.yml", where, repr(text)))
    # sources
    embeds: dict[str, tuple[str, int]] = {}
    ids: set[str] = set()
    refs: list[tuple[str, int, str, str]] = []
    notebooks: dict[str, dict[str, dict]] = {}
    for rel in _book_files(root, cfg):
        text = (root / rel).read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        m = FRONT_MATTER.match(text)
        if m:
            for n, line in enumerate((m.group(1) or "").splitlines(), 2):
                if re.match(r"^(title|subtitle|pagetitle)\s*:", line) and "{{<" in line:
                    found.append(Problem("shortcode-in-title", rel, f"line {n}", line.strip()))
        offset = text[: m.end()].count("\n") if m else 0
        body = text[m.end() :] if m else text
        for i, line in _outside_fences(body):
            n = i + 1 + offset
            if HEADING.match(line):
                if "{{<" in line:
                    found.append(Problem("shortcode-in-title", rel, f"line {n}", line.strip()))
                hid = _HEADING_ID.search(line)
                if hid:
                    ids.add(hid.group(1))
            ids.update(_ID_ATTR.findall(line))
            em = EMBED_LINE.match(line)
            if em and "#" in em.group("ref"):
                nb_ref, label = em.group("ref").rsplit("#", 1)
                if label in embeds:
                    f0, n0 = embeds[label]
                    found.append(
                        Problem("embed-twice", rel, f"line {n}", f"'{label}' is embedded already in {f0}, line {n0}")
                    )
                    continue
                embeds[label] = (rel, n)
                nb_path = root / nb_ref.lstrip("/") if nb_ref.startswith("/") else (root / rel).parent / nb_ref
                key = str(nb_path)
                if key not in notebooks:
                    try:
                        nb = json.loads(nb_path.read_text(encoding="utf-8"))
                        notebooks[key] = {lab: c for c in nb.get("cells", []) if (lab := _label(c))}
                    except (OSError, ValueError):
                        notebooks[key] = {}
                cell = notebooks[key].get(label)
                nb_name = PurePosixPath(nb_ref).name
                if cell is None:
                    if nb_path.exists():
                        found.append(Problem("embed-missing", rel, f"line {n}", f"{nb_name} has no cell '{label}'"))
                    continue  # a missing notebook: the renderer names it (run `kunnskapsgrunnlag build`)
                if label.split("-", 1)[0] in ("fig", "tbl"):
                    found += check_cell(cell, file=rel, where=f"line {n}, cell '{label}' of {nb_name}")
                continue
            if "{{<" not in line and "@" in line:
                for cm in _CROSSREF.finditer(line):
                    refs.append((rel, n, cm.group(1), cm.group(0)))
    targets = ids | set(embeds)
    for rel, n, kind, ref in refs:
        if kind.lower() not in ("fig", "tbl", "sec"):
            found.append(Problem("crossref-kind", rel, f"line {n}", ref))
        elif f"{kind.lower()}{ref[1 + len(kind) :]}" not in targets:
            found.append(Problem("crossref-target", rel, f"line {n}", f"{ref} names no figure, table or section"))
    return found


def check(root: Path) -> None:
    """RenderError listing every problem of the book at `root` (see :data:`RULES`)."""
    found = problems(root)
    if found:
        listing = "\n".join(f"  - {p}" for p in found[:30])
        more = f"\n  … and {len(found) - 30} more" if len(found) > 30 else ""
        raise RenderError(
            f"{len(found)} source(s) of the book would render differently under Quarto "
            f"(docs/authoring.md, «Rules for both renderers»):\n{listing}{more}"
        )
