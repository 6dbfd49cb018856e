"""The pandoc + Typst fallback renderer on a tiny Quarto book built in tmp_path."""

from __future__ import annotations

import os
import struct
import time
import zlib
from pathlib import Path

import nbformat
import pytest

from kunnskapsgrunnlag import render as render_mod
from kunnskapsgrunnlag.render import RenderError, render
from kunnskapsgrunnlag.render.fallback import escape_typst, format_date
from kunnskapsgrunnlag.render.html_book import book_html, page_files
from kunnskapsgrunnlag.render.staging import prepare_site

pypdf = pytest.importorskip("pypdf")

REPO = Path(__file__).resolve().parents[1]

QUARTO_YML = """\
project:
  type: book
  output-dir: _book
  resources:
    - figurdata/*.csv
kg-plan-region: true
kg-off: false
kg-nested:
  flag: true
book:
  title: "Testrapport for Buskerud"
  subtitle: "Del 1 – Et lite testkunnskapsgrunnlag"
  author: "Agenda Test og Asplan Prøve"
  date: "2026-02-02"
  date-format: "D. MMMM YYYY"
  output-file: "testrapport"
  chapters:
    - index.qmd
    - part: "Første del"
      chapters:
        - kap/01_innledning.qmd
    - kap/02_situasjonen.qmd
  appendices:
    - kap/99_datakilder.qmd
publisher: "Buskerud fylkeskommune"
report-number: "R-0042"
edition-note: "Testutgave, reprodusert fra åpne data"
lang: nb
language:
  crossref-fig-title: "Figur"
  crossref-tbl-title: "Tabell"
  crossref-ch-prefix: "kapittel"
  crossref-sec-prefix: "kapittel"
  crossref-fig-prefix: "Figur"
  crossref-tbl-prefix: "Tabell"
  section-title-appendices: "Vedlegg"
  toc-title-document: "Innhold"
  callout-note-title: "Merk"
  callout-important-title: "Viktig"
  callout-tip-title: "Tips"
number-sections: true
format:
  html:
    toc: true
  typst:
    papersize: a4
    toc: true
    toc-depth: 2
    fontsize: 10.5pt
    margin:
      x: 2.5cm
      y: 2.5cm
"""

VARIABLES_YML = """\
ab:
  aar: '2025'
  buskerud: '3,6'
  norge: '3,9'
neet:
  buskerud: '10,6'
"""

INDEX = """\
# Forord {#sec-forord .unnumbered}

{{< include /kap/00_forord.qmd >}}
"""

FORORD = """\
Dette er forordet. Spørsmål kan sendes til ola.nordmann@bfk.no eller post@example.org.

## Om denne utgaven {.unnumbered}

Utgaven er bygget på nytt fra åpne data.
"""

INNLEDNING = """\
---
title: "Ignorert tittel"
execute:
  echo: false
---

# Innledning {#sec-innledning}

## Bakgrunn {#sec-bakgrunn}

Aldersbæreevnen i Buskerud var {{< var ab.buskerud >}} i {{< var ab.aar >}}, mot {{< var ab.norge >}}
for landet (@fig-alder). Levekårene står i @tbl-levekaar, og datakildene i vedlegget (@sec-datakilder).
@Fig-alder viser det samme. Se også @sec-detaljer og @sec-situasjonen.

{{< include delkapitler/detaljer.qmd >}}

::: {.callout-note title="Sammendrag: Læringsløp"}
Ingress i boksen med «anførselstegn» og @fig-alder.

**Hva sier litteraturen?**

- første punkt
- andre punkt
:::

::: {.callout-important}
Data mangler for {{< var neet.buskerud >}} prosent av kommunene.
:::
"""

DETALJER = """\
### Detaljer {#sec-detaljer}

Detaljert tekst om #emneknagg, [klammer], *kursiv*, under_strek og $5 dollar.

#### Ikke nummerert

Mer tekst.
"""

FILLER = (
    "Fylket har mange styrker, men også utfordringer som må møtes med samordnet innsats over tid. "
    "Kommunene varierer i størrelse, økonomi og kapasitet, og tiltakene må tilpasses stedet. "
) * 6

SITUASJONEN = f"""\
# Situasjonen i Buskerud {{#sec-situasjonen}}

## Befolkning {{#sec-befolkning}}

{{{{< embed /build/notebooks/02_test.ipynb#fig-alder >}}}}

{FILLER}

{{{{< embed /build/notebooks/02_test.ipynb#tbl-levekaar >}}}}

{FILLER}

{{{{< embed /build/notebooks/02_test.ipynb#txt-oppsummering >}}}}

## Framskrivinger {{#sec-framskrivinger}}

{FILLER}

{FILLER}

{FILLER}

::: {{.callout-tip}}
Et tips uten tittel.
:::

::: {{.content-visible when-meta="kg-plan-region"}}
Tekst bare for planregionen.
:::

::: {{.content-hidden when-meta="kg-plan-region"}}
Nøytral tekst for andre fylker og @fig-alder.
:::

::: {{.content-visible unless-meta="kg-off"}}
Synlig fordi kg-off er usann.
:::

::: {{.content-visible when-meta="kg-nested.flag"}}
Nøstet metadata er sann.
:::

::: {{.content-visible when-meta="kg-finnes-ikke"}}
Skjult fordi nøkkelen mangler.
:::

::: {{.content-visible when-format="html"}}
Bare i nettversjonen.
:::

::: {{.content-visible when-format="pdf"}}
Bare i PDF-utgaven.
:::

::: {{.content-visible when-meta="kg-plan-region" unless-format="html"}}
Planregion og ikke HTML.
:::

Setning med [spennet for HTML]{{.content-visible when-format="html"}}[spennet for
Typst]{{.content-visible when-format="typst"}} og [skjult spenn]{{.content-hidden when-meta="kg-plan-region"}} slutt.
"""

