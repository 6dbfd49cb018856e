"""The shared notebook API (kunnskapsgrunnlag.notebook.Context) and its helpers."""

import json
import re

import pandas as pd
import pytest


def _ctx(settings, name="02_situasjonen"):
    from kunnskapsgrunnlag.notebook import Context

    return Context(name, settings.notebook_parameters())


def test_tick_labels_show_true_values():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kunnskapsgrunnlag import plots

    fig, ax = plt.subplots()
    ax.plot([2020, 2050], [2.2, 3.9])
    ax.set_yticks([2.25, 2.5, 2.75, 3.0])
    plots.fmt_axis(ax, "y", 1)
    assert plots.tick_labels(ax, "y") == ["2,25", "2,50", "2,75", "3,00"]
    ax.set_yticks([2.5, 3.0, 3.5])
    assert plots.tick_labels(ax, "y") == ["2,5", "3,0", "3,5"]
    plt.close(fig)


def test_diverging_classes_never_span_zero():
    from kunnskapsgrunnlag import maps

    vals = [-3.1, -0.4, 0.0, 0.2, 2.7, 3.0, 8.5, 11.0, -1.0]
    cls, bounds, signs = maps.diverging_classes(vals, k=6)
    for (lo, hi), s in zip(bounds, signs, strict=False):
        assert (lo < 0 and hi < 0 and s < 0) or (lo >= 0 and hi >= 0 and s > 0)
    for v, c in zip(vals, cls, strict=False):
        lo, hi = bounds[c]
        assert lo <= v <= hi


def test_figure_data_writes_the_csv_and_shows_nothing(fresh_settings, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()
    ctx = _ctx(fresh_settings)
    df = pd.DataFrame({"region": ["Buskerud"], "verdi": [3.6]})
    shown = []
    import IPython.display as disp

    orig = disp.display
    disp.display = lambda obj, raw=False, **kw: shown.append(obj)
    try:
        path = ctx.figure_data("fig-test", df, title="Test", source="Kilde: SSB, tabell 07459")
    finally:
        disp.display = orig
    text = path.read_text(encoding="utf-8")
    assert path == fresh_settings.build_dir / "figurdata" / "fig-test.csv"
    lines = text.splitlines()
    assert lines[0] == "# Test" and lines[1] == "# Kilde: SSB, tabell 07459"
    assert "Buskerud" in lines[2] and "2026" in lines[2]
    back = pd.read_csv(path, comment="#")
    pd.testing.assert_frame_equal(back, df)
    # nothing shown: a second output would split the figure under Quarto (render/compat.py,
    # rule one-output); the link is written under the embed when the site is staged
    assert shown == []
    assert ctx.figure_files["fig-test"]["file"] == "figurdata/fig-test.csv"


def test_caption_adds_original_number_and_is_applied(fresh_settings, tmp_path):
    from kunnskapsgrunnlag import captions

    ctx = _ctx(fresh_settings)
    cap = ctx.caption(
        "fig-aldersbaereevne", cap="Aldersbæreevne i Telemark", alt="Linjer", source="Kilde: SSB, tabell 07459"
    )
    assert cap == "Aldersbæreevne i Telemark (erstatter Figur 1 i R1023460). Kilde: SSB, tabell 07459."
    ctx.save()
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": '#| label: fig-aldersbaereevne\n#| fig-cap: "gammel"\nplt.show()',
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(nb), encoding="utf-8")
    assert captions.apply_captions(fresh_settings, "02_situasjonen", p) == 1
    src = json.loads(p.read_text())["cells"][0]["source"]
    from kunnskapsgrunnlag.render.fallback import cell_options

    opts = cell_options(src)
    assert opts["fig-cap"] == cap and opts["fig-alt"] == "Linjer" and "gammel" not in src
    assert src.endswith("plt.show()")


def test_caption_for_unknown_label_fails(fresh_settings, tmp_path):
    from kunnskapsgrunnlag import captions

    ctx = _ctx(fresh_settings)
    ctx.caption("fig-finnes-ikke", cap="x")
    ctx.save()
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(ValueError, match="fig-finnes-ikke"):
        captions.apply_captions(fresh_settings, "02_situasjonen", p)


