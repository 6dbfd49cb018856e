"""Norwegian number formatting (babel, locale nb_NO): decimal comma, space thousands separator."""
from __future__ import annotations

import math

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


def date_nb(year: int, month: int = 1, day: int = 1) -> str:
    months = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august",
              "september", "oktober", "november", "desember"]
    return f"{day}. {months[month - 1]} {year}"


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


def slug(name: str) -> str:
    """A variable-key slug of a region name: 'Møre og Romsdal' -> 'more_og_romsdal', 'Hele landet' -> 'norge'."""
    s = name.lower().replace("ø", "o").replace("å", "a").replace("æ", "ae").replace(" ", "_").replace("-", "_")
    return "norge" if s == "hele_landet" else s


def compare(a: float, b: float, decimals: int = 1, words=("under", "over", "på nivå med")) -> str:
    """'under' / 'over' / 'på nivå med': a compared with b as printed (rounded to `decimals`)."""
    ra, rb = round(a, decimals), round(b, decimals)
    return words[0] if ra < rb else words[1] if ra > rb else words[2]
