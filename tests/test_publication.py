"""A publication, not a build log (issue 17): honest cover, PDF metadata and forord from the
configuration; the reader's language before the technical appendix; two appendices; one figure
numbering per format; computed contrasts. The book tests read the session's default build
(`built_project`); the region 40 test builds Telemark (slow)."""

from __future__ import annotations

import csv
import html as htmlmod
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import BOOK, BUILD, PDF_NAME, ROOT, cli, copy_project
from kunnskapsgrunnlag.render.html_book import book_html

pypdf = pytest.importorskip("pypdf")

# Words of the build, not of the reader (whole words; «speiler» the verb and «nettverk» are fine).
BUILD_WORDS = [
    r"kjøring\w*",
    r"offline",
    r"online",
    r"speil(et|ene|fil\w*)?",
    r"nettilgang",
    r"uten nett",
    r"config\w*",
    r"fil(a|en|er|ene)?",
    r"fil-\w+",
    r"query",
    r"spørring\w*",
    r"manifest\w*",
    r"notatbok\w*",
    r"sha256",
]
# English that leaked from the mirror's notes or the catalogue (names such as «Individual
# Placement and Support» are allowed, so only these words are looked for).
ENGLISH = [r"summed", r"mirror", r"published", r"edition", r"only", r"national row", r"key", r"download"]
PATHS = [r"config/", r"data/", r"docs/", r"build/", r"https?:", r"\.ya?ml\b", r"\.ipynb\b", r"\b[0-9a-f]{16,}\b"]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def _offences(text: str) -> list[str]:
    bad = []
    for pat in BUILD_WORDS + ENGLISH:
        bad += [
            text[max(0, m.start() - 50) : m.end() + 30]
            for m in re.finditer(rf"(?<![\w-]){pat}(?![\w-])", text, flags=re.I)
        ]
    for pat in PATHS:
        bad += [text[max(0, m.start() - 50) : m.end() + 30] for m in re.finditer(pat, text)]
    return bad


@pytest.fixture(scope="module")
def book(built_project):
    proj = built_project
    reader = pypdf.PdfReader(str(proj / BOOK / PDF_NAME))
    pages = [_norm(p.extract_text() or "") for p in reader.pages]
    rep = yaml.safe_load((proj / "config" / "project.yml").read_text(encoding="utf-8"))["report"]
    return {
        "proj": proj,
        "reader": reader,
        "pages": pages,
        "rep": rep,
        "html": book_html(proj / BOOK),  # every chapter page, in book order
        "vars": yaml.safe_load((proj / BUILD / "_variables.yml").read_text(encoding="utf-8")),
    }


def _before_technical_appendix(pages: list[str]) -> str:
    """The PDF's text up to the technical appendix (its chapter page, not the table of contents)."""
    start = next(i for i, p in enumerate(pages) if re.match(r"B Teknisk vedlegg", p))
    return " ".join(pages[1:start])  # the cover is checked on its own


