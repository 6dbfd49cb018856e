"""What every notebook needs: settings from its parameters, data loading, variables, missing data,
the numbers behind each figure (CSV), and captions computed from the configuration.

The shared notebook API (see docs/authoring.md, «Notebook API»):

* `ctx.try_load(dataset)`: the data, or None when the dataset is absent, outside its catalogue
  `coverage` (regions/editions) for this configuration; the absence is recorded.
* `ctx.require(dataset, df, year=..., regions=...)`: the data, or None (recorded as missing) when
  it lacks the configuration's year or region(s).
* `ctx.missing_note(dataset, title)`: a short «Data mangler» note as real text (Markdown) in place
  of a figure or table; the exact query goes to the Datakilder appendix and the build log.
* `ctx.figure_data(label, df, title=...)`: writes `<build_dir>/figurdata/<label>.csv` (exactly the
  data drawn, with `#` header lines). It shows nothing: an embedded cell has exactly one output, and
  the link «Last ned tallene (CSV)» is written into the staged report (kunnskapsgrunnlag.render.staging).
* `ctx.caption(label, cap=..., alt=...)`: caption/alt text computed in the notebook; the runner
  writes it into the executed notebook's `#| fig-cap:`/`#| tbl-cap:`/`#| fig-alt:` options.
* `original_numbers()`: label -> «Figur 4» of the published report R1023460 (config/figures.yml).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from . import atomic, fmt, store
from .config import Settings, load_catalogue, load_project, project_root, settings_from_parameters
from .status import data_status  # one basis for the forord, the cover and the appendix

MISSING_TEXT = "(data mangler)"
FIGURDATA = "figurdata"
# Chapter pages of the book live in report/; the staged site has figurdata/ at its root.
CSV_HREF_PREFIX = "../" + FIGURDATA + "/"
APPENDIX_NAME = "Datakilder"


def _figures_config(root: Path | None = None) -> dict:
    return _figures_config_of(Path(root).resolve() if root is not None else project_root())


@lru_cache(maxsize=None)
def _figures_config_of(root: Path) -> dict:
    path = root / "config" / "figures.yml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def original_numbers(root: Path | None = None) -> dict[str, str]:
    """Label -> the number of the same figure/table in the published report, e.g.
    {"fig-neet": "Figur 4", "tbl-levekaar": "Tabell 1"} (config/figures.yml, key `original`).
    Labels the published report does not have are left out."""
    return {
        label: str(v["original"])
        for label, v in (_figures_config(root).get("figures") or {}).items()
        if isinstance(v, dict) and v.get("original")
    }


def figure_relations(root: Path | None = None) -> dict[str, dict[str, str]]:
    """Label -> {relation, original, note} from config/figures.yml: `tilsvarer` (the same content as
    the original's `original`), `erstatter` (a substitute; `note` says what differs) or `ny` (no
    counterpart; `note` gives the reason)."""
    out = {}
    for label, v in (_figures_config(root).get("figures") or {}).items():
        v = v if isinstance(v, dict) else {}
        rel = str(v.get("relation") or ("tilsvarer" if v.get("original") else "ny"))
        out[label] = {"relation": rel, "original": str(v.get("original") or ""), "note": str(v.get("note") or "")}
    return out


def not_included(root: Path | None = None) -> dict[str, str]:
    """Numbers of the published report that no figure or table of this edition stands for -> why."""
    return {str(k): str(v) for k, v in (_figures_config(root).get("not_included") or {}).items()}


def report_number() -> str:
    return str(load_project().get("report", {}).get("report_number", "R1023460"))


def config_id(settings: Settings) -> str:
    return getattr(settings, "config_id", None) or f"{settings.edition}-{settings.region}"


class Context:
    """Created in the first cell of each notebook: `ctx = Context("03_02_livsmestring", params)`."""

    def __init__(self, name: str, params: dict[str, Any]):
        self.name = name
        self.settings: Settings = settings_from_parameters(params)
        self.ed = self.settings.edition_params
        self.variables: dict[str, Any] = {}
        self.missing: list[dict] = []
        self.used: list[str] = []
        self.captions: dict[str, dict[str, str]] = {}
        self.figure_files: dict[str, dict[str, str]] = {}
        from . import plots  # matplotlib: imported only inside notebooks, not by the runner

        plots.use_style()
        self.settings.processed_dir.mkdir(parents=True, exist_ok=True)

    # --- configuration ----------------------------------------------------------------
    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def region_name(self) -> str:
        return self.settings.region_name

    @property
    def config_id(self) -> str:
        return config_id(self.settings)

    # --- data -------------------------------------------------------------------------
    def load(self, dataset: str, **kw):
        self.used.append(dataset)
        return store.load(self.settings.raw_dir, dataset, **kw)

    def load_geo(self, dataset: str):
        from . import shared  # boundaries prepared once per edition, cached by input sha256 (shared.py)

        self.used.append(dataset)
        return shared.load_geo(self.settings, dataset)

    def outside_coverage(self, dataset: str) -> str | None:
        """Why the catalogue's `coverage: {regions: [...], editions: [...]}` excludes this
        configuration (a Norwegian sentence), or None when it is covered."""
        cov = load_catalogue()[dataset].get("coverage")
        if not isinstance(cov, dict):
            return None
        names = load_project()["regions"]
        regions = [str(r) for r in cov.get("regions") or []]
        editions = [int(e) for e in cov.get("editions") or []]
        if regions and self.region not in regions:
            return (
                "tallene finnes bare for "
                + fmt.join_nb([names.get(r, r) for r in regions])
                + f", ikke for {self.region_name}"
            )
        if editions and self.settings.edition not in editions:
            return "tallene finnes bare for utgave " + fmt.join_nb([str(e) for e in editions])
        return None

    def note_missing(self, dataset: str, reason: str, note: str | None = None, how: str | None = None) -> None:
        """Record a partial absence found by the notebook itself (e.g. projections lacking for a
        region): `reason` for the log, `note` one sentence for the reader."""
        self._record_missing(dataset, reason, note or _sentence(reason), how)

    def _record_missing(self, dataset: str, reason: str, note: str, how: str | None = None) -> None:
        if any(m["dataset"] == dataset for m in self.missing):
            return
        try:  # the query the fetch of this build resolved for this configuration, as the manifest records it
            how = store.current_entry(self.settings.raw_dir, dataset).get("how_to_fetch") or how or "-"
        except (store.MissingData, store.RawDataError):  # not in the manifest (e.g. outside the dataset's coverage)
            how = how or "-"
        self.missing.append({"dataset": dataset, "reason": reason, "note": note, "how_to_fetch": how})
        print(f"DATA MANGLER: {dataset}: {reason}")

    def try_load(self, dataset: str, **kw):
        """Load, or return None and note the dataset as missing (tampered files still raise)."""
        why = self.outside_coverage(dataset)
        if why:
            self._record_missing(dataset, why, _sentence(why))
            return None
        try:
            return self.load(dataset, **kw)
        except store.MissingData as exc:
            spec = load_catalogue()[dataset]
            reason = exc.entry.get("reason", "ikke hentet")
            self._record_missing(dataset, reason, _reader_reason(spec, reason), exc.entry.get("how_to_fetch"))
            return None

    def require(
        self,
        dataset: str,
        df,
        *,
        year: int | Iterable[int] | None = None,
        regions: str | Iterable[str] | None = None,
        year_col: str = "year",
        region_col: str = "region_code",
        prefix: bool = False,
    ):
        """`df` if it has the configuration's year(s) and region(s), else None (recorded as missing).
        `prefix=True` accepts a region when some code starts with it (kommuner of a fylke)."""
        if df is None:
            return None
        names = load_project()["regions"]
        problems = []
        if year is not None:
            years = [year] if isinstance(year, int) else list(year)
            have = set(df[year_col].astype(int)) if year_col in df else set()
            lack = [y for y in years if int(y) not in have]
            if lack:
                problems.append("tall for " + fmt.join_nb([str(y) for y in lack]))
        if regions is not None:
            regs = [regions] if isinstance(regions, str) else list(regions)
            codes = set(df[region_col].astype(str)) if region_col in df else set()
            absent = [r for r in regs if (not any(c.startswith(r) for c in codes) if prefix else r not in codes)]
            if absent:
                problems.append("tall for " + fmt.join_nb([names.get(r, r) for r in absent]))
        if problems:
            why = "datagrunnlaget mangler " + " og ".join(problems)
            self.missing = [m for m in self.missing if m["dataset"] != dataset]
            self._record_missing(dataset, why, _sentence(why))
            return None
        return df

    def require_min(self, dataset: str, n: int, needed: int, what: str) -> bool:
        """A calculation needs at least `needed` units (e.g. kommuner for clustering): False and a
        recorded, explained absence when it has only `n`."""
        if n >= needed:
            return True
        why = f"{what} krever minst {needed}, men datagrunnlaget har {n}"
        self._record_missing(dataset, why, _sentence(why))
        return False

    def is_missing(self, dataset: str) -> bool:
        return any(m["dataset"] == dataset for m in self.missing)

    def missing_note(self, dataset: str, title: str):
        """Display a compact «Data mangler» note (Markdown text, no image) for a figure or table."""
        from IPython.display import display

        md = self.missing_markdown(dataset, title)
        display({"text/markdown": md}, raw=True)
        return md

    def missing_markdown(self, dataset: str, title: str) -> str:
        m = next((m for m in self.missing if m["dataset"] == dataset), None)
        note = m["note"] if m else "Tallene var ikke tilgjengelige da denne utgaven ble laget."
        return (
            f'::: {{.callout-important title="Data mangler: {_one_line(title)}"}}\n'
            f"{note} Vedlegget *{APPENDIX_NAME}* beskriver kilden.\n"
            ":::\n"
        )

    def source(self, dataset: str, period: Any = None, df=None) -> str:
        """«Kilde: …» from the catalogue, or from the data's own `kilde`/`source` column (file drops)."""
        own = _own_source(df)
        line = own or load_catalogue(self.settings.root)[dataset]["source_line"]
        return f"Kilde: {_with_period(line, period)}"

    # --- outputs ------------------------------------------------------------------------
    def set(self, key: str, value: Any) -> None:
        """Record a report variable (`{{< var key >}}`); values are formatted strings. Quarto reads a
        variable as Markdown, and values hold text from data (names, a file drop's fields): they
        are written as text (`fmt.md`), so markup in them stays verbatim and inert."""
        self.variables[key] = (
            fmt.md(value) if isinstance(value, str) else value if isinstance(value, int) else fmt.md(str(value))
        )

    def set_markdown(self, key: str, value: str) -> None:
        """Record a variable that is Markdown on purpose (e.g. a link written by the notebook)."""
        self.variables[key] = str(value)

    def set_missing(self, *keys: str) -> None:
        for k in keys:
            self.variables[k] = MISSING_TEXT

    def set_all(self, values: dict[str, Any]) -> None:
        """Record several variables (`set`); a value None is missing (`set_missing`)."""
        for key, value in values.items():
            if value is None:
                self.set_missing(key)
            else:
                self.set(key, value)

    def processed(self, filename: str) -> Path:
        return self.settings.processed_dir / filename

    def figure_data(self, label: str, df, *, title: str, source: str | None = None, link: bool = True) -> Path:
        """Write exactly the data drawn in figure/table `label` to `<build_dir>/figurdata/<label>.csv`
        with `#` header lines (title, source, configuration).

        Nothing is displayed: a second output in an embedded cell would become a sub-figure under
        Quarto (docs/authoring.md). The HTML book's link «Last ned tallene (CSV)» is added to the
        report under the embed when the site is staged (`kunnskapsgrunnlag.render.staging`);
        `link` is accepted for older notebooks and has no effect."""
        if not re.fullmatch(r"(fig|tbl)-[a-z0-9-]+", label):
            raise ValueError(f"figure_data: {label!r} is not a figure/table label (fig-… or tbl-…)")
        path = self.settings.build_dir / FIGURDATA / f"{label}.csv"
        header = [
            f"# {_one_line(title)}",
            f"# {_one_line(source) if source else 'Kilde: se figuren/tabellen'}",
            f"# Konfigurasjon: utgave {self.settings.edition}, region {self.region} "
            f"{self.region_name} ({self.config_id}); rapport {report_number()} (kunnskapsgrunnlag)",
        ]
        body = df.to_csv(index=False, lineterminator="\n")
        atomic.write_text(path, "\n".join(header) + "\n" + body)
        self.figure_files[label] = {"file": f"{FIGURDATA}/{label}.csv", "title": _one_line(title)}
        return path

    def csv_link(self, label: str) -> str:
        """The CSV's address from a chapter page in report/ (kept for older notebooks: shows nothing;
        the link itself is written into the staged report, see `figure_data`)."""
        return f"{CSV_HREF_PREFIX}{label}.csv"

    def caption(self, label: str, cap: str, alt: str | None = None, source: str | None = None) -> str:
        """Set the caption (and alt text) of figure/table `label` from computed text. Adds «(Figur N i
        R1023460)» when the published report has the same figure, and the source line after it."""
        kind = label.split("-", 1)[0]
        if kind not in ("fig", "tbl"):
            raise ValueError(f"caption: {label!r} is not a figure/table label")
        # Quarto reads `fig-cap`/`tbl-cap` as Markdown; the caption and its source line are text
        # (they hold names and a file drop's `kilde` from data), so they are escaped (`fmt.md`).
        text = fmt.md(_one_line(cap).rstrip())
        orig = original_numbers().get(label)
        if orig:
            rel = figure_relations().get(label, {}).get("relation", "tilsvarer")
            text = text.rstrip(".") + f" ({rel} {orig} i {report_number()})."
        elif not text.endswith("."):
            text += "."
        if source:
            text += " " + fmt.md(_one_line(source).rstrip(".")) + "."
        entry = {f"{kind}-cap": text}
        if alt:
            entry["fig-alt"] = _one_line(alt)
        self.captions[label] = entry
        return text

    def save(self) -> Path:
        """Write the variables (nested by the dots in their keys) and the notebook's record."""
        nested: dict[str, Any] = {}
        for key, value in sorted(self.variables.items()):
            node = nested
            *parents, leaf = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        # Under the runner, outputs go to this run's folder (KG_RUN_DIR) and replace the previous
        # ones only when the whole notebook succeeds; run by hand, straight into the build folder.
        run_dir = os.environ.get("KG_RUN_DIR")
        out = (Path(run_dir) if run_dir else self.settings.build_dir / "variables") / f"{self.name}.yml"
        atomic.write_text(out, yaml.safe_dump(nested, allow_unicode=True, sort_keys=True))
        rec = (Path(run_dir) if run_dir else self.settings.build_dir / "records") / f"{self.name}.json"
        atomic.write_json(
            rec,
            {
                "notebook": self.name,
                "config": self.config_id,
                "used": sorted(set(self.used)),
                "missing": self.missing,
                "captions": self.captions,
                "figure_data": self.figure_files,
            },
        )
        return out


