"""The online fetch routes (SSB PxWebApi v2 through pxwebpy, Udir's report API), without network.

Every HTTP call is answered by `responses` from recorded-shape fixtures in tests/fixtures/online/
(tests/fixtures/online/README.md says where each shape comes from). An unregistered call fails
the test, and registered calls that are never made fail it too (assert_all_requests_are_fired).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import requests
import responses
from responses import matchers

from kunnskapsgrunnlag import rawstore, schemas
from kunnskapsgrunnlag.config import load_catalogue, make_settings
from kunnskapsgrunnlag.fetch import fetch_all, fetch_dataset, fetch_online, ssb, udir

FIX = Path(__file__).resolve().parent / "fixtures" / "online"
API = ssb.SSB_API
LANG = matchers.query_param_matcher({"lang": "no"})
DATA_PARAMS = matchers.query_param_matcher({"lang": "no", "outputFormat": "json-stat2"})
AGES = [f"{a:03d}" for a in range(105)] + ["105+"]  # 07459's single-year age codes
AGE_GROUPS = ["0-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]


def ssb_json(name: str):
    return json.loads((FIX / "ssb" / name).read_text(encoding="utf-8"))


def new_api():
    """A PxApi for SSB with pxwebpy's response cache off, so every call reaches `responses`."""
    from pxweb import PxApi

    return PxApi(API, language="no", disable_cache=True, max_workers=1)


def add_root(rsps) -> None:
    """pxwebpy's PxApi() reads /config and /tables when it is constructed."""
    rsps.get(f"{API}/config", json=ssb_json("config.json"), match=[LANG])
    rsps.get(f"{API}/tables", json=ssb_json("tables.json"), match=[LANG])


def add_07459_metadata(rsps) -> None:
    rsps.get(f"{API}/tables/07459/metadata", json=ssb_json("07459_metadata.json"), match=[LANG])


# What pxwebpy POSTs for the catalogue query of population_07459: the Region and Alder wildcards
# expanded through the table metadata (all regions: land, fylker, kommuner), Kjonn (no values) left out
# so SSB eliminates it, and the Tid expression passed through unchanged.
BODY_07459 = {"selection": [
    {"variableCode": "Region", "valueCodes": ["0", "03", "33", "40", "0301", "3301", "3303"]},
    {"variableCode": "Alder", "valueCodes": AGES},
    {"variableCode": "ContentsCode", "valueCodes": ["Personer1"]},
    {"variableCode": "Tid", "valueCodes": ["[range(2020,2026)]"]},
]}

URL_07459 = (
    "https://data.ssb.no/api/pxwebapi/v2/tables/07459/data?lang=no&outputFormat=json-stat2"
    "&valuecodes[Region]=*&valuecodes[Alder]=*"
    "&valuecodes[ContentsCode]=Personer1&valuecodes[Tid]=[range(2020,2026)]"
)

# A tiny offline mirror with the file layout population_07459 expects (values: SSB 07459, 2026).
MIRROR_07459 = "stats/population_07459/ssb07459_folkemengde_1jan_2020-2026_land_fylke_kommune_aldersgrupper.csv"
MIRROR_ROWS = """nivaa,code,name,aar,aldersgruppe,personer
nation,0,Norge-Noreg-Norway,2026,0-15,961984
nation,0,Norge-Noreg-Norway,2026,16-19,276650
nation,0,Norge-Noreg-Norway,2026,20-44,1865473
nation,0,Norge-Noreg-Norway,2026,45-66,1563660
nation,0,Norge-Noreg-Norway,2026,67-79,674694
nation,0,Norge-Noreg-Norway,2026,80-89,239357
nation,0,Norge-Noreg-Norway,2026,90+,45582
county,33,Buskerud,2026,0-15,45297
county,33,Buskerud,2026,16-19,13485
county,33,Buskerud,2026,20-44,84799
county,33,Buskerud,2026,45-66,79657
county,33,Buskerud,2026,67-79,34926
county,33,Buskerud,2026,80-89,12586
county,33,Buskerud,2026,90+,2231
"""


