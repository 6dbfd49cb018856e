"""Editions: what ties a dataset to an edition (projection round, vintage), and `edition new YEAR`.

* The projection round is an edition key (`projection_round`); the catalogue says which datasets
  belong to which round (`projection: {round: 2026, part: alder|fylker|kommuner}`), so 2024 means
  SSB table 14288 and 2026 means table 14746. A dataset of a later round is not used by the edition;
  earlier rounds are, as the fallback for a part the edition's round lacks (`pick_projection`).
* A catalogue `vintage` may be a template of the edition block (`"{neet_year}"`), resolved per
  configuration for the online route; a mirror file keeps the vintage of its own extract.
* `new_edition_block` derives a new edition's block from the newest earlier one (reference years
  shifted, the newest projection round published by then chosen from the catalogue).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Callable

from . import fmt
from .config import _FIELD, ConfigError, load_catalogue, load_project, resolve_vintage, used_by_edition  # noqa: F401 - re-exported

PROJECTION_PARTS = ("alder", "fylker", "kommuner")

# Edition keys that are years and move with the edition (a new edition shifts each by the gap).
YEAR_KEYS = (
    "population_last_year",
    "aldersbaereevne_year",
    "neet_year",
    "gjennomforing_cohort",
    "tiltak_population_year",
    "flytting_year",
    "levekaar_year",
    "boliger_year",
    "sysselsetting_year",
)
# Keys that stay as they are (population_first_year: the 2020 reform year the series starts from).
FIXED_KEYS = ("population_first_year", "projection_years")
MONTHS = fmt.MONTHS_NB


# --- projection rounds --------------------------------------------------------------------------
def projection_rounds(catalogue: dict | None = None) -> dict[int, dict[str, str]]:
    """{round: {part: dataset}} from the catalogue's `projection:` keys, e.g.
    {2024: {"alder": "projection_14288", "fylker": "projection_14288_fylker", …}, 2026: {…}}."""
    cat = catalogue if catalogue is not None else load_catalogue()
    out: dict[int, dict[str, str]] = {}
    for name, spec in cat.items():
        p = spec.get("projection")
        if isinstance(p, dict) and "round" in p:
            out.setdefault(int(p["round"]), {})[str(p.get("part", "alder"))] = name
    return dict(sorted(out.items()))


def projection_datasets(round_: int, catalogue: dict | None = None) -> dict[str, str]:
    """The datasets of one projection round by part; a ConfigError names the rounds the catalogue has."""
    rounds = projection_rounds(catalogue)
    if int(round_) not in rounds:
        raise ConfigError(
            f"projection_round {round_} has no datasets in config/datasets.yml "
            f"(rounds with datasets: {', '.join(map(str, rounds)) or 'none'})"
        )
    return rounds[int(round_)]


def projection_table(round_: int, catalogue: dict | None = None) -> str:
    cat = catalogue if catalogue is not None else load_catalogue()
    ds = projection_datasets(round_, cat)
    return str(cat[next(iter(ds.values()))]["table"])


def pick_projection(
    round_: int, load: Callable[[str, str, int], Any], catalogue: dict | None = None
) -> dict[str, tuple[int, str, Any] | None]:
    """Per part (alder, fylker, kommuner): (round, dataset, data) of the edition's round when
    `load(part, dataset, round)` gives data (not None), else of the latest earlier round that does, else
    None. Rounds are tried newest first and the search stops at the first usable one, so an earlier
    round is never loaded (nor noted missing) when the edition's own round is there. A later round
    than the edition's is never used: an old edition must not change when data grow."""
    rounds = projection_rounds(catalogue)
    tried = sorted((r for r in rounds if r <= int(round_)), reverse=True)
    out: dict[str, tuple[int, str, Any] | None] = {}
    for part in PROJECTION_PARTS:
        out[part] = None
        for r in tried:
            name = rounds[r].get(part)
            if not name:
                continue
            data = load(part, name, r)
            if data is not None:
                out[part] = (r, name, data)
                break
    return out


