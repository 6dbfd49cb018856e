"""Tables 3a/3b of the 2026 report (domestic net in-migration 2024, Buskerud's kommuner and all
fylker), as printed."""

from __future__ import annotations

from typing import Sequence

from pandera.pandas import Check, Column, DataFrameSchema

from ._base import MAX_COUNT, Source, code, frame_check, table_schema


def _kommuner_sum_to_their_fylke(d) -> bool:
    return all(
        d.loc[(d.nivaa == "kommune") & d.region_code.str.startswith(f), "netto_innenlands"].sum()
        == d.loc[(d.nivaa == "fylke") & (d.region_code == f), "netto_innenlands"].sum()
        for f in set(d.loc[d.nivaa == "kommune", "region_code"].str[:2])
    )


def schema(fylker: Sequence[str]) -> DataFrameSchema:
    return table_schema(
        {
            "nivaa": Column(str, Check.isin(["kommune", "fylke"])),
            "region_code": Column(str, code(r"^(\d{2}|\d{4})$"), unique=True),
            "region": Column(str),
            "netto_innenlands": Column(int),
        },
        checks=[
            frame_check(
                lambda d: d.loc[d.nivaa == "fylke", "netto_innenlands"].sum() == 0,
                "domestic net migration over all fylker must sum to 0",
            ),
            frame_check(
                lambda d: set(d.loc[d.nivaa == "fylke", "region_code"]) == set(fylker), "must hold the 15 fylker"
            ),
            frame_check(_kommuner_sum_to_their_fylke, "kommuner must sum to their fylke's net"),
        ],
    )


EXPECTATIONS = {
    "regions": {"code": "region_code", "fylker": "all", "kommuner": "all", "fylke": "33"},
    "ranges": {"netto_innenlands": (-MAX_COUNT, MAX_COUNT)},
}

SOURCE = Source("flytting_published", EXPECTATIONS, schema)
