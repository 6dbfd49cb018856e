"""Readers for the offline mirror (`../shared/data` on the project's machines).

Each reader turns the mirror's files for one dataset into the same tidy table the online route
writes. The mirror files themselves are never copied into git; `fetch --mirror` writes tidy
copies into the (git-ignored) `data/raw/` with provenance in the manifest.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

LEVEL = {"nation": "land", "county": "fylke", "municip": "kommune"}


def read_population_07459(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    d = pd.read_csv(files[0], dtype={"code": str})
    out = pd.DataFrame({
        "region_level": d["nivaa"].map(LEVEL),
        "region_code": d["code"],
        # Mirror names are multilingual ("Norge-Noreg-Norway"); use our names for fylker/land.
        "region_name": [region_names.get(c, n) for c, n in zip(d["code"], d["name"])],
        "year": d["aar"],
        "age_group": d["aldersgruppe"],
        "persons": d["personer"],
    })
    return out


_ALT = {"Hovedalternativet (MMMM)": "MMMM", "Lav nasjonal vekst (LLML)": "LLML", "Høy nasjonal vekst (HHMH)": "HHMH"}


def read_projection_14288(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    d = pd.read_csv(files[0])
    by_name = {v: k for k, v in region_names.items()}
    d = d[d["region"].isin(by_name)]  # land and fylker; the kommune rows are Telemark-only
    age = d["alder"].str.replace(" år eller eldre", "+", regex=False).str.replace(" år", "", regex=False)
    return pd.DataFrame({
        "region_code": d["region"].map(by_name),
        "region_name": d["region"],
        "alternative": d["statistikkvariabel"].map(_ALT),
        "year": d["år"],
        "age_group": age,
        "persons": d["value"],
    })


def read_neet_13563(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    d = pd.read_csv(files[0])
    by_name = {v: k for k, v in region_names.items()}
    long = d.melt(id_vars="Fylke", var_name="col", value_name="neet_share")
    parsed = long["col"].str.extract(r"(?P<age>\d+-\d+) år \((?P<year>\d{4})\)")
    unknown = sorted(set(long["Fylke"]) - set(by_name))
    if unknown:
        raise ValueError(f"{files[0]}: unknown fylke name(s) {unknown}")
    return pd.DataFrame({
        "region_code": long["Fylke"].map(by_name),
        "region_name": long["Fylke"],
        "year": parsed["year"].astype(int),
        "age_group": parsed["age"],
        "neet_share": long["neet_share"].astype(float),
    })


def read_kulturminneplan(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    return pd.read_csv(files[0], dtype={"kommunenummer": str, "source_date": str})


# SSB 06265 building types (BygnType codes) and the mirror's column for each.
BOLIG_TYPES = {
    "01": ("Enebolig", "enebolig_pct"),
    "02": ("Tomannsbolig", "tomannsbolig_pct"),
    "03": ("Rekkehus, kjedehus og andre småhus", "rekkehus_kjedehus_smahus_pct"),
    "04": ("Boligblokk", "boligblokk_pct"),
    "05": ("Bygning for bofellesskap", "bofellesskap_pct"),
    "999": ("Andre bygningstyper", "andre_bygningstyper_pct"),
}


def read_boliger_06265(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """SSB 06265 as shares per kommune and building type (the mirror has shares only: no counts)."""
    d = pd.read_csv(files[0], dtype={"kommunenummer": str})
    rows = []
    for code, (label, col) in BOLIG_TYPES.items():
        rows.append(pd.DataFrame({
            "region_code": d["kommunenummer"].str.zfill(4),
            "region_name": d["kommunenavn"],
            "year": d["aar"].astype(int),
            "building_type": code,
            "building_type_name": label,
            "share_pct": d[col].astype(float),
            "dwellings": pd.NA,
        }))
    return pd.concat(rows, ignore_index=True).sort_values(["region_code", "building_type"]).reset_index(drop=True)


READERS = {
    "boliger_06265": read_boliger_06265,
    "population_07459": read_population_07459,
    "projection_14288": read_projection_14288,
    "neet_13563": read_neet_13563,
    "kulturminneplan": read_kulturminneplan,
}
