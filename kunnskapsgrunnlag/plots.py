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
STATUS_LABELS = {
    "vedtatt": "Vedtatt plan",
    "under_arbeid": "Plan under arbeid",
    "ingen": "Ingen plan",
    "ukjent": "Ukjent",
}


# The printed size of a figure: the PDF draws images at the text width (16 cm), or 15.5 cm high
# for tall ones (report/assets and the renderers). No text may be smaller than 7 pt there.
PRINT_WIDTH_IN = 16 / 2.54
PRINT_HEIGHT_IN = 15.5 / 2.54
MIN_PRINT_PT = 7.0


def print_scale(fig) -> float:
    """How much the figure is scaled when printed (below 1: shrunk to the text width or height)."""
    w, h = fig.get_size_inches()
    return min(PRINT_WIDTH_IN / w, PRINT_HEIGHT_IN / h)


def enforce_min_text(fig, min_pt: float = MIN_PRINT_PT) -> int:
    """Enlarge every text of `fig` (labels, ticks, legends, annotations) that would print smaller than
    `min_pt` at the figure's print scale. Returns the number of texts changed."""
    from matplotlib.text import Text

    scale = print_scale(fig)
    need = min_pt / scale
    changed = 0
    for ax in fig.axes:
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            ticks = axis.get_major_ticks()
            if ticks and ticks[0].label1.get_fontsize() < need:
                ax.tick_params(axis=name, labelsize=need)
                changed += 1
    for t in fig.findobj(Text):
        if t.get_text() and t.get_visible() and t.get_fontsize() < need:
            t.set_fontsize(need)
            changed += 1
    return changed


def _install_print_check() -> None:
    """Every figure saved or shown inline (IPython calls canvas.print_figure) gets `enforce_min_text`."""
    from matplotlib.backend_bases import FigureCanvasBase

    if getattr(FigureCanvasBase.print_figure, "_kg_min_text", False):
        return
    original = FigureCanvasBase.print_figure

    def print_figure(self, *args, **kwargs):
        enforce_min_text(self.figure)
        return original(self, *args, **kwargs)

    print_figure._kg_min_text = True  # type: ignore[attr-defined]
    FigureCanvasBase.print_figure = print_figure  # type: ignore[method-assign]


def use_style() -> None:
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE)
    plt.rcParams.update(
        {
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
        }
    )
    _install_print_check()


def source_line(fig, text: str) -> None:
    """Kept for older notebooks: draws nothing. The source line («Kilde: SSB, tabell 13563 (2024)»)
    belongs in the caption (`ctx.caption(..., source=...)`), once, not inside the image as well."""
    return None


def fmt_axis(ax, axis: str = "y", decimals: int | None = None) -> None:
    """Norwegian tick labels showing the true tick values (at least `decimals` decimals)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt.axis_formatter(decimals))


def tick_labels(ax, axis: str = "y") -> list[str]:
    """The tick labels as drawn (after a canvas draw), for tests and checks."""
    ax.figure.canvas.draw()
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks]


def dot_plot_with_reference(
    ax,
    names,
    values,
    *,
    highlight: list[bool],
    reference: float,
    reference_label: str,
    xlabel: str,
    fontsize: float = 7.5,
) -> list:
    """Dots (not bars: the axis does not start at zero) for one value per name, sorted as given,
    with a dashed reference line (e.g. the national value). Each value label sits on the side of its
    dot away from the reference line, so no label crosses it. Returns the value labels (Text)."""
    values = [float(v) for v in values]
    ypos = list(range(len(values)))
    lo, hi = min(values + [reference]), max(values + [reference])
    pad = max((hi - lo) * 0.12, 1.0)
    ax.hlines(ypos, lo - 2 * pad, values, color="#DDDDDD", lw=0.8)
    ax.scatter(
        values,
        ypos,
        color=[HIGHLIGHT if h else OTHER for h in highlight],
        s=[40 if h else 20 for h in highlight],
        zorder=3,
    )
    ax.set_yticks(ypos, list(names))
    ax.axvline(reference, color=NORWAY, ls="--", lw=1.0)
    ax.text(reference, len(values) - 0.4, f" {reference_label}", fontsize=fontsize, va="bottom")
    step = (hi - lo + 2 * pad) * 0.012
    labels = []
    for y, v in zip(ypos, values, strict=True):
        left = v < reference  # the label goes away from the line
        labels.append(
            ax.text(
                v - step if left else v + step,
                y,
                fmt.num(v, 1),
                va="center",
                ha="right" if left else "left",
                fontsize=fontsize,
                zorder=4,
                bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none"),
            )
        )
    ax.set_xlim(lo - 2 * pad, hi + 1.5 * pad)  # room for the labels beside the outermost dots
    ax.set_ylim(-0.7, len(values) + 0.6)
    ax.set_xlabel(xlabel, fontsize=fontsize + 0.5)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="both", labelsize=fontsize)
    fmt_axis(ax, "x")
    return labels
