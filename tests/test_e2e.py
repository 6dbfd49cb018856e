"""End-to-end: an offline build in a temporary copy of the project, read back from PDF and HTML."""

from __future__ import annotations

import html as htmlmod
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from kunnskapsgrunnlag.config import load_project
from kunnskapsgrunnlag.render.html_book import book_html

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e
PDF_NAME = "Kunnskapsgrunnlag-til-Buskerudplanen-Del-1.pdf"


def norm(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u00ad", "")
    return re.sub(r"\s+", " ", text)


from helpers import BOOK, BUILD, cli, copy_tree  # noqa: E402  (tests/helpers.py)


@pytest.fixture(scope="module")
def built(built_project, built_project_log):
    """The session's offline build (conftest.built_project), read back; tests that change anything copy it."""
    proj = built_project
    pdf = proj / BOOK / PDF_NAME
    return {
        "proj": proj,
        "log": built_project_log,
        "pdf_pages": [norm(p.extract_text() or "") for p in PdfReader(pdf).pages],
        "html": book_html(proj / BOOK),  # every chapter page (one per chapter, as Quarto), in book order
        "vars": yaml.safe_load((proj / BUILD / "_variables.yml").read_text(encoding="utf-8")),
    }


def html_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return norm(htmlmod.unescape(re.sub(r"<[^>]+>", " ", html)))


def test_outputs_exist(built):
    proj = built["proj"]
    # one page per chapter, as Quarto's book: the Forord is index.html, the chapters under report/
    assert (proj / BOOK / "index.html").exists()
    chapters = sorted((proj / BOOK / "report").glob("*.html"))
    assert len(chapters) >= 6 and sum(p.stat().st_size for p in chapters) > 50_000
    assert not (proj / BOOK / "_build").exists()  # the renderer's working files are not published
    assert len(built["pdf_pages"]) >= 40
    assert (proj / BUILD / "notebooks" / "02_situasjonen.ipynb").exists()
    assert (proj / BUILD / "changes.md").exists()


def test_published_book_has_no_machine_paths(built):
    """Relative paths only: no file of _book/ (HTML, notebook pages, scripts, search data, the
    PDF's text) contains the project's absolute path or /tmp/, /home/, /root/."""
    from kunnskapsgrunnlag.render import machine_paths

    found = machine_paths(built["proj"] / "_book", built["proj"])
    assert found == [], found


def test_every_chapter_and_section_heading_in_pdf_and_html(built):
    pdf = " ".join(built["pdf_pages"])
    html = html_text(built["html"])
    titles = [
        "Forord",
        "Sammendrag",
        "Innledning og bakgrunn",
        "Situasjonen i Buskerud",
        "Kunnskapsgjennomgang for satsingsområdene",
        "Konklusjon",
        "Datakilder",
        "Kunnskapsoversikt",
    ]
    titles += [a["title"] for a in load_project()["satsingsomraader"]]
    for t in titles:
        assert t in pdf, f"PDF lacks {t!r}"
        assert t in html, f"HTML lacks {t!r}"
    for sec in ["3.1 Læringsløp Buskerud", "3.10 Kulturverdier som fortrinn", "2.1", "5.2"]:
        assert sec in pdf, sec


def test_figure_captions_with_sources_and_numbers(built):
    pdf = " ".join(built["pdf_pages"])
    assert re.search(
        r"Figur 1\. Aldersbæreevne: personer 16–66 år.*?\(erstatter Figur 1 i R1023460\)\. "
        r"Kilde: SSB, tabell 07459 og 14288",
        pdf,
    )
    assert re.search(
        r"Figur \d+\. De tre utviklingsmålene og satsingsområdene i Buskerudplanen "
        r"\(tilsvarer Figur 2 i R1023460\)\. Kilde: Planprogram",
        pdf,
    )
    assert re.search(r"Tabell 1\. Levekårsindeks for kommunene i Buskerud", pdf)
    assert re.search(r"Tabell \d+\. Deltakere på arbeidsmarkedstiltak", pdf)
    # computed aldersbæreevne, decimal comma, in the prose
    ab = built["vars"]["ab"]
    assert (ab["norge"], ab["buskerud"], ab["innlandet_2des"]) == ("3,9", "3,6", "2,96")
    assert "3,6" in pdf and "3,9" in pdf and "2,96" not in pdf  # one decimal throughout (Innlandet 3,0)
    # Table 2 computed shares appear formatted
    assert "1,46 %" in pdf and "52 315" in pdf


def test_missing_data_visible_with_query(built):
    pdf = " ".join(built["pdf_pages"])
    html = html_text(built["html"])
    # the reader reads a statement about the data; the query is in the HTML's technical appendix
    assert "Tallene var ikke tilgjengelige da denne utgaven ble laget (SSB, tabell 07984)." in pdf
    assert "Tallene var ikke tilgjengelige da denne utgaven ble laget (SSB, tabell 07984)." in html
    assert 'href="https://data.ssb.no/api/pxwebapi/v2/tables/07984/data?' in built["html"]
    assert "data.ssb.no" not in pdf and "uten nett" not in pdf
    assert "MISSING sysselsetting_07984" in built["log"]
    assert "data/raw/manual/skadehendelser.csv" in html.replace(" ", "")  # the technical appendix (HTML only)


def test_html_figures_have_alt_text_and_notebook_links(built):
    proj, html = built["proj"], built["html"]
    imgs = re.findall(r"<img[^>]*>", html)
    # the figures the book shows: a figure whose data are entirely missing is a sentence, not a figure
    from kunnskapsgrunnlag import appendix

    n_figs = sum(1 for label in appendix.edition_numbers(proj / BUILD / "site") if label.startswith("fig-"))
    notes = len(re.findall(r'<figure class="kg-figure kg-missing"', html))  # «Data mangler» notes: text, no image
    assert len(imgs) + notes == n_figs and len(imgs) >= 10
    assert all(re.search(r'alt="[^"]{20,}"', i) for i in imgs)
    links = set(re.findall(r'href="(?:\.\./)?(notebooks/[\w]+\.html)(?:#[^"]*)?"', html))
    assert "notebooks/02_situasjonen.html" in links
    for link in links:
        assert (proj / BOOK / link).exists(), link
    nb = (proj / BOOK / "notebooks" / "02_situasjonen.html").read_text(encoding="utf-8")
    assert "calc.aldersbaereevne" in htmlmod.unescape(nb)  # the reviewer sees the cells


def test_notebook_pages_skip_only_a_sanitizer_pass_that_removes_nothing(built):
    """The notebook template shows a code cell's source without nbconvert's clean_html (bleach) pass
    over pygments' output (render/templates/notebook/index.html.j2, block input). That is safe only
    because pygments escapes every character of the source: on every executed notebook, bleach must
    leave the highlighted source exactly as it is, and the page must show it highlighted."""
    import nbformat
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.strings import clean_html

    highlight = Highlight2HTML(pygments_lexer="ipython3")
    cells = 0
    for path in sorted((built["proj"] / BUILD / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and cell.source.strip():
                html = highlight(cell.source, metadata=cell.metadata)
                assert clean_html(html) == html, (path.name, cell.source[:80])
                cells += 1
    assert cells >= 50
    page = (built["proj"] / BOOK / "notebooks" / "02_situasjonen.html").read_text(encoding="utf-8")
    assert '<div class="highlight hl-ipython3"><pre>' in page and "<script" not in page.split("<body")[1]


def _allowed_numbers(built) -> set[str]:
    def flatten(d):
        for v in d.values():
            yield from (flatten(v) if isinstance(v, dict) else [str(v)])

    allowed = set()
    for v in flatten(built["vars"]):
        allowed |= set(re.findall(r"\d+(?:[ ,]\d+)*", norm(v)))
    facts = yaml.safe_load((ROOT / "config" / "cited_facts.yml").read_text(encoding="utf-8"))
    for f in facts:
        allowed |= set(re.findall(r"\d+(?:[ ,]\d+)*", norm(str(f["value"]))))
    return allowed


class ProseText(HTMLParser):
    """Text of the prose only: skips figures, tables, captions, headings, navigation and the appendix."""

    SKIP_TAGS = {"figure", "table", "nav", "header", "script", "style", "h1", "h2", "h3", "h4", "h5", "h6", "code"}
    SKIP_CLASSES = {"kg-table", "kg-caption", "kg-source-line", "kg-figure", "kg-notebook", "kg-source"}
    VOID = {"img", "br", "hr", "meta", "link", "input", "col", "wbr", "source"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        skip = (
            tag in self.SKIP_TAGS
            or bool(set((a.get("class") or "").split()) & self.SKIP_CLASSES)
            or a.get("id") in ("sec-datakilder", "sec-teknisk")
        )  # the appendices
        self.stack.append(skip or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def test_no_statistic_in_the_prose_is_typed_by_hand(built):
    """Every numeral of the rendered prose is a variable, a year, a chapter/figure/table number,
    part of a citation, or a registered cited fact / definition (config/cited_facts.yml)."""
    parser = ProseText()
    body = built["html"][built["html"].find("<main") :]
    parser.feed(body)
    text = norm(htmlmod.unescape(" ".join(parser.parts)))
    assert "Læringsløp" in text and len(text) > 50_000  # the prose is really there
    text = re.sub(r"\((?:[^()]*?\b(?:19|20)\d\d[a-z]?\b[^()]*?)\)", " ", text)  # (Author, 2020; NOU 2018:15)
    text = re.sub(
        r"\b(?:Figur|Tabell|kapittel|kapitlene|Kapittel|avsnitt|Del)\s+[\dA-Z][\d.a-z]*"
        r"(?:\s*(?:og|–|-)\s*[\d.]+)*",
        " ",
        text,
    )
    text = re.sub(r"\b(?:NOU|St\.meld\.|Meld\. St\.)\s*[\d:() ]+", " ", text)
    allowed = _allowed_numbers(built)
    allowed_compact = {a.replace(" ", "") for a in allowed}
    bad = []
    for m in re.finditer(r"\d+(?:[ ,]\d{3})*(?:,\d+)?", text):
        num = m.group(0)
        if re.fullmatch(r"(19|20)\d\d", num):
            continue  # a year
        if num in allowed or num.replace(" ", "") in allowed_compact:
            continue
        bad.append(text[max(0, m.start() - 60) : m.end() + 40])
    assert not bad, "numerals typed by hand (register them or use a variable):\n" + "\n".join(bad[:20])


def test_noop_rebuild_executes_no_notebook(built, tmp_path):
    p = cli(copy_tree(built["proj"], tmp_path / "proj"), "build", "--jobs", "2", "--renderer", "pandoc")
    out = norm(p.stderr + p.stdout)
    assert "Notebooks: 0 ran, 12 unchanged" in out
    assert "unchanged, not re-rendered" in out


def test_failing_notebook_is_named_with_its_cell_and_last_good_output_kept(built, tmp_path):
    import nbformat

    proj = copy_tree(built["proj"], tmp_path / "proj")
    src = proj / "notebooks" / "03_02_livsmestring.ipynb"
    good = proj / BUILD / "notebooks" / "03_02_livsmestring.ipynb"
    original, good_before = src.read_bytes(), good.read_bytes()
    nb = nbformat.read(src, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    nb.cells[code_cells[2]].source += "\nraise ValueError('testfeil i notatboken')"
    nbformat.write(nb, src)
    try:
        p = cli(proj, "build", "--only", "03_02_livsmestring", "--renderer", "pandoc", check=False)
        out = norm(p.stderr + p.stdout)
        assert p.returncode == 1
        assert f"Notebook 03_02_livsmestring failed in cell {code_cells[2]}" in out
        assert "ValueError: testfeil i notatboken" in out
        assert good.read_bytes() == good_before  # the last good output is kept
        assert (proj / BUILD / "notebooks" / "03_02_livsmestring.failed.ipynb").exists()
    finally:
        src.write_bytes(original)


def test_tampered_raw_file_stops_the_build_and_loses_nothing(built, tmp_path):
    proj = copy_tree(built["proj"], tmp_path / "proj")
    raw = proj / "data" / "raw"
    target = next((raw / "neet_13563").glob("*.csv"))
    before = {p: p.read_bytes() for p in raw.rglob("*") if p.is_file() and p != target}
    book_before = (proj / BOOK / "index.html").read_bytes()
    original = target.read_bytes()
    target.chmod(0o644)
    target.write_text(target.read_text().replace("10.6", "12.6"))
    try:
        p = cli(proj, "build", "--jobs", "2", "--force", "--renderer", "pandoc", check=False)
        out = norm(p.stderr + p.stdout)
        assert p.returncode != 0
        assert target.name in out and "sha256 mismatch" in out
        assert {q: q.read_bytes() for q in before} == before
        assert (proj / BOOK / "index.html").read_bytes() == book_before
        assert target.exists()
    finally:  # later tests of the same build read this raw file
        target.write_bytes(original)


def test_bad_region_and_year_are_rejected_by_the_cli(built):
    p = cli(built["proj"], "build", "--region", "99", check=False)
    assert p.returncode == 2 and "Valid fylker" in norm(p.stderr) and "33 Buskerud" in norm(p.stderr)
    p = cli(built["proj"], "build", "--edition", "2031", check=False)
    assert p.returncode == 2 and "Valid editions: 2025, 2026" in norm(p.stderr)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(url: str, profile: Path) -> str:
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=3000",
        "--dump-dom",
        url,
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_headless_browser_follows_a_figure_notebook_link(built, tmp_path):
    """Chromium opens the HTML book, follows Figure 1's notebook link and finds the notebook's cells."""
    if not _chromium():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    book = built["proj"] / BOOK
    dom = dump_dom((book / "report" / "02_situasjonen.html").as_uri(), tmp_path / "profile")
    fig = dom[dom.find('id="fig-aldersbaereevne"') :]
    assert fig, "Figure 1 not in the rendered DOM"
    href = re.search(
        r'<a[^>]*class="kg-notebook"[^>]*href="([^"]+)"'
        r'|<a[^>]*href="([^"]+)"[^>]*class="kg-notebook"',
        fig,
    )
    assert href, "no notebook link under Figure 1"
    target = (book / "report" / (href.group(1) or href.group(2)).split("#")[0]).resolve()
    nb_dom = htmlmod.unescape(dump_dom(target.as_uri(), tmp_path / "profile"))
    assert "02_situasjonen" in target.name
    assert "calc.aldersbaereevne" in nb_dom and "#| label: fig-aldersbaereevne" in nb_dom
    assert re.search(r'class="[^"]*(jp-CodeCell|code_cell|jp-Cell)', nb_dom), "no notebook cells in the page"


def test_every_drawn_figure_and_table_links_its_csv_with_exactly_the_data_drawn(built):
    """HTML: «Last ned tallene (CSV)» for every figure and table that has data; the link resolves
    to figurdata/<label>.csv in the book, whose `#` header names title, source and configuration,
    and whose rows are the data drawn (checked for Figure NEET against the raw 13563 table)."""
    import pandas as pd

    proj, html = built["proj"], built["html"]
    links = re.findall(r'<a href="(?:\.\./)?([^"]+)" class="kg-csv"', html)
    drawn = re.findall(r'<figure class="kg-figure" id="(fig-[\w-]+)"', html)
    tables = re.findall(r'<div class="kg-table" id="(tbl-[\w-]+)"', html)
    assert len(links) >= 10
    for href in links:
        f = proj / BOOK / href
        assert f.exists(), href
        head = [line for line in f.read_text(encoding="utf-8").splitlines()[:3]]
        assert head[1].startswith("# Kilde:") and "Konfigurasjon: utgave 2026, region 33" in head[2], href
    for label in [
        "fig-aldersbaereevne",
        "fig-neet",
        "fig-gjennomforing",
        "fig-framskriving",
        "tbl-levekaar",
        "tbl-tiltak",
    ]:
        assert f"figurdata/{label}.csv" in links, label
        assert label in drawn + tables, label
    neet = pd.read_csv(proj / BOOK / "figurdata" / "fig-neet.csv", comment="#", dtype={"region_code": str})
    # the CSV holds the bars drawn: one per fylke, the values the figure's text reports
    v = built["vars"]["neet"]

    def num(x) -> float:
        return float(str(x).replace(",", "."))

    assert len(neet) == int(v["n_fylker"]) == 15 and set(neet.year) == {2024}
    assert neet.set_index("region_code").loc["33", "neet_share"] == num(v["region"]) == 10.6
    assert neet.neet_share.max() == num(v["hoyest"]) and neet.neet_share.min() == num(v["lavest"])
    assert "Last ned tallene" not in " ".join(built["pdf_pages"])
