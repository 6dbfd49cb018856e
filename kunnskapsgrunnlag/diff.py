"""What changed between two built editions (or since the last build), in the reader's terms.

`diff A B` groups the changes by figure and table (their number in the book, their caption, the
changed numbers of the CSV behind them) and by chapter (the numbers printed in the prose, found
through the `{{< var … >}}` shortcodes of the report sources, each with the heading of its section).
Numbers are shown as printed (rounded, Norwegian format). Reference years are listed on their own,
with both editions' years. Prose is left out: only which sentence variables changed, by section.
Variables the report does not print (e.g. `ab.agder_2des`) are not listed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from . import atomic, fmt

if TYPE_CHECKING:  # pandas is imported where it is used: the runner imports this module
    import pandas as pd

VAR = re.compile(r"\{\{<\s*var\s+([\w.]+)\s*>\}\}")
HEADING = re.compile(r"^(#{1,4})\s+(.*?)\s*(\{[^}]*\})?\s*$")
CODE_COL = re.compile(r"(code|kode|nummer|_id|_2024|kode_udir)$")
SOURCE_COL = re.compile(r"^(kilde|source|Kilde)$")
NUMBER = re.compile(r"^[+\-−]?\d[\d\s\u00a0\u202f]*(,\d+)?\.?$")
YEAR_KEY = re.compile(r"(^|[._])(aar|fra_aar|til_aar|kull|aar_tekst|mellom_aar|slutt_aar|utd_aar)$")
YEARISH = re.compile(r"^(\d{4})(\s*[–-]\s*\d{4})?( \(siste tilgjengelige (år|kull)\))?$")
MAX_ROWS_MD = 40


@dataclass
class Change:
    part: str  # Figur | Tabell | Kapittel | Referanseår | Tekst
    number: str  # «Figur 3», «Tabell 1», chapter heading, ...
    label: str  # fig-/tbl- label or variable key
    title: str  # caption or section heading
    row: str  # the row of the figure's data, or the variable
    column: str
    old: str
    new: str


@dataclass
class Diff:
    old_name: str
    new_name: str
    changes: list[Change] = field(default_factory=list)
    years: dict[str, tuple[str, str]] = field(default_factory=dict)

    def by(self, part: str) -> list[Change]:
        return [c for c in self.changes if c.part == part]


# --- what the report prints -----------------------------------------------------------------------
def printed_variables(root: Path) -> dict[str, str]:
    """Variable key -> the heading of the first section that prints it (report sources)."""
    out: dict[str, str] = {}
    files = [Path(root) / "index.qmd", *sorted((Path(root) / "report").rglob("*.qmd"))]
    for f in files:
        if not f.is_file():
            continue
        heading = f.stem
        for line in f.read_text(encoding="utf-8").splitlines():
            m = HEADING.match(line)
            if m:
                heading = VAR.sub(lambda v: "…" if v.group(1) != "region.navn" else "{region}", m.group(2)).strip()
                continue
            for key in VAR.findall(line):
                out.setdefault(key, heading)
    return out


def classify(key: str, value: str) -> str:
    v = str(value).strip()
    if YEAR_KEY.search(key) and (YEARISH.match(v) or v.isdigit()):
        return "aar"
    if NUMBER.match(v) or v in {"–", "(data mangler)", "(finnes ikke)"}:
        return "tall"
    if len(v.split()) <= 5:
        return "kort"
    return "prosa"


def _num(v) -> str:
    """A CSV value as the book prints it: Norwegian format, at most one decimal."""
    import pandas as pd

    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, (int,)) or (isinstance(v, float) and float(v).is_integer()):
        return fmt.num(int(v))
    if isinstance(v, float):
        return fmt.num(v, 2 if abs(v) < 10 and round(v, 1) != round(v, 2) else 1)
    return str(v)


def _read_figure_csv(path: Path) -> pd.DataFrame | None:
    import pandas as pd

    if not path.is_file():
        return None
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    if not lines:
        return None
    return pd.read_csv(io.StringIO("\n".join(lines)), dtype_backend="numpy_nullable").convert_dtypes()


def _key_columns(df: pd.DataFrame) -> list[str]:
    """The columns that identify a row: text and codes, and integer year columns (not the source)."""
    import pandas as pd

    keys = []
    for c in df.columns:
        s = df[c]
        if SOURCE_COL.match(c):
            keys.append(c)  # its first word (registrert / framskrevet): _source_kind
            continue
        if CODE_COL.search(c) or not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            keys.append(c)
        elif (
            pd.api.types.is_integer_dtype(s)
            and s.dropna().between(1900, 2100).all()
            and re.search(r"(year|aar|kull|period)", c)
        ):
            keys.append(c)
    return keys


def _source_kind(df: pd.DataFrame) -> pd.DataFrame:
    """A source column reduced to its first word: «framskrevet (SSB 14288, 2024-runden)» and
    «framskrevet (SSB 14746, 2026-runden)» are the same kind of row in two editions."""

    df = df.copy()
    for c in df.columns:
        if SOURCE_COL.match(c):
            df[c] = df[c].astype(str).str.split().str[0]
    return df


def _row_label(row: pd.Series, keys: list[str]) -> str:
    names = [c for c in keys if not CODE_COL.search(c)] or keys
    return ", ".join(str(row[c]) for c in names if str(row[c]) not in {"<NA>", "nan"})


def figure_changes(label: str, a: pd.DataFrame | None, b: pd.DataFrame | None) -> list[tuple[str, str, str, str]]:
    """(row, column, old, new) for every number of a figure's CSV that is printed differently."""
    if a is None and b is None:
        return []
    if a is None or b is None:
        return [
            (
                "hele figuren/tabellen",
                "",
                "finnes ikke" if a is None else "vist",
                "finnes ikke" if b is None else "vist",
            )
        ]
    a, b = _source_kind(a), _source_kind(b)
    keys = [k for k in _key_columns(a) if k in b.columns]
    vals = [c for c in a.columns if c in b.columns and c not in keys and not SOURCE_COL.match(c)]
    if not keys:
        return []
    m = a.merge(b, on=keys, how="outer", suffixes=("__a", "__b"), indicator=True)
    out = []
    for _, r in m.iterrows():
        for c in vals:
            x = r.get(f"{c}__a") if r["_merge"] != "right_only" else None
            y = r.get(f"{c}__b") if r["_merge"] != "left_only" else None
            px, py = _num(x), _num(y)
            if px != py:
                out.append((_row_label(r, keys), c, px, py))
    return out


