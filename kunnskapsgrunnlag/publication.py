"""Who made this edition, when, and how much of it is computed from open data.

The cover, the PDF metadata, the forord and the Datakilder appendix all say the same thing about
the edition, so they read it from here:

* the edition's publisher and author (`report.publisher`, `report.author` in config/project.yml;
  a consultant who publishes a later edition puts their own names there);
* the published report it is regenerated from, cited as the source
  («Etter R1023460, Agenda Kaupang og Asplan Viak, 2026», `report.original`);
* the edition's date: `published` in the edition block (ISO date) or, when unset, the date of the
  newest data in the raw-data manifest (never the clock, so a rebuild gives the same book);
* its status, «regenerert utgave», and the share of its figures and tables computed from open
  data (counted from what the notebooks recorded, never typed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from . import fmt

STATUS = "regenerert utgave"
APPENDIX_NOTEBOOK = "99_datakilder"
OPEN_PROVIDERS = {"ssb", "udir", "kartverket"}


@dataclass(frozen=True)
class Edition:
    publisher: str
    author: str
    date: dt.date | None
    source: str  # «Etter R1023460, Agenda Kaupang og Asplan Viak, 2026»
    original_number: str
    original_authors: str
    original_year: str
    original_client: str
    n_open: int  # figures and tables computed from open data
    n_total: int  # figures and tables of the book (appendix tables not counted)

    @property
    def date_text(self) -> str:
        return fmt.date_nb(self.date.year, self.date.month, self.date.day) if self.date else "udatert"

    @property
    def share_text(self) -> str:
        """«13 av 19 figurer og tabeller (68 prosent)»."""
        pct = round(100 * self.n_open / self.n_total) if self.n_total else 0
        return f"{self.n_open} av {self.n_total} figurer og tabeller ({pct} prosent)"

    @property
    def status_text(self) -> str:
        return f"Regenerert utgave: {self.share_text} er beregnet fra åpne data"


def _original(rep: dict) -> dict[str, str]:
    o = rep.get("original") or {}
    return {
        "number": str(o.get("report_number") or rep.get("report_number") or ""),
        "authors": str(o.get("authors") or ""),
        "year": str(o.get("year") or ""),
        "client": str(o.get("client") or ""),
        "date": str(o.get("date") or ""),
    }


def source_citation(rep: dict) -> str:
    o = _original(rep)
    return "Etter " + ", ".join(x for x in (o["number"], o["authors"], o["year"]) if x)


def newest_data_date(raw_dir: Path, datasets: list[str] | None = None) -> dt.date | None:
    """The date of the newest data in the manifest: the latest retrieval of a current dataset
    (restricted to `datasets` when given). Recorded once per vintage, so rebuilding gives the same date."""
    from . import rawstore

    best: dt.date | None = None
    for name, entry in (rawstore.read_manifest(Path(raw_dir)).get("datasets") or {}).items():
        cur = entry.get("current") or {}
        if cur.get("status") != "ok" or (datasets is not None and name not in datasets):
            continue
        stamp = str(cur.get("retrieved_at") or "")[:10]
        try:
            d = dt.date.fromisoformat(stamp)
        except ValueError:
            continue
        best = d if best is None or d > best else best
    return best


def edition_date(settings) -> dt.date | None:
    value = (settings.edition_params or {}).get("published")
    if value:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return newest_data_date(settings.raw_dir)


def figure_sources(settings) -> dict[str, str]:
    """Label -> how the figure or table of this configuration got its numbers: `open` (drawn from
    open data only), `transcribed` (values transcribed, e.g. Tables 1–3 of R1023460), `diagram`
    (drawn from the plan's text, no statistics), `missing` (not drawn). Appendix tables left out."""
    from . import appendix
    from .config import load_catalogue, load_project
    from .status import data_status

    notebooks = [n["name"] for n in load_project()["notebooks"] if n["name"] != APPENDIX_NOTEBOOK]
    rec = appendix.read_records(settings.build_dir, notebooks)
    status = data_status(settings)
    ok_open = set(status["beregnet"])
    feeds: dict[str, set[str]] = {}
    cat = load_catalogue()
    for name, spec in cat.items():
        for u in spec.get("used_by") or []:
            if "#" in str(u):
                feeds.setdefault(str(u).split("#", 1)[1], set()).add(name)
    out: dict[str, str] = {}
    # a figure left out because its data are entirely missing is not in the book (appendix.figure_meta)
    shown = appendix.edition_numbers(settings.root, meta=appendix.figure_meta(settings.build_dir))
    for nb, label in appendix.embed_order(settings.root):
        if nb == APPENDIX_NOTEBOOK or not label.startswith(("fig-", "tbl-")) or label not in shown:
            continue
        present = feeds.get(label, set()) - set(status["mangler"])
        if label not in rec.figure_data:
            out[label] = "missing"
        elif not feeds.get(label):
            out[label] = "diagram"
        elif present and present <= ok_open:
            out[label] = "open"
        else:
            out[label] = "transcribed"
    return out


def edition(settings) -> Edition:
    from .config import load_project

    rep = load_project().get("report") or {}
    o = _original(rep)
    kinds = figure_sources(settings)
    return Edition(
        publisher=str(rep.get("publisher") or ""),
        author=str(rep.get("author") or rep.get("publisher") or ""),
        date=edition_date(settings),
        source=source_citation(rep),
        original_number=o["number"],
        original_authors=o["authors"],
        original_year=o["year"],
        original_client=o["client"],
        n_open=sum(1 for k in kinds.values() if k == "open"),
        n_total=len(kinds),
    )


def cover_overlay(settings) -> dict:
    """The cover fields of the staged _quarto.yml: top-level `publisher`, `edition-note` (the
    status, the share computed from open data and the source, « · »-separated; the Typst cover
    shows one per line), no `report-number` (the original's number is in the source line), and
    `book.author` / `book.date` (PDF metadata)."""
    e = edition(settings)
    book: dict = {"author": e.author}
    if e.date:
        book["date"] = e.date.isoformat()
    note = " · ".join([f"Utgave {settings.edition} for {settings.region_name}", e.status_text, e.source])
    return {"publisher": e.publisher, "edition-note": note, "report-number": None, "book": book}


def variables(settings) -> dict[str, str]:
    """Report variables `utgave.*` for the forord (set by the Datakilder notebook)."""
    from .config import load_project

    e = edition(settings)
    return {
        "utgave.utgiver": e.publisher,
        "utgave.forfatter": e.author,
        "utgave.dato": e.date_text,
        "utgave.kilde": e.source,
        "utgave.status": STATUS,
        "utgave.andel_apne": e.share_text,
        "utgave.n_apne": str(e.n_open),
        "utgave.n_figurer_tabeller": str(e.n_total),
        "utgave.original_nummer": e.original_number,
        "utgave.original_forfattere": e.original_authors,
        "utgave.original_aar": e.original_year,
        "utgave.oppdragsgiver": e.original_client,
        "utgave.original_dato": _original(load_project().get("report") or {})["date"],
    }
