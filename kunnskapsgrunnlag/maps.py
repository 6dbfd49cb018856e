"""Choropleth maps of the region's kommuner (geopandas + mapclassify), with Kartverket attribution."""
from __future__ import annotations

import geopandas as gpd
import mapclassify
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from . import fmt, plots

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


def _label(ax, gdf, text_col=None):
    for _, r in gdf.iterrows():
        p = r.geometry.representative_point()
        ax.annotate(r[text_col] if text_col else r["kommunenavn"], (p.x, p.y), ha="center", va="center",
                    fontsize=6.5, color="#1a1a1a",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))


def choropleth(gdf: gpd.GeoDataFrame, column: str, legend_title: str, *, k: int = 5, decimals: int = 1,
               cmap: str = "Blues", scheme: str = "NaturalBreaks", labels: bool = True, figsize=(7, 6.4)):
    """A classed choropleth (mapclassify) with a Norwegian-formatted legend."""
    vals = gdf[column].astype(float)
    k = min(k, vals.nunique())
    classifier = getattr(mapclassify, scheme)(vals, k=k)
    bins = classifier.bins
    lows = [vals.min()] + list(bins[:-1])
    colours = plt.get_cmap(cmap)([0.2 + 0.8 * i / max(k - 1, 1) for i in range(k)])
    fig, ax = plt.subplots(figsize=figsize)
    gdf.assign(_cls=classifier.yb).plot(ax=ax, color=[colours[c] for c in classifier.yb], edgecolor="white", linewidth=0.6)
    handles = [Patch(facecolor=colours[i], edgecolor="grey",
                     label=f"{fmt.num(lows[i], decimals)} – {fmt.num(bins[i], decimals)}") for i in range(k)]
    ax.legend(handles=handles, title=legend_title, loc="lower left", frameon=True, fontsize=8, title_fontsize=8.5)
    if labels:
        _label(ax, gdf)
    ax.set_axis_off()
    return fig, ax


def categorical(gdf: gpd.GeoDataFrame, column: str, colours: dict[str, str], names: dict[str, str],
                legend_title: str, figsize=(7, 6.4)):
    fig, ax = plt.subplots(figsize=figsize)
    gdf.plot(ax=ax, color=gdf[column].map(colours), edgecolor="white", linewidth=0.6)
    counts = gdf[column].value_counts()
    handles = [Patch(facecolor=colours[c], edgecolor="grey", label=f"{names[c]} ({counts.get(c, 0)})")
               for c in colours]
    ax.legend(handles=handles, title=legend_title, loc="lower left", frameon=True, fontsize=8.5, title_fontsize=9)
    _label(ax, gdf)
    ax.set_axis_off()
    return fig, ax


def attribution(fig, extra: str = "") -> None:
    plots.source_line(fig, (extra + "\n" if extra else "") + ATTRIBUTION)