# --- two built editions ------------------------------------------------------------------------
def _flat(d: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = str(v)
    return out


def _captions(build_dir: Path) -> dict[str, str]:
    caps = {}
    for f in sorted((build_dir / "records").glob("*.json")):
        rec = atomic.read_json(f, default={}) or {}
        for label, c in (rec.get("captions") or {}).items():
            caps[label] = c.get("fig-cap") or c.get("tbl-cap") or ""
    return caps


def _natural(number: str) -> tuple:
    """«Figur 2» before «Figur 12»: the digits of a figure/table number compared as integers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", number))


def compare_builds(
    root: Path,
    old_build: Path,
    new_build: Path,
    old_name: str,
    new_name: str,
    old_years: dict | None = None,
    new_years: dict | None = None,
    numbers: dict[str, str] | None = None,
) -> Diff:
    """The changes from one build to the other. `numbers`: label -> «Figur N» / «Tabell N» of the
    book (`appendix.edition_numbers`, computed by the caller); a figure without one keeps its label."""
    d = Diff(old_name, new_name)
    numbers = numbers or {}
    caps_a, caps_b = _captions(old_build), _captions(new_build)
    labels = sorted(
        {p.stem for p in (old_build / "figurdata").glob("*.csv")}
        | {p.stem for p in (new_build / "figurdata").glob("*.csv")},
        key=lambda lab: (_natural(numbers.get(lab, "~")), lab),
    )
    for label in labels:
        a = _read_figure_csv(old_build / "figurdata" / f"{label}.csv")
        b = _read_figure_csv(new_build / "figurdata" / f"{label}.csv")
        part = "Figur" if label.startswith("fig-") else "Tabell"
        title = caps_b.get(label) or caps_a.get(label) or label
        for row, col, x, y in figure_changes(label, a, b):
            d.changes.append(Change(part, numbers.get(label, part), label, title, row, col, x, y))
    va = _flat(yaml.safe_load((old_build / "_variables.yml").read_text(encoding="utf-8")))
    vb = _flat(yaml.safe_load((new_build / "_variables.yml").read_text(encoding="utf-8")))
    _variable_changes(d, root, va, vb)
    for key in sorted(set(old_years or {}) | set(new_years or {})):
        yo, yn = (old_years or {}).get(key), (new_years or {}).get(key)
        if isinstance(yo, (int, str)) or isinstance(yn, (int, str)):
            d.years[key] = (str(yo) if yo is not None else "–", str(yn) if yn is not None else "–")
    return d


def _variable_changes(d: Diff, root: Path, va: dict[str, str], vb: dict[str, str]) -> None:
    printed = printed_variables(root)
    for key in sorted(set(va) | set(vb), key=lambda k: (printed.get(k, "~"), k)):
        if key not in printed:
            continue  # not printed in the report
        x, y = va.get(key, "(finnes ikke)"), vb.get(key, "(finnes ikke)")
        if x == y:
            continue
        kind = max(
            (classify(key, v) for v in (x, y) if v not in ("(finnes ikke)", "")),
            key=["aar", "tall", "kort", "prosa"].index,
            default="kort",
        )
        section = printed[key].replace("{region}", vb.get("region.navn") or va.get("region.navn") or "regionen")
        if kind == "aar":
            d.changes.append(Change("Referanseår", section, key, section, key, "", x, y))
        elif kind == "prosa":
            d.changes.append(Change("Tekst", section, key, section, key, "", "", ""))
        else:
            d.changes.append(Change("Kapittel", section, key, section, key, "", x, y))


# --- output --------------------------------------------------------------------------------------
def _cell(v: str) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(d: Diff, heading: str) -> str:
    a, b = d.old_name, d.new_name
    nums = [c for c in d.changes if c.part in ("Figur", "Tabell", "Kapittel")]
    md = [
        f"# {heading}",
        "",
        f"{len(nums)} tall i {len({(c.part, c.label) for c in nums})} figurer, tabeller og avsnitt er endret. "
        "Tallene står slik de trykkes (avrundet). Tekst er ikke tatt med; bare hvilke setninger som er endret.",
        "",
    ]
    if d.years:
        md += ["## Referanseår", "", f"| nøkkel | {a} | {b} |", "|---|---|---|"]
        md += [f"| {k} | {x} | {y} |" for k, (x, y) in d.years.items()] + [""]
    for part, title in (("Figur", "Figurer"), ("Tabell", "Tabeller")):
        groups: dict[str, list[Change]] = {}
        for c in d.by(part):
            groups.setdefault(c.label, []).append(c)
        if not groups:
            continue
        md += [f"## {title}", ""]
        for label, cs in groups.items():
            md += [
                f"### {cs[0].number}: {_cell(cs[0].title)}",
                "",
                f"`{label}` – {len(cs)} tall endret.",
                "",
                f"| rad | kolonne | {a} | {b} |",
                "|---|---|---|---|",
            ]
            md += [
                f"| {_cell(c.row)} | {_cell(c.column)} | {_cell(c.old)} | {_cell(c.new)} |" for c in cs[:MAX_ROWS_MD]
            ]
            if len(cs) > MAX_ROWS_MD:
                md.append(f"| … | | {len(cs) - MAX_ROWS_MD} flere rader i CSV-fila | |")
            md.append("")
    for part, title in (("Kapittel", "Tall i teksten, etter avsnitt"), ("Referanseår", "År i teksten, etter avsnitt")):
        cs = d.by(part)
        if not cs:
            continue
        md += [f"## {title}", "", f"| avsnitt | variabel | {a} | {b} |", "|---|---|---|---|"]
        md += [f"| {_cell(c.title)} | `{c.label}` | {_cell(c.old)} | {_cell(c.new)} |" for c in cs] + [""]
    prose = d.by("Tekst")
    if prose:
        md += ["## Setninger som er endret (teksten vises ikke)", ""]
        by_section: dict[str, list[str]] = {}
        for c in prose:
            by_section.setdefault(c.title, []).append(c.label)
        md += [f"- {_cell(s)}: {', '.join(f'`{k}`' for k in ks)}" for s, ks in by_section.items()] + [""]
    return "\n".join(md) + "\n"


def to_csv(d: Diff) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["del", "nummer", "etikett", "tittel", "rad", "kolonne", d.old_name, d.new_name])
    for k, (x, y) in d.years.items():
        w.writerow(["Referanseår (utgave)", "", k, "", "", "", x, y])
    for c in d.changes:
        w.writerow([c.part, c.number, c.label, c.title, c.row, c.column, c.old, c.new])
    return buf.getvalue()


def write(d: Diff, stem: Path, heading: str) -> tuple[Path, Path]:
    md, cs = Path(f"{stem}.md"), Path(f"{stem}.csv")
    atomic.write_text(md, to_markdown(d, heading))
    atomic.write_text(cs, to_csv(d))
    return md, cs


def diff_editions(s_old, s_new, numbers: dict[str, str] | None = None) -> tuple[Diff, Path, Path]:
    """`kunnskapsgrunnlag diff A B`: compare two built configurations; writes build/diff-A-B-REGION.md/.csv.
    `numbers`: the book's figure and table numbers (see `compare_builds`)."""
    from . import outputs

    years_keys = [
        k
        for k in set(s_old.edition_params) | set(s_new.edition_params)
        if k not in ("date", "note", "projection_years")
    ]
    d = compare_builds(
        s_old.root,
        s_old.build_dir,
        s_new.build_dir,
        f"utgave {s_old.edition}",
        f"utgave {s_new.edition}",
        {k: s_old.edition_params.get(k) for k in years_keys},
        {k: s_new.edition_params.get(k) for k in years_keys},
        numbers,
    )
    outputs.ensure_artifact_root(s_old.root / "build")
    stem = s_old.root / "build" / f"diff-{s_old.edition}-{s_new.edition}-{s_old.region}"
    md, cs = write(
        d, stem, f"Endrede tall: utgave {s_old.edition} → {s_new.edition}, {s_old.region_name} ({s_old.region})"
    )
    return d, md, cs


# --- one build (changes.md) ----------------------------------------------------------------------
def changes_section(settings, changes: list[str]) -> list[str]:
    """The «changed numbers» section of build/<id>/changes.md in the same form as `diff`: the
    runner's «key: old -> new» lines grouped by section, numbers only, prose listed by section."""
    va, vb = {}, {}
    for line in changes:
        key, _, rest = line.partition(": ")
        old, sep, new = rest.rpartition(" -> ")
        if not sep:
            continue
        va[key], vb[key] = old, new
    d = Diff("forrige bygg", "dette bygget")
    _variable_changes(
        d,
        settings.root,
        {k: v for k, v in va.items() if v != "(ny)"},
        {k: v for k, v in vb.items() if v != "(fjernet)"},
    )
    text = to_markdown(d, "Endrede tall i rapporten")
    return ["#" + ln if ln.startswith("#") else ln for ln in text.splitlines()]  # one level down
