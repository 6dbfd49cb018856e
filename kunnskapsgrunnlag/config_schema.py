"""The schema of the two configuration files, `config/project.yml` and `config/datasets.yml`, as
pydantic models (unknown keys forbidden).

`validate(data, Model)` returns the problems in the project's words: an unknown key names the
file's place, the nearest valid key (difflib) and the valid keys; a missing key is named. To allow
a new key, add it HERE, as a field of the model that describes its place (`DatasetEntry` for a
dataset in the catalogue, `Edition` for an edition block, …), with a comment saying what it means.
`load_project_model(root)` / `load_catalogue_model(root)` in config.py give the validated models.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, RootModel, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


# --------------------------------------------------------------------------------------------
# config/datasets.yml – one entry per dataset. THE list of allowed catalogue keys.
# --------------------------------------------------------------------------------------------
class Mirror(_Strict):
    """Offline mirror: files under the mirror folder and their provenance."""

    files: Any = None
    provenance: Any = None
    upstream: Any = None
    coverage: Any = None
    note: Any = None
    vintage: Any = None  # the extract's own vintage, when the catalogue's is a template of the edition


class Projection(_Strict):
    """A projection dataset: its round (an edition's `projection_round`) and part."""

    round: Any = None
    part: Any = None  # alder (by age, Figure 1) | fylker | kommuner


class Coverage(_Strict):
    """Outside it the dataset is missing for the configuration."""

    regions: Any = None
    editions: Any = None


class DatasetEntry(_Strict):
    name: Any = None  # set by the loader to the entry's key (may be given, must match)
    title: Any  # Norwegian title of the dataset
    provider: Any  # ssb | udir | kartverket | published | manual | transcription
    table: Any = None  # the provider's table id (e.g. SSB "07459")
    licence: Any = None
    source_line: Any  # "Kilde: …" line under figures
    used_by: Any = None  # [notebook#label, …]
    vintage: Any = None  # the reference period(s)
    query: Any = None  # the provider's query (dimension names come from the table)
    query_note: Any = None  # explanation of the query (codes, why this selection)
    mirror: Optional[Mirror] = None
    file: Any = None  # provider `published`: our transcription (config/published/…)
    drop: Any = None  # provider `manual`: where a consultant puts the file
    url: Any = None  # a landing page / API endpoint
    online_table: Any = None  # the online table that replaces a transcription for later editions
    online_note: Any = None  # how to get the data online when there is no API route
    online: Any = None  # an online route (query template) for a transcribed dataset
    coverage: Optional[Coverage] = None
    verified: Any = None  # which value codes are verified against real responses
    original: Any = None  # figure/table numbers in the published report R1023460
    online_dataset: Any = None  # the catalogue entry that is this transcription's online route
    tidy_columns: Any = None  # the columns of the tidy table the fetch stores (documentation)
    projection: Optional[Projection] = None
    note: Any = None  # free comment


class Catalogue(RootModel[dict[str, DatasetEntry]]):
    pass


# --------------------------------------------------------------------------------------------
# config/project.yml
# --------------------------------------------------------------------------------------------
class Original(_Strict):
    report_number: Any = None
    authors: Any = None
    year: Any = None
    client: Any = None
    date: Any = None


class Report(_Strict):
    title: Any = None
    subtitle: Any = None
    publisher: Any = None
    authors: Any = None
    report_number: Any = None
    author: Any = None  # this edition's author (cover, PDF metadata); publisher: its publisher
    original: Optional[Original] = None  # the published report regenerated (cited as the source)
    plan_region: Any = None  # the region whose plan the prose was written for (33)


class Defaults(_Strict):
    edition: Any
    region: Any
    comparison_regions: Any
    plan_region: Any = None
    mirror: Any = None  # the default offline mirror, relative to the project root


class Edition(_Strict):
    date: Any = None  # date of the published report the edition follows ("2. februar 2026")
    published: Any = None  # this edition's publication date (ISO); unset: its newest data's date
    population_first_year: Any = None  # first year (1 January) of the population series
    population_last_year: Any = None  # last year (1 January) of the population series
    aldersbaereevne_year: Any = None  # "today" of Figure 1 (1 January)
    projection_round: Any = None  # SSB 14288 round
    projection_years: Any = None  # projection years shown
    neet_year: Any = None
    gjennomforing_cohort: Any = None  # Udir completion cohort (start year)
    tiltak_population_year: Any = None  # population 1 January used as denominator in Table 2
    flytting_year: Any = None
    classification_year: Any = None  # year of the kommune/fylke classification
    levekaar_year: Any = None  # reference year of the levekår indicators (Table 1)
    boliger_year: Any = None  # SSB 06265 dwellings, 1 January
    sysselsetting_year: Any = None  # SSB 07984 employed persons by workplace
    note: Any = None


class Utviklingsmaal(_Strict):
    slug: Any = None
    title: Any = None


class Satsingsomraade(_Strict):
    slug: Any = None
    section: Any = None
    title: Any = None
    maal: Any = None
    notebook: Any = None
    theme: Any = None  # the neutral name used outside the plan region (default: title)


class NotebookEntry(_Strict):
    name: Any
    chapter: Any = None
    after: Any = None


class Project(_Strict):
    report: Optional[Report] = None
    defaults: Defaults
    editions: dict[Any, Edition]
    regions: dict[Any, Any]
    utviklingsmaal: Optional[list[Utviklingsmaal]] = None
    satsingsomraader: Optional[list[Satsingsomraade]] = None
    neighbours: Optional[dict[Any, Any]] = None  # fylke -> the fylker sharing its boundary (comparison regions)
    notebooks: list[NotebookEntry]


PROJECT_SCHEMA = Project
CATALOGUE_SCHEMA = Catalogue


# --------------------------------------------------------------------------------------------
def _unwrap(t: Any) -> Any:
    if typing.get_origin(t) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(t) if a is not type(None)]
        return args[0] if args else Any
    return t


