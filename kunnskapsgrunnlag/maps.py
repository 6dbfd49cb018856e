"""Choropleth maps of the region's kommuner (geopandas + mapclassify), with Kartverket attribution."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import geopandas as gpd
import mapclassify
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from . import fmt

# mapclassify warns on stderr when numba is absent; in a notebook that text would land in the report
warnings.filterwarnings("ignore", message="Numba not installed")

CRS = "EPSG:25833"  # EUREF89 UTM33, Norway's standard for maps
ATTRIBUTION = "Kartgrunnlag: © Kartverket, CC BY 4.0"


def region_kommuner(gdf: gpd.GeoDataFrame, region: str) -> gpd.GeoDataFrame:
    """The kommuner of fylke `region` (2024 codes), projected to UTM33, geometry repaired."""
    k = gdf[gdf["kommunenummer"].astype(str).str.startswith(region)].copy()
    if k.empty:
        raise ValueError(f"no kommuner with codes starting {region!r} in the boundary data")
    k = k.to_crs(CRS)
    k["geometry"] = k.geometry.make_valid()
    return k[["kommunenummer", "kommunenavn", "geometry"]]


# The printed map: at most the text width (16 cm) and a bit over half the page's height, so that a map
# and its caption leave room on the page. Figures are drawn at print size (scale 1), so the labels'
# point sizes are the printed ones.
MAX_WIDTH_IN = 6.3
MAX_HEIGHT_IN = 5.4
LEGEND_BESIDE_SHARE = 0.28  # of the figure's width, for a legend placed beside the map


def map_figsize(gdf: gpd.GeoDataFrame, *, legend_beside: bool = False) -> tuple[float, float]:
    """A figure size (inches) whose map area has the aspect of the region's extent, so the map fills
    its axes and the figure has no empty band above, below or beside it. With `legend_beside` the
    figure is wider by the legend's column (`LEGEND_BESIDE_SHARE`)."""
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    aspect = (y1 - y0) / (x1 - x0) if x1 > x0 else 1.0
    max_w = MAX_WIDTH_IN * ((1 - LEGEND_BESIDE_SHARE) if legend_beside else 1.0)
    if max_w * aspect <= MAX_HEIGHT_IN:
        map_w, map_h = max_w, max_w * aspect
    else:
        map_w, map_h = MAX_HEIGHT_IN / aspect, MAX_HEIGHT_IN
    width = map_w / (1 - LEGEND_BESIDE_SHARE) if legend_beside else map_w
    return round(width, 2), round(map_h, 2)


def _map_figure(gdf: gpd.GeoDataFrame, figsize, *, legend_beside: bool = False):
    """fig, ax for a map: the axes are the map's extent (no margins), plus the legend's column."""
    fig, ax = plt.subplots(figsize=figsize or map_figsize(gdf, legend_beside=legend_beside))
    fig.subplots_adjust(left=0, bottom=0, top=1, right=(1 - LEGEND_BESIDE_SHARE) if legend_beside else 1)
    ax.set_anchor("W" if legend_beside else "C")
    return fig, ax


# The legend's two places: on the map (lower left, in a frame) or beside it (in the legend's column)
LEGEND_ON_MAP = {"loc": "lower left", "frameon": True, "fontsize": 8, "title_fontsize": 8.5}
LEGEND_BESIDE = {
    "loc": "center left",
    "bbox_to_anchor": (1.0, 0.5),
    "frameon": False,
    "fontsize": 8,
    "title_fontsize": 8.5,
}


def _patches(colours, labels) -> list[Patch]:
    """One legend entry per class: its colour and its label."""
    return [Patch(facecolor=c, edgecolor="grey", label=label) for c, label in zip(colours, labels, strict=True)]


def _draw(gdf, colours, handles, legend_title, figsize, *, labels=True, legend=None, legend_beside=False):
    """The steps every map shares: the figure, the kommuner in their `colours` (one per row), the
    legend (`LEGEND_ON_MAP` unless `legend` says otherwise), the kommune names and no axes."""
    fig, ax = _map_figure(gdf, figsize, legend_beside=legend_beside)
    gdf.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.6)
    ax.legend(handles=handles, title=legend_title, **(legend or LEGEND_ON_MAP))
    if labels:
        _label(ax, gdf)
    ax.set_axis_off()
    return fig, ax


def _label(ax, gdf, text_col=None):
    for _, r in gdf.iterrows():
        p = r.geometry.representative_point()
        ax.annotate(
            r[text_col] if text_col else r["kommunenavn"],
            (p.x, p.y),
            ha="center",
            va="center",
            fontsize=7,
            color="#1a1a1a",
            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7),
        )


