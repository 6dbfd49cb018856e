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

pypdf = pytest.importorskip("pypdf")

REPO = Path(__file__).resolve().parents[1]

QUARTO_YML = """\
project:
  type: book
  output-dir: _book
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

FORORD = """\
# Forord {#sec-forord .unnumbered}

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
        for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _notebook(path: Path) -> None:
    import base64
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Testnotatbok"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell(
            '#| label: fig-alder\n'
            '#| fig-cap: "Aldersbæreevne i Buskerud og landet, 2020–2025. Kilde: SSB, tabell 07459."\n'
            '#| fig-alt: "Linjediagram over aldersbæreevnen i Buskerud og i hele landet"\n'
            'plot()',
            outputs=[nbformat.v4.new_output(
                "display_data",
                data={"image/png": base64.b64encode(_png()).decode(), "text/plain": "<Figure>"})]),
        nbformat.v4.new_code_cell(
            '#| label: tbl-levekaar\n'
            '#| tbl-cap: "Levekårsindeks for kommunene i Buskerud. Kilde: SSB og Agenda Kaupang."\n'
            'table()',
            outputs=[nbformat.v4.new_output(
                "display_data", data={"text/markdown": TABLE_MD, "text/plain": "<Markdown>"})]),
        nbformat.v4.new_code_cell(
            '#| label: txt-oppsummering\nsummary()',
            outputs=[nbformat.v4.new_output(
                "display_data",
                data={"text/markdown": "Som @fig-alder viser, er bæreevnen **lavere** i Buskerud.",
                      "text/plain": "<Markdown>"})]),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def make_project(root: Path) -> Path:
    files = {
        "_quarto.yml": QUARTO_YML,
        "_variables.yml": VARIABLES_YML,
        "index.qmd": "{{< include /kap/00_forord.qmd >}}\n",
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
    html = res["html"].read_text(encoding="utf-8")
    return {"root": root, "out": out, "res": res, "html": html, "pages": pages,
            "reader": reader, "seconds": seconds}


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


def test_html_page(rendered):
    html = rendered["html"]
    text = _html_text(html)
    assert '<html lang="nb">' in html
    # cover header
    for s in ("Testrapport for Buskerud", "Del 1 – Et lite testkunnskapsgrunnlag", "Buskerud fylkeskommune",
              "2. februar 2026", "R-0042", "Testutgave, reprodusert fra åpne data"):
        assert s in text, s
    assert 'href="testrapport.pdf"' in html
    # search box + script, sidebar toc
    assert 'id="search-input"' in html and "assets/search.js" in html
    assert (rendered["out"] / "assets" / "search.js").exists()
    assert (rendered["out"] / "assets" / "book.css").exists()
    assert 'id="toc"' in html
    toc = html[html.index('id="toc"'):html.index("</nav>")]
    for s in ("Forord", "Første del", "1</span>Innledning", "1.1</span>Bakgrunn",
              "2</span>Situasjonen i Buskerud", "Vedlegg", "A</span>Datakilder"):
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
    assert 'header-section-number">' not in html[html.index("Forord") - 200:html.index("Forord")]
    assert "Ikke nummerert" in html and "header-section-number\">1.1.1.1" not in html
    # cross-references are links with the numbers
    assert '<a href="#fig-alder" class="kg-xref">Figur 1</a>' in html.replace("\xa0", " ")
    assert '<a href="#tbl-levekaar" class="kg-xref">Tabell 1</a>' in html.replace("\xa0", " ")
    assert "(vedlegg A)" in text
    assert "Figur 1 viser det samme" in text  # @Fig-alder
    assert "Se også kapittel 1.1.1 og kapittel 2." in text
    # e-mail addresses untouched
    assert "ola.nordmann@bfk.no" in html and "post@example.org" in html
    # verbatim markdown embed with a resolved reference
    assert "Som Figur 1 viser, er bæreevnen" in text and "<strong>lavere</strong>" in html


def test_html_figures_tables_callouts(rendered):
    html = rendered["html"]
    text = _html_text(html)
    assert '<figure class="kg-figure" id="fig-alder">' in html
    assert '<img src="figures/fig-alder.png" alt="Linjediagram over aldersbæreevnen i Buskerud og i hele landet"' in html
    assert "<figcaption>" in html and "Figur 1. Aldersbæreevne i Buskerud og landet, 2020–2025." in text
    assert "Kilde: SSB, tabell 07459." in text
    assert 'id="tbl-levekaar"' in html and "Tabell 1. Levekårsindeks for kommunene i Buskerud." in text
    assert "<th" in html and "Kommune" in html and "Drammen" in html
    # notebook links and the converted notebook
    assert html.count("Vis notatboken") == 2
    assert 'href="notebooks/02_test.html#cell-id=' in html
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
    for s in ("Testrapport for Buskerud", "Del 1 – Et lite testkunnskapsgrunnlag", "Buskerud fylkeskommune",
              "2. februar 2026", "R-0042", "Testutgave, reprodusert fra åpne data", "Agenda Test og Asplan Prøve"):
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
    assert '#set text(lang: lang' in typ or 'lang: "nb"' in typ


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


@pytest.mark.parametrize("text, needle", [
    ("{{< pagebreak >}}", "unsupported shortcode"),
    ("::: {.column-margin}\nI margen.\n:::", "column-margin"),
    ("::: {.callout-note}\nAldri lukket.", "never closed"),
    ("![Et bilde](bilde.png)", "images in the text"),
    ("Utslipp av CO<sub>2</sub> i fylket.", "raw html"),
])
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
    monkeypatch.setattr(render_mod, "render_fallback",
                        lambda root, out: calls.append((root, out)) or {"html": Path("h"), "pdf": Path("p")})
    assert render(project, None, renderer="auto")["renderer"] == "pandoc"
    assert calls == [(project.resolve(), None)]


def test_helpers():
    assert format_date("2026-02-02", "D. MMMM YYYY") == "2. februar 2026"
    assert format_date("2026-11-09", "DD.MM.YYYY") == "09.11.2026"
    assert escape_typst("a#b[c]*d_e@f$g<h>`i\\j") == "a\\#b\\[c\\]\\*d\\_e\\@f\\$g\\<h\\>\\`i\\\\j"


def test_quarto_assets_match_the_fallback():
    """The Quarto typst partial and the fallback's copy are the same file (one look)."""
    asset = REPO / "report" / "assets" / "typst-template.typ"
    if not asset.exists():
        pytest.skip("report/assets/typst-template.typ not present")
    packaged = REPO / "kunnskapsgrunnlag" / "render" / "templates" / "typst-template.typ"
    assert asset.read_text(encoding="utf-8") == packaged.read_text(encoding="utf-8")
    css = REPO / "report" / "assets" / "style.css"
    assert css.exists() and ".callout" in css.read_text(encoding="utf-8")
