"""One module per dataset (kunnskapsgrunnlag/sources/<dataset>.py), and a test per route.

- every catalogued dataset has a module declaring a schema (or a boundary check) and plausibility
  expectations, and every module is catalogued;
- the mirror route: the module's reader on the real mirror file gives a table that passes its schema
  and its expectations against the classification (no check silently skipped);
- the online route: the module's tidy function on an answer shaped like SSB's or Udir's real answer
  (JSON-stat 2.0 as `fetch.ssb.jsonstat_frame` parses it; Udir's real recorded body) gives a table
  that passes its schema (and, where the answer covers the whole country, its expectations);
- the file-drop route: a valid drop of each file-drop dataset is stored;
- only network and HTTP failures fall back to the mirror; a bug in a tidy function surfaces.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import requests

from conftest import MIRROR
from kunnskapsgrunnlag import classification, rawstore, schemas, sources
from kunnskapsgrunnlag.config import load_catalogue, load_project
from kunnskapsgrunnlag.errors import ValidationError
from kunnskapsgrunnlag.fetch import fetch_dataset, ssb, udir

CATALOGUE = load_catalogue()
ONLINE_PROVIDERS = {"ssb", "udir"}
REAL_UDIR = MIRROR / "api-responses/udir/GjennomfoeringV_1_1_data_fullfort_alle-program_kull2014-2019.json"
FYLKER = [c for c in load_project()["regions"] if c != "0"]
F4 = [f"F{n}" for n in range(311, 321)]
ALT = [
    ("Personer", "Hovedalternativet (MMMM)"),
    ("Personer1", "Lav nasjonal vekst (LLML)"),
    ("Personer2", "Høy nasjonal vekst (HHMH)"),
]


def names() -> dict[str, str]:
    return load_project()["regions"]


# --- the registry -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogued_dataset_has_a_module_with_expectations(name):
    spec = CATALOGUE[name]
    src = sources.get(name)
    assert src is not None, f"no kunnskapsgrunnlag/sources/{name}.py"
    assert src.name == name
    assert src.expectations, f"{name}: a dataset without plausibility expectations"
    if src.kind == "boundaries":
        assert src.expectations["boundaries"]["geometry"] == "valid"
    else:
        assert src.schema is not None, f"{name}: no schema"
    if spec.get("mirror") and src.kind != "boundaries":
        assert src.read_mirror is not None, f"{name}: mirror files but no mirror reader"
    if spec["provider"] in ONLINE_PROVIDERS:
        assert src.tidy_online is not None, f"{name}: online provider but no online tidy function"


# The 2026 projection round (SSB 14746): catalogued with the editions work (branch h19); the modules
# are here so that both merge cleanly. Empty this set once the catalogue has them.
NOT_YET_CATALOGUED = {"projection_14746", "projection_14746_fylker", "projection_14746_kommuner"}


def test_every_module_is_catalogued():
    registry = sources.registry()
    assert set(CATALOGUE) <= set(registry)
    assert set(registry) - set(CATALOGUE) <= NOT_YET_CATALOGUED
    assert sources.get("no_such_dataset") is None


# --- the mirror route -----------------------------------------------------------------------------

MIRRORED = sorted(n for n, s in CATALOGUE.items() if s.get("mirror") and s["provider"] != "kartverket")


@pytest.mark.parametrize("name", MIRRORED)
def test_mirror_route(name, fetched, mirror):
    spec = CATALOGUE[name]
    src = sources.get(name)
    files = [mirror / f for f in spec["mirror"]["files"]]
    df = schemas.validate(name, src.read_mirror(files, names()), str(files[0]))
    notes = schemas.check_plausibility(name, df, str(files[0]), fetched.raw_dir, spec.get("vintage"))
    assert notes == [] or all("earlier division" in n for n in notes), notes
    try:  # (a dataset of another edition's projection round is not in the default fetch)
        stored = rawstore.load(fetched.raw_dir, name)
    except rawstore.MissingData:
        return
    assert len(stored) == len(df) and list(stored.columns) == list(df.columns)


def test_2026_round_mirror_file(fetched, mirror):
    """SSB 14746 (2026 round) in the mirror has the layout of the 14288 extract."""
    f = mirror / "stats/fig1_aldersbaereevne/ssb14746_telemark_hele_landet_funksjonell_aldersgrupper_2026-2050.csv"
    if not f.is_file():
        pytest.skip(f"{f} not in the mirror")
    df = schemas.validate("projection_14746", sources.get("projection_14746").read_mirror([f], names()), str(f))
    assert schemas.check_plausibility("projection_14746", df, str(f), fetched.raw_dir, "2026-runden") == []
    assert (df["year"].min(), df["year"].max()) == (2026, 2050) and set(df["region_code"]) == {"0", "40"}


def test_boundary_mirror_route(mirror):
    spec = CATALOGUE["kommuner_2024"]
    payload = (mirror / spec["mirror"]["files"][0]).read_bytes()
    schemas.check_boundaries("kommuner_2024", payload, "k.geojson")  # simplified borders: repaired, accepted


# --- the online route -----------------------------------------------------------------------------


def jsonstat(dims: list[tuple[str, list[tuple[str, str]]]], values, status: dict | None = None) -> dict:
    """A JSON-stat 2.0 body in SSB's shape (the real 03024/07459 bodies): `id`, `size`,
    `dimension.*.category.{index,label}`, row-major `value`, optional `status`."""
    size = [len(c) for _, c in dims]
    n = 1
    for s in size:
        n *= s
    vals = [values(i) for i in range(n)] if callable(values) else list(values)
    assert len(vals) == n
    body = {
        "version": "2.0",
        "class": "dataset",
        "label": "test",
        "source": "Statistisk sentralbyrå",
        "id": [d for d, _ in dims],
        "size": size,
        "dimension": {
            d: {"label": d, "category": {"index": {c: i for i, (c, _) in enumerate(cats)}, "label": dict(cats)}}
            for d, cats in dims
        },
        "value": vals,
    }
    if status:
        body["status"] = status
    return body


def frame(body: dict) -> pd.DataFrame:
    return ssb.jsonstat_frame(body, "test", "https://data.ssb.no/test")


def _kommuner(raw_dir: Path) -> list[tuple[str, str]]:
    k = classification.kommuner(raw_dir, 2024)
    return list(zip(k["kommune_code"], k["kommune_name"], strict=True))


def online_population_07459(raw):
    ages = [(f"{a:03d}", f"{a} år") for a in range(105)] + [("105+", "105 år eller eldre")]
    body = jsonstat(
        [
            ("Region", [("K-3301", "Drammen"), ("F-33", "Buskerud"), ("0", "Hele landet")]),
            ("Alder", ages),
            ("ContentsCode", [("Personer1", "Personer")]),
            ("Tid", [("2025", "2025"), ("2026", "2026")]),
        ],
        lambda i: 1,
    )
    df = sources.get("population_07459").tidy_online(frame(body), names())
    g = df.set_index(["region_code", "year", "age_group"])["persons"]
    assert g[("3301", 2025, "0-15")] == 16 and g[("33", 2026, "90+")] == 16 and g[("0", 2025, "67-79")] == 13
    assert set(df["region_level"]) == {"kommune", "fylke", "land"}
    return df


def online_projection_14288(raw):
    body = jsonstat(
        [
            ("Region", [("03", "Oslo"), ("0", "Hele landet")]),
            ("Alder", [(c, c) for c in F4]),
            ("ContentsCode", ALT),
            ("Tid", [("2024", "2024"), ("2050", "2050")]),
        ],
        lambda i: 100 + i,
    )
    df = sources.get("projection_14288").tidy_online(frame(body), names())
    assert set(df["alternative"]) == {"MMMM", "LLML", "HHMH"} and set(df["age_group"]) >= {"0", "90+"}
    return df


def online_neet_13563(raw):
    body = jsonstat(
        [
            ("Region", [("F-33", "Buskerud"), ("0", "Hele landet")]),
            ("HovArbStyrkStatus", [("TOT3", "I alt"), ("NEET2", "NEET")]),
            ("Alder", [("15-29", "15-29 år"), ("30-61", "30-61 år")]),
            ("ContentsCode", [("Bosatte", "Bosatte")]),
            ("Tid", [("2024", "2024")]),
        ],
        [1000, 1000, 80, 120, 2000, 2000, 150, 300],
    )
    df = sources.get("neet_13563").tidy_online(frame(body), names())
    assert df.set_index(["region_code", "age_group"]).loc[("33", "15-29"), "neet_share"] == 8.0
    return df


def online_lavinntekt_12944(raw):
    body = jsonstat(
        [
            ("Region", [("K-3301", "Drammen"), ("K-3320", "Flå")]),
            ("Alder", [("999A", "Alle aldre")]),
            ("ContentsCode", [("EUskalaSeksti", "EU-60")]),
            ("Tid", [("2022-2024", "2022-2024")]),
        ],
        [11.2, None],
        {"1": ".."},
    )
    df = sources.get("lavinntekt_12944").tidy_online(frame(body), names())
    assert df["status"].tolist() == ["", ".."] and df["period"].tolist() == ["2022-2024"] * 2
    return df


def online_innvandrere_09817(raw):
    body = jsonstat(
        [
            ("Region", [("K-3301", "Drammen")]),
            ("InnvandrKat", [("B", "Innvandrere")]),
            ("Landbakgrunn", [("999", "I alt"), ("VES", "Vestlige land")]),
            ("ContentsCode", [("AndelBefolkning", "Andel av befolkningen (prosent)")]),
            ("Tid", [("2024", "2024")]),
        ],
        [24.1, 8.3],
    )
    df = sources.get("innvandrere_09817").tidy_online(frame(body), names())
    assert df["Landbakgrunn"].tolist() == ["999", "VES"] and df["value"].tolist() == [24.1, 8.3]
    return df


def online_utdanning_09429(raw):
    levels = [
        ("01", "Grunnskole"),
        ("02a", "Videregående"),
        ("11", "Fagskole"),
        ("03a", "UH kort"),
        ("04a", "UH lang"),
        ("09a", "Uoppgitt"),
    ]
    body = jsonstat(
        [
            ("Region", [("K-3301", "Drammen")]),
            ("Nivaa", levels),
            ("Kjonn", [("0", "Begge kjønn")]),
            ("ContentsCode", [("PersonerProsent", "Personer (prosent)")]),
            ("Tid", [("2024", "2024")]),
        ],
        [20.0, 35.0, 5.0, 25.0, 15.0, None],
        {"5": ".."},
    )
    df = sources.get("utdanning_09429").tidy_online(frame(body), names())
    assert sorted(df["nivaa"]) == sorted(["01", "02a", "11", "03a", "04a"])  # «uoppgitt» is left out
    return df


def online_projection_14288_fylker(raw):
    body = jsonstat(
        [
            ("Region", [(f, names()[f]) for f in FYLKER]),
            ("Alder", [(c, c) for c in F4]),
            ("ContentsCode", ALT),
            ("Tid", [("2024", "2024"), ("2050", "2050")]),
        ],
        lambda i: 1000 + i % 97,
    )
    df = sources.get("projection_14288_fylker").tidy_online(frame(body), names())
    src = frame(body)
    one = src[(src["Region"] == "33") & (src["ContentsCode"] == "Personer") & (src["Tid"] == "2050")]
    got = df.set_index(["region_code", "alternative", "year", "age_group"])["persons"]
    assert got[("33", "MMMM", 2050, "alle")] == one["value"].sum()
    assert got[("33", "MMMM", 2050, "16+")] == one.loc[one["Alder"].isin(F4[4:]), "value"].sum()
    assert (
        schemas.check_plausibility(
            "projection_14288_fylker", schemas.validate("projection_14288_fylker", df), "online", raw
        )
        == []
    )  # all 15 fylker: the expectations hold
    return df


def online_projection_14288_kommuner(raw):
    kommuner = _kommuner(raw)
    body = jsonstat(
        [
            ("Region", kommuner + [("0", "Hele landet")]),
            ("Alder", [(c, c) for c in F4]),
            ("ContentsCode", ALT[:1]),
            ("Tid", [("2024", "2024"), ("2030", "2030")]),
        ],
        lambda i: 10,
    )
    df = sources.get("projection_14288_kommuner").tidy_online(frame(body), names())
    assert len(df) == 2 * len(kommuner) and set(df["persons"]) == {100}
    assert (
        schemas.check_plausibility(
            "projection_14288_kommuner", schemas.validate("projection_14288_kommuner", df), "online", raw
        )
        == []
    )  # every kommune of the classification
    return df


def online_boliger_06265(raw):
    types = [
        ("01", "Enebolig"),
        ("02", "Tomannsbolig"),
        ("03", "Rekkehus"),
        ("04", "Boligblokk"),
        ("05", "Bofellesskap"),
        ("999", "Andre"),
    ]
    body = jsonstat(
        [
            ("Region", [("K-3301", "Drammen"), ("K-3320", "Flå")]),
            ("BygnType", types),
            ("ContentsCode", [("Boliger", "Boliger")]),
            ("Tid", [("2025", "2025")]),
        ],
        [600, 100, 100, 150, 20, 30, 900, 40, 30, 10, 5, 15],
    )
    df = sources.get("boliger_06265").tidy_online(frame(body), names())
    assert df.set_index(["region_code", "building_type"]).loc[("3301", "01"), "share_pct"] == pytest.approx(60.0)
    return df


def online_sysselsetting_07984(raw):
    body = jsonstat(
        [
            ("Region", [("F-33", "Buskerud")]),
            ("NACE2007", [("00-99", "Alle næringer"), ("01-03", "Jordbruk")]),
            ("Kjonn", [("0", "Begge kjønn")]),
            ("Alder", [("15-74", "15-74 år")]),
            ("ContentsCode", [("Sysselsatte", "Sysselsatte")]),
            ("Tid", [("2024", "2024")]),
        ],
        [140000, 2100],
    )
    df = sources.get("sysselsetting_07984").tidy_online(frame(body), names())
    assert df["region_name"].tolist() == ["Buskerud", "Buskerud"] and df["region_level"].tolist() == ["fylke"] * 2
    return df


def online_tiltak_13563(raw):
    from kunnskapsgrunnlag.sources.tiltak_13563 import tabell2_from_13563

    body = jsonstat(
        [
            ("Region", [("F-33", "Buskerud"), ("0", "Hele landet")]),
            ("HovArbStyrkStatus", [("A.01", "Sysselsatte"), ("U.01", "Deltakere på arbeidsmarkedstiltak")]),
            ("Alder", [("15-19", "15-19 år"), ("20-24", "20-24 år"), ("25-66", "25-66 år"), ("67-74", "67-74 år")]),
            ("ContentsCode", [("Bosatte", "Bosatte")]),
            ("Tid", [("2024", "2024")]),
        ],
        lambda i: i + 1,
    )
    df = sources.get("tiltak_13563").tidy_online(frame(body), names())
    t2 = tabell2_from_13563(df).set_index("region_code")
    assert t2.loc["33", "deltakere_20_66"] == 6 + 7  # U.01, 20-24 and 25-66 of Buskerud (cells 6 and 7)
    return df


def online_flytting_09588(raw):
    from kunnskapsgrunnlag.sources.flytting_09588 import tabell3_from_09588

    body = jsonstat(
        [
            ("Region", [("K-3301", "Drammen"), ("F-33", "Buskerud")]),
            ("ContentsCode", [("NettoInnland", "Innenlandsk nettoinnflytting")]),
            ("Tid", [("2024", "2024")]),
        ],
        [-120, 830],
    )
    df = sources.get("flytting_09588").tidy_online(frame(body), names())
    assert tabell3_from_09588(df)["netto_innenlands"].tolist() == [-120, 830]
    return df


def _udir_body():
    if not REAL_UDIR.is_file():
        pytest.skip(f"real recorded Udir answer not found at {REAL_UDIR}")
    return udir.read_report_json(json.loads(REAL_UDIR.read_text(encoding="utf-8")), "test", "recorded")


def online_gjennomforing_udir(raw):
    df = sources.get("gjennomforing_udir").tidy_online(_udir_body(), names())
    assert set(df["kull"]) == set(range(2014, 2020))
    return df


def online_gjennomforing_udir_fylke(raw):
    df = sources.get("gjennomforing_udir_fylke").tidy_online(_udir_body(), names())
    assert df.set_index(["fylke_kode_udir", "kull"]).loc[("06", 2018), "fullfort_pct"] == 80.7  # old Buskerud
    assert (
        schemas.check_plausibility(
            "gjennomforing_udir_fylke", schemas.validate("gjennomforing_udir_fylke", df), "online", raw
        )
        == []
    )
    return df


def online_projection_14746(raw):
    body = jsonstat(
        [
            ("Region", [("0", "Hele landet"), ("33", "Buskerud")]),
            ("Alder", [(c, c) for c in F4]),
            ("ContentsCode", ALT),
            ("Tid", [("2026", "2026"), ("2050", "2050")]),
        ],
        lambda i: 100 + i,
    )
    df = sources.get("projection_14746").tidy_online(frame(body), names())
    assert set(df["region_code"]) == {"0", "33"} and set(df["year"]) == {2026, 2050}
    return df


def online_projection_14746_fylker(raw):
    body = jsonstat(
        [
            ("Region", [(f, names()[f]) for f in FYLKER]),
            ("Alder", [(c, c) for c in F4]),
            ("ContentsCode", ALT),
            ("Tid", [("2026", "2026")]),
        ],
        lambda i: 500,
    )
    df = sources.get("projection_14746_fylker").tidy_online(frame(body), names())
    got = df.set_index(["region_code", "alternative", "year", "age_group"])["persons"]
    assert got[("33", "HHMH", 2026, "alle")] == 5000 and got[("33", "HHMH", 2026, "16+")] == 3000
    return df


def online_projection_14746_kommuner(raw):
    """14746 asks kommuner with Alder eliminated (no Alder dimension in the answer)."""
    body = jsonstat(
        [("Region", _kommuner(raw)[:5]), ("ContentsCode", ALT[:1]), ("Tid", [("2026", "2026")])], lambda i: 1000 + i
    )
    df = sources.get("projection_14746_kommuner").tidy_online(frame(body), names())
    assert df["persons"].tolist() == [1000, 1001, 1002, 1003, 1004] and set(df["alternative"]) == {"MMMM"}
    return df


ONLINE_CASES = {name[len("online_") :]: f for name, f in dict(globals()).items() if name.startswith("online_")}


def test_every_online_dataset_has_an_online_case():
    online = {n for n, s in CATALOGUE.items() if s["provider"] in ONLINE_PROVIDERS}
    assert online <= set(ONLINE_CASES) <= set(sources.registry())


@pytest.mark.parametrize("name", sorted(ONLINE_CASES))
def test_online_route(name, fetched):
    """The dataset's online tidy function on an answer shaped like the real one; its schema holds."""
    tidy = ONLINE_CASES[name](fetched.raw_dir)
    out = schemas.validate(name, tidy, "online")
    assert len(out) == len(tidy) > 0