def test_original_numbers_cover_the_published_figures():
    from kunnskapsgrunnlag.notebook import figure_relations, not_included, original_numbers

    o = original_numbers()
    assert o["fig-neet"] == "Figur 4" and o["tbl-levekaar"] == "Tabell 1"
    # the dwelling-type chart is not the original's Figure 6 (a settlement map): it is new, with a reason
    rel = figure_relations()
    assert "fig-boliger" not in o and rel["fig-boliger"]["relation"] == "ny" and rel["fig-boliger"]["note"]
    assert all(r["relation"] in ("tilsvarer", "erstatter", "ny") for r in rel.values())
    assert all(r["note"] for r in rel.values() if r["relation"] != "tilsvarer")
    nums = sorted(set(o.values()) | set(not_included()))
    for n in range(1, 9):
        assert any(v.startswith(f"Figur {n}") for v in nums), n
    for n in range(1, 4):
        assert any(v.startswith(f"Tabell {n}") for v in nums), n


def test_missing_note_is_text_without_query(fresh_settings):
    ctx = _ctx(fresh_settings)
    assert ctx.try_load("boliger_06265") is None  # never fetched here
    md = ctx.missing_markdown("boliger_06265", "boliger")
    assert "Data mangler" in md and "Datakilder" in md
    assert "valuecodes" not in md and "http" not in md
    rec = ctx.missing[0]
    assert rec["how_to_fetch"]  # the exact query goes to the record / appendix


def test_require_and_coverage(fetched, monkeypatch):
    from kunnskapsgrunnlag.config import make_settings

    s = make_settings(
        region="40", raw_dir=fetched.raw_dir, processed_dir=fetched.processed_dir, build_dir=fetched.build_dir
    )
    ctx = _ctx(s)
    assert ctx.try_load("levekaar_published") is None  # Buskerud-only transcription
    assert "Buskerud" in ctx.missing[0]["note"]
    pop = ctx.load("population_07459")
    assert ctx.require("population_07459", pop, year=2026, regions="40") is not None
    assert ctx.require("population_07459", pop, year=1999) is None
    assert "1999" in ctx.missing[-1]["note"]
    assert not ctx.require_min("x", 2, 3, "Klyngeinndelingen")


def test_forord_statement_lists_exactly_the_transcribed_datasets(fetched):
    from kunnskapsgrunnlag import rawstore
    from kunnskapsgrunnlag.config import make_settings
    from kunnskapsgrunnlag.notebook import data_status, edition_statement

    manifest = rawstore.read_manifest(fetched.raw_dir)["datasets"]
    published = sorted(
        n
        for n, r in manifest.items()
        if r.get("current", {}).get("status") == "ok" and r["current"].get("source", {}).get("kind") == "published"
    )
    assert published == ["flytting_published", "levekaar_published", "tiltak_published"]
    st = data_status(fetched)
    assert sorted(st["transkribert"]) == published
    assert "utdanning_09429" in st["beregnet"] and "sysselsetting_07984" not in st["beregnet"]
    ctx = _ctx(fetched)
    v = edition_statement(ctx)
    assert v["datagrunnlag.transkribert_tabeller"] == "Tabell 1, Tabell 2, Tabell 3a og Tabell 3b"
    assert v["datagrunnlag.n_transkribert"] == "3"
    assert "skrevet av fra den publiserte rapporten" in v["datagrunnlag.tekst"]
    assert f"Tallene fra {len(st['mangler'])} kilder var ikke tilgjengelige" in v["datagrunnlag.tekst"]
    assert "SSB (tabell 06265, 07459, 09429, 13563 og 14288)" in v["datagrunnlag.tekst"]
    assert not re.search(r"kjøring|offline|speil", v["datagrunnlag.tekst"])  # the reader's words
    # another region: the Buskerud-only transcription is missing, not transcribed
    s40 = make_settings(
        region="40", raw_dir=fetched.raw_dir, processed_dir=fetched.processed_dir, build_dir=fetched.build_dir
    )
    st40 = data_status(s40)
    assert "levekaar_published" in st40["mangler"] and "levekaar_published" not in st40["transkribert"]


