"""The schema of the two configuration files, `config/project.yml` and `config/datasets.yml`.

Declarative: a spec is one of
  * ``Keys({...}, required=[...])`` – a mapping whose keys must be among the given ones
    (each key maps to the spec of its value; ``ANY`` accepts anything);
  * ``MapOf(spec)`` – a mapping with free keys (e.g. edition years, region codes) whose values
    all follow ``spec``;
  * ``ListOf(spec)`` – a list whose items all follow ``spec``;
  * ``ANY`` – anything (e.g. a query's dimension names, which come from the SSB table).

An unknown key is an error naming the file, the key's place and the nearest valid key
(difflib). To allow a new key, add it HERE, in the one list below that describes its place
(`CATALOGUE_ENTRY_KEYS` for a dataset in the catalogue, `EDITION_KEYS` for an edition block, …),
with a comment saying what it means.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


@dataclass
class Keys:
    keys: dict[str, Any]
    required: list[str] = field(default_factory=list)


@dataclass
class MapOf:
    value: Any


@dataclass
class ListOf:
    item: Any


# --------------------------------------------------------------------------------------------
# config/datasets.yml – one entry per dataset. THE list of allowed catalogue keys.
# --------------------------------------------------------------------------------------------
CATALOGUE_ENTRY_KEYS: dict[str, Any] = {
    "name": ANY,            # set by the loader to the entry's key (may be given, must match)
    "title": ANY,           # Norwegian title of the dataset
    "provider": ANY,        # ssb | udir | kartverket | published | manual | transcription
    "table": ANY,           # the provider's table id (e.g. SSB "07459")
    "licence": ANY,
    "source_line": ANY,     # "Kilde: …" line under figures
    "used_by": ANY,         # [notebook#label, …]
    "vintage": ANY,         # the reference period(s)
    "query": ANY,           # the provider's query (dimension names come from the table)
    "query_note": ANY,      # explanation of the query (codes, why this selection)
    "mirror": Keys({        # offline mirror: files under the mirror folder and their provenance
        "files": ANY, "provenance": ANY, "upstream": ANY, "coverage": ANY, "note": ANY,
    }),
    "file": ANY,            # provider `published`: our transcription (config/published/…)
    "drop": ANY,            # provider `manual`: where a consultant puts the file
    "url": ANY,             # a landing page / API endpoint
    "online_table": ANY,    # the online table that replaces a transcription for later editions
    "online_note": ANY,     # how to get the data online when there is no API route
    "online": ANY,          # an online route (query template) for a transcribed dataset
    "coverage": Keys({      # outside it the dataset is missing for the configuration
        "regions": ANY, "editions": ANY,
    }),
    "verified": ANY,        # which value codes are verified against real responses
    "original": ANY,        # figure/table numbers in the published report R1023460
    "online_dataset": ANY,  # the catalogue entry that is this transcription's online route
    "tidy_columns": ANY,    # the columns of the tidy table the fetch stores (documentation)
    "note": ANY,            # free comment
}
CATALOGUE_REQUIRED = ["title", "provider", "source_line"]

CATALOGUE_SCHEMA = MapOf(Keys(CATALOGUE_ENTRY_KEYS, required=CATALOGUE_REQUIRED))

# --------------------------------------------------------------------------------------------
# config/project.yml
# --------------------------------------------------------------------------------------------
EDITION_KEYS: dict[str, Any] = {
    "date": ANY,                    # date of the published report the edition follows ("2. februar 2026")
    "published": ANY,               # this edition's publication date (ISO); unset: its newest data's date
    "population_first_year": ANY,   # first year (1 January) of the population series
    "population_last_year": ANY,    # last year (1 January) of the population series
    "aldersbaereevne_year": ANY,    # "today" of Figure 1 (1 January)
    "projection_round": ANY,        # SSB 14288 round
    "projection_years": ANY,        # projection years shown
    "neet_year": ANY,
    "gjennomforing_cohort": ANY,    # Udir completion cohort (start year)
    "tiltak_population_year": ANY,  # population 1 January used as denominator in Table 2
    "flytting_year": ANY,
    "classification_year": ANY,     # year of the kommune/fylke classification
    "levekaar_year": ANY,           # reference year of the levekår indicators (Table 1)
    "note": ANY,
}

PROJECT_SCHEMA = Keys({
    "report": Keys({
        "title": ANY, "subtitle": ANY, "publisher": ANY, "authors": ANY, "report_number": ANY,
        "author": ANY,              # this edition's author (cover, PDF metadata); publisher: its publisher
        "original": Keys({          # the published report regenerated (cited as the source)
            "report_number": ANY, "authors": ANY, "year": ANY, "client": ANY, "date": ANY,
        }),
        "plan_region": ANY,         # the region whose plan the prose was written for (33)
    }),
    "defaults": Keys({
        "edition": ANY, "region": ANY, "comparison_regions": ANY,
        "plan_region": ANY,
    }, required=["edition", "region", "comparison_regions"]),
    "editions": MapOf(Keys(EDITION_KEYS)),
    "regions": MapOf(ANY),
    "utviklingsmaal": ListOf(Keys({"slug": ANY, "title": ANY})),
    "satsingsomraader": ListOf(Keys({
        "slug": ANY, "section": ANY, "title": ANY, "maal": ANY, "notebook": ANY,
    })),
    "notebooks": ListOf(Keys({"name": ANY, "chapter": ANY, "after": ANY}, required=["name"])),
}, required=["defaults", "editions", "regions", "notebooks"])


# --------------------------------------------------------------------------------------------
def validate(data: Any, schema: Any, where: str = "") -> list[str]:
    """Problems of `data` against `schema`, each naming the key's place and a suggestion."""
    problems: list[str] = []
    here = where or "top level"
    if schema is ANY:
        return problems
    if isinstance(schema, Keys):
        if not isinstance(data, dict):
            return [f"{here}: expected a mapping (key: value), got {type(data).__name__}"]
        valid = list(schema.keys)
        for key, value in data.items():
            k = str(key)
            if k not in schema.keys:
                near = difflib.get_close_matches(k, valid, n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                problems.append(f"{here}: unknown key {k!r}{hint} (valid keys: {', '.join(valid)})")
                continue
            problems += validate(value, schema.keys[k], f"{where}.{k}" if where else k)
        for k in schema.required:
            if k not in data:
                problems.append(f"{here}: required key {k!r} is missing")
        return problems
    if isinstance(schema, MapOf):
        if not isinstance(data, dict):
            return [f"{here}: expected a mapping, got {type(data).__name__}"]
        for key, value in data.items():
            problems += validate(value, schema.value, f"{where}.{key}" if where else str(key))
        return problems
    if isinstance(schema, ListOf):
        if not isinstance(data, list):
            return [f"{here}: expected a list, got {type(data).__name__}"]
        for i, item in enumerate(data):
            problems += validate(item, schema.item, f"{where}[{i}]")
        return problems
    raise TypeError(f"bad schema node {schema!r}")