# --- small text helpers ------------------------------------------------------------------------


def _with_period(line: str, period: Any) -> str:
    """«SSB, tabell 14288 (2024-runden)» + 2050 -> «SSB, tabell 14288 (2024-runden; 2050)»: one
    parenthesis, not two in a row."""
    if period is None:
        return line
    if line.endswith(")"):
        return f"{line[:-1]}; {period})"
    return f"{line} ({period})"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _sentence(text: str) -> str:
    text = _one_line(text)
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _reader_reason(spec: dict, reason: str) -> str:
    """One plain sentence for the reader, about the data (never about the build): which numbers
    were not available when this edition was made, with their source. How to fetch them is in
    the technical appendix."""
    return f"Tallene var ikke tilgjengelige da denne utgaven ble laget ({_source_name(spec)})."


def _source_name(spec: dict) -> str:
    """«SSB, tabell 07984» / «Udir» / the catalogue's source line without «Kilde:»."""
    prov = spec.get("provider")
    if prov == "ssb" and spec.get("table"):
        return f"SSB, tabell {spec['table']}"
    if prov == "udir":
        return "Udir"
    src = str(spec.get("source_line") or spec.get("title") or "kilden")
    return re.sub(r"^\s*Kilde:\s*", "", src).rstrip(".")


def _own_source(df) -> str | None:
    if df is None:
        return None
    for col in ("kilde", "source", "Kilde"):
        if col in getattr(df, "columns", []):
            vals = [str(v).strip() for v in df[col].dropna().unique() if str(v).strip()]
            if vals:
                return "; ".join(dict.fromkeys(vals))
    return None