@pytest.fixture
def settings(tmp_path):
    return make_settings(raw_dir=tmp_path / "raw", processed_dir=tmp_path / "processed", build_dir=tmp_path / "build")


@pytest.fixture
def catalogue():
    return copy.deepcopy(load_catalogue())  # load_catalogue is cached: never modify its dicts


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def tiny_mirror(tmp_path) -> Path:
    root = tmp_path / "mirror"
    f = root / MIRROR_07459
    f.parent.mkdir(parents=True)
    f.write_text(MIRROR_ROWS, encoding="utf-8")
    return root


def raw_files(settings) -> list[Path]:
    return [p for p in settings.raw_dir.rglob("*") if p.is_file()] if settings.raw_dir.exists() else []


def data_posts(rsps, table: str) -> list:
    return [c for c in rsps.calls if c.request.method == "POST" and f"/tables/{table}/data" in c.request.url]


# --- 1. SSB 07459 ----------------------------------------------------------------------------

def test_population_07459_online_writes_tidy_groups_and_manifest(settings, catalogue, rsps):
    add_root(rsps)
    add_07459_metadata(rsps)
    rsps.post(f"{API}/tables/07459/data", json=ssb_json("07459_data.json"),
              match=[DATA_PARAMS, matchers.json_params_matcher(BODY_07459)])

    entry = fetch_online(settings, "population_07459", catalogue["population_07459"], api=new_api())

    assert len(data_posts(rsps, "07459")) == 1
    path = settings.raw_dir / entry["file"]
    df = pd.read_csv(path, dtype={"region_code": str})
    assert list(df.columns) == list(schemas.POPULATION.columns)
    # the recorded answer holds three fylker; names are the project's, not SSB's labels
    assert set(df["region_code"]) == {"03", "33", "40"}
    assert dict(zip(df["region_code"], df["region_name"])) == {"03": "Oslo", "33": "Buskerud", "40": "Telemark"}
    assert set(df["region_level"]) == {"fylke"}
    assert set(df["year"]) == set(range(2020, 2027))
    assert len(df) == 3 * 7 * 7
    for (_, _), g in df.groupby(["region_code", "year"]):
        assert sorted(g["age_group"]) == sorted(AGE_GROUPS)

    # 106 single-year ages (000 … 104, 105+) summed into the report's groups
    bus24 = df[(df.region_code == "33") & (df.year == 2024)].set_index("age_group")["persons"].to_dict()
    assert bus24 == {"0-15": 46322, "16-19": 13207, "20-44": 83980, "45-66": 78608,
                     "67-79": 34488, "80-89": 10902, "90+": 2312}
    totals = df.groupby(["region_code", "year"])["persons"].sum()
    assert totals[("33", 2024)] == 269_819  # SSB's published population of Buskerud, 1.1.2024
    assert totals[("03", 2024)] == 717_710 and totals[("03", 2026)] == 728_714  # Oslo, as in SSB's own 07459 answer

    assert entry["source"] == {"kind": "online", "url": URL_07459}
    assert entry["rows"] == len(df) == 147
    assert entry["sha256"] == rawstore.sha256_file(path)
    assert entry["table"] == "07459" and entry["status"] == "ok"
    manifest = rawstore.read_manifest(settings.raw_dir)
    assert manifest["datasets"]["population_07459"]["current"] == entry
    # the stored file loads through the verified path and passes the schema again
    schemas.validate("population_07459", rawstore.load(settings.raw_dir, "population_07459"))


@pytest.mark.parametrize("code, stripped", [("F-33", "33"), ("K-3301", "3301"), ("K_3301", "3301"), ("0", "0"), ("03", "03")])
def test_strip_region_prefix(code, stripped):
    assert ssb.strip_region_prefix(code) == stripped