def test_fallback_renders_notes_csv_links_resources_and_plan_region_blocks(tmp_path):
    """What the notebook API puts in executed notebooks, rendered by the fallback: a «Data mangler»
    note in a figure/table cell (text, numbered, with its caption), the CSV link the staged site
    writes under the embed (HTML only, resolving to the copied figurdata/, absent from the PDF),
    and conditional plan-region content."""
    import base64

    import nbformat
    import pypdf
    import yaml

    from kunnskapsgrunnlag.render import render
    from test_render_fallback import _png, make_project

    root = make_project(tmp_path / "book")
    q = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8"))
    q["project"]["resources"] = ["figurdata/"]
    assert q["kg-plan-region"] is True  # the test project is the plan region's book
    (root / "_quarto.yml").write_text(yaml.safe_dump(q, allow_unicode=True), encoding="utf-8")
    (root / "figurdata").mkdir(exist_ok=True)
    (root / "figurdata" / "fig-tall.csv").write_text(
        "# Tall\n# Kilde: SSB\n# Konfigurasjon\na,b\n1,2\n", encoding="utf-8"
    )
    note = '::: {.callout-important title="Data mangler: boliger"}\nTallene mangler. Se vedlegget *Datakilder*.\n:::\n'
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            '#| label: fig-tall\n#| fig-cap: "Tall i Testfylket. Kilde: SSB."\n'
            '#| fig-alt: "Et linjediagram over tall i testfylket"\nx',
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(_png()).decode(), "text/plain": "<Figure>"}
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            '#| label: fig-borte\n#| fig-cap: "Boliger: data mangler."\nx',
            outputs=[nbformat.v4.new_output("display_data", data={"text/markdown": note})],
        ),
        nbformat.v4.new_code_cell(
            '#| label: tbl-borte\n#| tbl-cap: "Tabell som mangler: data mangler."\nx',
            outputs=[nbformat.v4.new_output("display_data", data={"text/markdown": note})],
        ),
    ]
    nbformat.write(nb, str(root / "build/notebooks/03_api.ipynb"))
    with open(root / "kap/02_situasjonen.qmd", "a", encoding="utf-8") as fh:
        fh.write(
            "\n\n{{< embed /build/notebooks/03_api.ipynb#fig-tall >}}\n\n"
            "{{< embed /build/notebooks/03_api.ipynb#fig-borte >}}\n\n"
            "{{< embed /build/notebooks/03_api.ipynb#tbl-borte >}}\n\nSe @fig-borte og @tbl-borte.\n\n"
            '::: {.content-visible when-meta="kg-plan-region"}\nBare for planregionen.\n:::\n\n'
            '::: {.content-hidden when-meta="kg-plan-region"}\nFor alle andre regioner.\n:::\n'
        )
    from kunnskapsgrunnlag.render.staging import prepare_site

    prepare_site(root)  # as the staged site: the links under each embed
    from kunnskapsgrunnlag.render.html_book import book_html

    res = render(root, root / "_out", renderer="pandoc")
    html = book_html(root / "_out")  # the chapter pages (kap/02_situasjonen.html has the figure)
    assert 'href="../figurdata/fig-tall.csv"' in html and (root / "_out" / "figurdata" / "fig-tall.csv").exists()
    assert "Data mangler: boliger" in html and 'id="fig-borte"' in html and 'id="tbl-borte"' in html
    assert "For alle andre regioner." not in html and "Bare for planregionen." in html
    pdf = " ".join(p.extract_text() or "" for p in pypdf.PdfReader(str(res["pdf"])).pages)
    assert "Last ned tallene" not in pdf and "Data mangler: boliger" in " ".join(pdf.split())
    assert "Bare for planregionen." in " ".join(pdf.split()) and "For alle andre regioner" not in pdf


def test_source_line_takes_its_period_inside_one_parenthesis():
    from kunnskapsgrunnlag.notebook import _with_period

    assert _with_period("SSB, tabell 14288 (2024-runden)", 2050) == "SSB, tabell 14288 (2024-runden; 2050)"
    assert _with_period("SSB, tabell 07459", "2020–2026") == "SSB, tabell 07459 (2020–2026)"
    assert _with_period("Udir (gjennomføring)", None) == "Udir (gjennomføring)"
