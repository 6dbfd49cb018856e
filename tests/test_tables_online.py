"""Tables 2 and 3 from their online routes: back-tested against the transcribed 2026 values, and the
notebooks' loader takes the online dataset when it is fetched (kunnskapsgrunnlag.tables).

The 13563 answer below is a FIXTURE shaped like SSB's tidy answer (region, HovArbStyrkStatus with
labels, Alder groups with labels, status): no real 13563 answer with these codes exists offline, so
the catalogue marks the codes as unverified. Tabell 3's 09588 back-test is in test_fetch_online.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kunnskapsgrunnlag import calc, rawstore, tables
from kunnskapsgrunnlag.sources.tiltak_13563 import tabell2_from_13563

PUBLISHED = Path(__file__).resolve().parent.parent / "config" / "published"
AGES = [
    ("15-19", "15-19 år"),
    ("20-29", "20-29 år"),
    ("30-61", "30-61 år"),
    ("62-66", "62-66 år"),
    ("67-74", "67-74 år"),
]


def tiltak_13563_fixture(pub: pd.DataFrame) -> pd.DataFrame:
    """The published counts split over 13563's age groups 20-29 / 30-61 / 62-66 (plus 15-19 and 67-74,
    which must not count), and a second status (employed) that must not count either."""
    rows = []
    for r in pub.itertuples():
        n = int(r.deltakere_20_66)
        split = {"15-19": 11, "20-29": n // 3, "30-61": n - n // 3 - n // 10, "62-66": n // 10, "67-74": 7}
        for code, label in AGES:
            for st, st_label, v in (
                ("U.01", "Deltakere på arbeidsmarkedstiltak", split[code]),
                ("A.01", "Sysselsatte", 1000 + split[code]),
            ):
                rows.append(
                    {
                        "region_level": "land" if r.region_code == "0" else "fylke",
                        "region_code": r.region_code,
                        "region_name": r.region,
                        "period": "2024",
                        "HovArbStyrkStatus": st,
                        "HovArbStyrkStatus_label": st_label,
                        "Alder": code,
                        "Alder_label": label,
                        "ContentsCode": "Bosatte",
                        "ContentsCode_label": "Bosatte",
                        "value": v,
                        "status": "",
                    }
                )
    return pd.DataFrame(rows)


def test_tabell2_online_builder_equals_the_transcription(fetched):
    pub = pd.read_csv(PUBLISHED / "tabell2_tiltak.csv", dtype={"region_code": str})
    t2 = tabell2_from_13563(tiltak_13563_fixture(pub))
    got = t2.set_index("region_code")["deltakere_20_66"].astype(int)
    want = pub.set_index("region_code")["deltakere_20_66"].astype(int)
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
    # and the shares computed from them reproduce the printed shares (population 1 January 2024)
    pop = rawstore.load(fetched.raw_dir, "population_07459")
    shares = calc.tiltak_shares(t2, pop, 2024).set_index("region_code")["andel_pst"]
    printed = pub.set_index("region_code")["andel_publisert_pst"]
    assert (shares.reindex(printed.index) - printed).abs().max() <= 0.01


class _Ctx:
    """What tables.* read of a notebook Context: settings, coverage, load/try_load."""

    def __init__(self, settings):
        self.settings = settings
        self.region = settings.region
        self.missing = []

    def outside_coverage(self, dataset):
        from kunnskapsgrunnlag.notebook import Context

        return Context.outside_coverage(self, dataset)

    def load(self, dataset):
        return rawstore.load(self.settings.raw_dir, dataset)

    def try_load(self, dataset):
        try:
            return None if self.outside_coverage(dataset) else self.load(dataset)
        except rawstore.MissingData:
            return None


@pytest.fixture
def ctx(copy_raw):
    return _Ctx(copy_raw)


def test_the_notebooks_take_the_online_table_when_fetched(ctx):
    # offline: the transcription (2026), saying so
    t = tables.tabell2(ctx)
    assert t.route == tables.PUBLISHED and t.dataset == "tiltak_published"
    assert "transkribert" in tables.route_sentence(t, "antallene", "SSBs tabell 13563")
    # with 13563 in the raw store: the online route, whatever the edition
    pub = pd.read_csv(PUBLISHED / "tabell2_tiltak.csv", dtype={"region_code": str})
    rawstore.store_frame(
        ctx.settings.raw_dir,
        "tiltak_13563",
        tiltak_13563_fixture(pub),
        {
            "title": "fixture",
            "provider": "ssb",
            "table": "13563",
            "licence": "",
            "vintage": "2024",
            "source": {"kind": "online", "url": "fixture"},
        },
    )
    t = tables.tabell2(ctx)
    assert t.route == tables.ONLINE and t.dataset == "tiltak_13563"
    assert int(t.data.set_index("region_code").loc["33", "deltakere_20_66"]) == 2370
    assert tables.route_sentence(t, "antallene", "SSBs tabell 13563") == "Antallene er hentet fra SSBs tabell 13563."


def test_tabell3_falls_back_to_the_transcription(ctx):
    t = tables.tabell3(ctx)
    assert t.route == tables.PUBLISHED and set(t.data["nivaa"]) == {"kommune", "fylke"}