def test_fetch_all_passes_the_api_through(settings, rsps):
    add_root(rsps)
    add_07459_metadata(rsps)
    rsps.post(f"{API}/tables/07459/data", json=ssb_json("07459_data.json"), match=[DATA_PARAMS])

    results = fetch_all(settings, online=True, mirror=None, only=["population_07459"], api=new_api())

    assert [(r.dataset, r.status, r.source) for r in results] == [("population_07459", "ok", "online")]


# --- 2. SSB 13563 (NEET) ---------------------------------------------------------------------

def neet_spec(catalogue) -> dict:
    """The catalogue query of neet_13563, with Region as plain table codes.

    Norway ("0") is not a code of the agg_KommFylker code list (see the fixtures README), so the
    national row and a fylke are asked for with the table's own Region codes.
    """
    spec = catalogue["neet_13563"]
    spec["query"]["Region"] = {"values": ["0", "33"]}
    return spec


def test_neet_13563_online_share_for_fylke_and_norway(settings, catalogue, rsps):
    add_root(rsps)
    rsps.get(f"{API}/tables/13563/metadata", json=ssb_json("13563_metadata.json"), match=[LANG])
    rsps.get(f"{API}/codelists/vs_ArbStatus2018niva4a", json=ssb_json("codelist_vs_ArbStatus2018niva4a.json"), match=[LANG])
    body = {"selection": [
        {"variableCode": "Region", "valueCodes": ["0", "33"]},
        {"variableCode": "HovArbStyrkStatus", "valueCodes": ["TOT3", "NEET2"], "codelist": "vs_ArbStatus2018niva4a"},
        {"variableCode": "Alder", "valueCodes": ["15-29", "30-61"]},
        {"variableCode": "ContentsCode", "valueCodes": ["Bosatte"]},
        {"variableCode": "Tid", "valueCodes": ["top(1)"]},
    ]}
    rsps.post(f"{API}/tables/13563/data", json=ssb_json("13563_data.json"), match=[DATA_PARAMS, matchers.json_params_matcher(body)])

    entry = fetch_online(settings, "neet_13563", neet_spec(catalogue), api=new_api())

    df = pd.read_csv(settings.raw_dir / entry["file"], dtype={"region_code": str})
    assert list(df.columns) == list(schemas.NEET.columns)
    got = {(r.region_code, r.age_group): r.neet_share for r in df.itertuples()}
    # NEET2 / TOT3 * 100, rounded (not truncated) to one decimal
    assert got == {("0", "15-29"): 8.3,    # 85 607 / 1 031 518 = 8.299…
                   ("0", "30-61"): 13.5,   # 322 151 / 2 386 305 = 13.4999…
                   ("33", "15-29"): 8.6,   # 4 281 / 49 987 = 8.564…
                   ("33", "30-61"): 15.0}  # 17 469 / 116 342 = 15.015…
    assert set(df["year"]) == {2024}
    assert dict(zip(df["region_code"], df["region_name"])) == {"0": "Hele landet", "33": "Buskerud"}
    assert entry["rows"] == 4 and entry["sha256"] == rawstore.sha256_file(settings.raw_dir / entry["file"])


# --- 3. Invalid value codes --------------------------------------------------------------------

def test_invalid_code_in_metadata_raises_and_writes_nothing(settings, catalogue, rsps, tiny_mirror):
    spec = catalogue["population_07459"]
    spec["query"]["ContentsCode"] = {"values": ["Personer"]}  # 14288's code; 07459's is Personer1
    add_root(rsps)
    rsps.get(f"{API}/tables/07459/metadata", json=ssb_json("07459_metadata.json"), match=[LANG])
    api = new_api()

    with pytest.raises(ssb.InvalidQuery) as exc:
        fetch_online(settings, "population_07459", spec, api=api)
    msg = str(exc.value)
    assert "07459" in msg and "ContentsCode" in msg and "['Personer']" in msg
    assert "Valid codes: Personer1" in msg

    # an invalid catalogue query is an error to fix, not something the mirror may paper over
    with pytest.raises(ssb.InvalidQuery):
        fetch_dataset(settings, "population_07459", spec, online=True, mirror=tiny_mirror, api=api)
    assert data_posts(rsps, "07459") == []
    assert raw_files(settings) == []


