"""Norwegian number formatting (babel, locale nb_NO): decimal comma, space thousands separator."""

from __future__ import annotations

import math
import re
from pathlib import Path

from babel.numbers import format_decimal

LOCALE = "nb_NO"


def num(x: float | int, decimals: int = 0) -> str:
    """`num(2370)` -> '2 370', `num(3.618, 1)` -> '3,6' (the space is a no-break space)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(x, format=pattern, locale=LOCALE)


def pct(x: float, decimals: int = 1) -> str:
    """A percentage value already in per cent: `pct(10.6)` -> '10,6'."""
    return num(x, decimals)


def signed(x: float, decimals: int = 1) -> str:
    """With an explicit sign: '+2,3' / '−1,0' (typographic minus)."""
    s = num(abs(x), decimals)
    return ("+" if x > 0 else "−" if x < 0 else "") + s


def join_nb(items: list[str]) -> str:
    """['A', 'B', 'C'] -> 'A, B og C'."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " og " + items[-1]


MONTHS_NB = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)


def date_nb(year: int, month: int = 1, day: int = 1) -> str:
    return f"{day}. {MONTHS_NB[month - 1]} {year}"


def decimals_needed(values, max_decimals: int = 4) -> int:
    """The fewest decimals that show every value exactly (2,75 needs 2; 2,5 needs 1)."""
    need = 0
    for v in values:
        for d in range(max_decimals + 1):
            if abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)):
                need = max(need, d)
                break
        else:
            need = max_decimals
    return need


def axis_formatter(decimals: int | None = None):
    """A matplotlib tick formatter in Norwegian number format that shows the true tick values:
    all ticks get the same number of decimals, at least `decimals` and as many as the tick
    positions need (quarter steps 2,75 are never printed as «2,8»)."""
    from matplotlib.ticker import Formatter

    class _NbFormatter(Formatter):
        def __init__(self):
            self.dec = decimals or 0

        def format_ticks(self, values):
            self.dec = max(decimals or 0, decimals_needed(values))
            return [self(v, i) for i, v in enumerate(values)]

        def __call__(self, v, pos=None):
            return num(0.0 if abs(v) < 1e-12 else v, self.dec)

    return _NbFormatter()


_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})


def slug(name: str) -> str:
    """A variable-key slug of a region name: 'Møre og Romsdal' -> 'more_og_romsdal', 'Hele landet' -> 'norge'."""
    s = name.lower().translate(_ASCII).replace(" ", "_").replace("-", "_")
    return "norge" if s == "hele_landet" else s


def file_slug(text: str, default: str, *, lower: bool = False, transliterate: bool = True) -> str:
    """A file-name slug: every run of characters other than ASCII letters and digits becomes one '-'
    (æ/ø/å first spelt ae/o/a unless `transliterate` is false); `default` when nothing is left.
    `file_slug("Kunnskapsgrunnlag – Del 1", "book")` -> 'Kunnskapsgrunnlag-Del-1'."""
    s = str(text).translate(_ASCII) if transliterate else str(text)
    s = re.sub(r"[^0-9A-Za-z]+", "-", s).strip("-")
    return (s.lower() if lower else s) or default


def relative_path(path: Path | str, root: Path | str) -> str:
    """`path` relative to the project `root` with POSIX separators ('.' for the root itself); a
    relative `path` counts from `root`; a path outside `root` stays absolute."""
    p = Path(path)
    p = (p if p.is_absolute() else Path(root) / p).resolve()
    try:
        return p.relative_to(Path(root).resolve()).as_posix() or "."
    except ValueError:
        return str(p)


def compare(a: float, b: float, decimals: int = 1, words=("under", "over", "på nivå med")) -> str:
    """'under' / 'over' / 'på nivå med': a compared with b as printed (rounded to `decimals`)."""
    ra, rb = round(a, decimals), round(b, decimals)
    return words[0] if ra < rb else words[1] if ra > rb else words[2]


# --- text from data is text: escaping for the format it is written into -----------------------
# A string from a dataset (a file drop's `kilde`, a name in the mirror or an API answer) must
# show verbatim and stay inert wherever it is written: in Markdown (captions, `{{< var >}}` values,
# tables; Quarto and the fallback renderer parse them as Markdown, then write HTML and Typst), in
# HTML, in Typst markup and in matplotlib text (where `$…$` is mathtext).

_MD_ALWAYS = set('\\`*[]<>{}#$|~^@&"')
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")


def _one_line(text) -> str:
    """Line breaks and runs of ASCII white space as one space; a no-break space (fmt.num's
    thousands separator) is kept."""
    return _ASCII_SPACE.sub(" ", str(text))


def md(text) -> str:
    """Plain text as inline Markdown that renders verbatim and inert (one line): `**x**`,
    `[a](javascript:…)`, `<b>`, `#set`, `$x$`, `@ref`, `{{< var >}}`, `&amp;` stay text.

    Every Markdown-special ASCII character is backslash-escaped (pandoc reads any escaped
    punctuation literally), and so are `_` outside words, `--`/`...` (smart dashes and ellipses)
    and a leading list marker. Ordinary text and numbers are left as they are ("3,6", "a_b")."""
    s = _one_line(text)
    out = []
    n = len(s)
    for i, ch in enumerate(s):
        prev = s[i - 1] if i else ""
        nxt = s[i + 1] if i + 1 < n else ""
        if ch in _MD_ALWAYS:
            out.append("\\" + ch)
        elif ch == "_" and not (prev.isalnum() and nxt.isalnum()):
            out.append("\\_")
        elif ch == "-" and (prev == "-" or nxt == "-" or (i == 0 and nxt == " ")):
            out.append("\\-")
        elif ch == "." and (
            s[i : i + 3] == "..." or s[max(i - 2, 0) : i + 1] == "..." or s[max(i - 1, 0) : i + 2] == "..."
        ):
            out.append("\\.")
        elif ch == "+" and i == 0 and nxt == " ":
            out.append("\\+")
        else:
            out.append(ch)
    return "".join(out)


def md_frame(df):
    """A copy of a table whose text cells (names, sources from data) are Markdown text (`md`), for
    `df.to_markdown()`: a `|`, `*` or `<b>` in a cell stays text and cannot break the pipe table."""
    out = df.copy()
    for col in out.columns:
        if any(isinstance(v, str) for v in out[col]):
            out[col] = _object_series([md(v) if isinstance(v, str) else v for v in out[col]], out.index)
    return out


def _object_series(values, index):
    import pandas as pd

    return pd.Series(values, index=index, dtype=object)


def html(text) -> str:
    """Plain text for HTML (element content or a quoted attribute value)."""
    import html as _html

    return _html.escape(str(text), quote=True)


_TYPST_ALWAYS = set("\\#$*_`<>@[]~\"'/=")


def typst(text) -> str:
    """Plain text for Typst markup (one line): every markup character escaped, a leading list
    marker, and the `--`/`...` shorthands."""
    s = _one_line(text)
    out = []
    for i, ch in enumerate(s):
        doubled = ch in "-." and ((i > 0 and s[i - 1] == ch) or (i + 1 < len(s) and s[i + 1] == ch))
        if ch in _TYPST_ALWAYS or (i == 0 and ch in "-+") or doubled:  # `--`, `...`: Typst shorthands
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def mpl(text) -> str:
    """Plain text for matplotlib: `$` escaped, so no mathtext (plots.use_style also turns
    mathtext parsing off for every text in the notebooks' figures)."""
    return str(text).replace("\\", "\\\\").replace("$", r"\$")