def test_online_and_mirror_give_one_shape(fetched):
    """Datasets with both routes store the same columns whichever route was taken."""
    for name in sorted(set(ONLINE_CASES) & set(MIRRORED)):
        if name in {"gjennomforing_udir_fylke"} and not REAL_UDIR.is_file():
            continue
        online = ONLINE_CASES[name](fetched.raw_dir)
        try:
            stored = rawstore.load(fetched.raw_dir, name)
        except rawstore.MissingData:  # another edition's projection round
            continue
        extra = set(online.columns) - set(stored.columns)
        assert extra <= {"status"}, (name, extra)  # 09429 keeps SSB's symbols online


# --- the file-drop route -------------------------------------------------------------------------

DROPS = {
    "skadehendelser": "periode,hendelse,antall,kilde\n1980-1989,storm,12,BiKT 2024 s. 9\n",
    "kollektivandel": "kommunenummer,verdi,enhet,kilde\n3301,12.5,prosent,kartportal\n",
    "arbeidsplasser_kollektiv": "kommunenummer,verdi,enhet,kilde\n3301,45000,arbeidsplasser,kartportal\n",
}


def test_every_file_drop_dataset_has_a_drop_case():
    assert set(DROPS) == {n for n, s in CATALOGUE.items() if s["provider"] == "manual"}