def test_invalid_code_in_code_list_raises_and_lists_the_list(settings, catalogue, rsps):
    spec = neet_spec(catalogue)
    spec["query"]["HovArbStyrkStatus"]["values"] = ["TOT3", "NEET"]
    add_root(rsps)
    rsps.get(f"{API}/tables/13563/metadata", json=ssb_json("13563_metadata.json"), match=[LANG])
    rsps.get(f"{API}/codelists/vs_ArbStatus2018niva4a", json=ssb_json("codelist_vs_ArbStatus2018niva4a.json"), match=[LANG])

    with pytest.raises(ssb.InvalidQuery) as exc:
        fetch_online(settings, "neet_13563", spec, api=new_api())
    msg = str(exc.value)
    assert "HovArbStyrkStatus" in msg and "in code list vs_ArbStatus2018niva4a" in msg
    assert "['NEET']" in msg and "Valid codes: TOT3, NEET2" in msg
    assert data_posts(rsps, "13563") == []
    assert raw_files(settings) == []


def test_unknown_variable_raises_with_the_table_variables(settings, catalogue, rsps):
    spec = catalogue["population_07459"]
    spec["query"]["Kjønn"] = spec["query"].pop("Kjonn")
    add_root(rsps)
    rsps.get(f"{API}/tables/07459/metadata", json=ssb_json("07459_metadata.json"), match=[LANG])

    with pytest.raises(ssb.InvalidQuery, match=r"unknown variable\(s\) \['Kjønn'\].*'Kjonn'"):
        fetch_online(settings, "population_07459", spec, api=new_api())
    assert raw_files(settings) == []


# --- 4. SSB error body, and the fallback to the mirror -------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("error_400_too_many_cells.json", ["Error 400: Bad Request", "Parameter error", "title: Too many cells selected",
                                       "detail: Too many cells selected"]),
    ("error_400_non_existent_value.json", ["Error 400: Bad Request", "Parameter error", "title: Non-existent value"]),
])
def test_ssb_error_body_surfaces_and_falls_back_to_mirror(tmp_path, settings, catalogue, rsps, tiny_mirror, body, expected):
    spec = catalogue["population_07459"]
    add_root(rsps)
    add_07459_metadata(rsps)
    rsps.post(f"{API}/tables/07459/data", json=ssb_json(body), status=400, match=[DATA_PARAMS])
    api = new_api()

    with pytest.raises(requests.HTTPError) as exc:
        fetch_online(settings, "population_07459", spec, api=api)
    assert isinstance(exc.value, ssb.SSBApiError)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("SSB table 07459: ")
    for text in expected:
        assert text in msg
    assert raw_files(settings) == []

    # online fails -> the dataset comes from the mirror
    result = fetch_dataset(settings, "population_07459", spec, online=True, mirror=tiny_mirror, api=api)
    assert (result.status, result.source) == ("ok", "mirror")
    entry = rawstore.current_entry(settings.raw_dir, "population_07459")
    assert entry["source"]["kind"] == "mirror"
    assert entry["source"]["mirror_files"] == [str(tiny_mirror / MIRROR_07459)]
    stored = rawstore.load(settings.raw_dir, "population_07459")
    assert set(stored["region_code"]) == {"0", "33"} and len(stored) == 14

    # with no mirror the dataset is recorded as missing, and the reason keeps SSB's explanation
    bare = make_settings(raw_dir=tmp_path / "raw2", processed_dir=tmp_path / "p2", build_dir=tmp_path / "b2")
    result = fetch_dataset(bare, "population_07459", spec, online=True, mirror=None, api=api)
    assert result.status == "missing"
    missing = rawstore.current_entry(bare.raw_dir, "population_07459")
    assert missing["status"] == "missing"
    assert expected[2] in missing["reason"] and "SSBApiError" in missing["reason"]
    assert missing["how_to_fetch"] == "GET " + URL_07459
    assert len(data_posts(rsps, "07459")) == 3


