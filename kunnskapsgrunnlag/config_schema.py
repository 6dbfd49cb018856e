"""The schema of the two configuration files, `config/project.yml` and `config/datasets.yml`, as
pydantic models (unknown keys forbidden).

`validate(data, Model)` returns the problems in the project's words: an unknown key names the
file's place, the nearest valid key (difflib) and the valid keys; a missing key is named. To allow
a new key, add it HERE, as a field of the model that describes its place (`DatasetEntry` for a
dataset in the catalogue, `Edition` for an edition block, …), with a comment saying what it means
(`name: Key` for an optional key, `name: Any` for a required one).
`load_project_model(root)` / `load_catalogue_model(root)` in config.py give the validated models.
"""

from __future__ import annotations

import difflib
import typing
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


# An optional key of any value: most keys of the two files are optional and checked where they are
# used, not here. `name: Key` says it once (the same field as `name: Any = None`); a required key
# is written `name: Any`, a nested block `name: Optional[Model] = None`.
Key = Annotated[Any, Field(default=None)]


# --------------------------------------------------------------------------------------------
# config/datasets.yml – one entry per dataset. THE list of allowed catalogue keys.
# --------------------------------------------------------------------------------------------
class Mirror(_Strict):
    """Offline mirror: files under the mirror folder and their provenance."""

    files: Key
    provenance: Key
    upstream: Key
    coverage: Key
    note: Key
    vintage: Key  # the extract's own vintage, when the catalogue's is a template of the edition


class Projection(_Strict):
    """A projection dataset: its round (an edition's `projection_round`) and part."""

    round: Key
    part: Key  # alder (by age, Figure 1) | fylker | kommuner


class Coverage(_Strict):
    """Outside it the dataset is missing for the configuration."""

    regions: Key
    editions: Key


class DatasetEntry(_Strict):
    name: Key  # set by the loader to the entry's key (may be given, must match)
    title: Any  # Norwegian title of the dataset
    provider: Any  # ssb | udir | kartverket | published | manual | transcription
    table: Key  # the provider's table id (e.g. SSB "07459")
    licence: Key
    source_line: Any  # "Kilde: …" line under figures
    used_by: Key  # [notebook#label, …]
    vintage: Key  # the reference period(s)
    query: Key  # the provider's query (dimension names come from the table)
    query_note: Key  # explanation of the query (codes, why this selection)
    mirror: Optional[Mirror] = None
    file: Key  # provider `published`: our transcription (config/published/…)
    drop: Key  # provider `manual`: where a consultant puts the file
    url: Key  # a landing page / API endpoint
    online_table: Key  # the online table that replaces a transcription for later editions
    online_note: Key  # how to get the data online when there is no API route
    online: Key  # an online route (query template) for a transcribed dataset
    coverage: Optional[Coverage] = None
    verified: Key  # which value codes are verified against real responses
    original: Key  # figure/table numbers in the published report R1023460
    online_dataset: Key  # the catalogue entry that is this transcription's online route
    tidy_columns: Key  # the columns of the tidy table the fetch stores (documentation)
    projection: Optional[Projection] = None
    note: Key  # free comment


class Catalogue(RootModel[dict[str, DatasetEntry]]):
    pass


# --------------------------------------------------------------------------------------------
# config/project.yml
# --------------------------------------------------------------------------------------------
class Original(_Strict):
    report_number: Key
    authors: Key
    year: Key
    client: Key
    date: Key


class Report(_Strict):
    title: Key
    subtitle: Key
    publisher: Key
    authors: Key
    report_number: Key
    author: Key  # this edition's author (cover, PDF metadata); publisher: its publisher
    original: Optional[Original] = None  # the published report regenerated (cited as the source)
    plan_region: Key  # the region whose plan the prose was written for (33)


class Defaults(_Strict):
    edition: Any
    region: Any
    comparison_regions: Any
    plan_region: Key
    mirror: Key  # the default offline mirror, relative to the project root


class Edition(_Strict):
    date: Key  # date of the published report the edition follows ("2. februar 2026")
    published: Key  # this edition's publication date (ISO); unset: its newest data's date
    population_first_year: Key  # first year (1 January) of the population series
    population_last_year: Key  # last year (1 January) of the population series
    aldersbaereevne_year: Key  # "today" of Figure 1 (1 January)
    projection_round: Key  # SSB 14288 round
    projection_years: Key  # projection years shown
    neet_year: Key
    gjennomforing_cohort: Key  # Udir completion cohort (start year)
    tiltak_population_year: Key  # population 1 January used as denominator in Table 2
    flytting_year: Key
    classification_year: Key  # year of the kommune/fylke classification
    levekaar_year: Key  # reference year of the levekår indicators (Table 1)
    boliger_year: Key  # SSB 06265 dwellings, 1 January
    sysselsetting_year: Key  # SSB 07984 employed persons by workplace
    note: Key


class Utviklingsmaal(_Strict):
    slug: Key
    title: Key


class Satsingsomraade(_Strict):
    slug: Key
    section: Key
    title: Key
    maal: Key
    notebook: Key
    theme: Key  # the neutral name used outside the plan region (default: title)


class NotebookEntry(_Strict):
    name: Any
    chapter: Key
    after: Key


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