# --- «Om denne utgaven»: what is computed, transcribed and missing in this configuration ------
def edition_statement(ctx: "Context") -> dict[str, str]:
    """Variables `datagrunnlag.*` for the forord: which numbers are computed from raw data, which are
    transcribed from the 2026 report (and why) and which are missing, in this configuration.
    The runner reruns the calling notebook whenever the manifest changes (runner.MANIFEST_READERS)."""
    st = data_status(ctx.settings)
    cat = load_catalogue()
    orig = original_numbers()

    def originals(names: list[str]) -> list[str]:
        labels = [u.split("#", 1)[1] for n in names for u in cat[n].get("used_by", []) if "#" in u]
        return list(dict.fromkeys(orig[lab] for lab in labels if lab in orig))

    def titles(names: list[str]) -> str:
        """«SSB (tabell 07459, 09429 og 14288), Udir og Kartverket» for the datasets `names`."""
        tables = sorted({str(cat[n]["table"]) for n in names if cat[n]["provider"] == "ssb" and cat[n].get("table")})
        others = {"udir": "Udir", "kartverket": "Kartverket"}
        parts = ([f"SSB (tabell {fmt.join_nb(tables)})"] if tables else []) + list(
            dict.fromkeys(
                others.get(cat[n]["provider"], cat[n]["source_line"]) for n in names if cat[n]["provider"] != "ssb"
            )
        )
        return fmt.join_nb(parts)

    v = {
        "datagrunnlag.n_beregnet": str(len(st["beregnet"])),
        "datagrunnlag.n_transkribert": str(len(st["transkribert"])),
        "datagrunnlag.n_mangler": str(len(st["mangler"])),
        "datagrunnlag.transkribert_datasett": fmt.join_nb(st["transkribert"]) or "ingen",
        "datagrunnlag.transkribert_tabeller": fmt.join_nb(originals(st["transkribert"])) or "ingen",
        "datagrunnlag.mangler_datasett": fmt.join_nb(st["mangler"]) or "ingen",
    }
    rn = report_number()
    parts = [f"Statistikken er hentet fra {titles(st['beregnet'])}."]
    if st["transkribert"]:
        parts.append(
            f"Verdiene bak {fmt.join_nb(originals(st['transkribert']))} i {rn} er skrevet av fra den publiserte "
            "rapporten, fordi ingen åpen kilde hadde de samme tallene da denne utgaven ble laget; andeler og "
            "indekser er likevel regnet ut på nytt fra dem og kontrollert mot rapporten."
        )
    else:
        parts.append(f"Ingen tall er skrevet av fra {rn} i denne utgaven.")
    if st["transkribert_annet"]:
        n = len(st["transkribert_annet"])
        parts.append(
            f"{'Én tabell' if n == 1 else f'{n} tabeller'} er satt sammen fra andre offentlige dokumenter, "
            "med kilde for hver opplysning."
        )
    if st["mangler"]:
        parts.append(
            f"Tallene fra {len(st['mangler'])} kilder var ikke tilgjengelige da utgaven ble laget; der de "
            "trengs, sier teksten at de mangler, og ingenting er anslått i stedet."
        )
    else:
        parts.append("Alle kildene var tilgjengelige da utgaven ble laget.")
    v["datagrunnlag.tekst"] = " ".join(parts)
    for k, val in v.items():
        ctx.set(k, val)
    return v