def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str,
    legend_title: str,
    *,
    k: int = 5,
    decimals: int = 1,
    cmap: str = "Blues",
    scheme: str = "NaturalBreaks",
    labels: bool = True,
    figsize=None,
):
    """A classed choropleth (mapclassify) with a Norwegian-formatted legend."""
    vals = gdf[column].astype(float)
    k = min(k, vals.nunique())
    classifier = getattr(mapclassify, scheme)(vals, k=k)
    bins = classifier.bins
    lows = [vals.min()] + list(bins[:-1])
    colours = plt.get_cmap(cmap)([0.2 + 0.8 * i / max(k - 1, 1) for i in range(k)])
    handles = _patches(colours, [f"{fmt.num(lows[i], decimals)} – {fmt.num(bins[i], decimals)}" for i in range(k)])
    return _draw(gdf, [colours[c] for c in classifier.yb], handles, legend_title, figsize, labels=labels)


def categorical(
    gdf: gpd.GeoDataFrame, column: str, colours: dict[str, str], names: dict[str, str], legend_title: str, figsize=None
):
    counts = gdf[column].value_counts()
    handles = _patches(colours.values(), [f"{names[c]} ({counts.get(c, 0)})" for c in colours])
    legend = {**LEGEND_ON_MAP, "fontsize": 8.5, "title_fontsize": 9}
    return _draw(gdf, gdf[column].map(colours), handles, legend_title, figsize, legend=legend)


def attribution(fig, extra: str = "") -> None:
    """Kept for older notebooks: draws nothing. The map credit (`ATTRIBUTION`) is part of the
    caption's source line («kart © Kartverket»), printed once under the figure."""
    return None


def _nice_step(x: float) -> float:
    """A round class width (1, 2, 2,5 or 5 times a power of ten) not smaller than `x`."""
    import math

    if x <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    return next(m * p for m in (1, 2, 2.5, 5, 10) if m * p >= x - 1e-12)


def diverging_bins(values, per_side: int = 4) -> list[float]:
    """Class upper bounds for a change: round steps, one bound exactly at 0 (so no class holds
    both a decline and a growth), and the last bound at or above the maximum."""
    import math

    lo, hi = float(min(values)), float(max(values))
    step = _nice_step(max(abs(lo), abs(hi)) / per_side)
    n_neg = math.ceil(-lo / step - 1e-9) if lo < 0 else 0
    n_pos = math.ceil(hi / step - 1e-9) if hi > 0 else 0
    bounds = [-k * step for k in range(n_neg - 1, 0, -1)] + ([0.0] if lo <= 0 else [])
    bounds += [k * step for k in range(1, n_pos + 1)]
    return bounds or [0.0]


