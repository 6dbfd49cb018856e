"""One shared plot style for every figure, the source line, and Norwegian tick labels."""
from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from . import fmt

# Buskerud fylkeskommune-like palette: highlight colour for the region, grey for the others.
HIGHLIGHT = "#00587C"
OTHER = "#9BB7C4"
NORWAY = "#333333"
PALETTE = ["#00587C", "#E07B39", "#6A9F58", "#8E6C8A", "#C44E52", "#937860"]
STATUS_COLOURS = {"vedtatt": "#4E9A44", "under_arbeid": "#F2C230", "ingen": "#C8102E", "ukjent": "#BDBDBD"}
STATUS_LABELS = {"vedtatt": "Vedtatt plan", "under_arbeid": "Plan under arbeid", "ingen": "Ingen plan",
                 "ukjent": "Ukjent"}


def use_style() -> None:
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE)
    plt.rcParams.update({
        "figure.figsize": (7.5, 4.2),
        "figure.dpi": 110,
        "savefig.dpi": 200,
        "savefig.bbox": "tight",
        "font.family": "DejaVu Sans",
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.formatter.use_locale": False,
        # Text from data is text: a `$` in a kommune name or a file drop's source is not mathtext.
        "text.parse_math": False,
    })


def source_line(fig, text: str) -> None:
    """Print the source line under the figure, e.g. «Kilde: SSB, tabell 13563 (2024)»."""
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=8, color="#555555")


def fmt_axis(ax, axis: str = "y", decimals: int | None = None) -> None:
    """Norwegian tick labels showing the true tick values (at least `decimals` decimals)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt.axis_formatter(decimals))


def tick_labels(ax, axis: str = "y") -> list[str]:
    """The tick labels as drawn (after a canvas draw), for tests and checks."""
    ax.figure.canvas.draw()
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks]
