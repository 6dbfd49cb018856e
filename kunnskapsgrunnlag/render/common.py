"""Helpers shared by the fallback renderer's stages: errors, escaping, pandoc AST pieces, dates
(babel), cell options, paths, running pandoc.

A stage of the pandoc + Typst fallback renderer (kunnskapsgrunnlag.render.fallback).
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import yaml

TEMPLATES = Path(__file__).parent / "templates"


class RenderError(RuntimeError):
    """The book cannot be rendered; the message names the source file and the construct."""


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
    t = x.get("t")
    c: Any = x.get("c")  # pandoc JSON: the content's shape depends on `t`
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


def format_date(value: Any, fmt: str | None, lang: str = "nb") -> str:
    """Quarto-style date formatting (tokens D DD M MM MMM MMMM YY YYYY dddd); month and weekday
    names from babel (CLDR) in the book's language."""
    from babel.dates import format_date as cldr_date

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
    fmt = {
        None: "D. MMMM YYYY",
        "long": "D. MMMM YYYY",
        "full": "dddd D. MMMM YYYY",
        "medium": "D. MMM YYYY",
        "short": "DD.MM.YYYY",
        "iso": "YYYY-MM-DD",
    }.get(fmt, fmt)
    assert fmt is not None  # None is a key of the mapping above: no format means the default one
    tokens = {
        "YYYY": f"{d.year:04d}",
        "YY": f"{d.year % 100:02d}",
        "MMMM": cldr_date(d, "MMMM", locale=lang),
        "MMM": cldr_date(d, "MMM", locale=lang),
        "MM": f"{d.month:02d}",
        "M": str(d.month),
        "DD": f"{d.day:02d}",
        "D": str(d.day),
        "dddd": cldr_date(d, "EEEE", locale=lang),
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


def _project_path(root: Path, ref: str, base_dir: Path | None = None) -> Path:
    """`/x` = project root; otherwise relative to `base_dir` (default: the project root)."""
    ref = ref.strip()
    if ref.startswith("/"):
        return (root / ref.lstrip("/")).resolve()
    return ((base_dir or root) / ref).resolve()


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


_SHORTCODE = re.compile(r"(\{?)\{\{<\s*(.*?)\s*>\}\}(\}?)", re.S)


_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?\n)?(---|\.\.\.)[ \t]*(\n|\Z)", re.S)


_MARKER = re.compile(r"^<!--kg:(\w+)(?: (.*?))?-->$")


_DIV_OPEN = re.compile(r"^\s*(:{3,})\s*\S")


_DIV_CLOSE = re.compile(r"^\s*(:{3,})\s*$")


_EMBED_FENCE = "::::::::::"


_INLINE_TYPES = {
    "Str",
    "Emph",
    "Underline",
    "Strong",
    "Strikeout",
    "Superscript",
    "Subscript",
    "SmallCaps",
    "Quoted",
    "Cite",
    "Code",
    "Space",
    "SoftBreak",
    "LineBreak",
    "Math",
    "RawInline",
    "Link",
    "Image",
    "Note",
    "Span",
}


def pandoc_path() -> str:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except Exception:  # pragma: no cover - pypandoc-binary is a dependency
        exe = shutil.which("pandoc")
        if not exe:
            raise RenderError("pandoc not found (install pypandoc-binary)") from None
        return exe


def run_pandoc(args: list[str], stdin: str) -> str:
    proc = subprocess.run([pandoc_path(), *args], input=stdin.encode("utf-8"), capture_output=True, check=False)
    if proc.returncode != 0:
        raise RenderError(f"pandoc {' '.join(args)} failed: {proc.stderr.decode('utf-8', 'replace')}")
    return proc.stdout.decode("utf-8")


def _meta_inlines(text: str) -> dict:
    """Metadata for the Typst template: a Typst string literal, so nothing in the value is read
    as markup (a date such as "2. februar 2026" would otherwise become a numbered list)."""
    return {"t": "MetaInlines", "c": [_raw("typst", "#" + typst_string(text))]}
