"""SSB 14288 (2024 round): projected population per fylke, all ages and 16+, three alternatives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

from ._base import MAX_COUNT, Source, in_fylker
from ._ssb import no_symbols, strip_region_prefix
from .projection_14288 import ALTERNATIVES, FUNKSJONELL4

_MIRROR_AGE = {"alle aldre": "alle", "16+ (16-66 + 67+)": "16+"}
_CHILDREN = {"0", "1-5", "6-12", "13-15"}
# The alternative of each ContentsCode (verified from data in SSB's v0 answer, PROVENANCE addendum 4).
CONTENTS = {"Personer": "MMMM", "Personer1": "LLML", "Personer2": "HHMH"}

SCHEMA = DataFrameSchema(
    {
        "region_code": Column(str, in_fylker()),
        "region_name": Column(str),
        "alternative": Column(str, Check.isin(ALTERNATIVES)),
        "year": Column(int, Check.in_range(2020, 2100)),
        "age_group": Column(str, Check.isin(["alle", "16+"])),
        "persons": Column(int, Check.ge(0)),
    },
    unique=["region_code", "alternative", "year", "age_group"],
    checks=[
        Check(
            lambda d: (
                d.pivot_table(index=["region_code", "alternative", "year"], columns="age_group", values="persons").pipe(
                    lambda w: (w["16+"] <= w["alle"]) if {"16+", "alle"} <= set(w) else True
                )
            ).all(),
            element_wise=False,
            error="persons 16+ must not exceed persons of all ages",
        )
    ],
    strict=True,
    coerce=True,
)

EXPECTATIONS = {
    "regions": {"code": "region_code", "fylker": "all"},
    "ranges": {"persons": (0, MAX_COUNT)},
    "years": {"column": "year", "min": 2020},
    "grid": [
        {"by": ["region_code", "year"], "column": "alternative", "values": ALTERNATIVES, "label": "alternatives"},
        {
            "by": ["region_code", "alternative", "year"],
            "column": "age_group",
            "values": ["alle", "16+"],
            "label": "age groups",
        },
    ],
}


def read_mirror(files: list[Path], region_names: dict[str, str]) -> pd.DataFrame:
    """SSB 14288 (2024 round), 15 fylker x 3 alternatives, all ages and 16+ (no 67+ split)."""
    d = pd.read_csv(files[0], dtype={"fylke_kode": str})
    return pd.DataFrame(
        {
            "region_code": d["fylke_kode"],
            "region_name": d["fylke_kode"].map(lambda c: region_names.get(c, c)),
            "alternative": d["alternativ"],
            "year": d["aar"],
            "age_group": d["aldersgruppe"].map(_MIRROR_AGE),
            "persons": d["personer"],
        }
    )


def tidy_online(df: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """All ages and 16+ summed from the functional age groups (agg_Funksjonell4, F311…F320)."""
    d = df.copy()
    no_symbols(d, "the projection")
    unknown = sorted(set(d["Alder"]) - set(FUNKSJONELL4))
    if unknown:
        raise ValueError(f"unexpected Alder code(s) {unknown}; agg_Funksjonell4 has {', '.join(FUNKSJONELL4)}")
    bad = sorted(set(d["ContentsCode"]) - set(CONTENTS))
    if bad:
        raise ValueError(f"unexpected ContentsCode(s) {bad}; expected {', '.join(CONTENTS)}")
    d["region_code"] = d["Region"].map(strip_region_prefix)
    d["alternative"] = d["ContentsCode"].map(CONTENTS)
    d["year"] = d["Tid"].astype(int)
    d["age_group"] = d["Alder"].map(FUNKSJONELL4)
    keys = ["region_code", "alternative", "year"]
    everyone = d.groupby(keys, as_index=False)["value"].sum().assign(age_group="alle")
    adults = d[~d["age_group"].isin(_CHILDREN)].groupby(keys, as_index=False)["value"].sum().assign(age_group="16+")
    out = pd.concat([everyone, adults], ignore_index=True)
    out["region_name"] = out["region_code"].map(lambda c: region_names.get(c, c))
    out["persons"] = out["value"].round().astype(int)
    return out[["region_code", "region_name", "alternative", "year", "age_group", "persons"]]


SOURCE = Source("projection_14288_fylker", EXPECTATIONS, SCHEMA, read_mirror, tidy_online)