DATAKILDER = """\
# Datakilder {#sec-datakilder}

## Statistikk {#sec-datakilder-statistikk}

Alle tall er hentet fra SSB. Se @tbl-levekaar.
"""

TABLE_MD = """\
| Kommune | Indeks | Rang |
|:--------|-------:|-----:|
| Drammen | 1,12 | 245 |
| Kongsberg | 0,94 | 120 |
| Hol | 0,71 | 33 |
"""


def _png(width: int = 160, height: int = 100) -> bytes:
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 150))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _notebook(path: Path) -> None:
    import base64

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Testnotatbok"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell(
            "#| label: fig-alder\n"
            '#| fig-cap: "Aldersbæreevne i Buskerud og landet, 2020–2025. Kilde: SSB, tabell 07459."\n'
            '#| fig-alt: "Linjediagram over aldersbæreevnen i Buskerud og i hele landet"\n'
            "plot()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(_png()).decode(), "text/plain": "<Figure>"}
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            "#| label: tbl-levekaar\n"
            '#| tbl-cap: "Levekårsindeks for kommunene i Buskerud. Kilde: SSB og Agenda Kaupang."\n'
            "table()",
            outputs=[
                nbformat.v4.new_output("display_data", data={"text/markdown": TABLE_MD, "text/plain": "<Markdown>"})
            ],
        ),
        nbformat.v4.new_code_cell(
            "#| label: txt-oppsummering\nsummary()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "text/markdown": "Som @fig-alder viser, er bæreevnen **lavere** i Buskerud.",
                        "text/plain": "<Markdown>",
                    },
                )
            ],
        ),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def make_project(root: Path) -> Path:
    files = {
        "_quarto.yml": QUARTO_YML,
        "_variables.yml": VARIABLES_YML,
        "index.qmd": INDEX,
        "kap/00_forord.qmd": FORORD,
        "kap/01_innledning.qmd": INNLEDNING,
        "kap/delkapitler/detaljer.qmd": DETALJER,
        "kap/02_situasjonen.qmd": SITUASJONEN,
        "kap/99_datakilder.qmd": DATAKILDER,
    }
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    _notebook(root / "build/notebooks/02_test.ipynb")
    (root / "figurdata").mkdir()
    (root / "figurdata" / "fig-alder.csv").write_text("# Aldersbæreevne\naar,verdi\n2025,3.6\n", encoding="utf-8")
    (root / "figurdata" / "notat.txt").write_text("ikke en ressurs\n", encoding="utf-8")
    prepare_site(root)  # as pipeline.stage_site does: links under the embeds, values in headings
    return root


def _norm(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def _html_text(html: str) -> str:
    """Visible text of an HTML page (tags removed, entities decoded, spaces normalised)."""
    import html as html_mod
    import re

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return _norm(html_mod.unescape(re.sub(r"<[^>]+>", "", body)))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("book"))
    out = root / "_out"
    t0 = time.perf_counter()
    res = render(root, out, renderer="pandoc")
    seconds = time.perf_counter() - t0
    reader = pypdf.PdfReader(str(res["pdf"]))
    pages = [_norm(p.extract_text() or "") for p in reader.pages]
    html = book_html(out)  # every chapter page, in book order
    return {"root": root, "out": out, "res": res, "html": html, "pages": pages, "reader": reader, "seconds": seconds}


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------
def test_outputs_and_api(rendered):
    res = rendered["res"]
    assert res["renderer"] == "pandoc"
    assert res["html"] == rendered["out"] / "index.html"
    assert res["pdf"] == rendered["out"] / "testrapport.pdf"
    assert res["pdf"].stat().st_size > 10_000
    assert (rendered["out"] / "figures" / "fig-alder.png").exists()
    assert rendered["seconds"] < 60


# What the cover of the test project says, in the HTML book's header and on the PDF's first page
COVER_TEXTS = (
    "Testrapport for Buskerud",
    "Del 1 – Et lite testkunnskapsgrunnlag",
    "Buskerud fylkeskommune",
    "2. februar 2026",
    "R-0042",
    "Testutgave, reprodusert fra åpne data",
)


def test_html_page(rendered):
    html = rendered["html"]
    text = _html_text(html)
    assert '<html lang="nb">' in html
    for s in COVER_TEXTS:  # cover header
        assert s in text, s
    assert 'href="testrapport.pdf"' in html
    # search box + script, sidebar toc
    assert 'id="search-input"' in html and "assets/search.js" in html
    assert (rendered["out"] / "assets" / "search.js").exists()
    assert (rendered["out"] / "assets" / "book.css").exists()
    assert 'id="toc"' in html
    toc = html[html.index('id="toc"') : html.index("</nav>")]
    for s in (
        "Forord",
        "Første del",
        "1</span>Innledning",
        "1.1</span>Bakgrunn",
        "2</span>Situasjonen i Buskerud",
        "Vedlegg",
        "A</span>Datakilder",
    ):
        assert s in toc, s
    # variables, no leftovers
    assert "Aldersbæreevnen i Buskerud var 3,6 i 2025, mot 3,9" in text
    assert "{{<" not in html and "?@" not in html and "kg:" not in html


