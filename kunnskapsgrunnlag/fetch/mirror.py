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



# SSB 09429 level codes of the mirror's columns (PersonerProsent, both sexes).
_NIVAA_09429 = {"grunnskole_pct": "01", "vgs_pct": "02a", "fagskole_pct": "11", "uh_kort_pct": "03a",
                "uh_lang_pct": "04a"}


def read_utdanning_09429(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """Share (%) of persons 16+ by highest education level, all kommuner (long: one row per level)."""
    d = pd.read_csv(files[0], dtype={"kommunenummer": str})
    long = d.melt(id_vars=["kommunenummer", "kommunenavn", "aar"], value_vars=list(_NIVAA_09429),
                  var_name="col", value_name="andel_pst")
    return pd.DataFrame({
        "region_code": long["kommunenummer"],
        "region_name": long["kommunenavn"],
        "year": long["aar"],
        "nivaa": long["col"].map(_NIVAA_09429),
        "andel_pst": long["andel_pst"].astype(float),
    }).sort_values(["region_code", "nivaa"]).reset_index(drop=True)


_AGE_14288 = {"alle aldre": "alle", "16+ (16-66 + 67+)": "16+"}


def read_projection_14288_fylker(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """SSB 14288 (2024 round), 15 fylker x 3 alternatives, all ages and 16+ (no 67+ split)."""
    d = pd.read_csv(files[0], dtype={"fylke_kode": str})
    return pd.DataFrame({
        "region_code": d["fylke_kode"],
        "region_name": d["fylke_kode"].map(lambda c: region_names.get(c, c)),
        "alternative": d["alternativ"],
        "year": d["aar"],
        "age_group": d["aldersgruppe"].map(_AGE_14288),
        "persons": d["personer"],
    })


def read_projection_14288_kommuner(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """SSB 14288 (2024 round), all 357 kommuner (2024 codes), main alternative, all ages."""
    d = pd.read_csv(files[0], dtype={"kommunenummer": str, "fylke_kode": str, "kommunenummer_2023": str})
    return pd.DataFrame({
        "region_code": d["kommunenummer"],
        "region_name": d["kommunenavn"],
        "fylke_code": d["fylke_kode"],
        "alternative": d["alternativ"],
        "year": d["aar"],
        "persons": d["personer"],
    })


# Udir reports cohorts up to 2019 on the fylker of the time (pre-2020). The 2024 fylke each old
# fylke lies (mostly) in; two old fylker map to Innlandet, Agder and Vestland; Trøndelag (50)
# replaced 16/17 from the 2018 cohort on. Borders changed in 2020/2024 (e.g. Hurum and Røyken
# left, Svelvik joined Buskerud), so the values are those of the old fylker, not re-districted.
UDIR_FYLKE_2024 = {"0": "0", "01": "31", "02": "32", "03": "03", "04": "34", "05": "34", "06": "33",
                   "07": "39", "08": "40", "09": "42", "10": "42", "11": "11", "12": "46", "14": "46",
                   "15": "15", "16": "50", "17": "50", "18": "18", "19": "55", "20": "56", "50": "50"}


def read_gjennomforing_udir_fylke(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """Udir: completed within 5/6 years, all programmes, Hele landet and pre-2020 fylker, by cohort."""
    d = pd.read_csv(files[0], dtype={"fylke_kode_udir": str})
    # "Buskerud ( - 2019)" -> "Buskerud", "Nordland - Nordlánnda" -> "Nordland"
    names = d["fylke_navn_udir"].str.replace(r"\s*\(.*\)\s*$", "", regex=True).str.split(" - ").str[0].str.strip()
    return pd.DataFrame({
        "fylke_kode_udir": d["fylke_kode_udir"],
        "fylke_navn_udir": names,
        "fylke_2024": d["fylke_kode_udir"].map(UDIR_FYLKE_2024),
        "kull": d["kull"],
        "fullfort_pct": d["fullfort_pct"],
    })


READERS = {
    "boliger_06265": read_boliger_06265,
    "utdanning_09429": read_utdanning_09429,
    "projection_14288_fylker": read_projection_14288_fylker,
    "projection_14288_kommuner": read_projection_14288_kommuner,
    "gjennomforing_udir_fylke": read_gjennomforing_udir_fylke,
    "population_07459": read_population_07459,
    "projection_14288": read_projection_14288,
    "projection_14746": read_projection_14288,  # the 2026 round (14746): the same layout as the 14288 extract
    "neet_13563": read_neet_13563,
    "kulturminneplan": read_kulturminneplan,
}
