"""One pandera schema per tidy dataset, plus invariants where the data has them.

`validate(name, df, file)` raises `ValidationError` naming the dataset, the file, the column
(and row where there is one) and the rule, so a bad file stops the build with a clear message.
"""
from __future__ import annotations

import pandas as pd
import pandera.errors
import pandera.pandas as pa
from pandera.pandas import Check, Column, DataFrameSchema

from .config import load_project
from .errors import ValidationError  # noqa: F401  (re-exported)

FYLKER = [k for k in load_project()["regions"] if k != "0"]
BUSKERUD_KOMMUNER = [
    "3301", "3303", "3305", "3310", "3312", "3314", "3316", "3318", "3320",
    "3322", "3324", "3326", "3328", "3330", "3332", "3334", "3336", "3338",
]


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
        "kommunenummer": Column(str, [_code(r"^\d{4}$"), Check.isin(BUSKERUD_KOMMUNER)], unique=True),
        "kommune": Column(str),
        "lav_utdanning": Column(float, Check.in_range(0, 5)),
        "lav_inntekt": Column(float, Check.in_range(0, 5)),
        "innvandrere_ikke_vestlige": Column(float, Check.in_range(0, 5)),
        "levekaarsindeks": Column(float, Check.in_range(0, 5)),
        "rang": Column(int, Check.in_range(1, 400)),
    },
    checks=[Check(lambda d: set(d["kommunenummer"]) == set(BUSKERUD_KOMMUNER),
                  element_wise=False, error="must hold exactly the 18 Buskerud kommuner")],
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
        "kommunenummer": Column(str, [_code(r"^\d{4}$"), Check.isin(BUSKERUD_KOMMUNER, error="unknown kommunenummer (2024 Buskerud codes)")], unique=True),
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

UTDANNING_09429 = DataFrameSchema(
    {
        "region_code": Column(str, _code(r"^\d{4}$")),
        "region_name": Column(str),
        "year": Column(int, Check.in_range(2000, 2100)),
        "nivaa": Column(str, Check.isin(["01", "02a", "11", "03a", "04a"])),
        "andel_pst": Column(float, Check.in_range(0, 100)),
    },
    unique=["region_code", "year", "nivaa"],
    checks=[Check(lambda d: d.groupby(["region_code", "year"])["andel_pst"].sum().between(99.0, 101.0).all(),
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
        lines = []
        for _, r in fc.head(10).iterrows():
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
