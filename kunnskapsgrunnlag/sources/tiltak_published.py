"""Table 2 of the 2026 report (participants in labour-market measures 20–66 per fylke), as printed."""

from __future__ import annotations

from typing import Sequence

from pandera.pandas import Check, Column, DataFrameSchema

from ._base import MAX_COUNT, Source, frame_check, in_fylker, table_schema


def _fylker_sum_to_norway(d) -> bool:
    return d.loc[d.region_code != "0", "deltakere_20_66"].sum() == d.loc[d.region_code == "0", "deltakere_20_66"].sum()


def schema(fylker: Sequence[str]) -> DataFrameSchema:
    return table_schema(
        {
            "region_code": Column(str, in_fylker(fylker, "0"), unique=True),
            "region": Column(str),
            "deltakere_20_66": Column(int, Check.ge(0)),
            "andel_publisert_pst": Column(float, Check.in_range(0, 100)),
        },
        checks=[
            frame_check(
                lambda d: set(d["region_code"]) == set(fylker) | {"0"}, "must hold the 15 fylker and Hele landet (0)"
            ),
            frame_check(_fylker_sum_to_norway, "fylker must sum to Hele landet"),
        ],
    )


EXPECTATIONS = {
    "regions": {"code": "region_code", "land": "required", "fylker": "all"},
    "ranges": {"deltakere_20_66": (0, MAX_COUNT), "andel_publisert_pst": (0, 100)},
}

SOURCE = Source("tiltak_published", EXPECTATIONS, schema)