def datasets_for(settings) -> list[str]:
    """The catalogue datasets the configuration's edition uses (every other one is skipped)."""
    return [n for n, s in load_catalogue(settings.root).items() if used_by_edition(s, settings.edition_params)]


# --- vintages -----------------------------------------------------------------------------------
# --- edition new --------------------------------------------------------------------------------
def new_edition_block(year: int, project: dict | None = None, catalogue: dict | None = None) -> tuple[int, dict]:
    """(previous edition, new block): every year key moved by the gap to the previous edition, the
    newest projection round the catalogue has that is not later than the edition year, and a
    publication date in the previous edition's month."""
    proj = project if project is not None else load_project()
    cat = catalogue if catalogue is not None else load_catalogue()
    eds = {int(k): v for k, v in proj["editions"].items()}
    if year in eds:
        raise ConfigError(f"edition {year} exists already in config/project.yml")
    earlier = [e for e in eds if e < year]
    if not earlier:
        raise ConfigError(f"no edition before {year} to derive it from (editions: {', '.join(map(str, sorted(eds)))})")
    prev = max(earlier)
    gap = year - prev
    block = copy.deepcopy(eds[prev])
    for key in YEAR_KEYS:
        if key in block:
            block[key] = int(block[key]) + gap
    rounds = [r for r in projection_rounds(cat) if r <= year]
    if rounds:
        block["projection_round"] = max(rounds)
    month = next((m for m in MONTHS if m in str(block.get("date", ""))), "februar")
    block["date"] = f"{month} {year}"
    block.pop("note", None)
    return prev, block


def _yaml_block(year: int, prev: int, block: dict, catalogue: dict) -> str:
    table = projection_table(block["projection_round"], catalogue) if "projection_round" in block else "?"
    lines = [
        f"  # Written by `kunnskapsgrunnlag edition new {year}` from edition {prev}: reference years moved by "
        f"{year - prev}, projection round {block.get('projection_round')} (SSB {table}).",
        f"  {year}:",
    ]
    for key, value in block.items():
        if isinstance(value, list):
            v = "[" + ", ".join(str(x) for x in value) + "]"
        elif isinstance(value, str):
            v = '"' + value.replace('"', '\\"') + '"'
        else:
            v = str(value)
        lines.append(f"    {key}: {v}")
    return "\n".join(lines) + "\n"


def insert_edition(text: str, year: int, prev: int, block: dict, catalogue: dict) -> str:
    """project.yml's text with the new block appended at the end of `editions:` (comments kept)."""
    lines = text.splitlines(keepends=True)
    try:
        start = next(i for i, ln in enumerate(lines) if re.match(r"^editions:\s*(#.*)?$", ln))
    except StopIteration:
        raise ConfigError("config/project.yml has no top-level `editions:` block") from None
    end = start + 1
    last_content = start
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "\t", "#"))):
        if lines[end].strip() and not lines[end].lstrip().startswith("#"):
            last_content = end
        end += 1
    cut = last_content + 1
    return "".join(lines[:cut]) + _yaml_block(year, prev, block, catalogue) + "".join(lines[cut:])


def write_new_edition(root: Path, year: int) -> tuple[int, dict, Path]:
    """Write the new block into config/project.yml (atomically) and validate the result; on a
    validation error the file is left as it was."""
    import yaml

    from . import atomic
    from .config_schema import PROJECT_SCHEMA, validate

    path = Path(root) / "config" / "project.yml"
    text = path.read_text(encoding="utf-8")
    proj = yaml.safe_load(text)
    cat = load_catalogue()
    prev, block = new_edition_block(year, proj, cat)
    new_text = insert_edition(text, year, prev, block, cat)
    data = yaml.safe_load(new_text)
    problems = validate(data, PROJECT_SCHEMA)
    if problems or int(year) not in {int(k) for k in data.get("editions", {})}:
        raise ConfigError(f"{path}: the new edition block does not validate: " + "; ".join(problems or ["not found"]))
    atomic.write_text(path, new_text)
    load_project.cache_clear()
    return prev, block, path