@pytest.mark.parametrize("name", sorted(DROPS))
def test_file_drop_route(name, tmp_path, copy_raw):
    spec = dict(CATALOGUE[name])
    drop = tmp_path / f"{name}.csv"
    drop.write_text(DROPS[name], encoding="utf-8")
    spec["drop"] = str(drop)
    r = fetch_dataset(copy_raw, name, spec, online=False, mirror=None)
    assert (r.status, r.source) == ("ok", "manual")
    stored = rawstore.load(copy_raw.raw_dir, name)
    given = pd.read_csv(drop, dtype={"kommunenummer": str})
    pd.testing.assert_frame_equal(stored, given, check_dtype=False)


# --- what falls back to the mirror ----------------------------------------------------------------


def _online_then_mirror(copy_raw, monkeypatch, fault):
    def fetch_table(table, queries, api=None, dataset="?"):
        return fault()

    monkeypatch.setattr(ssb, "fetch_table", fetch_table)
    return fetch_dataset(copy_raw, "neet_13563", CATALOGUE["neet_13563"], online=True, mirror=MIRROR)


@pytest.mark.parametrize(
    "fault",
    [
        requests.ConnectionError("Failed to resolve 'data.ssb.no'"),
        ssb.SSBApiError("SSB table 13563: Error 503: Service Unavailable"),
        TimeoutError("timed out"),
    ],
)
def test_network_and_http_errors_fall_back_to_the_mirror_naming_the_error(copy_raw, monkeypatch, fault):
    def fail():
        raise fault

    r = _online_then_mirror(copy_raw, monkeypatch, fail)
    assert (r.status, r.source) == ("ok", "mirror")
    entry = rawstore.current_entry(copy_raw.raw_dir, "neet_13563")
    assert entry["online_error"] == f"online-feil: {type(fault).__name__}: {fault}"