# --- 5. HTTP 429 with Retry-After --------------------------------------------------------------

def test_429_is_retried_after_retry_after(settings, catalogue, rsps, monkeypatch):
    import pxweb._internal.client as pxclient

    real_make_api = ssb.make_api

    def make_api_without_cache(timeout: int = 30):  # the project's own make_api, cache off
        api = real_make_api(timeout=timeout)
        api.disable_cache = True
        return api

    monkeypatch.setattr(ssb, "make_api", make_api_without_cache)
    slept: list[float] = []
    monkeypatch.setattr(pxclient.time, "sleep", slept.append)

    add_root(rsps)
    add_07459_metadata(rsps)
    rsps.post(f"{API}/tables/07459/data", status=429, headers={"Retry-After": "0"}, body="", match=[DATA_PARAMS])
    rsps.post(f"{API}/tables/07459/data", json=ssb_json("07459_data.json"), match=[DATA_PARAMS])

    entry = fetch_online(settings, "population_07459", catalogue["population_07459"])  # api=None -> ssb.make_api()

    posts = data_posts(rsps, "07459")
    assert [c.response.status_code for c in posts] == [429, 200]
    assert slept == [0.0]  # waited exactly Retry-After seconds, once
    assert entry["rows"] == 147 and entry["source"]["kind"] == "online"


# --- 6. The exact GET URL of a catalogue query -------------------------------------------------

def test_query_url_population_07459(catalogue):
    spec = catalogue["population_07459"]
    assert ssb.query_url(spec["table"], spec["query"]) == URL_07459


def test_query_url_neet_13563(catalogue):
    spec = catalogue["neet_13563"]
    assert ssb.query_url(spec["table"], spec["query"]) == (
        "https://data.ssb.no/api/pxwebapi/v2/tables/13563/data?lang=no&outputFormat=json-stat2"
        "&valuecodes[Region]=F-31,F-32,F-03,F-34,F-33,F-39,F-40,F-42,F-11,F-46,F-15,F-50,F-18,F-55,F-56"
        "&codelist[Region]=agg_KommFylker"
        "&valuecodes[HovArbStyrkStatus]=TOT3,NEET2&codelist[HovArbStyrkStatus]=vs_ArbStatus2018niva4a"
        "&valuecodes[Alder]=15-29,30-61&valuecodes[ContentsCode]=Bosatte&valuecodes[Tid]=top(1)"
    )


# --- 7. Udir ---------------------------------------------------------------------------------

UDIR_ROOT = "https://statistikkportalen.udir.no/api/rapportering/"
UDIR_CSV_URL = UDIR_ROOT + "rest/v1/Statistikk/VGO/GjennomfoeringV/1/1/data.csv"
UDIR_FILTER_2018 = "VisTeller(1)_VisNevner(1)_EnhetID(-12)_TidID(2018)_ProgramomraadeID(-10)_KjoennID(-10)_IndikatorID(-174)"
PCT, TELLER, NEVNER = (f"2018.Alle kjønn.Fullført.{m}" for m in ("Prosent", "Teller", "Nevner"))


def add_udir(rsps, spec) -> None:
    page = json.loads((FIX / "udir" / "rapportside_VGO_Gjennomfoering_Fylk.json").read_text(encoding="utf-8"))
    rsps.get(spec["query"]["url"], json=page)
    rsps.get(UDIR_CSV_URL, body=(FIX / "udir" / "gjennomforing_2018_buskerud.csv").read_bytes(),
             content_type="text/csv; charset=utf-16",
             match=[matchers.query_param_matcher({"radSti": "*.*", "filter": UDIR_FILTER_2018})])


