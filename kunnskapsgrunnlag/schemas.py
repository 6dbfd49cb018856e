"""One pandera schema per tidy dataset, plus invariants where the data has them, plus the
plausibility expectations (`EXPECTATIONS`) a new vintage must meet before it becomes current.

`validate(name, df, file)` raises `ValidationError` naming the dataset, the file, the column
(and row where there is one) and the rule, so a bad file stops the build with a clear message.
`check_plausibility(name, df, file, raw_dir)` raises `PlausibilityError` naming the dataset, the
file, the rule and the offending values (engine: `plausibility.py`). Kommuner are never listed
here: coverage rules take them from the classification (`classification.kommuner`).
"""
from __future__ import annotations

import pandas as pd
import pandera.errors
import pandera.pandas as pa
from pandera.pandas import Check, Column, DataFrameSchema

from .config import load_project
from .errors import ValidationError  # noqa: F401  (re-exported)

FYLKER = [k for k in load_project()["regions"] if k != "0"]


def _code(pattern: str) -> Check:
    return Check.str_matches(pattern, error=f"code must match {pattern}")


POPULATION = DataFrameSchema(
    {
        "region_level": Column(str, Check.isin(["land", "fylke", "kommune"])),
        "region_code": Column(str, _code(r"^(0|\d{2}|\d{4})$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(1990, 2100)),
        "age_group": Column(str, Check.isin(["0-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"])),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "year", "age_group"],
    strict=True,
    coerce=True,
)

PROJECTION = DataFrameSchema(
    {
        "region_code": Column(str, _code(r"^(0|\d{2})$")),
        "region_name": Column(str),
        "alternative": Column(str, Check.isin(["MMMM", "LLML", "HHMH"])),
        "year": Column(int, Check.in_range(2020, 2100)),
        "age_group": Column(str, Check.isin(["0", "1-5", "6-12", "13-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"])),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "alternative", "year", "age_group"],
    strict=True,
    coerce=True,
)

NEET = DataFrameSchema(
    {
        "region_code": Column(str, _code(r"^(0|\d{2})$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(2000, 2100)),
        "age_group": Column(str, Check.isin(["15-29", "30-61"])),
        "neet_share": Column(float, Check.in_range(0, 100)),
    },
    unique=["region_code", "year", "age_group"],
    strict=True,
    coerce=True,
)

KULTURMINNEPLAN = DataFrameSchema(
    {
        "kommunenummer": Column(str, _code(r"^\d{4}$"), unique=True),
        "kommunenavn": Column(str),
        "status": Column(str, Check.isin(["vedtatt", "under_arbeid", "ingen", "ukjent"])),
        "vedtatt_aar": Column(float, Check.in_range(1950, 2100), nullable=True),
        "plan_navn": Column(str, nullable=True),
        "evidence": Column(str, nullable=True),
        "source_url_or_repo_path": Column(str, nullable=True),
        "source_date": Column(str, nullable=True),
    },
    strict=True,
    coerce=True,
)

LEVEKAAR_PUBLISHED = DataFrameSchema(
    {
        "kommunenummer": Column(str, _code(r"^\d{4}$"), unique=True),  # which: EXPECTATIONS (classification)
        "kommune": Column(str),
        "lav_utdanning": Column(float, Check.in_range(0, 5)),
        "lav_inntekt": Column(float, Check.in_range(0, 5)),
        "innvandrere_ikke_vestlige": Column(float, Check.in_range(0, 5)),
        "levekaarsindeks": Column(float, Check.in_range(0, 5)),
        "rang": Column(int, Check.in_range(1, 400)),
    },
    strict=True,
    coerce=True,
)

TILTAK_PUBLISHED = DataFrameSchema(
    {
        "region_code": Column(str, Check.isin(FYLKER + ["0"]), unique=True),
        "region": Column(str),
        "deltakere_20_66": Column(int, Check.ge(0)),
        "andel_publisert_pst": Column(float, Check.in_range(0, 100)),
    },
    checks=[
        Check(lambda d: set(d["region_code"]) == set(FYLKER + ["0"]), element_wise=False,
              error="must hold the 15 fylker and Hele landet (0)"),
        Check(lambda d: d.loc[d.region_code != "0", "deltakere_20_66"].sum()
              == d.loc[d.region_code == "0", "deltakere_20_66"].sum(),
              element_wise=False, error="fylker must sum to Hele landet"),
    ],
    strict=True,
    coerce=True,
)

FLYTTING_PUBLISHED = DataFrameSchema(
    {
        "nivaa": Column(str, Check.isin(["kommune", "fylke"])),
        "region_code": Column(str, _code(r"^(\d{2}|\d{4})$"), unique=True),
        "region": Column(str),
        "netto_innenlands": Column(int),
    },
    checks=[
        Check(lambda d: d.loc[d.nivaa == "fylke", "netto_innenlands"].sum() == 0, element_wise=False,
              error="domestic net migration over all fylker must sum to 0"),
        Check(lambda d: set(d.loc[d.nivaa == "fylke", "region_code"]) == set(FYLKER), element_wise=False,
              error="must hold the 15 fylker"),
        Check(lambda d: all(
            d.loc[(d.nivaa == "kommune") & d.region_code.str.startswith(f), "netto_innenlands"].sum()
            == d.loc[(d.nivaa == "fylke") & (d.region_code == f), "netto_innenlands"].sum()
            for f in set(d.loc[d.nivaa == "kommune", "region_code"].str[:2])),
            element_wise=False, error="kommuner must sum to their fylke's net"),
    ],
    strict=True,
    coerce=True,
)

SKADEHENDELSER = DataFrameSchema(
    {
        "periode": Column(str, _code(r"^\d{4}[-–]\d{4}$")),
        "hendelse": Column(str, Check.isin(["storm", "flom", "skred"])),
        "antall": Column(int, Check.ge(0, error="count must not be negative")),
        "kilde": Column(str),
    },
    unique=["periode", "hendelse"],
    strict=True,
    coerce=True,
)

KOMMUNEVERDI = DataFrameSchema(
    {
        "kommunenummer": Column(str, _code(r"^\d{4}$"), unique=True),  # which: EXPECTATIONS (classification)
        "verdi": Column(float, Check.ge(0, error="value must not be negative")),
        "enhet": Column(str),
        "kilde": Column(str),
    },
    strict=True,
    coerce=True,
)


def _shares_sum_to_100(d: pd.DataFrame) -> bool:
    sums = d.groupby(["region_code", "year"])["share_pct"].sum()
    return bool(((sums - 100).abs() <= 0.05).all())


def _shares_match_counts(d: pd.DataFrame) -> bool:
    """Where counts are present (online), each share is the count over the kommune's sum."""
    c = d.dropna(subset=["dwellings"])
    if c.empty:
        return True
    tot = c.groupby(["region_code", "year"])["dwellings"].transform("sum").astype(float)
    return bool(((c["dwellings"].astype(float) / tot * 100 - c["share_pct"]).abs() <= 1e-6).all())


BOLIGER = DataFrameSchema(
    {
        "region_code": Column(str, _code(r"^\d{4}$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(1990, 2100)),
        "building_type": Column(str, Check.isin(["01", "02", "03", "04", "05", "999"])),
        "building_type_name": Column(str),
        "share_pct": Column(float, Check.in_range(0, 100)),
        "dwellings": Column("Int64", Check.ge(0), nullable=True),
    },
    unique=["region_code", "year", "building_type"],
    checks=[
        Check(lambda d: bool((d.groupby(["region_code", "year"]).size() == 6).all()), element_wise=False,
              error="every kommune and year must have all six building types (01-05, 999)"),
        Check(_shares_sum_to_100, element_wise=False,
              error="the six building-type shares of a kommune must sum to 100 (±0.05)"),
        Check(_shares_match_counts, element_wise=False,
              error="a share must equal the count over the kommune's total where counts are given"),
    ],
    strict=True,
    coerce=True,
)

SSB_STATUS_SYMBOLS = ["", "..", ".", ":", "…", "-"]  # SSB: no number (..), not applicable (.), confidential (:)

UTDANNING_09429 = DataFrameSchema(
    {
        "region_code": Column(str, _code(r"^\d{4}$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(2000, 2100)),
        "nivaa": Column(str, Check.isin(["01", "02a", "11", "03a", "04a"])),
        "andel_pst": Column(float, Check.in_range(0, 100), nullable=True),  # null: see status
        "status": Column(str, Check.isin(SSB_STATUS_SYMBOLS), nullable=True, required=False),
    },
    unique=["region_code", "year", "nivaa"],
    checks=[Check(lambda d: d.groupby(["region_code", "year"])["andel_pst"].sum(min_count=5).dropna().between(99.0, 101.0).all(),
                  element_wise=False, error="the five levels of a kommune must sum to about 100 % "
                  "(only «uoppgitt» is left out)")],
    strict=True,
    coerce=True,
)

PROJECTION_FYLKER = DataFrameSchema(
    {
        "region_code": Column(str, Check.isin(FYLKER)),
        "region_name": Column(str),
        "alternative": Column(str, Check.isin(["MMMM", "LLML", "HHMH"])),
        "year": Column(int, Check.in_range(2020, 2100)),
        "age_group": Column(str, Check.isin(["alle", "16+"])),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "alternative", "year", "age_group"],
    checks=[Check(lambda d: (d.pivot_table(index=["region_code", "alternative", "year"], columns="age_group",
                                           values="persons").pipe(lambda w: (w["16+"] <= w["alle"]) if
                                                                  {"16+", "alle"} <= set(w) else True)).all(),
                  element_wise=False, error="persons 16+ must not exceed persons of all ages")],
    strict=True,
    coerce=True,
)

PROJECTION_KOMMUNER = DataFrameSchema(
    {
        "region_code": Column(str, _code(r"^\d{4}$")),
        "region_name": Column(str),
        "fylke_code": Column(str, Check.isin(FYLKER)),
        "alternative": Column(str, Check.isin(["MMMM", "LLML", "HHMH"])),
        "year": Column(int, Check.in_range(2020, 2100)),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "alternative", "year"],
    checks=[Check(lambda d: (d["region_code"].str[:2] == d["fylke_code"]).all(), element_wise=False,
                  error="a kommune's code must start with its fylke's code")],
    strict=True,
    coerce=True,
)

GJENNOMFORING_FYLKE = DataFrameSchema(
    {
        "fylke_kode_udir": Column(str, _code(r"^(0|\d{2})$")),
        "fylke_navn_udir": Column(str),
        "fylke_2024": Column(str, Check.isin(FYLKER + ["0"])),
        "kull": Column(int, Check.in_range(2000, 2100)),
        "fullfort_pct": Column(float, Check.in_range(0, 100), nullable=True),
    },
    unique=["fylke_kode_udir", "kull"],
    strict=True,
    coerce=True,
)

SCHEMAS: dict[str, DataFrameSchema] = {
    "boliger_06265": BOLIGER,
    "utdanning_09429": UTDANNING_09429,
    "projection_14288_fylker": PROJECTION_FYLKER,
    "projection_14288_kommuner": PROJECTION_KOMMUNER,
    "gjennomforing_udir_fylke": GJENNOMFORING_FYLKE,
    "population_07459": POPULATION,
    "projection_14288": PROJECTION,
    "projection_14746": PROJECTION,
    "neet_13563": NEET,
    "kulturminneplan": KULTURMINNEPLAN,
    "levekaar_published": LEVEKAAR_PUBLISHED,
    "tiltak_published": TILTAK_PUBLISHED,
    "flytting_published": FLYTTING_PUBLISHED,
    "skadehendelser": SKADEHENDELSER,
    "kollektivandel": KOMMUNEVERDI,
    "arbeidsplasser_kollektiv": KOMMUNEVERDI,
}


def validate(dataset: str, df: pd.DataFrame, file: str = "<memory>") -> pd.DataFrame:
    schema = SCHEMAS.get(dataset)
    if schema is None:
        return df
    try:
        return schema.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        missing_cols = set(fc.loc[fc["check"] == "column_in_dataframe", "failure_case"].astype(str))
        if missing_cols:  # table checks then fail only as a consequence (AttributeError/KeyError)
            fc = fc[~fc["failure_case"].astype(str).str.match(r"^(AttributeError|KeyError)\(")]
        lines = []
        for _, r in fc.head(10).iterrows():
            if r.get("check") == "column_in_dataframe":
                lines.append(f"  missing column {r.get('failure_case')!r} (the file has: {', '.join(map(str, df.columns))})")
                continue
            col = r.get("column") if pd.notna(r.get("column")) else "(table)"
            idx = r.get("index")
            row = f", row {int(idx) + 2}" if pd.notna(idx) and str(idx).lstrip("-").isdigit() else ""
            lines.append(f"  column {col!r}{row}: {r.get('check')} (value: {r.get('failure_case')!r})")
        more = f"\n  … and {len(fc) - 10} more" if len(fc) > 10 else ""
        raise ValidationError(
            f"Dataset {dataset!r}, file {file}: {len(fc)} schema violation(s):\n" + "\n".join(lines) + more
            + "\n(row numbers count the header as row 1)"
        ) from None
    except pandera.errors.SchemaError as exc:  # pragma: no cover - lazy=True raises SchemaErrors
        raise ValidationError(f"Dataset {dataset!r}, file {file}: {exc}") from None


# --- Online-only tables (kunnskapsgrunnlag.fetch: ssb.tidy_long, udir.read_report_json) ----------
# SSB's status symbols are kept, so a table can say «..» (tallgrunnlag mangler), «.» (kan ikke
# forekomme) or «:» (konfidensielt) where SSB has no number, as SSB does.
SSB_STATUS = ["", "..", ".", ":", "…", "-"]

INDICATOR_LONG = DataFrameSchema(
    {
        "region_level": Column(str, Check.isin(["land", "fylke", "kommune"])),
        "region_code": Column(str, _code(r"^(0|\d{2}|\d{4})$")),
        "region_name": Column(str),
        "period": Column(str),
        "value": Column(float, nullable=True),
        "status": Column(str, Check.isin(SSB_STATUS, error="unknown SSB status symbol"), nullable=True),
    },
    strict=False,
    coerce=True,
)

GJENNOMFORING = DataFrameSchema(
    {
        "enhet_kode": Column(str),
        "enhet_navn": Column(str),
        "kull": Column(int, Check.in_range(2000, 2100)),
        "programomraade": Column(str),
        "maal": Column(str),
        "verdi": Column(float, Check.ge(0), nullable=True),
        "status": Column(str, Check.isin(["", "*", "-", "."]), nullable=True),
    },
    strict=False,
    coerce=True,
)

# Datasets with an offline (mirror) reader keep the mirror's tidy shape, which their online tidy
# function produces too (utdanning_09429: fetch.ssb.tidy_utdanning_09429); the rest are stored long.
SCHEMAS.update({name: INDICATOR_LONG for name in (
    "lavinntekt_12944", "innvandrere_09817", "boliger_06265", "sysselsetting_07984",
    "tiltak_13563", "flytting_09588") if name not in SCHEMAS})
SCHEMAS["gjennomforing_udir"] = GJENNOMFORING

# --- Plausibility: what a new vintage must cover before it becomes current -------------------
# Declarative; checked by `plausibility.py`. Keys:
#   min_rows   - fewest data rows (every dataset needs at least 1; a header-only file is refused)
#   ranges     - {column: (low, high)}: no 9e18 counts, shares within 0–100
#   years      - {column, from_vintage: the catalogue vintage "YYYY-YYYY" | from/to | min}
#   regions    - {code: column, land: "required", fylker: "all"|"known", kommuner: "all"|"known",
#                 fylke: only the kommuner of this fylke, per: column (e.g. year), value: column
#                 (a region with a zero total counts as absent)}; kommuner from the classification
#   grid       - [{by: [...], column, values}]: every group holds all values (e.g. age groups)
#   sums       - [{code, value, by, parts: kommune|fylke, whole: fylke|land, tolerance}]
# The boundary dataset (the classification source itself) has `boundaries` minimum counts.
MAX_COUNT = 10_000_000  # above any count of persons, jobs or dwellings in Norway (5.6 million people)
AGE_GROUPS_07459 = ["0-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]
AGE_GROUPS_14288 = ["0", "1-5", "6-12", "13-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]
REGIONS_BY_YEAR = {"code": "region_code", "per": "year", "value": "persons"}

EXPECTATIONS: dict[str, dict] = {
    "kommuner_2024": {"boundaries": {"min_kommuner": 357, "fylker": 15}},  # the 2024 division
    "population_07459": {
        "min_rows": (1 + 15 + 357) * len(AGE_GROUPS_07459),  # one year of Norway, fylker and kommuner
        "ranges": {"persons": (0, MAX_COUNT)},
        "years": {"column": "year", "from_vintage": True},
        "regions": {**REGIONS_BY_YEAR, "land": "required", "fylker": "all", "kommuner": "all"},
        "grid": [{"by": ["region_code", "year"], "column": "age_group", "values": AGE_GROUPS_07459,
                  "label": "age groups"}],
        # Fylker are sums of kommuner; the mirror's pre-2024 years are redistricted to 2024 borders
        # with SSB weights, which shifts Norway vs the fylker by up to 5 persons (PROVENANCE.md).
        "sums": [{"code": "region_code", "value": "persons", "by": ["year", "age_group"], "parts": "kommune",
                  "whole": "fylke", "tolerance": 10},
                 {"code": "region_code", "value": "persons", "by": ["year", "age_group"], "parts": "fylke",
                  "whole": "land", "tolerance": 10, "when_complete": True}],
    },
    "projection_14288": {
        "min_rows": 3 * (2050 - 2024 + 1) * len(AGE_GROUPS_14288),  # Norway, three alternatives
        "ranges": {"persons": (0, MAX_COUNT)},
        "years": {"column": "year", "from": 2024, "to": 2050},
        "regions": {"code": "region_code", "land": "required", "fylker": "known"},
        "grid": [{"by": ["region_code", "alternative", "year"], "column": "age_group", "values": AGE_GROUPS_14288,
                  "label": "age groups"},
                 {"by": ["region_code"], "column": "alternative", "values": ["MMMM", "LLML", "HHMH"],
                  "label": "alternatives"}],
        "sums": [{"code": "region_code", "value": "persons", "by": ["alternative", "year", "age_group"],
                  "parts": "fylke", "whole": "land", "tolerance": 10, "when_complete": True}],
    },
    "projection_14746": {
        "min_rows": 3 * (2050 - 2026 + 1) * len(AGE_GROUPS_14288),  # Norway, three alternatives
        "ranges": {"persons": (0, MAX_COUNT)},
        "years": {"column": "year", "from": 2026, "to": 2050},
        "regions": {"code": "region_code", "land": "required", "fylker": "known"},
        "grid": [{"by": ["region_code", "alternative", "year"], "column": "age_group", "values": AGE_GROUPS_14288,
                  "label": "age groups"},
                 {"by": ["region_code"], "column": "alternative", "values": ["MMMM", "LLML", "HHMH"],
                  "label": "alternatives"}],
        "sums": [{"code": "region_code", "value": "persons", "by": ["alternative", "year", "age_group"],
                  "parts": "fylke", "whole": "land", "tolerance": 10, "when_complete": True}],
    },
    "neet_13563": {
        "min_rows": 15 * 2,
        "ranges": {"neet_share": (0, 100)},
        "years": {"column": "year", "min": 2020},
        "regions": {"code": "region_code", "fylker": "all"},
        "grid": [{"by": ["region_code", "year"], "column": "age_group", "values": ["15-29", "30-61"],
                  "label": "age groups"}],
    },
    # Buskerud-only transcriptions and file drops: the kommuner of fylke 33 in the classification.
    "kulturminneplan": {"regions": {"code": "kommunenummer", "kommuner": "all", "fylke": "33"},
                        "ranges": {"vedtatt_aar": (1950, 2100)}},
    "levekaar_published": {"regions": {"code": "kommunenummer", "kommuner": "all", "fylke": "33"},
                           "ranges": {"levekaarsindeks": (0, 5)}},
    "tiltak_published": {"regions": {"code": "region_code", "land": "required", "fylker": "all"},
                         "ranges": {"deltakere_20_66": (0, MAX_COUNT), "andel_publisert_pst": (0, 100)}},
    "flytting_published": {"regions": {"code": "region_code", "fylker": "all", "kommuner": "all", "fylke": "33"},
                           "ranges": {"netto_innenlands": (-MAX_COUNT, MAX_COUNT)}},
    "skadehendelser": {"ranges": {"antall": (0, 1_000_000)}},
    "kollektivandel": {"regions": {"code": "kommunenummer", "kommuner": "known", "fylke": "33"},
                       "ranges": {"verdi": (0, 100)}},  # a share of daily trips, per cent
    "arbeidsplasser_kollektiv": {"regions": {"code": "kommunenummer", "kommuner": "known", "fylke": "33"},
                                 "ranges": {"verdi": (0, MAX_COUNT)}},
}


class PlausibilityError(ValidationError):
    """A new vintage failed its plausibility checks; the message names dataset, file, rule, values."""

    def __init__(self, dataset: str, file: str, failures: list):
        self.dataset, self.file, self.failures = dataset, file, failures
        super().__init__("\n".join(f"{dataset}: {file}: {f}" for f in failures))


def check_plausibility(dataset: str, df: pd.DataFrame, file: str = "<memory>", raw_dir=None,
                       vintage: str | None = None) -> list[str]:
    """Raise PlausibilityError if `df` fails the dataset's expectations; else return notes on
    checks that could not be made (e.g. no classification yet)."""
    from . import plausibility

    expect = EXPECTATIONS.get(dataset, {})
    fails, notes = plausibility.check_frame(dataset, df, expect, raw_dir, vintage)
    if fails:
        raise PlausibilityError(dataset, file, fails)
    return notes


def check_boundaries(dataset: str, payload: bytes, file: str) -> None:
    from . import plausibility

    expect = EXPECTATIONS.get(dataset, {}).get("boundaries")
    if expect and (fails := plausibility.check_boundaries(payload, expect)):
        raise PlausibilityError(dataset, file, fails)