def test_html_numbering_and_crossrefs(rendered):
    html = rendered["html"]
    text = _html_text(html)
    assert '<span class="header-section-number">1.1</span> Bakgrunn' in html
    assert '<span class="header-section-number">1.1.1</span> Detaljer' in html
    assert '<span class="header-section-number">A</span> Datakilder' in html
    assert '<span class="header-section-number">A.1</span> Statistikk' in html
    assert 'header-section-number">' not in html[html.index("Forord") - 200 : html.index("Forord")]
    assert "Ikke nummerert" in html and 'header-section-number">1.1.1.1' not in html
    # cross-references are links with the numbers
    # (HTML: per chapter, as Quarto's HTML book; the figure and the table are in chapter 2)
    assert '<a href="#fig-alder" class="kg-xref">Figur 2.1</a>' in html.replace("\xa0", " ")
    # a reference to another chapter's page (kap/99_datakilder.html -> kap/02_situasjonen.html)
    assert '<a href="02_situasjonen.html#tbl-levekaar" class="kg-xref">Tabell 2.1</a>' in html.replace("\xa0", " ")
    assert "(vedlegg A)" in text
    assert "Figur 2.1 viser det samme" in text  # @Fig-alder
    assert "Se også kapittel 1.1.1 og kapittel 2." in text
    # e-mail addresses untouched
    assert "ola.nordmann@bfk.no" in html and "post@example.org" in html
    # verbatim markdown embed with a resolved reference
    assert "Som Figur 2.1 viser, er bæreevnen" in text and "<strong>lavere</strong>" in html


def test_html_is_a_book_with_one_page_per_chapter(rendered):
    """As Quarto's HTML book (../shared/quarto-render/html): a page per chapter with the chapter
    file's name, the sidebar on every page, previous/next links; every link resolves."""
    import posixpath
    import re

    out = rendered["out"]
    names = [f.relative_to(out).as_posix() for f in page_files(out)]
    assert names == ["index.html", "kap/01_innledning.html", "kap/02_situasjonen.html", "kap/99_datakilder.html"]
    ids = {n: set(re.findall(r'\bid="([^"]+)"', (out / n).read_text(encoding="utf-8"))) for n in names}
    for n in names:
        page = (out / n).read_text(encoding="utf-8")
        assert page.count('<nav class="sidebar"') == 1 and 'aria-current="page"' in page
        for href in re.findall(r'(?:href|src)="([^"]+)"', page):
            if re.match(r"^[a-z]+:", href):
                continue
            path, _, frag = href.partition("#")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(n), path)) if path else n
            assert (out / target).exists(), (n, href)
            if frag and target in ids:
                assert frag in ids[target], (n, href)
    second = (out / "kap/01_innledning.html").read_text(encoding="utf-8")
    assert 'rel="prev" href="../index.html"' in second and 'rel="next" href="02_situasjonen.html"' in second
    assert "<title>Innledning – Testrapport for Buskerud</title>" in second
    assert 'rel="prev"' not in (out / "index.html").read_text(encoding="utf-8")


def test_html_figures_tables_callouts(rendered):
    html = rendered["html"]
    text = _html_text(html)
    assert '<figure class="kg-figure" id="fig-alder">' in html
    assert (
        '<img src="../figures/fig-alder.png" alt="Linjediagram over aldersbæreevnen i Buskerud og i hele landet"'
    ) in html
    assert "<figcaption>" in html and "Figur 2.1. Aldersbæreevne i Buskerud og landet, 2020–2025." in text
    assert "Kilde: SSB, tabell 07459." in text
    assert 'id="tbl-levekaar"' in html and "Tabell 2.1. Levekårsindeks for kommunene i Buskerud." in text
    assert "<th" in html and "Kommune" in html and "Drammen" in html
    # notebook links and the converted notebook
    assert html.count("Vis notatboken") == 2
    assert 'href="../notebooks/02_test.html#cell-id=' in html  # from the chapter page kap/02_situasjonen.html
    assert (rendered["out"] / "notebooks" / "02_test.html").exists()
    # callouts
    assert 'class="callout callout-note"' in html
    assert '<div class="callout-title">Sammendrag: Læringsløp</div>' in html
    assert 'class="callout callout-important"' in html and '<div class="callout-title">Viktig</div>' in html
    assert '<div class="callout-title">Tips</div>' in html
    assert "«anførselstegn»" in html


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------
def _page_of(pages: list[str], needle: str, start: int = 0) -> int:
    for i, p in enumerate(pages[start:], start):
        if needle in p:
            return i
    raise AssertionError(f"{needle!r} not found in the PDF")


