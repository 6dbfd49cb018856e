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


def axis_formatter(decimals: int = 0):
    """A matplotlib tick formatter using Norwegian number format."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: num(v, decimals))
