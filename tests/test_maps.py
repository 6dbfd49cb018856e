"""Maps on the mirror's boundaries: repaired geometries, the region's kommuner, legible legends."""

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from kunnskapsgrunnlag import maps, plots, rawstore  # noqa: E402


@pytest.fixture(scope="module")
def kommuner(fetched):
    return rawstore.load_geo(fetched.raw_dir, "kommuner_2024")


def test_boundaries_are_repaired_on_load(kommuner):
    assert len(kommuner) == 357
    assert kommuner.geometry.is_valid.all()  # the simplified file has self-intersections; make_valid repairs them


def test_region_kommuner_buskerud(kommuner):
    b = maps.region_kommuner(kommuner, "33")
    assert len(b) == 18 and b.crs.to_epsg() == 25833
    assert b.area.sum() / 1e6 == pytest.approx(14_721, rel=0.002)  # km², as in the geo PROVENANCE
    with pytest.raises(ValueError, match="no kommuner"):
        maps.region_kommuner(kommuner, "99")


def test_choropleth_legend_is_norwegian_and_complete(kommuner):
    b = maps.region_kommuner(kommuner, "33").reset_index(drop=True)
    b["v"] = [0.70 + 0.04 * i for i in range(len(b))]
    fig, ax = maps.choropleth(b, "v", "Indeks", decimals=2)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 5 and all("," in label and "–" in label for label in labels)
    assert labels[0].startswith("0,70")
    maps.attribution(fig)  # the credit is in the caption: nothing is drawn into the image
    assert not any("Kartverket" in t.get_text() for t in fig.texts)


def test_categorical_map_counts_each_status(kommuner):
    b = maps.region_kommuner(kommuner, "33").reset_index(drop=True)
    b["status"] = ["vedtatt"] * 8 + ["under_arbeid"] * 7 + ["ingen"] * 2 + ["ukjent"]
    fig, ax = maps.categorical(b, "status", plots.STATUS_COLOURS, plots.STATUS_LABELS, "Kulturminneplan")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Vedtatt plan (8)", "Plan under arbeid (7)", "Ingen plan (2)", "Ukjent (1)"]


@pytest.mark.parametrize("region", ["33", "40", "18", "55"])
def test_map_figure_matches_the_extent(kommuner, region):
    """No empty band: the map's axes fill the figure (or the figure less the legend's column), and the
    figure has the aspect of the region's extent, within the print box."""
    import numpy as np

    k = maps.region_kommuner(kommuner, region).reset_index(drop=True)
    x0, y0, x1, y1 = k.total_bounds
    k["v"] = np.linspace(-3, 5, len(k))
    for make, beside in (
        (lambda: maps.choropleth(k, "v", "Indeks")[:2], False),
        (lambda: maps.diverging(k, "v", "Endring", bounds="round")[:2], True),
    ):
        fig, ax = make()
        fig.canvas.draw()
        w, h = fig.get_size_inches()
        assert w <= maps.MAX_WIDTH_IN + 0.01 and h <= maps.MAX_HEIGHT_IN + 0.01
        box = ax.get_position()  # after the equal-aspect adjustment, in figure fractions
        map_w = (1 - maps.LEGEND_BESIDE_SHARE) if beside else 1.0
        assert box.height > 0.97 or box.width > map_w - 0.03  # the map touches two opposite edges
        assert (box.height * h) / (box.width * w) == pytest.approx((y1 - y0) / (x1 - x0), rel=0.03)
        plots.plt.close(fig)


@pytest.mark.parametrize("bounds", ["natural", "round"])
def test_diverging_map_returns_its_classes_either_way(kommuner, bounds):
    """One diverging map, two kinds of class bounds: the same (fig, ax, classes), the legend lists the
    classes from the most positive down with their counts, and the classes split at zero."""
    import numpy as np

    k = maps.region_kommuner(kommuner, "33").reset_index(drop=True)
    k["v"] = np.linspace(-3.2, 7.9, len(k))
    fig, ax, classes = maps.diverging(k, "v", "Endring (%)", bounds=bounds)
    assert [set(c) for c in classes] == [{"fra", "til", "fortegn", "antall", "farge"}] * len(classes)
    assert sum(c["antall"] for c in classes) == len(k)
    assert all((c["til"] < 0) == (c["fortegn"] == "nedgang") for c in classes if c["til"] != 0)
    assert [c["fortegn"] for c in classes] == sorted((c["fortegn"] for c in classes), key="nedgang vekst".split().index)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [int(label.rsplit("(", 1)[1].rstrip(")")) for label in labels] == [c["antall"] for c in classes][::-1]
    if bounds == "round":  # round bounds: signed labels, one bound at 0, the legend beside the map
        assert any(c["til"] == 0 for c in classes) and all(" til " in label for label in labels)
        assert ax.get_legend()._loc == 6  # "center left", outside the axes
    else:  # Fisher–Jenks per sign: the classes of diverging_classes, the legend on the map
        _cls, ranges, _signs = maps.diverging_classes(k["v"])
        assert [(c["fra"], c["til"]) for c in classes] == ranges
        assert ax.get_legend()._loc == 3  # "lower left"
    plots.plt.close(fig)


def test_diverging_map_refuses_an_unknown_kind_of_bounds(kommuner):
    k = maps.region_kommuner(kommuner, "33").reset_index(drop=True)
    k["v"] = range(len(k))
    with pytest.raises(ValueError, match="bounds must be one of"):
        maps.diverging(k, "v", "Endring", bounds="quantiles")


def test_dot_plot_labels_keep_clear_of_the_reference_line():
    """Figur 4 (issue 17): no value label crosses the national line, and all text is >= 7 pt."""
    fig, ax = plots.plt.subplots(figsize=(3.4, 4.4))
    values = [74.8, 79.3, 80.7, 81.2, 82.2, 82.3, 85.6]
    labels = plots.dot_plot_with_reference(
        ax,
        [f"F{i}" for i in range(len(values))],
        values,
        highlight=[v == 80.7 for v in values],
        reference=82.1,
        reference_label="Hele landet 82,1",
        xlabel="Prosent",
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    line_x = ax.transData.transform((82.1, 0))[0]
    axes_box = ax.get_window_extent(renderer)
    for text_obj in labels:
        box = text_obj.get_window_extent(renderer)
        assert not (box.x0 < line_x < box.x1), text_obj.get_text()
        assert box.x0 >= axes_box.x0 - 0.5 and box.x1 <= axes_box.x1 + 0.5, text_obj.get_text()
        assert text_obj.get_fontsize() >= 7
    plots.plt.close(fig)