def test_pdf_cover_toc_and_layout(rendered):
    pages, reader = rendered["pages"], rendered["reader"]
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1  # A4
    cover = pages[0]
    for s in (*COVER_TEXTS, "Agenda Test og Asplan Prøve"):
        assert s in cover, s
    toc = pages[1]
    assert "Innhold" in toc
    for s in ("Forord", "1 Innledning", "1.1 Bakgrunn", "2 Situasjonen i Buskerud", "Vedlegg", "A Datakilder"):
        assert s in toc, s
    assert "1.1.1 Detaljer" not in toc  # toc-depth 2
    # chapters start on new pages
    p_forord = _page_of(pages, "Dette er forordet", 2)
    p_innl = _page_of(pages, "Aldersbæreevnen i Buskerud var 3,6", 2)
    p_sit = _page_of(pages, "Befolkning", p_innl + 1)
    p_app = _page_of(pages, "Alle tall er hentet fra SSB", p_sit)
    assert p_forord < p_innl < p_sit < p_app
    # running header with the title and page numbers in the footer on a continuation page
    cont = [i for i in range(p_sit + 1, p_app) if "Testrapport for Buskerud" in pages[i]]
    assert cont, "no running header with the report title"
    assert any(str(n) in pages[cont[0]].split() for n in range(1, 40))


def test_pdf_content(rendered):
    pages = rendered["pages"]
    full = " ".join(pages)
    assert "1.1 Bakgrunn" in full and "1.1.1 Detaljer" in full and "A.1 Statistikk" in full
    assert "Ikke nummerert" in full
    assert "Aldersbæreevnen i Buskerud var 3,6 i 2025, mot 3,9 for landet (Figur 1)" in full
    assert "(vedlegg A)" in full and "Se også kapittel 1.1.1 og kapittel 2." in full
    assert "Figur 1. Aldersbæreevne i Buskerud og landet" in full
    assert "Kilde: SSB, tabell 07459." in full
    assert "Tabell 1. Levekårsindeks for kommunene i Buskerud." in full
    assert "Kommune Indeks Rang" in full and "Drammen 1,12 245" in full  # a real table
    assert "Sammendrag: Læringsløp" in full and "Viktig" in full and "Tips" in full
    assert "«anførselstegn»" in full
    assert "ola.nordmann@bfk.no" in full
    assert "#emneknagg, [klammer], kursiv, under_strek og $5 dollar" in full
    assert "Som Figur 1 viser, er bæreevnen lavere i Buskerud." in full
    assert "?@" not in full and "{{<" not in full
    # the figure is an image with alt text in the PDF
    p_fig = _page_of(pages, "Figur 1. Aldersbæreevne")
    resources = rendered["reader"].pages[p_fig]["/Resources"]
    xobjects = resources.get("/XObject")
    assert xobjects and any(x.get_object()["/Subtype"] == "/Image" for x in xobjects.values())
    typ = (rendered["out"] / "_build" / "book.typ").read_text(encoding="utf-8")
    assert 'alt: "Linjediagram over aldersbæreevnen i Buskerud og i hele landet"' in typ
    assert "#set text(lang: lang" in typ or 'lang: "nb"' in typ


def test_second_render_reuses_notebook_html(rendered):
    nb_html = rendered["out"] / "notebooks" / "02_test.html"
    before = nb_html.stat().st_mtime_ns
    t0 = time.perf_counter()
    render(rendered["root"], rendered["out"], renderer="pandoc")
    assert nb_html.stat().st_mtime_ns == before
    assert time.perf_counter() - t0 < 30
    # a changed notebook is converted again
    nb = rendered["root"] / "build/notebooks/02_test.ipynb"
    future = time.time() + 5
    os.utime(nb, (future, future))
    render(rendered["root"], rendered["out"], renderer="pandoc")
    assert nb_html.stat().st_mtime_ns != before


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
@pytest.fixture()
def project(tmp_path):
    return make_project(tmp_path / "book")