def test_udir_gjennomforing_parses_the_utf16_report_csv(catalogue, rsps):
    spec = catalogue["gjennomforing_udir"]
    add_udir(rsps, spec)

    df = udir.fetch_gjennomforing(spec, 2018)

    assert list(df.columns) == ["EnhetNivaa", "Fylkekode", "Fylkenavn", "Utdanningsprogram", PCT, TELLER, NEVNER]
    assert len(df) == 14
    assert set(df["Fylkekode"]) == {"06"}  # text, leading zero kept (Buskerud before 2020)
    by_prog = df.set_index("Utdanningsprogram")
    # the total row: space as thousands separator, decimal comma
    assert by_prog.loc["Alle utdanningsprogram", PCT] == 81.0
    assert by_prog.loc["Alle utdanningsprogram", TELLER] == 2235 and by_prog.loc["Alle utdanningsprogram", NEVNER] == 2758
    # the programme the report footnotes («*Programmet ble nedlagt fra 2020–21»)
    assert by_prog.loc["Design og håndverk", PCT] == 62.0 and by_prog.loc["Design og håndverk", TELLER] == 62
    assert "Service og samferdsel" in by_prog.index and "Studiespesialisering" in by_prog.index
    # a suppressed cell ("*") is missing, not a string
    assert pd.isna(by_prog.loc["Kunst, design og arkitektur", PCT]) and pd.isna(by_prog.loc["Kunst, design og arkitektur", TELLER])
    assert by_prog.loc["Kunst, design og arkitektur", NEVNER] == 4
    assert df[PCT].dtype.kind == "f" and str(df[TELLER].dtype) == "Int64"
    # what the 03_01 notebook picks: the first column naming a programme, the first float column
    assert next(c for c in df.columns if "program" in c.lower()) == "Utdanningsprogram"
    assert [c for c in df.columns if df[c].dtype.kind == "f"][0] == PCT


def test_udir_online_writes_raw_file_and_manifest(settings, catalogue, rsps):
    spec = catalogue["gjennomforing_udir"]
    add_udir(rsps, spec)

    entry = fetch_online(settings, "gjennomforing_udir", spec)

    assert entry["source"] == {"kind": "online", "url": udir.query_url(spec, 2018)}
    assert entry["source"]["url"] == (spec["query"]["url"] + " -> {dataendepunkt}.csv?radSti=*.*&filter=" + UDIR_FILTER_2018)
    path = settings.raw_dir / entry["file"]
    assert entry["rows"] == 14 and entry["sha256"] == rawstore.sha256_file(path)
    stored = pd.read_csv(path, dtype={"Fylkekode": str})
    assert stored.loc[stored["Utdanningsprogram"] == "Design og håndverk", PCT].item() == 62.0


def test_udir_data_endpoint_resolution():
    page = "https://statistikkportalen.udir.no/api/rapportering/rest/v1/Rapportside/VGO_Gjennomfoering_Fylk"
    rel = {"rappside": {"rapportElementer": [{"dataEndepunkt": "rest/v1/Statistikk/VGO/GjennomfoeringV/1/1/data"}]}}
    assert udir.data_endpoint(page, rel) == UDIR_ROOT + "rest/v1/Statistikk/VGO/GjennomfoeringV/1/1/data"
    absolute = {"rappside": {"rapportElementer": [{"dataEndepunkt": "https://example.org/x/data"}]}}
    assert udir.data_endpoint(page, absolute) == "https://example.org/x/data"
    with pytest.raises(ValueError, match="no data endpoint.*keys \\['rappside'\\]"):
        udir.data_endpoint(page, {"rappside": {"rapportElementer": []}})
