"""The Datakilder appendix, computed (never typed): which figures and tables the book embeds and in
what order, the CSV behind each, the published report's numbers, and which numbers are computed
from raw data, transcribed from the 2026 report, delivered as files, or missing.

Inputs are the book sources (`_quarto.yml`, `report/`), the catalogue, the raw-data manifest and
the records each notebook writes for one configuration (`<build_dir>/records/<notebook>.json`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import atomic

EMBED = re.compile(r"\{\{<\s*embed\s+/?build/notebooks/([\w.-]+?)\.ipynb#([\w-]+)\s*>\}\}")
INCLUDE = re.compile(r"\{\{<\s*include\s+/?([^\s>]+)\s*>\}\}")

# How a dataset's numbers reach the report, by the provider the manifest records.
KIND = {
    "ssb": "beregnet",
    "udir": "beregnet",
    "kartverket": "beregnet",
    "published": "publisert",
    "transcription": "transkribert",
    "manual": "fil",
}
KIND_TITLE = {
    "beregnet": "Beregnet fra åpne data",
    "publisert": "Skrevet av fra den publiserte rapporten (R1023460)",
    "transkribert": "Samlet fra offentlige dokumenter",
    "fil": "Levert som tabell av fylkeskommunen",
}
KIND_WHY = {
    "beregnet": "Tallene er regnet ut i denne utgaven fra statistikk som er hentet uendret fra kildene.",
    "publisert": (
        "Verdiene fantes ikke i en åpen kilde da utgaven ble laget, så de er skrevet av fra tabellene i den "
        "publiserte rapporten, med rapportens kildehenvisning. Indekser, andeler og rangeringer er regnet ut "
        "på nytt fra dem og kontrollert mot rapporten. De gjelder bare 2026-utgaven og fylkene rapporten "
        "trykte."
    ),
    "transkribert": (
        "Det finnes ingen åpen statistikk for dette; opplysningene er samlet fra offentlige dokumenter, "
        "med kilde for hver opplysning."
    ),
    "fil": (
        "Tallene finnes ikke i noen åpen statistikkbank og leveres som en tabell til hver utgave; kilden står "
        "ved tallene."
    ),
}
# The provider as the reader knows it.
PROVIDER_NAME = {
    "ssb": "SSB",
    "udir": "Udir",
    "kartverket": "Kartverket",
    "published": "R1023460 (skrevet av)",
    "manual": "Fylkeskommunen",
    "transcription": "Offentlige dokumenter",
}


def reader_period(spec: dict, current: dict | None = None, edition_params: dict | None = None) -> str:
    """The reference period for the reader: the stored vintage, else the catalogue's (a template of
    the edition, filled in), without the catalogue's notes to developers (anything in parentheses
    that names a configuration key)."""
    from .config import resolve_vintage

    v = (current or {}).get("vintage") or spec.get("vintage") or ""
    v = str(resolve_vintage(v, edition_params or {}) if v and edition_params else v).strip()
    v = re.sub(r"\s*\([^)]*(edition|key|config)[^)]*\)", "", v).strip()
    return v or "–"


def query_links(how: str) -> str:
    """A provider query («GET url + GET url») as Markdown links with short text («SSB 07984, spørring 1»),
    so no long address widens the page; anything else as plain text."""
    urls = re.findall(r"GET (\S+)", how or "")
    if not urls:
        return (how or "–").replace("`", "")
    out = []
    for i, u in enumerate(urls, 1):
        m = re.search(r"/tables/(\w+)/", u)
        host = "SSB " + m.group(1) if m else ("Udir" if "udir" in u else "kilde")
        out.append(f"[{host}, spørring{' ' + str(i) if len(urls) > 1 else ''}](<{u}>)")
    return ", ".join(out)


def _chapter_files(root: Path) -> list[str]:
    q = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8"))
    book = q.get("book", {})
    out: list[str] = []

    def walk(items):
        for it in items or []:
            if isinstance(it, str):
                out.append(it)
            elif isinstance(it, dict):
                if it.get("href") or it.get("file"):
                    out.append(it.get("href") or it.get("file"))
                walk(it.get("chapters"))

    walk(book.get("chapters"))
    walk(book.get("appendices"))
    return out


def _expand(root: Path, rel: str, seen: tuple[str, ...] = ()) -> str:
    if rel in seen:
        return ""
    path = root / rel
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    return INCLUDE.sub(lambda m: _expand(root, m.group(1), seen + (rel,)), text)


def embed_order(root: Path) -> list[tuple[str, str]]:
    """(notebook, label) of every embedded cell, in the order the book shows them."""
    seen, out = set(), []
    for rel in _chapter_files(root):
        for nb, label in EMBED.findall(_expand(root, rel)):
            if (nb, label) not in seen:
                seen.add((nb, label))
                out.append((nb, label))
    return out


def _appendix_files(root: Path) -> list[str]:
    q = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8"))
    return [
        a if isinstance(a, str) else (a.get("href") or a.get("file") or "")
        for a in ((q.get("book") or {}).get("appendices") or [])
    ]


def chapter_prefixes(root: Path) -> dict[str, str]:
    """Chapter file -> its number in the HTML book («2», «3», appendix «A»); unnumbered chapters
    (`{.unnumbered}` on the first heading, e.g. Forord, Sammendrag) get no number."""
    appendices = set(_appendix_files(root))
    out: dict[str, str] = {}
    n = a = 0
    for rel in _chapter_files(root):
        path = root / rel
        first = (
            next((ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("# ")), "")
            if path.exists()
            else ""
        )
        if ".unnumbered" in first:
            continue
        if rel in appendices:
            a += 1
            out[rel] = chr(ord("A") + a - 1)
        else:
            n += 1
            out[rel] = str(n)
    return out


FIGURE_META_PREFIX = "kg-figur-"
_FENCE_OPEN = re.compile(r"^(:{3,})\s*(\{[^}]*\}|\S.*)$")
_FENCE_CLOSE = re.compile(r"^:{3,}\s*$")
_META_COND = re.compile(r"\b(when-meta|unless-meta)=\"([^\"]+)\"")


def figure_meta(build_dir: Path) -> dict[str, bool]:
    """`kg-figur-<label>`: whether the notebooks drew figure `<label>` (it has figure data) in this
    configuration, for every figure a notebook captioned. The staged `_quarto.yml` carries these
    keys, and the report shows a figure whose data are entirely missing as a sentence instead:
    `::: {.content-visible when-meta="kg-figur-fig-x"}` around the embed, and the sentence in the
    `.content-hidden` counterpart (Quarto drops hidden content before it numbers figures)."""
    out: dict[str, bool] = {}
    for path in sorted((Path(build_dir) / "records").glob("*.json")):
        rec = atomic.read_json(path, default=None) or {}
        drawn = set(rec.get("figure_data") or {})
        for label in rec.get("captions") or {}:
            if label.startswith("fig-"):
                out[FIGURE_META_PREFIX + label] = label in drawn
    return out


def _shown(attrs: str, meta: dict) -> bool:
    """Whether a fenced div with these attributes is shown, judged only on `when-meta`/`unless-meta`
    keys that `meta` knows (Quarto: visible when the key holds true); anything else counts as shown."""
    kind = "visible" if "content-visible" in attrs else "hidden" if "content-hidden" in attrs else None
    conds = _META_COND.findall(attrs)
    if kind is None or not conds or any(key not in meta for _, key in conds):
        return True
    match = all((meta[key] is True) != (cond == "unless-meta") for cond, key in conds)
    return match if kind == "visible" else not match


def visible_text(text: str, meta: dict) -> str:
    """`text` without the fenced divs that `meta` hides (see `_shown`)."""
    out: list[str] = []
    stack: list[bool] = []
    for line in text.splitlines(keepends=True):
        opening = _FENCE_OPEN.match(line.rstrip("\n"))
        if opening and not _FENCE_CLOSE.match(line):
            stack.append(_shown(opening.group(2), meta))
        elif _FENCE_CLOSE.match(line) and stack:
            stack.pop()
            continue
        if all(stack):
            out.append(line)
    return "".join(out)


def edition_numbers(root: Path, fmt: str = "pdf", meta: dict | None = None) -> dict[str, str]:
    """Label -> «Figur N» / «Tabell N» of this edition. `fmt="pdf"`: numbered through the book, as
    the Typst/PDF output numbers them; `fmt="html"`: per chapter («Figur 2.1», «Tabell A.1»), as a
    Quarto HTML book numbers them. Only fig-/tbl- labels are numbered. An embed inside a block that
    `meta` hides (a figure whose data are missing, see `figure_meta`) gets no number; `meta`
    defaults to the top-level keys of `root`'s `_quarto.yml` (the staged site has them)."""
    if meta is None:
        meta = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8")) or {}
    prefixes = chapter_prefixes(root) if fmt == "html" else {}
    out = {}
    n = {"fig": 0, "tbl": 0}
    for rel in _chapter_files(root):
        if fmt == "html":
            n = {"fig": 0, "tbl": 0}
        for _nb, label in EMBED.findall(visible_text(_expand(root, rel), meta)):
            kind = label.split("-", 1)[0]
            if kind in n and label not in out:
                n[kind] += 1
                num = f"{prefixes.get(rel, '?')}.{n[kind]}" if fmt == "html" else str(n[kind])
                out[label] = f"{'Figur' if kind == 'fig' else 'Tabell'} {num}"
    return out


