"""Accessibility of the built report (issue 13), on one offline build in a temporary copy.

* axe-core (the axe.min.js bundled by the PyPI package axe-playwright-python) runs in Debian's
  headless Chromium, driven by playwright with the system browser (no browser download), over the
  HTML book and every notebook page behind «Vis notatboken»: no serious or critical violation.
* The HTML: heading levels never skip, table captions are the tables' own <caption>, the notebook
  pages are Norwegian, titled with their chapter, offline (no CDN script) and carry the figure's
  own `fig-alt`.
* The PDF, read with pikepdf: tagged, PDF/UA-1 declared (XMP pdfuaid:part=1), title set and
  displayed, author and language set, every Figure has its alt text, captions tagged as Caption,
  heading levels never skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import BOOK, BUILD
from kunnskapsgrunnlag.render import render
from kunnskapsgrunnlag.render.fallback import RenderError, cell_options
from kunnskapsgrunnlag.render.html_book import book_html, page_files
from test_render_fallback import make_project

e2e = pytest.mark.e2e  # the tests on the full offline build; the fallback unit tests are fast


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _need(what: str, reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI: {reason}")
    pytest.skip(reason)


def _axe_js() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        _need("axe-core", "axe-core not installed (pip install -e '.[test]': axe-playwright-python)")
    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    if not path.exists():
        _need("axe-core", f"{path} missing")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict:
    """The small test book of test_render_fallback.py, rendered by the fallback."""
    root = make_project(tmp_path_factory.mktemp("small"))
    res = render(root, root / "_out", renderer="pandoc")
    return {
        "root": root,
        "out": root / "_out",
        "res": res,
        "html": book_html(root / "_out"),
    }  # every chapter page, in book order


@pytest.fixture(scope="module")
def book(built_project) -> dict:
    """The default configuration's book of the session's offline build (read only here)."""
    proj = built_project
    out = proj / BOOK
    pages = [out / "index.html"]
    assert pages[0].exists(), f"the build wrote no {BOOK}/index.html"
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) == 1, f"expected one PDF beside {pages[0]}, found {pdfs}"
    notebooks = sorted((out / "notebooks").glob("*.html"))
    return {
        "proj": proj,
        "out": out,
        "index": pages[0],
        "pdf": pdfs[0],
        "notebooks": notebooks,
        "pages": page_files(out),
        "html": book_html(out),
    }  # one page per chapter, as Quarto


# --------------------------------------------------------------------------------------------
# axe-core in headless Chromium
# --------------------------------------------------------------------------------------------
def _axe_results(pages: list[Path]) -> dict[str, list[dict]]:
    if not _chromium():
        _need("chromium", "chromium not installed (apt-get install chromium; .ci/run installs it)")
    axe = _axe_js()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright", "playwright not installed (pip install -e '.[test]')")
    results: dict[str, list[dict]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True)  # the book must work without a network
            for path in pages:
                page = context.new_page()
                page.goto(path.as_uri(), wait_until="load")
                page.evaluate(axe)
                res = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
                results[path.name if path.parent.name != "notebooks" else f"notebooks/{path.name}"] = res["violations"]
                page.close()
        finally:
            browser.close()
    return results


@e2e
@pytest.mark.slow  # axe-core over 13 pages: 80-125 s on two shared cores, a third of make test's budget
def test_axe_no_serious_or_critical_violation_on_book_and_notebook_pages(book):
    linked = set(re.findall(r'href="(?:\.\./)?notebooks/([\w]+)\.html', book["html"]))
    assert linked and {p.stem for p in book["notebooks"]} >= linked, "a linked notebook page is missing"
    assert len(book["pages"]) >= 8  # one page per chapter
    results = _axe_results([*book["pages"], *book["notebooks"]])
    assert len(results) == len(book["pages"]) + len(book["notebooks"])
    bad = []
    for page, violations in results.items():
        for v in violations:
            if v["impact"] in ("serious", "critical"):
                where = "; ".join(
                    " ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"]) for n in v["nodes"][:3]
                )
                bad.append(f"{page}: {v['impact']} {v['id']} ({len(v['nodes'])}×): {v['help']} — {where}")
    assert not bad, "axe-core violations:\n" + "\n".join(bad)


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    def lum(rgb):
        c = [v / 255 for v in rgb]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@e2e
def test_keyboard_focus_is_visible_at_3_to_1(book):
    """Tab through the first controls of the book: each shows a >= 2 px outline of >= 3:1 against
    what is behind it (white page, or the accent-blue cover)."""
    if not _chromium():
        _need("chromium", "chromium not installed (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    seen = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(book["index"].as_uri(), wait_until="load")
            for _ in range(8):
                page.keyboard.press("Tab")
                seen.append(
                    page.evaluate("""() => {
                    const el = document.activeElement, st = getComputedStyle(el);
                    return {what: el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className,
                            width: parseFloat(st.outlineWidth), style: st.outlineStyle,
                            color: st.outlineColor, cover: !!el.closest('.cover')};
                }""")
                )
        finally:
            browser.close()
    assert any(s["what"].startswith("INPUT#search-input") for s in seen), [s["what"] for s in seen]
    for s in seen:
        rgb = tuple(int(x) for x in re.findall(r"\d+", s["color"])[:3])
        behind = (0x1D, 0x4E, 0x6E) if s["cover"] else (255, 255, 255)
        assert s["style"] != "none" and s["width"] >= 2, f"no visible focus ring on {s['what']}: {s}"
        assert _contrast(rgb, behind) >= 3, f"focus ring of {s['what']} below 3:1: {s}"


# --------------------------------------------------------------------------------------------
# HTML structure
# --------------------------------------------------------------------------------------------
class _Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.levels: list[tuple[int, str]] = []
        self._open: int | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._open, self._text = int(tag[1]), []

    def handle_data(self, data):
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._open and tag == f"h{self._open}":
            self.levels.append((self._open, " ".join("".join(self._text).split())))
            self._open = None


def _skips(levels: list[tuple[int, str]]) -> list[str]:
    out, prev = [], 0
    for level, title in levels:
        if level > prev + 1:
            out.append(f"h{level} {title!r} after h{prev}")
        prev = level
    return out


@e2e
def test_html_heading_levels_never_skip(book):
    parser = _Headings()
    parser.feed(book["html"])
    assert len(parser.levels) > 50
    assert parser.levels[0][0] == 1
    assert not _skips(parser.levels), _skips(parser.levels)


@e2e
def test_html_table_captions_belong_to_their_tables(book):
    html = book["html"]
    blocks = re.findall(r'<div class="kg-table" id="(tbl-[^"]+)">\s*(<table\b.*?</table>)', html, re.S)
    assert len(blocks) == html.count('class="kg-table"') >= 2
    for label, table in blocks:
        m = re.match(r"<table\b[^>]*>\s*<caption>(.*?)</caption>", table, re.S)
        assert m, f"{label}: the caption is not the table's own <caption>"
        # "Tabell 4.1." in a chapter, "Tabell A.1." in the appendix (HTML numbers per chapter, as Quarto's HTML books)
        assert re.search(r"Tabell\s*(\xa0|&nbsp;|\s)([A-Z]|\d+)(\.\d+)*\.", m.group(1)), m.group(1)[:80]


@e2e
def test_notebook_pages_are_norwegian_titled_offline_and_carry_fig_alt(book):
    proj = book["proj"]
    assert len(book["notebooks"]) >= 10
    for page in book["notebooks"]:
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<html[^>]*\blang="nb"', html), page.name
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert page.stem in title and title.strip() != "Notebook", title
        assert not re.search(r"<script[^>]*\bsrc=\"(https?:)?//", html), f"{page.name} loads a script from the network"
        assert not re.search(r"<link[^>]*\bhref=\"(https?:)?//", html), (
            f"{page.name} loads a stylesheet from the network"
        )
        assert "No description has been provided" not in html, page.name
        assert not re.search(r'class="[^"]*jp-InputPrompt', html)  # no low-contrast prompts
    # the chapter in the title, the cell's own fig-alt as alt text
    nb_page = (book["out"] / "notebooks" / "02_situasjonen.html").read_text(encoding="utf-8")
    assert re.search(r"<title>[^<]*2 Situasjonen i Buskerud", nb_page)
    nb = json.loads((proj / BUILD / "notebooks" / "02_situasjonen.ipynb").read_text(encoding="utf-8"))
    alts = [
        str(cell_options("".join(c["source"])).get("fig-alt") or "").strip()
        for c in nb["cells"]
        if c["cell_type"] == "code"
    ]
    alts = [a for a in alts if a]
    assert len(alts) >= 2
    import html as htmlmod

    page_alts = [htmlmod.unescape(a) for a in re.findall(r'<img[^>]*\balt="([^"]*)"', nb_page)]
    for alt in alts:
        assert alt in page_alts, f"fig-alt {alt[:60]!r} not used as alt text"


# --------------------------------------------------------------------------------------------
# PDF: tags, PDF/UA-1, metadata
# --------------------------------------------------------------------------------------------
def _struct_elements(node, out: list) -> None:
    import pikepdf

    if isinstance(node, pikepdf.Array):
        for kid in node:
            _struct_elements(kid, out)
        return
    if not isinstance(node, pikepdf.Dictionary):
        return
    if "/S" in node:
        out.append(node)
    if "/K" in node:
        _struct_elements(node.K, out)


@e2e
def test_pdf_is_tagged_pdf_ua_1_with_title_author_language_alt_texts_and_captions(book):
    pikepdf = pytest.importorskip("pikepdf")
    # every figure, drawn or a «Data mangler» note (a figure element with its own alt text)
    # the technical appendix (report/07_teknisk_vedlegg.qmd) is HTML only: its tables are not in the PDF
    in_pdf = "\n".join(p.read_text(encoding="utf-8") for p in book["pages"] if p.stem != "07_teknisk_vedlegg")
    n_figs = len(re.findall(r'<figure class="kg-figure[ "]', in_pdf))
    n_tbls = in_pdf.count('class="kg-table"')
    with pikepdf.open(book["pdf"]) as pdf:
        root = pdf.Root
        assert bool(root.MarkInfo.Marked), "not a tagged PDF"
        assert str(root.Lang) == "nb"
        assert bool(root.ViewerPreferences.DisplayDocTitle), "viewers would show the file name"
        info = pdf.docinfo
        assert str(info["/Title"]).startswith("Kunnskapsgrunnlag")
        assert str(info.get("/Author", "")).strip(), "no author in the PDF metadata"
        with pdf.open_metadata() as xmp:
            assert str(xmp.get("pdfuaid:part")) == "1", "PDF/UA-1 not declared"
            assert "nb" in str(xmp.get("dc:language"))
            assert str(xmp.get("dc:title")).startswith("Kunnskapsgrunnlag")
        elements: list = []
        _struct_elements(root.StructTreeRoot.K, elements)
        tags = [str(e.S) for e in elements]
        assert tags.count("/Document") == 1 and tags.count("/P") > 100 and tags.count("/Table") == n_tbls
        figures = [e for e in elements if str(e.S) == "/Figure"]
        assert len(figures) == n_figs and n_figs >= 10  # figures whose data are missing are sentences
        missing = [i for i, f in enumerate(figures) if len(str(f.get("/Alt", "")).strip()) < 20]
        assert not missing, f"figures without alt text: {missing}"
        assert tags.count("/Caption") == n_figs + n_tbls, "figure/table captions not tagged as Caption"
        levels = [int(t[2]) for t in tags if re.fullmatch(r"/H[1-6]", t)]
        assert len(levels) > 50 and levels[0] == 1
        skips = [(i, a, b) for i, (a, b) in enumerate(zip(levels, levels[1:], strict=False)) if b > a + 1]
        assert not skips, f"skipped heading levels in the PDF: {skips}"


# --------------------------------------------------------------------------------------------
# Fallback renderer (fast, on the small test book)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rel, text, level, above",
    [
        ("kap/00_forord.qmd", "#### Hoppet over", 4, "a level-2 heading"),
        ("kap/delkapitler/detaljer.qmd", "##### Fem", 5, "a level-3 heading"),
    ],
)
def test_fallback_refuses_a_skipped_heading_level(tmp_path, rel, text, level, above):
    root = make_project(tmp_path / "book")
    p = root / rel
    body = p.read_text(encoding="utf-8")
    if level == 5:  # directly under "### Detaljer"
        body = body.replace("Detaljert tekst", text + "\n\nDetaljert tekst", 1)
    else:
        body += "\n" + text + "\n\nTekst.\n"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(RenderError) as exc:
        render(root, root / "_out", renderer="pandoc")
    msg = str(exc.value)
    assert msg.startswith(rel + ":"), msg
    title = text.lstrip("# ")
    assert f"heading '{title}' skips a level" in msg and above in msg and "docs/authoring.md" in msg


def test_fallback_unlisted_heading_stays_out_of_the_toc(tmp_path):
    root = make_project(tmp_path / "book")
    p = root / "kap/00_forord.qmd"
    p.write_text(
        p.read_text(encoding="utf-8") + "\n## Skjult i innholdet {.unnumbered .unlisted}\n\nTekst.\n", encoding="utf-8"
    )
    res = render(root, root / "_out", renderer="pandoc")
    first = res["html"].read_text(encoding="utf-8")
    html = book_html(root / "_out")
    toc = first[first.find('<ul id="toc">') : first.find("</nav>")]
    assert "Skjult i innholdet" in html and "Skjult i innholdet" not in toc
    typ = (root / "_out" / "_build" / "book.typ").read_text(encoding="utf-8")
    assert re.search(r"#heading\(level: 2, outlined: false[^)]*\)\[Skjult i innholdet\]", typ)


def test_fallback_notebook_page(small):
    page = (small["out"] / "notebooks" / "02_test.html").read_text(encoding="utf-8")
    assert re.search(r'<html[^>]*\blang="nb"', page)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "02_test" in title and "Situasjonen" in title and "Testrapport" in title, title
    assert 'alt="Linjediagram over aldersbæreevnen i Buskerud og i hele landet"' in page
    assert "No description has been provided" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page)  # no require.js / MathJax from a CDN
    assert not re.search(r'class="[^"]*jp-(Input|Output)Prompt', page)  # no low-contrast prompts
    assert "<th>" not in page  # every header cell is scoped
    assert 'href="../index.html"' in page  # back to the book


def test_fallback_table_caption_inside_table_and_pdf_ua(small):
    html = small["html"]
    assert re.search(
        r'<div class="kg-table" id="tbl-levekaar">\s*<table\b[^>]*>\s*<caption>'
        r'<span class="kg-label">Tabell',
        html,
    )
    assert 'class="kg-caption"' not in html
    assert '<label for="search-input">Søk i rapporten</label>' in html
    pikepdf = pytest.importorskip("pikepdf")
    with pikepdf.open(small["res"]["pdf"]) as pdf:
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)
        assert str(pdf.Root.Lang) == "nb"
        with pdf.open_metadata() as xmp:
            assert str(xmp.get("pdfuaid:part")) == "1"
        elements: list = []
        _struct_elements(pdf.Root.StructTreeRoot.K, elements)
        tags = [str(e.S) for e in elements]
        assert tags.count("/Caption") == 2  # one figure, one table
        fig = next(e for e in elements if str(e.S) == "/Figure")
        assert str(fig.Alt) == "Linjediagram over aldersbæreevnen i Buskerud og i hele landet"


def test_fallback_rejects_an_unknown_pdf_standard(tmp_path):
    root = make_project(tmp_path / "book")
    cfg = root / "_quarto.yml"
    text = cfg.read_text(encoding="utf-8")
    assert "  typst:\n" in text
    cfg.write_text(text.replace("  typst:\n", "  typst:\n    pdf-standard: ua-9\n", 1), encoding="utf-8")
    with pytest.raises(RenderError, match=r"pdf-standard.*ua-9"):
        render(root, root / "_out", renderer="pandoc")