def _type_at(model: Any, loc: tuple) -> Any:
    """The annotation at a pydantic error location (to list the valid keys of that place)."""
    t: Any = model
    for part in loc:
        t = _unwrap(t)
        if isinstance(t, type) and issubclass(t, RootModel):
            t = t.model_fields["root"].annotation
            t = _unwrap(t)
        if isinstance(t, type) and issubclass(t, BaseModel):
            f = t.model_fields.get(str(part))
            t = f.annotation if f is not None else Any
        elif typing.get_origin(t) is dict:
            t = typing.get_args(t)[1]
        elif typing.get_origin(t) is list:
            t = typing.get_args(t)[0]
        else:
            return Any
    t = _unwrap(t)
    if isinstance(t, type) and issubclass(t, RootModel):
        t = _unwrap(t.model_fields["root"].annotation)
    return t


def _place(loc: tuple, model: Any) -> str:
    """`editions.2026`, `notebooks[3]`, `population_07459.mirror` (list items in brackets)."""
    out = ""
    for i, part in enumerate(loc):
        if typing.get_origin(_type_at(model, loc[:i])) is list:
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "top level"


def validate(data: Any, model: Any, where: str = "") -> list[str]:
    """Problems of `data` against the pydantic `model`, each naming the key's place and a suggestion."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != "root")
            if err["type"] == "extra_forbidden":
                key, parent = str(loc[-1]), loc[:-1]
                t = _type_at(model, parent)
                valid = list(t.model_fields) if isinstance(t, type) and issubclass(t, BaseModel) else []
                near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                problems.append(f"{_place(parent, model)}: unknown key {key!r}{hint} (valid keys: {', '.join(valid)})")
            elif err["type"] == "missing":
                problems.append(f"{_place(loc[:-1], model)}: required key {str(loc[-1])!r} is missing")
            elif err["type"] in ("model_type", "dict_type", "model_attributes_type"):
                got = type(err["input"]).__name__
                problems.append(f"{_place(loc, model)}: expected a mapping (key: value), got {got}")
            elif err["type"] == "list_type":
                problems.append(f"{_place(loc, model)}: expected a list, got {type(err['input']).__name__}")
            else:
                problems.append(f"{_place(loc, model)}: {err['msg']}")
        return sorted(problems, key=lambda p: "required key" in p)  # a misspelt key first, then what it lacks
    return []
