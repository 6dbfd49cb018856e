"""Text from data is text (issue 18, item 13): `fmt.md`, `fmt.html`, `fmt.typst` and `fmt.mpl` keep a
string from a dataset verbatim and inert in the format it is written into, checked with the real
engines (pandoc, Typst, matplotlib); Context writes captions and variables through them."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest

from kunnskapsgrunnlag import fmt

ROOT = Path(__file__).resolve().parent.parent

MARKUP = [
    "**fet** og _kursiv_",
    "[lenke](javascript:alert(1))",
    "<b>rå</b> <script>alert(1)</script>",
    "#set text(red) #rect()",
    "$x^2$ og \\(y\\)",
    "@ref og {{< var region.navn >}}",
    "1980--1989 ... &amp;",
    "a_b 3,6 «Drammen»",
    '"sitat"',
]


def _pandoc(markdown: str, to: str) -> str:
    import pypandoc

    return pypandoc.convert_text(markdown, to, format="markdown", extra_args=["--wrap=none"])


@pytest.mark.parametrize("text", MARKUP)
def test_md_is_verbatim_and_inert_in_html(text):
    out = _pandoc(f"Kilde: {fmt.md(text)}.", "html")
    assert re.findall(r"<[^>]*>", out) == ["<p>", "</p>"], out  # no element made from the text
    assert f"Kilde: {text}." in html.unescape(out), out
    assert "<strong>" not in out and "<em>" not in out and "<a " not in out and "<script" not in out
    assert 'class="math' not in out and "citation" not in out


@pytest.mark.parametrize("text", MARKUP)
def test_md_is_verbatim_in_typst_through_pandoc(text):
    """The PDF route: Markdown -> pandoc's Typst writer -> Typst; the text survives as text."""
    typst = pytest.importorskip("typst")
    from pypdf import PdfReader

    src = _pandoc(f"Kilde: {fmt.md(text)}.", "typst")
    pdf = typst.compile(src.encode("utf-8"))
    got = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    # pandoc's Typst writer leaves «...» as Typst's ellipsis shorthand (so does Quarto, which uses it)
    assert f"Kilde: {text}." in got.replace("…", "..."), (src, got)


@pytest.mark.parametrize("text", MARKUP)
def test_typst_escape_is_verbatim(text):
    typst = pytest.importorskip("typst")
    from pypdf import PdfReader

    pdf = typst.compile(f"Kilde: {fmt.typst(text)}.".encode("utf-8"))
    got = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert f"Kilde: {text}." in got


def test_ordinary_text_and_numbers_are_left_as_they_are():
    for s in (
        "3,62",
        "−1,0",
        "+2,3",
        "(data mangler)",
        "gjennomforing_udir, tiltak_13563 og flytting_09588",
        "Nore og Uvdal",
        "15-29 år",
        "1. januar 2025",
    ):
        assert fmt.md(s) == s


def test_matplotlib_draws_dollars_as_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kunnskapsgrunnlag import plots

    plots.use_style()
    fig = plt.figure()
    t = fig.text(0, 0, "Kilde: $x^2$ kart")
    assert t._preprocess_math(t.get_text()) == ("Kilde: $x^2$ kart", False)  # no mathtext
    fig.canvas.draw()  # and it draws
    e = fig.text(0, 0, fmt.mpl("$x^2$"), parse_math=True)
    assert e._preprocess_math(e.get_text())[1] is False
    plt.close(fig)


def test_context_writes_captions_and_variables_as_text(fetched, tmp_path):
    from kunnskapsgrunnlag.notebook import Context

    params = dict(
        edition=2026,
        region="33",
        comparison_regions=["32"],
        root=str(ROOT),
        raw_dir=str(fetched.raw_dir),
        processed_dir=str(tmp_path / "p"),
        build_dir=str(tmp_path / "b"),
    )
    ctx = Context("03_09_attraktive", params)
    kilde = "**fet** [lenke](javascript:alert(1)) <b>rå</b> #set $x^2$"
    cap = ctx.caption("fig-kollektivandel", cap="Andel daglige reiser", source=f"Kilde: {kilde}")
    assert fmt.md(kilde) in cap and "**" not in cap.replace("\\*", "")
    ctx.set("x.kilde", kilde)
    ctx.set("x.tall", "3,6")
    ctx.set_markdown("x.lenke", "[Datakilder](#datakilder)")
    assert ctx.variables["x.kilde"] == fmt.md(kilde) and ctx.variables["x.tall"] == "3,6"
    assert ctx.variables["x.lenke"] == "[Datakilder](#datakilder)"


def test_md_frame_keeps_a_pipe_table_intact():
    import pandas as pd

    df = pd.DataFrame({"Kommune": ["Drammen | *x*", "Flå <b>"], "Netto": [1, -2]})
    out = _pandoc(fmt.md_frame(df).to_markdown(index=False), "html")
    assert out.count("<tr") == 3 and "<strong>" not in out and "<em>" not in out and "<b>" not in out
    assert "Drammen | *x*" in html.unescape(re.sub(r"<[^>]+>", "", out))


def test_no_break_spaces_of_numbers_are_kept():
    """fmt.num writes «272 981» with a no-break space; writing it as text must not change it."""
    assert fmt.md(fmt.num(272981)) == fmt.num(272981) == "272\xa0981"
    assert fmt.md("a\n\nb\tc") == "a b c" and fmt.typst("272\xa0981") == "272\xa0981"
