"""Quarto parity (issue 16): the compatibility checker, the staged links and titles, the notebook
pages of both renderers, and the fallback's output compared with what real Quarto 1.10 does
(../shared/quarto-behaviour: small cases rendered by Quarto; ../shared/quarto-render: the report).

Fast tests use the small book of test_render_fallback.py and the behaviour corpus; the tests on
the full report only read the session's `built_project`.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import stat
from pathlib import Path

import nbformat
import pytest

from helpers import BOOK, BUILD
from kunnskapsgrunnlag.appendix import FIGURE_META_PREFIX, figure_meta
from kunnskapsgrunnlag.render import RenderError, _quarto_accessibility, compat, notebook_pages, render, staging
from kunnskapsgrunnlag.render.html_book import book_html
from test_render_fallback import _png, make_project

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "quarto-behaviour"
QUARTO_RENDER = SHARED / "quarto-render"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not available (the shared Quarto evidence of this machine)")
    return path


def _rules(root: Path) -> set[tuple[str, str]]:
    return {(p.rule, p.file) for p in compat.problems(root)}


def _add_cell(root: Path, label: str, outputs: list, cap: str = "Tittel") -> None:
    path = root / "build/notebooks/02_test.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    key = "tbl-cap" if label.startswith("tbl-") else "fig-cap"
    nb.cells.append(nbformat.v4.new_code_cell(f'#| label: {label}\n#| {key}: "{cap}"\nx()', outputs=outputs))
    nbformat.write(nb, str(path))


def _embed(root: Path, label: str, file: str = "kap/02_situasjonen.qmd") -> None:
    p = root / file
    p.write_text(
        p.read_text(encoding="utf-8") + f"\n\n{{{{< embed /build/notebooks/02_test.ipynb#{label} >}}}}\n",
        encoding="utf-8",
    )


def _png_output(extra: dict | None = None) -> dict:
    return nbformat.v4.new_output(
        "display_data", data={"image/png": base64.b64encode(_png()).decode(), "text/plain": "<Figure>", **(extra or {})}
    )


@pytest.fixture
def small(tmp_path) -> Path:
    return make_project(tmp_path / "bok")


# --------------------------------------------------------------------------------------------
# The checker: the small book passes; each rule refuses its failing example
# --------------------------------------------------------------------------------------------
def test_small_book_passes(small):
    assert compat.problems(small) == []


def test_rule_one_output_refuses_a_link_as_second_output(small):
    # behaviour case 1.2: a figure plus an HTML-only output becomes two sub-figures under Quarto
    html = nbformat.v4.new_output("display_data", data={"text/html": '<a href="x.csv">CSV</a>'})
    _add_cell(small, "fig-to", [_png_output(), html])
    _embed(small, "fig-to")
    found = {(p.rule, p.file, p.where) for p in compat.problems(small)}
    assert ("one-output", "kap/02_situasjonen.qmd") in {(r, f) for r, f, _ in found}
    assert ("mime", "kap/02_situasjonen.qmd") in {(r, f) for r, f, _ in found}
    with pytest.raises(RenderError) as exc:
        render(small, small / "_out", renderer="pandoc")
    msg = str(exc.value)
    assert "kap/02_situasjonen.qmd" in msg and "cell 'fig-to' of 02_test.ipynb" in msg
    assert "rule one-output" in msg and "sub-figure" in msg
    assert not (small / "_out" / "index.html").exists()  # refused before the renderer started


def test_rule_one_output_refuses_a_markdown_second_output(small):
    md = nbformat.v4.new_output("display_data", data={"text/markdown": "[CSV](x.csv)", "text/plain": "x"})
    _add_cell(small, "fig-md", [_png_output(), md])
    _embed(small, "fig-md")
    assert ("one-output", "kap/02_situasjonen.qmd") in _rules(small)


def test_rule_printed_output(small):
    # behaviour case 1.4: the printed line shows as code output above the figure
    _add_cell(small, "fig-print", [nbformat.v4.new_output("stream", name="stdout", text="hei\n"), _png_output()])
    _embed(small, "fig-print")
    assert ("printed-output", "kap/02_situasjonen.qmd") in _rules(small)


def test_rule_error_output(small):
    _add_cell(small, "fig-feil", [nbformat.v4.new_output("error", ename="KeyError", evalue="'x'", traceback=[])])
    _embed(small, "fig-feil")
    assert ("error-output", "kap/02_situasjonen.qmd") in _rules(small)


def test_rule_mime_refuses_an_html_table(small):
    # a pandas table as text/html + text/plain: Typst shows the plain text, not the table
    html = nbformat.v4.new_output(
        "execute_result", data={"text/html": "<table></table>", "text/plain": "  a"}, execution_count=1
    )
    _add_cell(small, "tbl-html", [html])
    _embed(small, "tbl-html")
    assert {(p.rule, p.detail) for p in compat.problems(small)} == {("mime", "output 1 has only text/html, text/plain")}


def test_rule_shortcode_in_title(small):
    p = small / "kap/01_innledning.qmd"
    p.write_text(p.read_text(encoding="utf-8") + "\n## Om {{< meta title >}}\n\nTekst.\n", encoding="utf-8")
    found = [x for x in compat.problems(small) if x.rule == "shortcode-in-title"]
    assert [(x.file, x.detail) for x in found] == [("kap/01_innledning.qmd", "## Om {{< meta title >}}")]


def test_rule_shortcode_in_book_title(small):
    q = small / "_quarto.yml"
    q.write_text(
        q.read_text(encoding="utf-8").replace('title: "', 'title: "{{< var region.navn >}} ', 1), encoding="utf-8"
    )
    assert ("shortcode-in-title", "_quarto.yml") in _rules(small)


def test_rule_notebook_preview_in_a_book(small):
    q = small / "_quarto.yml"
    text = q.read_text(encoding="utf-8")
    assert "  html:\n" in text
    q.write_text(text.replace("  html:\n", "  html:\n    notebook-links: true\n", 1), encoding="utf-8")
    found = [p for p in compat.problems(small) if p.rule == "notebook-preview"]
    assert [(p.file, p.where) for p in found] == [("_quarto.yml", "format.html.notebook-links")]
    assert "format-html-notebook.ts" in str(found[0])


def test_rule_embed_twice(small):
    _embed(small, "fig-alder", "kap/99_datakilder.qmd")
    found = [p for p in compat.problems(small) if p.rule == "embed-twice"]
    assert [(p.file, p.detail.split(" is ")[0]) for p in found] == [("kap/99_datakilder.qmd", "'fig-alder'")]
    assert "kap/02_situasjonen.qmd" in found[0].detail


def test_rule_crossref_kind_and_target(small):
    p = small / "kap/99_datakilder.qmd"
    p.write_text(
        p.read_text(encoding="utf-8") + "\nSe @eq-vekst og @fig-borte, skriv til ola@bfk.no.\n", encoding="utf-8"
    )
    found = {(x.rule, x.detail.split()[0]) for x in compat.problems(small)}
    assert found == {("crossref-kind", "@eq-vekst"), ("crossref-target", "@fig-borte")}


def test_rule_embed_missing_cell(small):
    _embed(small, "fig-finnes-ikke")
    assert ("embed-missing", "kap/02_situasjonen.qmd") in _rules(small)


def test_every_rule_cites_quarto():
    for rule in compat.RULES.values():
        assert re.search(r"quarto-cli src/|quarto\.org/docs/", rule.why), rule.id


def test_behaviour_corpus_cells_are_judged_as_quarto_rendered_them():
    """The cells of ../shared/quarto-behaviour/input/cases.ipynb: the checker accepts exactly the
    cases Quarto rendered with one figure and a whole caption (1.1, 1.5, 1.6) and refuses the others."""
    nb = json.loads(_need(CORPUS / "input" / "cases.ipynb").read_text(encoding="utf-8"))
    verdict = {}
    for cell in nb["cells"]:
        label = compat._label(cell)
        if label:
            verdict[label] = sorted({p.rule for p in compat.check_cell(cell, file="cases.ipynb", where=label)})
    assert verdict == {
        "fig-one": [],
        "fig-link": [],
        "tbl-md": [],
        "fig-html-extra": ["mime", "one-output"],
        "fig-md-extra": ["one-output"],
        "fig-print-extra": ["printed-output"],
        "tbl-html": ["mime"],
    }


def test_behaviour_corpus_book(tmp_path):
    """The corpus book as Quarto got it: notebook-links set, raw shortcodes in titles, split figures.
    Staged as the project stages its book, the titles are resolved; the rest stays refused."""
    root = shutil.copytree(_need(CORPUS / "input"), tmp_path / "corpus")
    before = {(p.rule, p.file) for p in compat.problems(root)}
    assert {
        ("notebook-preview", "_quarto.yml"),
        ("shortcode-in-title", "titles.qmd"),
        ("one-output", "embeds.qmd"),
        ("printed-output", "embeds.qmd"),
    } <= before
    staging.prepare_site(root)
    after = {(p.rule, p.file) for p in compat.problems(root)}
    assert ("shortcode-in-title", "titles.qmd") not in after
    assert (root / "titles.qmd").read_text(encoding="utf-8").splitlines()[0] == "# Situasjonen i Telemark {#sec-titles}"


# --------------------------------------------------------------------------------------------
# Staging: the links under each embed, values in headings
# --------------------------------------------------------------------------------------------
def test_staged_link_block_is_the_pattern_quarto_renders(small):
    """Behaviour case 1.6 (a figure with one output, the CSV link in the report inside
    `content-visible when-format="html"`) is what Quarto renders with one figure, a whole caption,
    and the link in the HTML only; the staged block is that pattern."""
    text = (small / "kap/02_situasjonen.qmd").read_text(encoding="utf-8")
    m = re.search(r"\{\{< embed /build/notebooks/02_test\.ipynb#fig-alder >\}\}\n\n(::: \{[^}]*\}\n)(.*)\n:::\n", text)
    assert m, text[:800]
    assert m.group(1) == '::: {.content-visible when-format="html"}\n'
    assert m.group(2).startswith(
        "[Last ned tallene (CSV)](../figurdata/fig-alder.csv){.kg-csv} "
        "[Vis notatboken](../notebooks/02_test.html#cell-id="
    )
    corpus = CORPUS / "input" / "embeds.qmd"
    if corpus.exists():
        case = corpus.read_text(encoding="utf-8")
        assert '{{< embed cases.ipynb#fig-link >}}\n\n::: {.content-visible when-format="html"}\n[Last ned' in case
    # the table without a CSV gets the notebook link only; the text embed nothing
    assert re.search(r"#tbl-levekaar >\}\}\n\n::: \{\.content-visible when-format=\"html\"\}\n\[Vis notatboken\]", text)
    assert not re.search(r"#txt-oppsummering >\}\}\n\n:::", text)
    # idempotent
    assert staging.prepare_site(small) == []


def test_link_hrefs_are_relative_to_the_page():
    assert "](figurdata/fig-x.csv)" in staging.link_block(
        page_dir="", label="fig-x", notebook="a.ipynb", cell_id="c1", has_csv=True
    )
    block = staging.link_block(page_dir="report", label="fig-x", notebook="a.ipynb", cell_id=None, has_csv=False)
    assert "](../notebooks/a.html)" in block and "CSV" not in block


def test_included_section_links_from_its_chapter_page():
    pages = staging.book_pages(
        {"book": {"chapters": ["index.qmd", {"part": "Del", "chapters": ["report/03.qmd"]}]}},
        {
            "index.qmd": "# F",
            "report/03.qmd": "{{< include /report/sections/a.qmd >}}",
            "report/sections/a.qmd": "## A",
        },
    )
    assert pages == {
        "index.qmd": "index.html",
        "report/03.qmd": "report/03.html",
        "report/sections/a.qmd": "report/03.html",
    }


def test_heading_values_resolved_and_escaped():
    text = (
        '---\ntitle: "Om {{< var region.navn >}}"\n---\n# I {{< var region.navn >}} {#sec-x}\n\n'
        "Tekst {{< var region.navn >}}.\n\n```\n# {{< var region.navn >}}\n```\n## {{< var ukjent >}}\n"
    )
    out = staging.resolve_heading_vars(text, {"region": {"navn": "Møre *og* Romsdal"}})
    assert 'title: "Om Møre \\*og\\* Romsdal"' in out
    assert "# I Møre \\*og\\* Romsdal {#sec-x}" in out
    assert "Tekst {{< var region.navn >}}." in out  # prose: left to the renderer
    assert "```\n# {{< var region.navn >}}\n```" in out  # code: untouched
    assert "## {{< var ukjent >}}" in out  # unknown: the checker names it


# --------------------------------------------------------------------------------------------
# Quarto's HTML: the project's post-render step (accessibility), on Quarto's real pages
# --------------------------------------------------------------------------------------------
def test_quarto_pages_get_focusable_tables_and_unique_landmarks(tmp_path):
    out = shutil.copytree(_need(QUARTO_RENDER / "html"), tmp_path / "html")
    _quarto_accessibility(out)
    for page in sorted(out.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        tables = len(re.findall(r"<table\b", html))
        assert len(re.findall(r'cell-output-display[^"]*" tabindex="0">\s*<table', html)) == tables, page.name
        navs = re.findall(r"<nav\b[^>]*>", html)
        labels = [re.search(r'aria-label="([^"]+)"', n) for n in navs]
        assert all(labels), (page.name, [n for n, x in zip(navs, labels, strict=True) if not x])
        assert len({x.group(1) for x in labels if x}) == len(navs), page.name
        assert not re.search(r'<a\b[^>]*role="navigation"', html), page.name


# --------------------------------------------------------------------------------------------
# The full report (the session's built_project): both renderers' links and pages
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report(built_project) -> dict:
    out = built_project / BOOK
    site = built_project / BUILD / "site"
    return {
        "proj": built_project,
        "out": out,
        "site": site,
        "html": book_html(out),
        # figures drawn in this build (an absent one is a sentence: `kg-figur-<label>` false)
        "embeds": [
            e
            for e in staging.book_embeds(site)
            if e.label.split("-")[0] in ("fig", "tbl")
            and figure_meta(built_project / BUILD).get(FIGURE_META_PREFIX + e.label, True)
        ],
        "absent": {k[len(FIGURE_META_PREFIX) :] for k, v in figure_meta(built_project / BUILD).items() if not v},
    }


def test_fallback_links_match_the_staged_links(report):
    """Every figure/table: one caption, the CSV link when its CSV exists, the notebook link to an
    existing cell anchor, and a link back from the cell; the same hrefs Quarto gets from the staged
    chapter, on the page of the same name (report/02_situasjonen.html)."""
    html, out, site = report["html"], report["out"], report["site"]
    assert report["embeds"]
    for e in report["embeds"]:
        assert html.count(f'id="{e.label}"') == 1, e.label
        csv = site / "figurdata" / f"{e.label}.csv"
        page_html = (out / e.page).read_text(encoding="utf-8")
        assert (f'href="../figurdata/{e.label}.csv"' in page_html) == csv.exists(), e.label
        assert e.page.startswith("report/"), e.page
        staged = (site / e.source).read_text(encoding="utf-8")
        m = re.search(
            re.escape(f"#{e.label} >}}}}") + r"\n\n::: \{\.content-visible when-format=\"html\"\}\n(.*)\n:::", staged
        )
        assert m, e.label
        nb_href = re.search(r"\[Vis notatboken\]\(\.\./(notebooks/[^)#]+)(#[^)]*)?\)", m.group(1))
        assert nb_href, m.group(1)
        assert f'href="../{nb_href.group(1)}{nb_href.group(2) or ""}"' in page_html
        page = (out / nb_href.group(1)).read_text(encoding="utf-8")
        if nb_href.group(2):
            assert f'id="{nb_href.group(2)[1:]}"' in page
        assert f'href="../{e.page}#{e.label}"' in page  # the same back-link as under Quarto
    # nothing of it in the PDF, and no box of an undisplayable output
    import pypdf

    pdf = next(out.glob("*.pdf"))
    text = " ".join(p.extract_text() or "" for p in pypdf.PdfReader(str(pdf)).pages)
    for word in ("Last ned tallene", "Vis notatboken", "Unable to display output"):
        assert word not in text


def test_no_raw_shortcode_in_any_published_file(report):
    import pypdf

    bad = []
    for f in sorted(report["out"].rglob("*")):
        if not f.is_file():
            continue
        if f.suffix == ".pdf":
            reader = pypdf.PdfReader(str(f))
            text = " ".join(p.extract_text() or "" for p in reader.pages)

            def titles(items) -> list[str]:
                return [t for x in items for t in (titles(x) if isinstance(x, list) else [x.title])]

            text += " ".join(titles(reader.outline)) + str(reader.metadata or {})
        elif f.suffix in (".html", ".json", ".js", ".css", ".csv", ".txt", ".xml"):
            text = f.read_text(encoding="utf-8", errors="replace")
        else:
            continue
        if "{{<" in text:
            bad.append(f.relative_to(report["out"]).as_posix())
    assert bad == []
    # and none in the headings Quarto reads from the staged site
    for f in report["site"].rglob("*.qmd"):
        for line in f.read_text(encoding="utf-8").splitlines():
            assert not (line.startswith("#") and "{{<" in line), (f, line)


def test_published_files_are_readable_by_everyone(report):
    for f in report["out"].rglob("*"):
        if f.is_file() and not f.name.startswith("."):
            assert stat.S_IMODE(f.stat().st_mode) & 0o444 == 0o444, f


def test_quarto_post_render_writes_the_same_notebook_pages(report, tmp_path):
    """Under Quarto the chapters are pages in report/: the project's post-render step writes the
    notebook pages with links back to those pages (Quarto books make none themselves)."""
    pages = notebook_pages(report["site"], tmp_path)
    assert {p.name for p in pages} == {f.name for f in (report["out"] / "notebooks").glob("*.html")}
    for e in report["embeds"]:
        page = (tmp_path / "notebooks" / f"{e.notebook.stem}.html").read_text(encoding="utf-8")
        assert f'href="../{e.page}#{e.label}"' in page, (e.label, e.page)
        assert e.page.startswith(("report/", "index.html"))
        assert stat.S_IMODE((tmp_path / "notebooks" / f"{e.notebook.stem}.html").stat().st_mode) == 0o644


def test_every_rule_is_documented_for_authors():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "authoring.md").read_text(encoding="utf-8")
    for rule in compat.RULES:
        assert f"| `{rule}` |" in doc, rule


# tables moved to another page since the reference render (commit db3f400): label -> (then, now)
MOVED_SINCE_REFERENCE = {"tbl-figurdata": ("report/06_datakilder.html", "report/07_teknisk_vedlegg.html")}


def test_same_pages_and_figures_as_quarto(report):
    """Quarto's render of the report (../shared/quarto-render/html) and the fallback's book have the
    same chapter pages and the same figures and tables on each page. Quarto's render of the old
    sources also shows the defect this rules out: sub-figures («-1», «-2») from a second cell output."""
    qdir = _need(QUARTO_RENDER / "html")
    out = report["out"]
    label = re.compile(r'\bid="((?:fig|tbl)-[a-z0-9-]+?)"')
    q_pages = sorted(f.relative_to(qdir).as_posix() for f in qdir.rglob("*.html"))
    f_pages = sorted(f.relative_to(out).as_posix() for f in out.glob("*.html")) + sorted(
        f.relative_to(out).as_posix() for f in (out / "report").glob("*.html")
    )
    # pages added to the sources since the reference render (commit db3f400); they have no Quarto page yet
    added_since_reference = {"report/07_teknisk_vedlegg.html"}
    assert sorted(set(f_pages) - added_since_reference) == q_pages
    split_in_quarto = 0
    for page in q_pages:
        q_ids = set(label.findall((qdir / page).read_text(encoding="utf-8")))
        q_ids = {i for i in q_ids if "-caption" not in i}
        subs = {i for i in q_ids if re.search(r"-\d+$", i) and re.sub(r"-\d+$", "", i) in q_ids}
        split_in_quarto += len(subs)
        f_ids = {i for i in label.findall((out / page).read_text(encoding="utf-8")) if "-caption" not in i}
        moved = {i for i, (was, _now) in MOVED_SINCE_REFERENCE.items() if was == page}
        assert f_ids == q_ids - subs - moved - report["absent"], page
        assert not any(re.search(r"-\d+$", i) and re.sub(r"-\d+$", "", i) in f_ids for i in f_ids), page
    assert split_in_quarto > 0  # the evidence: Quarto split figures with a second output
    for label, (_was, now) in MOVED_SINCE_REFERENCE.items():
        assert f'id="{label}"' in (out / now).read_text(encoding="utf-8"), (label, now)


def test_publish_modes_never_touches_the_project_or_the_working_directory(tmp_path, monkeypatch):
    from kunnskapsgrunnlag.render import publish_modes

    proj = tmp_path / "proj"
    (proj / "_book").mkdir(parents=True)
    tool = proj / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    page = proj / "_book" / "p.html"
    page.write_text("x")
    page.chmod(0o600)
    monkeypatch.chdir(proj)
    for folder in (tmp_path, proj, Path(".")):
        publish_modes(folder, proj)
        assert stat.S_IMODE(tool.stat().st_mode) == 0o755 and stat.S_IMODE(page.stat().st_mode) == 0o600
    publish_modes(proj / "_book", proj)
    assert stat.S_IMODE(page.stat().st_mode) == 0o644 and stat.S_IMODE(tool.stat().st_mode) == 0o755