def _append(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.write_text(p.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


def test_unknown_embed_label(project):
    _append(project, "kap/02_situasjonen.qmd", "{{< embed /build/notebooks/02_test.ipynb#fig-finnes-ikke >}}")
    with pytest.raises(RenderError) as exc:
        render(project, project / "_out", renderer="pandoc")
    msg = str(exc.value)
    assert "kap/02_situasjonen.qmd" in msg and "fig-finnes-ikke" in msg and "02_test.ipynb" in msg


def test_unknown_notebook(project):
    _append(project, "kap/99_datakilder.qmd", "{{< embed /build/notebooks/99_mangler.ipynb#tbl-x >}}")
    with pytest.raises(RenderError) as exc:
        render(project, project / "_out", renderer="pandoc")
    msg = str(exc.value)
    assert "kap/99_datakilder.qmd" in msg and "99_mangler.ipynb" in msg and "does not exist" in msg


def test_unknown_variable(project):
    _append(project, "kap/delkapitler/detaljer.qmd", "Verdien er {{< var ab.finnes_ikke >}}.")
    with pytest.raises(RenderError) as exc:
        render(project, project / "_out", renderer="pandoc")
    msg = str(exc.value)
    assert "ab.finnes_ikke" in msg and "kap/delkapitler/detaljer.qmd" in msg


def test_unknown_crossref(project):
    _append(project, "kap/delkapitler/detaljer.qmd", "Se @fig-ukjent.")
    with pytest.raises(RenderError) as exc:
        render(project, project / "_out", renderer="pandoc")
    msg = str(exc.value)
    assert "@fig-ukjent" in msg and "kap/delkapitler/detaljer.qmd" in msg


@pytest.mark.parametrize(
    "text, needle",
    [
        ("{{< pagebreak >}}", "unsupported shortcode"),
        ("::: {.column-margin}\nI margen.\n:::", "column-margin"),
        ("::: {.callout-note}\nAldri lukket.", "never closed"),
        ("![Et bilde](bilde.png)", "images in the text"),
        ("Utslipp av CO<sub>2</sub> i fylket.", "raw html"),
    ],
)
def test_unsupported_constructs(project, text, needle):
    _append(project, "kap/99_datakilder.qmd", text)
    with pytest.raises(RenderError) as exc:
        render(project, project / "_out", renderer="pandoc")
    assert needle in str(exc.value) and "kap/99_datakilder.qmd" in str(exc.value)


def test_missing_variables_file(project):
    (project / "_variables.yml").unlink()
    with pytest.raises(RenderError, match="_variables.yml"):
        render(project, project / "_out", renderer="pandoc")


# --------------------------------------------------------------------------------------------
# Renderer selection, helpers, assets
# --------------------------------------------------------------------------------------------
def test_renderer_selection(project, monkeypatch):
    monkeypatch.setattr(render_mod.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="Quarto is not installed"):
        render(project, project / "_out", renderer="quarto")
    with pytest.raises(RenderError, match="unknown renderer"):
        render(project, project / "_out", renderer="latex")
    calls = []
    monkeypatch.setattr(
        render_mod,
        "render_fallback",
        lambda root, out: calls.append((root, out)) or {"html": Path("h"), "pdf": Path("p")},
    )
    assert render(project, None, renderer="auto")["renderer"] == "pandoc"
    assert calls == [(project.resolve(), None)]


def test_helpers():
    assert format_date("2026-02-02", "D. MMMM YYYY") == "2. februar 2026"
    assert format_date("2026-11-09", "DD.MM.YYYY") == "09.11.2026"
    assert escape_typst("a#b[c]*d_e@f$g<h>`i\\j") == "a\\#b\\[c\\]\\*d\\_e\\@f\\$g\\<h\\>\\`i\\\\j"


def test_quarto_assets_match_the_fallback():
    """One Typst template (one look): the fallback has no copy of the Quarto partial."""
    from kunnskapsgrunnlag.render.fallback import PROJECT_TYPST_TEMPLATE

    asset = REPO / "report" / "assets" / "typst-template.typ"
    assert PROJECT_TYPST_TEMPLATE == asset and asset.exists()
    assert not list((REPO / "kunnskapsgrunnlag").rglob("typst-template.typ"))
    css = REPO / "report" / "assets" / "style.css"
    assert css.exists() and ".callout" in css.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Quarto parity: conditional content, resources, relative paths, numbering per format
# --------------------------------------------------------------------------------------------
def test_conditional_content(rendered):
    """.content-visible/.content-hidden with when-/unless-meta (from _quarto.yml, dotted keys,
    only the boolean true counts) and when-/unless-format, on divs and spans, as in Quarto."""
    html_text = _html_text(rendered["html"])
    pdf_text = " ".join(rendered["pages"]).replace("\xad", "-")  # Typst writes "-" as soft hyphen
    for text in (html_text, pdf_text):
        assert "Tekst bare for planregionen." in text
        assert "Nøytral tekst for andre fylker" not in text  # hidden, and its @ref is never resolved
        assert "Synlig fordi kg-off er usann." in text
        assert "Nøstet metadata er sann." in text
        assert "Skjult fordi nøkkelen mangler." not in text
        assert "skjult spenn" not in text
    assert "Bare i nettversjonen." in html_text and "Bare i nettversjonen." not in pdf_text
    assert "Bare i PDF-utgaven." in pdf_text and "Bare i PDF-utgaven." not in html_text
    assert "Planregion og ikke HTML." in pdf_text and "Planregion og ikke HTML." not in html_text
    assert "Setning med spennet for HTML og slutt." in html_text
    assert "Setning med spennet for Typst og slutt." in pdf_text
    assert "content-visible" not in rendered["html"] and "when-meta" not in rendered["html"]


def test_project_resources_are_copied(rendered):
    out = rendered["out"]
    assert (out / "figurdata" / "fig-alder.csv").read_text(encoding="utf-8").startswith("# Aldersbæreevne")
    assert not (out / "figurdata" / "notat.txt").exists()


def test_project_resources_folder(tmp_path):
    from kunnskapsgrunnlag.render.fallback import copy_resources, load_book

    root = make_project(tmp_path / "book")
    (root / "vedlegg" / "kart").mkdir(parents=True)
    (root / "vedlegg" / "kart" / "a.geojson").write_text("{}", encoding="utf-8")
    q = root / "_quarto.yml"
    q.write_text(
        q.read_text(encoding="utf-8").replace("    - figurdata/*.csv\n", "    - figurdata/*.csv\n    - vedlegg/\n"),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    copied = copy_resources(load_book(root), out)
    assert sorted(p.relative_to(out).as_posix() for p in copied) == [
        "figurdata/fig-alder.csv",
        "vedlegg/kart/a.geojson",
    ]
    q.write_text(q.read_text(encoding="utf-8").replace("    - vedlegg/\n", "    - ../hemmelig/*\n"), encoding="utf-8")
    with pytest.raises(RenderError, match="project.resources"):
        copy_resources(load_book(root), out)


def test_published_files_use_relative_paths_only(rendered):
    """No published file (HTML, scripts, notebook pages, the PDF's text) names the build
    machine's folders: not the project's absolute path, nor /tmp/, /home/, /root/."""
    from kunnskapsgrunnlag.render import machine_paths

    assert str(rendered["root"]).startswith("/")
    found = machine_paths(rendered["out"], rendered["root"])
    assert found == [], found
    # the checker itself finds a leak
    leak = rendered["out"] / "lekk.html"
    leak.write_text(f'<a data-notebook="{rendered["root"]}/build/notebooks/x.ipynb">x</a>', encoding="utf-8")
    try:
        assert [f for f, _ in machine_paths(rendered["out"], rendered["root"])] == ["lekk.html"]
    finally:
        leak.unlink()


def test_quarto_output_is_scrubbed_of_embed_markers(tmp_path):
    from kunnskapsgrunnlag.render import _scrub_quarto_html, check_relative

    out = tmp_path / "_book"
    out.mkdir()
    page = out / "kap.html"
    page.write_text(
        f'<div class="cell" data-notebook="{tmp_path}/build/notebooks/02.ipynb" '
        'data-notebook-title="02.ipynb" data-notebook-cellid="cell-3"><img></div>',
        encoding="utf-8",
    )
    nb = out / "build" / "notebooks" / "02.ipynb"
    nb.parent.mkdir(parents=True)
    nb.write_text(
        '{"cells": [], "metadata": {"papermill": {"input_path": "%s/notebooks/02.ipynb", '
        '"output_path": "%s/build/notebooks/02.ipynb", "parameters": {"root": ".."}}}}' % (tmp_path, tmp_path),
        encoding="utf-8",
    )
    _scrub_quarto_html(out)
    assert page.read_text(encoding="utf-8") == '<div class="cell"><img></div>'
    import json

    assert json.loads(nb.read_text(encoding="utf-8"))["metadata"]["papermill"] == {"parameters": {"root": ".."}}
    check_relative(out, tmp_path)
    (out / "search.json").write_text(f'[{{"href": "{tmp_path}/x.html"}}]', encoding="utf-8")
    with pytest.raises(RenderError, match="search.json"):
        check_relative(out, tmp_path)


def test_pdf_numbers_through_the_book_html_per_chapter(rendered):
    """Quarto: the HTML book numbers figures per chapter, the report's Typst format through
    the book; cross-references follow the numbers of their own format."""
    full = " ".join(rendered["pages"])
    assert "Figur 1. Aldersbæreevne" in full and "Figur 2.1" not in full
    assert "Tabell 2.1" in _html_text(rendered["html"]) and "Tabell 1." in full


# --------------------------------------------------------------------------------------------
# Quarto's rules enforced by the fallback
# --------------------------------------------------------------------------------------------
def _render_error(project) -> str:
    with pytest.raises(RenderError) as exc:
        render(project, project / "_out", renderer="pandoc")
    return str(exc.value)


def test_chapter_title_only_from_an_include(project):
    (project / "index.qmd").write_text("{{< include /kap/00_forord.qmd >}}\n", encoding="utf-8")
    (project / "kap/00_forord.qmd").write_text("# Forord {#sec-forord .unnumbered}\n\n" + FORORD, encoding="utf-8")
    msg = _render_error(project)
    assert msg.startswith("index.qmd:") and "include" in msg and "level-1 heading" in msg


def test_second_level1_heading_in_a_chapter_file(project):
    _append(project, "kap/99_datakilder.qmd", "# Enda et kapittel {#sec-enda}\n\nTekst.")
    msg = _render_error(project)
    assert msg.startswith("kap/99_datakilder.qmd:") and "second level-1 heading" in msg
    assert "Enda et kapittel" in msg


def test_second_level1_heading_from_an_include(project):
    p = project / "kap/delkapitler/detaljer.qmd"
    p.write_text("# Eget kapittel {#sec-eget}\n\n" + p.read_text(encoding="utf-8"), encoding="utf-8")
    msg = _render_error(project)
    assert "kap/01_innledning.qmd (in kap/delkapitler/detaljer.qmd)" in msg
    assert "second level-1 heading" in msg


def test_level3_heading_directly_under_a_chapter(project):
    p = project / "kap/99_datakilder.qmd"
    p.write_text(
        p.read_text(encoding="utf-8").replace(
            "# Datakilder {#sec-datakilder}\n", "# Datakilder {#sec-datakilder}\n\n### For dypt\n\nTekst.\n"
        ),
        encoding="utf-8",
    )
    msg = _render_error(project)
    assert msg.startswith("kap/99_datakilder.qmd:")
    assert "A.0.1" in msg or "skips a level" in msg  # (the accessibility check may name it first)


def test_figure_in_an_unnumbered_chapter(project):
    p = project / "kap/02_situasjonen.qmd"
    p.write_text(
        p.read_text(encoding="utf-8").replace("{#sec-situasjonen}", "{#sec-situasjonen .unnumbered}"), encoding="utf-8"
    )
    msg = _render_error(project)
    assert msg.startswith("kap/02_situasjonen.qmd:") and "unnumbered chapter" in msg and "fig-alder" in msg


def test_index_headings_are_unnumbered(rendered):
    """Quarto: headings in index.qmd are unnumbered by default; so are headings in an
    unnumbered chapter."""
    html = rendered["html"]
    at = html.index("Om denne utgaven")
    assert "header-section-number" not in html[at - 200 : at]


@pytest.mark.parametrize(
    "text, needle",
    [
        ('::: {.content-visible when-profile="intern"}\nTekst.\n:::', "profile"),
        ('::: {.content-visible .callout-note when-meta="kg-plan-region"}\nTekst.\n:::', "conditional div"),
    ],
)
def test_unsupported_conditional_content(project, text, needle):
    _append(project, "kap/99_datakilder.qmd", text)
    msg = _render_error(project)
    assert needle in msg and "kap/99_datakilder.qmd" in msg


# --------------------------------------------------------------------------------------------
# The project's Quarto configuration (no Quarto here: asserted against Quarto's documentation)
# --------------------------------------------------------------------------------------------
def _project_quarto() -> dict:
    import yaml

    return yaml.safe_load((REPO / "_quarto.yml").read_text(encoding="utf-8"))


def test_quarto_book_configuration():
    q = _project_quarto()
    # index.qmd has its own title heading (https://quarto.org/docs/books/book-structure.html:
    # "In the absence of a level-one header or a title set in the YAML front matter, the first
    # header in the page will be used as the title"; an included heading is not seen, so the
    # sidebar said "index.html" and every chapter was one off)
    assert q["book"]["chapters"][0] == "index.qmd"
    first = (REPO / "index.qmd").read_text(encoding="utf-8").lstrip().splitlines()[0]
    assert first.startswith("# ") and ".unnumbered" in first
    # no `crossref: chapters: false` (https://quarto.org/docs/books/book-crossrefs.html; in a
    # book it made the HTML section numbers drop the chapter: "1 Overordnede…" for 2.1)
    assert "chapters" not in (q.get("crossref") or {})
    assert q["crossref"]["title-delim"] == "."  # "Figur 1. Tittel" (Quarto's default is ":")
    assert q["language"]["crossref-apx-prefix"] == "vedlegg"
    # no notebook-links/notebook-view: Quarto books ignore them (quarto-cli
    # src/format/html/format-html-notebook.ts); the staged sources carry the links instead
    html = q["format"]["html"]
    assert "notebook-links" not in html and "notebook-view" not in html
    # Quarto's own word for the link is the same as the project's «Vis notatboken»
    assert q["language"]["source-notebooks-prefix"] == "Vis notatboken"
    # the figure data is published with the book (project resources)
    assert "figurdata/*.csv" in q["project"]["resources"]
    # conditional content key for the plan's region
    assert q["kg-plan-region"] is True


def test_quarto_typst_book_format_uses_the_project_cover():
    """Quarto >= 1.9 renders Typst books with its orange-book format (own cover, figures per
    chapter) unless another Typst book format extension is chosen: `kg-typst` from
    _extensions/kg calls the project's article() with the cover fields."""
    import yaml

    q = _project_quarto()
    assert "typst" not in q["format"], "plain `typst` would use Quarto's orange-book cover"
    kg = q["format"]["kg-typst"]
    assert kg["template-partials"] == ["report/assets/typst-template.typ"]
    assert kg["section-numbering"] == "1.1.1" and kg["papersize"] == "a4"
    ext = yaml.safe_load((REPO / "_extensions/kg/_extension.yml").read_text(encoding="utf-8"))
    typst = ext["contributes"]["formats"]["typst"]
    assert typst["template-partials"] == ["typst-show.typ"]
    assert typst["filters"] == [{"path": "kg-book.lua", "at": "post-quarto"}]
    show = (REPO / "_extensions/kg/typst-show.typ").read_text(encoding="utf-8")
    assert "article(" in show and '#set figure(numbering: "1")' in show
    partial = (REPO / "report/assets/typst-template.typ").read_text(encoding="utf-8")
    for name in (
        "#let article(",
        "#let kg-part(",
        "#let kg-appendix-start(",
        "kg-report-number",
        "$report-number$",
        "$publisher$",
        "$edition-note$",
    ):
        assert name in partial, name
    lua = (REPO / "_extensions/kg/kg-book.lua").read_text(encoding="utf-8")
    for name in ("#kg-part[", "#kg-appendix-start()", '"A.1.1"', "unnumbered", "bookItemType"):
        assert name in lua, name
    # every argument typst-show passes is one article() reads
    import re

    passed = set(re.findall(r"^\s+(\w+):", show, re.M))
    read = set(re.findall(r'a\.at\("(\w+)"', partial))
    assert passed <= read, passed - read


def test_fallback_reads_the_kg_typst_format(tmp_path):
    from kunnskapsgrunnlag.render.fallback import typst_format

    q = _project_quarto()
    name, cfg = typst_format(q)
    assert name == "kg-typst" and cfg["papersize"] == "a4"
    assert typst_format({"format": {"typst": {"toc": True}}}) == ("typst", {"toc": True})


QUARTO_API_MOCK = r"""
-- The parts of Quarto's Lua API that kg-book.lua uses, for running it under plain pandoc:
-- book item markers are HTML comments "<!-- item:TYPE N -->" in the test document.
local current = nil
quarto = {
  doc = {
    is_format = function(f) return f == "typst" end,
    file_metadata = function() return { file = current } end,
  },
  utils = {
    file_metadata_filter = function()
      return { RawBlock = function(el)
        local item, n = el.text:match("<!%-%- item:(%w+) (%d+) %-%->")
        if item then current = { bookItemType = item, bookItemNumber = tonumber(n) }; return {} end
      end }
    end,
    combineFilters = function(fs)
      return { RawBlock = fs[1].RawBlock, Header = fs[2].Header }
    end,
  },
}
return dofile(KG_BOOK_LUA)
"""

QUARTO_BOOK_MD = """\
---
number-depth: 3
---
<!-- item:chapter 1 -->

# Forord {.unnumbered}

## Under forordet

#### Om denne utgaven

<!-- item:chapter 2 -->

# Innledning

## Bakgrunn

### Detalj

#### Dyp

<!-- item:part 1 -->

# Første del

<!-- item:chapter 3 -->

# Situasjonen

## Befolkning

<!-- item:appendix 1 -->

# Vedlegg {.unnumbered}

<!-- item:appendix 2 -->

# Datakilder

## Statistikk
"""


def test_quarto_typst_pieces_compile_with_the_project_partial(tmp_path):
    """What Quarto's kg-typst format assembles, built here without Quarto: kg-book.lua run by
    pandoc (Quarto's Lua API mocked), the extension's typst-show.typ call and the project's
    partial, compiled by Typst. The cover carries the report number, headings in the unnumbered
    Forord are unnumbered (no "0.0.0.1"), chapters count from Innledning, the appendix is "A",
    and figures/tables are numbered through the book."""
    import re
    import subprocess

    import typst

    from kunnskapsgrunnlag.render.fallback import pandoc_path

    (tmp_path / "harness.lua").write_text(
        QUARTO_API_MOCK.replace("KG_BOOK_LUA", repr(str(REPO / "_extensions/kg/kg-book.lua"))), encoding="utf-8"
    )
    (tmp_path / "book.md").write_text(QUARTO_BOOK_MD, encoding="utf-8")
    body = subprocess.run(
        [pandoc_path(), "book.md", "-t", "typst", "--lua-filter", "harness.lua"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    partial = (REPO / "report/assets/typst-template.typ").read_text(encoding="utf-8")
    fields = {
        "publisher": "Buskerud fylkeskommune",
        "report-number": "R1023460",
        "edition-note": "Utgave 2026, reprodusert fra åpne data",
    }
    partial = re.sub(
        r"\$if\(([\w-]+)\)\$\[\$[\w-]+\$\]\$else\$none\$endif\$", lambda m: f"[{fields[m.group(1)]}]", partial
    )
    # typst-show.typ with the values Quarto fills in for this project's _quarto.yml
    show = (REPO / "_extensions/kg/typst-show.typ").read_text(encoding="utf-8")
    values = {
        "title": "Kunnskapsgrunnlag til Buskerudplanen",
        "subtitle": "Del 1",
        "date": "2. februar 2026",
        "lang": "nb",
        "papersize": "a4",
        "fontsize": "10.5pt",
        "section-numbering": "1.1.1",
        "toc-depth": "2",
        "toc-title": "Innhold",
    }
    show = re.sub(
        r"\$if\(by-author\)\$.*?\$endif\$\n",
        "  authors: ((name: [Agenda Kaupang og Asplan Viak]),),\n",
        show,
        flags=re.S,
    )
    show = re.sub(r"\$if\(margin\)\$.*?\$endif\$\n", "  margin: (x: 2.5cm, y: 2.5cm,),\n", show, flags=re.S)
    show = (
        show.replace("$if(lang)$$lang$$else$nb$endif$", "nb")
        .replace("$if(papersize)$$papersize$$else$a4$endif$", "a4")
        .replace("$if(toc)$true$else$false$endif$", "true")
    )
    show = re.sub(
        r"\$if\(([\w-]+)\)\$\n(.*?)\$endif\$\n",
        lambda m: m.group(2).replace(f"${m.group(1)}$", values[m.group(1)]),
        show,
        flags=re.S,
    )
    assert "$" not in show, show
    doc = (
        partial
        + "\n"
        + show
        + "\n"
        + body
        + '\n#figure(rect(), caption: [Tabellen], kind: "quarto-float-tbl", supplement: "Tabell") <tbl-a>\n'
        + "Se @tbl-a.\n"
    )
    (tmp_path / "book.typ").write_text(doc, encoding="utf-8")
    typst.compile(str(tmp_path / "book.typ"), output=str(tmp_path / "book.pdf"))
    pages = [_norm(p.extract_text() or "") for p in pypdf.PdfReader(str(tmp_path / "book.pdf")).pages]
    assert "R1023460" in pages[0] and "Rapportnummer" in pages[0] and "Buskerud fylkeskommune" in pages[0]
    assert "Utgave 2026, reprodusert fra åpne data" in pages[0]
    full = " ".join(pages)
    assert "Forord Under forordet Om denne utgaven" in full and "0.0.0.1" not in full and "0.1" not in full
    assert "1 Innledning 1.1 Bakgrunn 1.1.1 Detalj Dyp" in full
    assert "2 Situasjonen 2.1 Befolkning" in full
    assert "A Datakilder A.1 Statistikk" in full
    assert "Tabell 1: Tabellen" in full and "Se Tabell 1." in full
    assert any(p.startswith("Første del") for p in pages) and any(p.startswith("Vedlegg") for p in pages)


def test_staged_site_gets_the_project_extension(tmp_path):
    from kunnskapsgrunnlag.render import ensure_extensions

    site = tmp_path / "site"
    site.mkdir()
    copied = ensure_extensions(site)
    assert site / "_extensions" / "kg" in copied
    assert (site / "_extensions/kg/_extension.yml").read_text(encoding="utf-8") == (
        REPO / "_extensions/kg/_extension.yml"
    ).read_text(encoding="utf-8")
    assert ensure_extensions(site) == []  # an existing extension is left alone