def test_a_bug_in_a_tidy_function_is_not_papered_over_by_the_mirror(copy_raw, monkeypatch):
    """Was: the NameError of `_FUNKSJONELL` in the 14288 fylker tidy became «online-feil» and the
    mirror was used silently."""
    from kunnskapsgrunnlag.sources import neet_13563

    before = rawstore.read_manifest(copy_raw.raw_dir)

    def buggy(df, region_names):
        return undefined_name  # noqa: F821 - the bug under test

    monkeypatch.setattr(
        neet_13563,
        "SOURCE",
        neet_13563.SOURCE.__class__(
            "neet_13563", neet_13563.EXPECTATIONS, neet_13563.SCHEMA, neet_13563.read_mirror, buggy
        ),
    )
    with pytest.raises(NameError, match="undefined_name"):
        _online_then_mirror(copy_raw, monkeypatch, lambda: pd.DataFrame({"Region": ["0"]}))
    assert rawstore.read_manifest(copy_raw.raw_dir) == before


def test_checks_compare_with_the_regions_they_are_given():
    """The schema's fylke checks and the coverage rules use the fylker and kommuner passed in (the
    fetch passes the configuration's), not a list a dataset module reads itself."""
    from kunnskapsgrunnlag import plausibility
    from kunnskapsgrunnlag.division import Division

    df = pd.DataFrame(
        {"fylke_kode_udir": ["0", "06"], "fylke_navn_udir": ["Hele landet", "Buskerud"], "fylke_2024": ["0", "33"]}
        | {"kull": [2019, 2019], "fullfort_pct": [80.0, 79.0]}
    )
    assert len(sources.validate("gjennomforing_udir_fylke", df, fylker=["33"])) == 2
    with pytest.raises(ValidationError, match=r"fylke_2024.*must be a fylke code of the 2024 division or 0"):
        sources.validate("gjennomforing_udir_fylke", df, fylker=["31"])

    kommuner = pd.DataFrame({"kommune_code": ["3301", "3303"], "kommune_name": ["Drammen", "Kongsberg"]})
    kommuner["fylke_code"] = "33"
    reg = {"regions": {"code": "region_code", "kommuner": "all"}}
    rows = pd.DataFrame({"region_code": ["3301"], "region_name": ["Drammen"]})
    fails, notes = plausibility.check_frame("x", rows, reg, Division({"33": "Buskerud"}, lambda: (kommuner, None)))
    assert [str(f) for f in fails] == ["coverage: kommuner missing: 3303 Kongsberg"] and notes == []
    fails, notes = plausibility.check_frame("x", rows, reg, Division({"33": "Buskerud"}))  # no classification
    assert fails == [] and notes == ["kommune coverage not checked: no raw folder"]
