"""Tables 3a/3b of the 2026 report (domestic net in-migration 2024, Buskerud's kommuner and all
fylker), as printed."""

from __future__ import annotations

from pandera.pandas import Check, Column, DataFrameSchema

from ._base import MAX_COUNT, Source, code, fylker

SCHEMA = DataFrameSchema(
    {
        "nivaa": Column(str, Check.isin(["kommune", "fylke"])),
        "region_code": Column(str, code(r"^(\d{2}|\d{4})$"), unique=True),
        "region": Column(str),
        "netto_innenlands": Column(int),
    },
    checks=[
        Check(
            lambda d: d.loc[d.nivaa == "fylke", "netto_innenlands"].sum() == 0,
            element_wise=False,
            error="domestic net migration over all fylker must sum to 0",
        ),
        Check(
            lambda d: set(d.loc[d.nivaa == "fylke", "region_code"]) == set(fylker()),
            element_wise=False,
            error="must hold the 15 fylker",
        ),
        Check(
            lambda d: all(
                d.loc[(d.nivaa == "kommune") & d.region_code.str.startswith(f), "netto_innenlands"].sum()
                == d.loc[(d.nivaa == "fylke") & (d.region_code == f), "netto_innenlands"].sum()
                for f in set(d.loc[d.nivaa == "kommune", "region_code"].str[:2])
            ),
            element_wise=False,
            error="kommuner must sum to their fylke's net",
        ),
    ],
    strict=True,
    coerce=True,
)

EXPECTATIONS = {
    "regions": {"code": "region_code", "fylker": "all", "kommuner": "all", "fylke": "33"},
    "ranges": {"netto_innenlands": (-MAX_COUNT, MAX_COUNT)},
}

SOURCE = Source("flytting_published", EXPECTATIONS, SCHEMA)