@dataclass
class Records:
    """What the notebooks of one configuration recorded."""

    captions: dict[str, dict] = field(default_factory=dict)  # label -> {fig-cap|tbl-cap, fig-alt}
    figure_data: dict[str, dict] = field(default_factory=dict)  # label -> {file, title}
    missing: dict[str, dict] = field(default_factory=dict)  # dataset -> {reason, note, how_to_fetch, notebooks}
    used: dict[str, list[str]] = field(default_factory=dict)  # dataset -> notebooks


def read_records(build_dir: Path, notebooks: list[str]) -> Records:
    r = Records()
    for nb in notebooks:
        rec = atomic.read_json(Path(build_dir) / "records" / f"{nb}.json", default=None)
        if not rec:
            continue
        r.captions.update(rec.get("captions") or {})
        r.figure_data.update(rec.get("figure_data") or {})
        for ds in rec.get("used") or []:
            r.used.setdefault(ds, []).append(nb)
        for m in rec.get("missing") or []:
            e = r.missing.setdefault(m["dataset"], {**m, "notebooks": []})
            e["notebooks"].append(nb)
    return r


# notebook.data_status() keys -> the appendix's groups
STATUS_GROUP = {
    "beregnet": "beregnet",
    "transkribert": "publisert",
    "transkribert_annet": "transkribert",
    "manuell": "fil",
    "mangler": "mangler",
}


def grunnlag(status: dict[str, list[str]], records: Records) -> dict[str, list[str]]:
    """The catalogue's datasets grouped by how their numbers reach the report in this configuration,
    from `notebook.data_status` (manifest provider and status, catalogue coverage: the same basis
    as the forord's statement). `delvis`: present, but a notebook found it lacking the
    configuration's year or region for some figure or table (recorded in its record)."""
    groups: dict[str, list[str]] = {k: [] for k in [*KIND_TITLE, "mangler", "delvis"]}
    for key, names in status.items():
        groups[STATUS_GROUP[key]].extend(names)
    groups["delvis"] = [n for n in records.missing if n not in groups["mangler"]]
    return groups


def split_query(how: str, width: int = 80) -> str:
    """A long query URL as lines a reader can copy (break before each `&`), for a code block."""
    if len(how) <= width or "&" not in how:
        return how
    head, *rest = how.split("&")
    return head + "".join("\n  &" + p for p in rest)