def _html_reader_text(html: str) -> str:
    """The HTML book's text up to the technical appendix, without scripts, styles, links to the
    notebooks (the notebook pages are developer material) and the CSV download links."""
    cut = html.find('id="sec-teknisk"')
    html = html[: cut if cut > 0 else len(html)]
    html = re.sub(r"<(script|style|nav)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<[^>]*class="[^"]*(kg-notebook|kg-csv)[^"]*"[^>]*>.*?</[^>]+>', " ", html, flags=re.S)
    html = re.sub(r"<a [^>]*>Vis notatboken[^<]*</a>", " ", html)
    return _norm(htmlmod.unescape(re.sub(r"<[^>]+>", " ", html)))


# --- cover, metadata, forord --------------------------------------------------------------------


def test_cover_and_metadata_name_this_edition_and_cite_the_original(book):
    from kunnskapsgrunnlag import publication

    rep, cover = book["rep"], book["pages"][0]
    source = publication.source_citation(rep)
    assert source == "Etter R1023460, Agenda Kaupang og Asplan Viak, 2026"
    assert rep["publisher"] in cover and rep["author"] in cover and source in cover
    assert "Regenerert utgave" in cover
    # the status is a computed number: the share of the book's figures and tables from open data
    m = re.search(r"(\d+) av (\d+) figurer og tabeller \((\d+) prosent\) er beregnet fra åpne data", cover)
    assert m, cover
    n_open, n_total, pct = map(int, m.groups())
    assert 0 < n_open < n_total and pct == round(100 * n_open / n_total)
    # n_total is the number of figures and tables numbered in the chapters (not the appendices)
    body = " ".join(book["pages"][: next(i for i, p in enumerate(book["pages"]) if p.startswith("A Datakilder"))])
    numbered = set(re.findall(r"(?:^| )((?:Figur|Tabell) \d+)\. [A-ZÆØÅ]", body))
    assert len(numbered) == n_total
    # the date is the edition's (config) or its newest data's, never the original's
    assert "2. februar 2026" not in cover.split("Dato", 1)[1].split("Utgave", 1)[0]
    meta = book["reader"].metadata
    assert meta["/Author"] == rep["author"] and "Agenda Kaupang" not in meta["/Author"]
    assert "Regenerert utgave" in meta["/Subject"] and source in meta["/Subject"]
    assert rep["publisher"] in meta["/Subject"]
    assert str(book["vars"]["utgave"]["n_apne"]) == str(n_open)


def test_forord_is_written_for_this_edition(book):
    forord = next(p for p in book["pages"] if p.startswith("Forord"))
    v = book["vars"]["utgave"]
    assert "regenerert utgave" in forord and v["utgiver"] in forord and v["dato"] in forord
    assert f"I denne utgaven er {v['andel_apne']} beregnet fra åpne data" in forord
    # the original authors' voice only as a marked quotation, never as this edition's sign-off
    assert "Forfatterne takker" not in forord and not re.search(r"Oslo, 2\. februar 2026\.?$", forord)
    assert "«Eventuelle feil og mangler i rapporten er forfatternes ansvar.»" in forord


def test_edition_date_is_configured_or_the_newest_data_never_the_clock(fetched, monkeypatch):
    import datetime as dt

    from kunnskapsgrunnlag import publication, rawstore

    manifest = rawstore.read_manifest(fetched.raw_dir)["datasets"]
    newest = max(
        dt.date.fromisoformat(e["current"]["retrieved_at"][:10])
        for e in manifest.values()
        if e.get("current", {}).get("status") == "ok"
    )
    assert publication.edition_date(fetched) == newest
    monkeypatch.setitem(fetched.edition_params, "published", "2027-03-01")
    assert publication.edition_date(fetched) == dt.date(2027, 3, 1)


# --- the reader's language -----------------------------------------------------------------------


def test_pdf_text_before_the_technical_appendix_is_the_readers_language(book):
    text = _before_technical_appendix(book["pages"])
    assert "Læringsløp" in text and len(text) > 50_000
    bad = _offences(text)
    assert not bad, "build words, paths or English in the PDF:\n" + "\n".join(bad[:25])


def test_html_text_before_the_technical_appendix_is_the_readers_language(book):
    text = _html_reader_text(book["html"])
    assert "Læringsløp" in text and len(text) > 50_000
    bad = _offences(text)
    assert not bad, "build words, paths or English in the HTML:\n" + "\n".join(bad[:25])


def test_missing_data_is_a_statement_about_the_data(book):
    text = " ".join(book["pages"])
    assert "Tallene var ikke tilgjengelige da denne utgaven ble laget (SSB, tabell 07984)." in text


# --- appendices ------------------------------------------------------------------------------


def test_two_appendices_datakilder_in_both_formats_technical_in_html_and_csv(book):
    pages, html = book["pages"], book["html"]
    datakilder = " ".join(p for p in pages if "A Datakilder" in p[:80])
    for word in ("Kilde", "Innhold", "Periode", "Lisens", "Brukt i", "NLOD"):
        assert word in datakilder
    # the technical appendix is in the HTML (queries as short links) and not in the PDF
    tech = html[html.find('id="sec-teknisk"') :]
    assert "sha256" in tech and "spørring" in tech and 'href="https://data.ssb.no/' in tech
    assert not re.search(r">https?://", tech)  # link text is short, never the address itself
    assert "data.ssb.no" not in " ".join(pages)
    rows = list(csv.DictReader((book["proj"] / BUILD / "datakilder.csv").open(encoding="utf-8")))
    assert {"datasett", "spørring", "adresse", "årgang", "sha256", "opphav", "speil"} <= set(rows[0])
    ok = [r for r in rows if r["status"] == "med"]
    assert ok and all(re.fullmatch(r"[0-9a-f]{64}", r["sha256"]) for r in ok)
    assert any(r["spørring"].startswith("GET https://") for r in rows if r["status"] == "mangler")


# --- one figure numbering per format -----------------------------------------------------------


def test_figure_numbers_agree_between_captions_mapping_table_csv_and_config(book):
    from kunnskapsgrunnlag import appendix
    from kunnskapsgrunnlag.notebook import figure_relations

    proj, text = book["proj"], " ".join(book["pages"])
    site = proj / BUILD / "site"
    pdf_nums, html_nums = appendix.edition_numbers(site), appendix.edition_numbers(site, "html")
    mapping = pd.read_csv(proj / BUILD / "figurdata" / "tbl-originalnummer.csv", comment="#")
    rel = figure_relations(proj)
    for r in mapping.itertuples(index=False):
        orig, pdf_num, html_num, relation = r[0], r[1], r[2], r[3]
        if relation in ("tilsvarer", "erstatter"):
            label = next(k for k, v in rel.items() if v["original"] == orig)
            assert pdf_nums[label] == pdf_num and html_nums[label] == html_num
            # the PDF caption with this number names the same original and relation
            i = text.find(f"{pdf_num}. ", text.find("Innledning og bakgrunn 1.1"))
            assert i > 0 and f"({relation} {orig} i R1023460)" in text[i : i + 900], pdf_num
            # the HTML book shows the per-chapter number
            assert html_num in _norm(htmlmod.unescape(book["html"]))
        elif relation == "ny":
            assert pdf_num in pdf_nums.values()
        else:
            assert relation == "ikke med" and pdf_num == "–"
    # the dwelling-type chart is not the original's Figure 6
    assert "tilsvarer Figur 6 i R1023460" not in text
    # captions never carry the source twice (the image has no source line; the caption has one)
    # (the number also ends sentences that refer to the figure: look at every occurrence)
    segments = [text[m.start() : m.start() + 700] for m in re.finditer(re.escape(pdf_nums["fig-neet"] + ". "), text)]
    assert any(seg.count("Kilde:") == 1 for seg in segments)
    assert all(seg.count("Kilde:") <= 1 for seg in segments)


# --- contrasts ---------------------------------------------------------------------------------


def test_contrast_growth_and_out_migration_is_found_and_worded():
    from kunnskapsgrunnlag import contrasts

    change = pd.DataFrame(
        {
            "region_code": ["1", "2", "3", "4", "5"],
            "region_name": ["Al", "Bø", "Ca", "Do", "Ek"],
            "endring_pst": [9.24, 1.0, -4.0, 2.0, 0.5],
        }
    )
    migration = pd.DataFrame({"region_code": ["1", "2", "3", "4", "5"], "netto_innenlands": [-310, 50, 40, 10, -5]})
    found = contrasts.growth_vs_migration(change, migration, top=1)
    assert [(c.kommune, c.kind, c.growth_rank, c.net_rank) for c in found] == [("Al", "growth", 1, 1)]
    s = contrasts.sentence(found[0], region_name="Fylket", first=2020, last=2026, year=2024)
    assert s.startswith(
        "Al hadde den sterkeste befolkningsveksten av kommunene i Fylket fra 2020 til 2026 (+9,2 prosent)"
    )
    assert "den største innenlandske nettoutflyttingen i 2024 (−310 personer)" in s
    # a decline with the largest in-migration is the mirror case
    found = contrasts.growth_vs_migration(change, migration.assign(netto_innenlands=[5, 1, 90, 2, 3]), top=1)
    assert [(c.kommune, c.kind) for c in found] == [("Ca", "decline")]
    assert contrasts.text(None, migration, region_name="X", first=2020, last=2026, year=2024) == ""


def test_book_states_the_contrast_computed_from_its_data(book):
    text = " ".join(book["pages"])
    sentence = book["vars"]["kontrast"]["tekst"]
    assert sentence.startswith("Ål hadde den sterkeste befolkningsveksten")
    squeeze = lambda t: re.sub(r"\s+", "", t.replace("\u00ad", ""))  # noqa: E731 (line breaks, hyphenation)
    assert squeeze(sentence) in squeeze(text)


# --- another region: cover and metadata ---------------------------------------------------------


@pytest.mark.slow
def test_region_40_cover_and_metadata(tmp_path, mirror):
    proj = copy_project(tmp_path / "proj")
    cli(proj, "report", "--region", "40", "--mirror", str(mirror), "--offline", "--jobs", "2", "--renderer", "pandoc")
    pdf = next((proj / "_book" / "2026-40").glob("*.pdf"))
    reader = pypdf.PdfReader(str(pdf))
    cover = _norm(reader.pages[0].extract_text())
    rep = yaml.safe_load((proj / "config" / "project.yml").read_text(encoding="utf-8"))["report"]
    assert "Telemark" in cover and rep["publisher"] in cover and "Regenerert utgave" in cover
    assert "Etter R1023460, Agenda Kaupang og Asplan Viak, 2026" in cover
    assert re.search(r"\d+ av \d+ figurer og tabeller \(\d+ prosent\) er beregnet fra åpne data", cover)
    assert reader.metadata["/Author"] == rep["author"]
    assert "Telemark" in reader.metadata["/Title"] and "Regenerert utgave" in reader.metadata["/Subject"]
    forord = next(_norm(p.extract_text()) for p in reader.pages if _norm(p.extract_text()).startswith("Forord"))
    assert "Telemark" in forord and "regenerert utgave" in forord
    assert "Forfatterne takker" not in forord
    shutil.rmtree(proj, ignore_errors=True)


def test_no_page_of_the_html_book_is_wider_than_1280_px(book):
    """Long addresses wrap or are links with short text: no horizontal scrollbar at 1 280 px."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for f in [book["proj"] / BOOK / "index.html", *sorted((book["proj"] / BOOK).glob("report/*.html"))]:
            page.goto(Path(f).as_uri())
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1280, f"{f.name} is {width} px wide"
        browser.close()


def test_config_report_block_documents_the_edition_fields():
    rep = yaml.safe_load((ROOT / "config" / "project.yml").read_text(encoding="utf-8"))["report"]
    assert rep["publisher"] and rep["author"] and rep["original"]["report_number"] == "R1023460"
    assert "Agenda Kaupang" not in rep["author"] and "Agenda Kaupang" not in rep["publisher"]


def test_figure_text_is_at_least_7_pt_at_print_size():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kunnskapsgrunnlag import plots

    plots.use_style()
    fig, ax = plt.subplots(figsize=(9.5, 5.2))  # wider than the text: printed at about two thirds
    ax.plot([1, 2], [1, 2], label="Hele landet")
    ax.text(1, 1, "Oppland 81,2", fontsize=7)
    ax.tick_params(labelsize=7.5)
    ax.legend(fontsize=6)
    fig.savefig(io.BytesIO(), format="png")  # IPython's inline display goes through the same call
    scale = plots.print_scale(fig)
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    texts += [ax.xaxis.get_major_ticks()[0].label1, ax.yaxis.get_major_ticks()[0].label1]
    assert scale < 1 and all(t.get_fontsize() * scale >= 7 - 1e-9 for t in texts)
    plt.close(fig)


def _page_fill(page) -> float:
    """How far down the text of a PDF page reaches, as a share of the body height (A4, 2,5 cm margins)."""
    height = float(page.mediabox.height)
    ys: list[float] = []

    def visit(text, cm, tm, _fd, _fs):
        if text.strip():
            ys.append(tm[5] * cm[3] + cm[5])

    page.extract_text(visitor_text=visit)
    body = [y for y in ys if 72 < y < height - 60]  # between the footer and the running header
    return (height - 72 - min(body)) / (height - 144) if body else 0.0


def test_print_layout_boxes_and_tables_whole_pages_filled(book):
    pages, reader = book["pages"], book["reader"]
    header = book["rep"]["title"]
    # every Sammendrag box on one page (its first and last sub-heading together)
    boxes = [i for i, p in enumerate(pages) if "Sammendrag: " in p]
    assert len(boxes) >= 10
    for i in boxes:
        after = pages[i].split("Sammendrag: ", 1)[1]
        assert "Hva sier litteraturen?" in after and "Implikasjoner for regional innsats" in after, i + 1
    # every table shorter than a page: caption, rows and source line on one page
    for n in range(1, 5):
        i = next(i for i, p in enumerate(pages) if re.search(rf"(^| )Tabell {n}\. [A-ZÆØÅ]", p))
        rest = re.split(rf"Tabell {n}\. ", pages[i], maxsplit=1)[1]
        assert "Kilde:" in rest, f"Tabell {n} breaks across pages (p. {i + 1})"
    # nothing runs into the bottom margin (an unbreakable box or table taller than the page would)
    for i, page in enumerate(reader.pages):
        low: list[str] = []

        def visit(text, cm, tm, _fd, _fs, low=low):
            if text.strip() and tm[5] * cm[3] + cm[5] < 60:
                low.append(text.strip())

        page.extract_text(visitor_text=visit)
        assert all(re.fullmatch(r"\d+", t) for t in low), f"page {i + 1}: text in the bottom margin: {low[:5]}"
    # no page under a third full, except the last page of a chapter (the next opens a chapter
    # without the running header), the cover, the contents and the part pages
    for i in range(2, len(pages) - 1):
        chapter_end = not pages[i + 1].startswith(header)
        if not chapter_end and pages[i].startswith(header):
            assert _page_fill(reader.pages[i]) >= 1 / 3, f"page {i + 1} is under a third full"