def diverging_classes(vals, k: int = 6, decimals: int = 1):
    """Classes for a change (e.g. per cent): negative and positive values are classed separately
    (Fisher–Jenks within each sign), so no class spans zero. Returns (class index per value,
    [(low, high)], [sign per class]) with classes ordered from most negative to most positive."""
    import numpy as np

    vals = np.asarray(vals, dtype=float)
    neg, pos = vals[vals < 0], vals[vals >= 0]
    k_neg = min(max(k // 2, 1), len(np.unique(neg))) if len(neg) else 0
    k_pos = min(max(k - k_neg, 1), len(np.unique(pos))) if len(pos) else 0
    bounds: list[tuple[float, float]] = []
    signs: list[int] = []
    if k_neg:
        b = list(mapclassify.FisherJenks(neg, k=k_neg).bins) if k_neg > 1 else [neg.max()]
        lows = [neg.min()] + b[:-1]
        bounds += list(zip(lows, b, strict=True))
        signs += [-1] * len(b)
    if k_pos:
        b = list(mapclassify.FisherJenks(pos, k=k_pos).bins) if k_pos > 1 else [pos.max()]
        lows = [pos.min()] + b[:-1]
        bounds += list(zip(lows, b, strict=True))
        signs += [1] * len(b)
    cls = []
    for v in vals:
        for i, ((_lo, hi), s) in enumerate(zip(bounds, signs, strict=True)):
            if (s < 0) == (v < 0) and v <= hi + 1e-12:
                cls.append(i)
                break
        else:
            cls.append(len(bounds) - 1)
    # bounds as the values actually in each class; drop empty classes
    used = sorted(set(cls))
    remap = {old: new for new, old in enumerate(used)}
    members = {i: [v for v, c in zip(vals, cls, strict=True) if c == i] for i in used}
    bounds = [(float(min(members[i])), float(max(members[i]))) for i in used]
    signs = [signs[i] for i in used]
    return [remap[c] for c in cls], bounds, signs


def _round_classes(vals, per_side: int = 4):
    """Classes for a change with round bounds (`diverging_bins`, mapclassify.UserDefined), one bound
    exactly at 0; empty classes are kept. Same return shape as `diverging_classes`."""
    bounds = diverging_bins(vals, per_side)
    classifier = mapclassify.UserDefined(vals, bins=bounds)
    step = _nice_step(max(abs(vals.min()), abs(vals.max())) / per_side)
    lows = [min(bounds[0] - step, vals.min()) if bounds[0] <= 0 else 0.0] + list(bounds[:-1])
    if bounds[0] > 0 and vals.min() <= 0:  # pragma: no cover - bounds always hold 0 when min <= 0
        raise ValueError("diverging bins must contain 0")
    signs = [-1 if b <= 0 else 1 for b in bounds]
    return [int(c) for c in classifier.yb], list(zip(lows, bounds, strict=True)), signs


def _sign_colours(signs, *, lightest: float, single: float) -> list:
    """One colour per class: reds for decline, blues for growth, from `lightest` nearest zero to 0.85
    at the far end of each side (`single` where a side has one class)."""
    import numpy as np

    n_neg = sum(s < 0 for s in signs)
    n_pos = len(signs) - n_neg

    def ramp(cmap: str, n: int):
        return list(plt.get_cmap(cmap)(np.linspace(lightest, 0.85, n) if n > 1 else [single] * n))

    return ramp("Reds", n_neg)[::-1] + ramp("Blues", n_pos)  # the most negative class is the darkest


def _class_label(low: float, high: float, count: int, decimals: int, *, signed: bool) -> str:
    """A legend entry: «-2,5 til 0,0 (4)» with signs (round bounds), else «1,2 – 3,4 (4)» (one
    value where the class holds one)."""
    if signed:
        lo, hi = (fmt.signed(v, decimals) or fmt.num(0, decimals) for v in (low, high))
        return f"{lo} til {hi} ({count})"
    lo, hi = fmt.num(low, decimals), fmt.num(high, decimals)
    return (lo if lo == hi else f"{lo} – {hi}") + f" ({count})"


# The two kinds of class bounds for a change, and how each is drawn. "natural": Fisher–Jenks within
# each sign (`diverging_classes`), the legend on the map. "round": round steps with a bound at 0
# (`diverging_bins`), signed legend labels and the legend beside the map (a wider, lower figure).
class _DivergingStyle(NamedTuple):
    lightest: float  # the colour nearest zero (0 to 1 along Reds/Blues)
    single: float  # the colour of a side's only class
    signed: bool  # legend labels with signs («-2,5 til 0,0») or without («1,2 – 3,4»)
    legend_beside: bool


DIVERGING_BOUNDS = {
    "natural": _DivergingStyle(lightest=0.3, single=0.6, signed=False, legend_beside=False),
    "round": _DivergingStyle(lightest=0.35, single=0.35, signed=True, legend_beside=True),
}


def diverging(
    gdf: gpd.GeoDataFrame,
    column: str,
    legend_title: str,
    *,
    bounds: str = "natural",
    k: int = 6,
    per_side: int = 4,
    decimals: int = 1,
    labels: bool = True,
    figsize=None,
):
    """A choropleth of a change centred on zero: decline in reds, growth in blues, darker further
    from zero, and classes split at zero (a kommune that grew is never coloured like one that
    shrank). `bounds` chooses how the classes are formed: "natural" (Fisher–Jenks within each sign,
    at most `k` classes, `diverging_classes`) or "round" (round steps, about `per_side` classes a
    side, one bound exactly at 0, `diverging_bins`). Returns (fig, ax, classes) where `classes`
    lists each class from the most negative: fra, til, fortegn («nedgang»/«vekst»), antall, farge."""
    if bounds not in DIVERGING_BOUNDS:
        raise ValueError(f"bounds must be one of {sorted(DIVERGING_BOUNDS)}, not {bounds!r}")
    style = DIVERGING_BOUNDS[bounds]
    vals = gdf[column].astype(float)
    if bounds == "round":
        cls, ranges, signs = _round_classes(vals, per_side)
    else:
        cls, ranges, signs = diverging_classes(vals, k=k, decimals=decimals)
    colours = _sign_colours(signs, lightest=style.lightest, single=style.single)
    counts = [cls.count(i) for i in range(len(ranges))]
    classes = [
        {
            "fra": lo,
            "til": hi,
            "fortegn": "nedgang" if s < 0 else "vekst",
            "antall": n,
            "farge": mcolors.to_hex(c),
        }
        for (lo, hi), s, n, c in zip(ranges, signs, counts, colours, strict=True)
    ]
    texts = [_class_label(lo, hi, n, decimals, signed=style.signed) for (lo, hi), n in zip(ranges, counts, strict=True)]
    beside = style.legend_beside
    fig, ax = _draw(
        gdf,
        [colours[c] for c in cls],
        _patches(colours, texts)[::-1],
        legend_title,
        figsize,
        labels=labels,
        legend=LEGEND_BESIDE if beside else None,
        legend_beside=beside,
    )
    return fig, ax, classes
