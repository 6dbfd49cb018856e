"""The online fetch routes (SSB PxWebApi v2, Udir's report API), held against real recorded answers.

Every HTTP call is answered by `responses`; an unregistered call fails the test, and the requests
are asserted (URL, query string and the exact POST body). Real recorded answers are read from
`../shared/data/api-responses/` (or `$KG_MIRROR/api-responses`), never copied into the repository;
tests that need them are skipped with a clear reason when that folder is absent. Reconstructed
fixtures (tests/fixtures/online/, each marked in its README) remain only where no real body exists.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import requests
import responses
from responses import matchers

from conftest import MIRROR
from kunnskapsgrunnlag import calc, classification, rawstore, schemas, sources
from kunnskapsgrunnlag.config import load_catalogue, make_settings
from kunnskapsgrunnlag.fetch import (
    fetch_all,
    fetch_dataset,
    fetch_online,
    how_to_fetch,
    network_available,
    plan_requests,
    query,
    resolve_query,
    ssb,
    udir,
)
from kunnskapsgrunnlag.fetch.online_check import check_online, dry_run
from kunnskapsgrunnlag.fetch.query import ResponseShapeError, TemplateError
from kunnskapsgrunnlag.sources._ssb import FUNKSJONELL4
from kunnskapsgrunnlag.sources.flytting_09588 import tabell3_from_09588
from kunnskapsgrunnlag.sources.tiltak_13563 import ages_within, tabell2_from_13563

FIX = Path(__file__).resolve().parent / "fixtures" / "online"
REAL = MIRROR / "api-responses"
API = ssb.SSB_API
LANG = matchers.query_param_matcher({"lang": "no"})
DATA_PARAMS = matchers.query_param_matcher({"lang": "no", "outputFormat": "json-stat2"})
AGE_GROUPS = ["0-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]
BUSKERUD = [
    "3301",
    "3303",
    "3305",
    "3310",
    "3312",
    "3314",
    "3316",
    "3318",
    "3320",
    "3322",
    "3324",
    "3326",
    "3328",
    "3330",
    "3332",
    "3334",
    "3336",
    "3338",
]  # only to cross-check the classification
FYLKER = ["03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56"]
MIRROR_07459 = "stats/population_07459/ssb07459_folkemengde_1jan_2020-2026_land_fylke_kommune_aldersgrupper.csv"
MIRROR_14288 = "stats/fig1_aldersbaereevne/ssb14288_telemark_hele_landet_funksjonell_aldersgrupper_2024-2050.csv"
MIRROR_09429 = "stats/kommune_indikatorer_2024/ssb09429_utdanningsniva_prosent_16pluss_kommuner_2024.csv"

needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real recorded API answers not found at {REAL} (set KG_MIRROR)"
)
needs_mirror = pytest.mark.skipif(not MIRROR.is_dir(), reason=f"offline mirror not found at {MIRROR} (set KG_MIRROR)")


def ssb_json(name: str):
    return json.loads((FIX / "ssb" / name).read_text(encoding="utf-8"))


def real_json(*parts: str):
    return json.loads((REAL.joinpath(*parts)).read_text(encoding="utf-8"))


def new_api():
    """A PxApi for SSB with pxwebpy's response cache off, so every call reaches `responses`."""
    from pxweb import PxApi

    return PxApi(API, language="no", disable_cache=True, max_workers=1)


def add_root(rsps, config: dict | None = None) -> None:
    """pxwebpy's PxApi() reads /config and /tables when it is constructed."""
    rsps.get(f"{API}/config", json=config or ssb_json("config.json"), match=[LANG])
    rsps.get(f"{API}/tables", json=ssb_json("tables.json"), match=[LANG])


def add_meta(rsps, table: str, *codelists: str) -> None:
    rsps.get(f"{API}/tables/{table}/metadata", json=ssb_json(f"{table}_metadata.json"), match=[LANG])
    for cl in codelists:
        rsps.get(f"{API}/codelists/{cl}", json=ssb_json(f"codelist_{cl}.json"), match=[LANG])


def post(rsps, table: str, body: dict, answer: dict, status: int = 200) -> None:
    rsps.post(
        f"{API}/tables/{table}/data",
        json=answer,
        status=status,
        match=[DATA_PARAMS, matchers.json_params_matcher(body, strict_match=True)],
    )


def jsonstat(dims: list[tuple[str, str, list[tuple[str, str]]]], values: list, status: dict | None = None) -> dict:
    """A JSON-stat 2.0 data body in SSB's shape (the real 03024/07459 bodies): `id`, `size`,
    `dimension.*.category.{index,label}`, row-major `value`, optional `status`."""
    body = {
        "version": "2.0",
        "class": "dataset",
        "label": "reconstructed",
        "source": "Statistisk sentralbyrå",
        "id": [d[0] for d in dims],
        "size": [len(d[2]) for d in dims],
        "dimension": {
            d[0]: {"label": d[1], "category": {"index": {c: i for i, (c, _) in enumerate(d[2])}, "label": dict(d[2])}}
            for d in dims
        },
        "value": values,
    }
    if status:
        body["status"] = status
    return body


def subset(body: dict, dim: str, codes: list[str], recode: dict | None = None) -> dict:
    """The part of a JSON-stat body for some codes of one dimension (codes optionally renamed)."""
    df = ssb.jsonstat_frame(body, "fixture", "fixture")
    df = df[df[dim].isin(codes)]
    dims = []
    for d in body["id"]:
        cats = [
            (c, body["dimension"][d]["category"]["label"][c])
            for c in body["dimension"][d]["category"]["index"]
            if d != dim or c in codes
        ]
        cats = [((recode or {}).get(c, c) if d == dim else c, lab) for c, lab in cats]
        dims.append((d, body["dimension"][d]["label"], cats))
    return jsonstat(dims, [None if pd.isna(v) else (int(v) if float(v).is_integer() else v) for v in df["value"]])


@pytest.fixture(scope="module")
def classified_raw(tmp_path_factory):
    """A raw dir holding only kommuner_2024 (from the mirror): the classification the {kommuner}
    placeholders are resolved from."""
    if not MIRROR.is_dir():
        pytest.skip(f"offline mirror not found at {MIRROR} (set KG_MIRROR)")
    base = tmp_path_factory.mktemp("classified")
    s = make_settings(raw_dir=base / "raw", processed_dir=base / "p", build_dir=base / "b")
    fetch_dataset(s, "kommuner_2024", load_catalogue()["kommuner_2024"], online=False, mirror=MIRROR)
    return base / "raw"


@pytest.fixture
def settings(tmp_path, classified_raw):
    raw = tmp_path / "raw"
    shutil.copytree(classified_raw, raw)
    for p in raw.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return make_settings(raw_dir=raw, processed_dir=tmp_path / "processed", build_dir=tmp_path / "build")


@pytest.fixture
def bare_settings(tmp_path):
    """No classification in data/raw: {kommuner} cannot be resolved."""
    return make_settings(raw_dir=tmp_path / "raw0", processed_dir=tmp_path / "p0", build_dir=tmp_path / "b0")


@pytest.fixture
def catalogue():
    return copy.deepcopy(load_catalogue())  # load_catalogue is cached: never modify its dicts


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def data_posts(rsps, table: str) -> list:
    return [c for c in rsps.calls if c.request.method == "POST" and f"/tables/{table}/data" in c.request.url]


def raw_files(settings) -> list[Path]:
    return (
        [
            p
            for p in settings.raw_dir.rglob("*")
            if p.is_file() and "kommuner_2024" not in str(p) and p.name != "manifest.json"
        ]
        if settings.raw_dir.exists()
        else []
    )


def with_edition(settings, **params):
    """The same configuration with other edition-block values (e.g. a future edition)."""
    import dataclasses

    return dataclasses.replace(settings, edition_params={**settings.edition_params, **params})


@pytest.fixture(autouse=True)
def _online_fixtures_skip_plausibility(monkeypatch):
    """The online fixtures are truncated recorded answers (a few regions), so the coverage
    expectations of a real vintage cannot hold there; tests/test_faults_data.py and
    tests/test_fetch_sources.py check them."""
    monkeypatch.setattr("kunnskapsgrunnlag.sources.expectations", lambda dataset: {})  # where the fetch reads them


# --- 1. Queries are templates of the configuration ------------------------------------------------


def test_population_query_resolves_from_edition_and_classification(settings, catalogue):
    queries = resolve_query(catalogue["population_07459"], settings)
    assert len(queries) == 3
    kommuner = list(classification.kommuner(settings.raw_dir, 2026, "33")["kommune_code"])
    assert kommuner == BUSKERUD
    assert queries[0]["Region"] == {"values": [f"K-{k}" for k in kommuner], "codelist": "agg_KommSummer"}
    assert queries[1]["Region"] == {"values": [f"F-{f}" for f in FYLKER], "codelist": "agg_KommFylker"}
    assert queries[2]["Region"] == {"values": ["0"]}
    assert all(q["Tid"] == {"values": ["range(2020,2026)"]} for q in queries)
    assert queries[0]["Kjonn"] == {"values": []}

    # another fylke: its own kommuner, from the classification (Telemark 40xx)
    tele = make_settings(
        region="40", raw_dir=settings.raw_dir, processed_dir=settings.processed_dir, build_dir=settings.build_dir
    )
    q40 = resolve_query(catalogue["population_07459"], tele)[0]["Region"]["values"]
    assert q40 and all(re.fullmatch(r"K-40\d\d", v) for v in q40) and "K-4001" in q40
    # a later edition: its own years
    later = with_edition(settings, population_first_year=2021, population_last_year=2027)
    assert resolve_query(catalogue["population_07459"], later)[0]["Tid"] == {"values": ["range(2021,2027)"]}


def test_other_templates_resolve(settings, catalogue):
    assert resolve_query(catalogue["lavinntekt_12944"], settings)[0]["Tid"] == {"values": ["2022-2024"]}
    assert resolve_query(catalogue["sysselsetting_07984"], settings)[0]["Region"]["values"] == ["F-33"]
    assert resolve_query(catalogue["neet_13563"], settings)[0]["Tid"] == {"values": ["2024"]}
    assert resolve_query(catalogue["projection_14288"], settings)[0]["Tid"] == {"values": ["from(2024)"]}
    assert resolve_query(catalogue["flytting_09588"], settings)[0]["Region"]["values"] == [f"K-{k}" for k in BUSKERUD]
    u = resolve_query(catalogue["gjennomforing_udir"], settings)
    assert "TidID(201806)" in u["params"]["filter"]
    u19 = resolve_query(catalogue["gjennomforing_udir"], with_edition(settings, gjennomforing_cohort=2019))
    assert "TidID(201906)" in u19["params"]["filter"]


def test_catalogue_queries_hold_no_hand_typed_year_or_region_list():
    text = (Path(__file__).resolve().parent.parent / "config" / "datasets.yml").read_text(encoding="utf-8")
    values = re.findall(r"values: \[([^\]]*)\]", text)
    joined = " ".join(values)
    assert not re.search(r"\b[KF]-\d{2,4}\b", joined), (
        "kommune/fylke codes must come from {kommuner:K-}/{fylke:F-}/{fylker:F-}"
    )
    assert not re.search(r"\b(19|20)\d\d\b", joined), "years must come from the edition block"


def test_every_online_dataset_says_what_is_verified(catalogue):
    for name, spec in catalogue.items():
        if spec["provider"] in {"ssb", "udir"}:
            assert spec.get("verified"), f"{name}: no `verified:` note"
            assert spec.get("tidy_columns"), f"{name}: no `tidy_columns:`"
    assert catalogue["tiltak_published"]["online_dataset"] == "tiltak_13563"
    assert catalogue["flytting_published"]["online_dataset"] == "flytting_09588"
    assert "0,50" in catalogue["levekaar_published"]["online_dataset"]  # the weights of calc.levekaar_index
    assert calc.LEVEKAAR_WEIGHTS == {"lav_utdanning": 0.50, "lav_inntekt": 0.25, "innvandrere_ikke_vestlige": 0.25}


def test_the_query_template_takes_its_region_lists_from_the_caller(bare_settings, catalogue):
    """fetch.query is a pure resolver: the codes of {fylker}/{kommuner} are what the caller passes
    (fetch.region_lists: the configuration's fylker and classification), read only when used."""
    asked = []

    def kommuner(dataset):
        asked.append(dataset)
        return ["3301", "3303"]

    lists = {"fylker": lambda dataset: ["31", "33"], "kommuner": kommuner}
    q = query.resolve_query(catalogue["population_07459"], bare_settings, lists)  # no classification needed
    assert q[0]["Region"]["values"] == ["K-3301", "K-3303"]
    assert q[1]["Region"]["values"] == ["F-31", "F-33"]
    assert asked == ["population_07459"]
    asked.clear()
    query.resolve_query(catalogue["neet_13563"], bare_settings, lists)  # no {kommuner}: not read
    assert asked == []


def test_template_errors_name_dataset_and_fix(settings, bare_settings, catalogue):
    spec = catalogue["neet_13563"]
    spec["query"][0]["Tid"] = {"values": ["{no_such_key}"]}
    with pytest.raises(TemplateError, match=r"'neet_13563'.*\{no_such_key\}.*edition 2026.*config/project.yml"):
        resolve_query(spec, settings)
    with pytest.raises(TemplateError, match=r"'population_07459'.*kommune classification.*kommuner_2024"):
        resolve_query(catalogue["population_07459"], bare_settings)
    # a dataset that cannot be filled in is recorded as missing with the reason, not a crash
    how = how_to_fetch(catalogue["population_07459"], bare_settings)
    assert "kommuner_2024" in how


def test_no_post_body_holds_a_bracketed_expression(settings, catalogue):
    """PxWebApi strips brackets only from GET URLs; `[range(2020,2026)]` in a POST body is HTTP 400."""
    seen = 0
    for region in ("33", "40", "03"):
        s = make_settings(
            region=region, raw_dir=settings.raw_dir, processed_dir=settings.processed_dir, build_dir=settings.build_dir
        )
        for name, spec in catalogue.items():
            for r in plan_requests(name, spec, s):
                if r.method != "POST":
                    continue
                for sel in r.body["selection"]:
                    for v in sel["valueCodes"]:
                        seen += 1
                        assert not re.search(r"\[.*\]", v), f"{name}: bracketed POST value {v!r}"
    assert seen > 100
    # the GET form (how_to_fetch, dry-run) has the brackets SSB needs there
    get = plan_requests("population_07459", catalogue["population_07459"], settings)[0].get_url
    assert "valuecodes[Tid]=[range(2020,2026)]" in get and "codelist[Region]=agg_KommSummer" in get


# --- 2. JSON-stat 2.0 parsing on SSB's real bodies ---------------------------------------------


@needs_real
@pytest.mark.parametrize(
    "name",
    [
        "03024_data_v2_post_lang-no.json",
        "03024_data_v2_post_lang-en.json",
        "03024_data_v2beta_post_lang-no.json",
        "03024_data_v2beta_get_defaultselection.json",
        "07221_data_v0api_jsonstat2.json",
        "07459_data_v0api_jsonstat2_Halden.json",
    ],
)
def test_real_ssb_bodies_parse(name):
    body = real_json("ssb", name)
    df = ssb.jsonstat_frame(body, "test", "url")
    assert len(df) == len(body["value"])
    assert list(df.columns[: 2 * len(body["id"])]) == [c for i in body["id"] for c in (i, f"{i}_label")]
    assert list(df.columns[-2:]) == ["value", "status"]
    if name == "03024_data_v2beta_get_defaultselection.json":  # the frame printed in the notebook
        assert df["value"].tolist() == [18172.0, 89.09, 473.0, 95.18]
        assert df["Tid"].unique().tolist() == ["2025U12"]


@needs_real
def test_ssb_status_symbols_are_kept_and_shown_as_ssb_shows_them():
    body = real_json("ssb", "07221_data_v0api_jsonstat2.json")
    df = ssb.jsonstat_frame(body, "test", "url")
    marked = df[df["status"] != ""]
    assert len(marked) == len(body["status"]) == 24
    assert set(marked["status"]) == {".."} and marked["value"].isna().all()
    assert df.loc[df["status"] == "", "value"].notna().all()
    shown = ssb.with_symbols(df["value"], df["status"], lambda v: f"{v:.1f}".replace(".", ","))
    assert shown[marked.index].eq("..").all()
    assert shown.iloc[0] == "136,2"  # the first real value of the body
    assert ssb.STATUS_SYMBOLS[".."] == "Tallgrunnlag mangler"  # as the body's own note says


@needs_real
@pytest.mark.parametrize("body", ["udir", "error", "list"])
def test_jsonstat_parser_rejects_a_body_of_the_wrong_shape(body):
    data = {
        "udir": lambda: real_json("udir", "GjennomfoeringV_1_1_data_fullfort_alle-program_kull2014-2019.json"),
        "error": lambda: ssb_json("error_400_non_existent_value.json"),
        "list": lambda: [1, 2, 3],
    }[body]()
    why = r"dataset 'population_07459': the answer of https://data\.ssb\.no/x is not a JSON-stat 2\.0"
    with pytest.raises(ResponseShapeError, match=why):
        ssb.jsonstat_frame(data, "population_07459", "https://data.ssb.no/x")


# --- 3. SSB 07459: aggregation code lists across the 2020/2024 reforms ----------------------------


def _mirror_body(level: str, codes: list[str], prefix: str) -> dict:
    """RECONSTRUCTED answer from the offline mirror's 07459 file (SSB values via csdata, 2024
    borders). Ages are the report's groups instead of SSB's single years (the mirror has no single
    years per kommune); Region codes are those of the code list asked for."""
    m = pd.read_csv(MIRROR / MIRROR_07459, dtype={"code": str})
    m = m[(m["nivaa"] == level) & m["code"].isin(codes)]
    years = sorted(m["aar"].unique())
    names = m.drop_duplicates("code").set_index("code")["name"]
    vals = m.set_index(["code", "aldersgruppe", "aar"])["personer"]
    dims = [
        ("Region", "region", [(prefix + c, names[c]) for c in codes]),
        ("Alder", "alder", [(a, a + " år") for a in AGE_GROUPS]),
        ("ContentsCode", "statistikkvariabel", [("Personer1", "Personer")]),
        ("Tid", "år", [(str(y), str(y)) for y in years]),
    ]
    return jsonstat(dims, [int(vals[(c, a, y)]) for c in codes for a in AGE_GROUPS for y in years])


def _population_bodies(settings, catalogue):
    return [ssb.post_body(q) for q in resolve_query(catalogue["population_07459"], settings)]


@needs_mirror
def test_population_07459_online_on_todays_borders(settings, catalogue, rsps):
    spec = catalogue["population_07459"]
    body_k, body_f, body_0 = _population_bodies(settings, catalogue)
    assert body_k == {
        "selection": [
            {"variableCode": "Region", "valueCodes": [f"K-{k}" for k in BUSKERUD], "codelist": "agg_KommSummer"},
            {"variableCode": "Alder", "valueCodes": ["*"]},
            {"variableCode": "ContentsCode", "valueCodes": ["Personer1"]},
            {"variableCode": "Tid", "valueCodes": ["range(2020,2026)"]},
        ]
    }
    add_root(rsps)
    add_meta(rsps, "07459", "agg_KommSummer", "agg_KommFylker")
    post(rsps, "07459", body_k, _mirror_body("municip", BUSKERUD, "K-"))
    # the fylke answer: SSB's single-year ages for three fylker (fixture 07459_data.json), coded as agg_KommFylker codes
    post(
        rsps,
        "07459",
        body_f,
        subset(ssb_json("07459_data.json"), "Region", ["03", "33", "40"], {"03": "F-03", "33": "F-33", "40": "F-40"}),
    )
    post(rsps, "07459", body_0, _mirror_body("nation", ["0"], ""))

    entry = fetch_online(settings, "population_07459", spec, api=new_api())

    assert len(data_posts(rsps, "07459")) == 3
    df = pd.read_csv(settings.raw_dir / entry["file"], dtype={"region_code": str})
    assert list(df.columns) == list(schemas.schema("population_07459").columns)
    assert set(df["region_level"]) == {"land", "fylke", "kommune"}
    assert set(df.loc[df.region_level == "kommune", "region_code"]) == set(BUSKERUD)
    assert dict(zip(df["region_code"], df["region_name"], strict=False))["3301"] == "Drammen"
    assert dict(zip(df["region_code"], df["region_name"], strict=False))["33"] == "Buskerud"
    # no region has a run of zeros next to real values: 2020–2023 are on today's borders too
    assert ssb.zero_runs(df, "persons", ["region_code"], "year") == []
    tot = df.groupby(["region_code", "year"])["persons"].sum()
    assert tot[("3301", 2020)] > 0 and tot[("33", 2024)] == 269_819  # SSB's published Buskerud 1.1.2024
    assert tot[("0", 2024)] == 5_550_203  # SSB's official Norway 1.1.2024
    # 106 single-year ages (000 … 104, 105+) summed into the report's groups
    bus24 = df[(df.region_code == "33") & (df.year == 2024)].set_index("age_group")["persons"].to_dict()
    assert bus24 == {
        "0-15": 46322,
        "16-19": 13207,
        "20-44": 83980,
        "45-66": 78608,
        "67-79": 34488,
        "80-89": 10902,
        "90+": 2312,
    }
    kom = df[df.region_level == "kommune"].groupby("year")["persons"].sum()
    assert kom[2024] == tot[("33", 2024)]  # the 18 kommuner sum to the fylke
    assert entry["source"] == {"kind": "online", "url": ssb.query_url("07459", resolve_query(spec, settings))}
    assert entry["sha256"] == rawstore.sha256_file(settings.raw_dir / entry["file"])


@needs_real
def test_plain_region_code_gives_zeros_before_the_reform_and_is_refused(settings, catalogue, rsps):
    """The real 07459 body for Halden (3101, a 2024 code asked without a code list): 0 persons in
    every year before 2024. The parser refuses such a series and says which code list to use."""
    real = real_json("ssb", "07459_data_v0api_jsonstat2_Halden.json")
    frame = ssb.jsonstat_frame(real, "population_07459", "url")
    groups = frame.assign(year=frame["Tid"].astype(int)).groupby(["Region", "year"], as_index=False)["value"].sum()
    runs = ssb.zero_runs(groups, "value", ["Region"], "year")
    assert runs == ["3101: 0 in 2005–2023 (19 years) but real values in 2024–2026"]

    spec = catalogue["population_07459"]
    spec["query"] = [
        {
            "Region": {"values": ["3101"]},
            "Kjonn": {"values": ["1", "2"]},
            "Alder": {"values": ["*"]},
            "ContentsCode": {"values": ["Personer1"]},
            "Tid": {"values": ["range(2005,2026)"]},
        }
    ]
    add_root(rsps)
    add_meta(rsps, "07459")
    post(rsps, "07459", ssb.post_body(spec["query"][0]), real)
    with pytest.raises(ResponseShapeError) as exc:
        fetch_online(settings, "population_07459", spec, api=new_api())
    msg = str(exc.value)
    assert "'population_07459'" in msg and "https://data.ssb.no/api/pxwebapi/v2/tables/07459/data?" in msg
    assert "3101: 0 in 2005–2023" in msg and "agg_KommSummer" in msg and "agg_KommFylker" in msg
    assert raw_files(settings) == []

    # the catalogue asks Halden through agg_KommSummer when the configuration is Østfold
    ost = make_settings(
        region="31", raw_dir=settings.raw_dir, processed_dir=settings.processed_dir, build_dir=settings.build_dir
    )
    q = resolve_query(load_catalogue()["population_07459"], ost)[0]["Region"]
    assert q["codelist"] == "agg_KommSummer" and "K-3101" in q["values"]


def test_metadata_code_lists_are_read_with_ssbs_spelling(rsps):
    add_root(rsps)
    add_meta(rsps, "07459")
    variables = ssb.table_variables(new_api(), "07459")
    assert variables["Region"]["codelists"] == ["agg_KommSummer", "agg_KommFylker"]
    assert "codelists" in ssb_json("07459_metadata.json")["dimension"]["Region"]["extension"]


def test_code_list_not_offered_is_refused(settings, catalogue, rsps):
    spec = catalogue["population_07459"]
    spec["query"] = [
        {
            "Region": {"codelist": "vs_Fylker", "values": ["33"]},
            "Alder": {"values": ["*"]},
            "ContentsCode": {"values": ["Personer1"]},
            "Tid": {"values": ["2024"]},
        }
    ]
    add_root(rsps)
    add_meta(rsps, "07459")
    with pytest.raises(
        ssb.InvalidQuery, match=r"code list 'vs_Fylker' is not offered; valid: agg_KommSummer, agg_KommFylker"
    ):
        fetch_online(settings, "population_07459", spec, api=new_api())


def test_invalid_code_raises_and_writes_nothing(settings, catalogue, rsps):
    spec = catalogue["population_07459"]
    for q in spec["query"]:
        q["ContentsCode"] = {"values": ["Personer"]}  # 14288's code; 07459's is Personer1
    add_root(rsps)
    add_meta(rsps, "07459", "agg_KommSummer")
    with pytest.raises(ssb.InvalidQuery) as exc:
        fetch_online(settings, "population_07459", spec, api=new_api())
    msg = str(exc.value)
    assert "07459" in msg and "ContentsCode" in msg and "['Personer']" in msg and "Valid codes: Personer1" in msg
    assert data_posts(rsps, "07459") == [] and raw_files(settings) == []


def test_unknown_variable_raises_with_the_table_variables(settings, catalogue, rsps):
    spec = catalogue["neet_13563"]
    spec["query"] = [{**spec["query"][1], "Kjønn": {"values": ["0"]}}]
    add_root(rsps)
    add_meta(rsps, "13563")
    with pytest.raises(ssb.InvalidQuery, match=r"unknown variable\(s\) \['Kjønn'\].*'InnvandrKat'"):
        fetch_online(settings, "neet_13563", spec, api=new_api())


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "error_400_too_many_cells.json",
            [
                "Error 400: Bad Request",
                "Parameter error",
                "title: Too many cells selected",
                "detail: Too many cells selected",
            ],
        ),
        (
            "error_400_non_existent_value.json",
            ["Error 400: Bad Request", "Parameter error", "title: Non-existent value"],
        ),
    ],
)
def test_ssb_error_body_surfaces_and_falls_back_to_mirror(tmp_path, settings, catalogue, rsps, body, expected):
    spec = catalogue["neet_13563"]
    add_root(rsps)
    add_meta(rsps, "13563", "agg_KommFylker", "vs_ArbStatus2018niva4a")
    rsps.post(f"{API}/tables/13563/data", json=ssb_json(body), status=400, match=[DATA_PARAMS])
    api = new_api()

    with pytest.raises(requests.HTTPError) as exc:
        fetch_online(settings, "neet_13563", spec, api=api)
    msg = str(exc.value)
    assert isinstance(exc.value, ssb.SSBApiError) and "\n" not in msg and msg.startswith("SSB table 13563: ")
    for text in expected:
        assert text in msg
    if MIRROR.is_dir():  # online fails -> the dataset comes from the mirror
        result = fetch_dataset(settings, "neet_13563", spec, online=True, mirror=MIRROR, api=api)
        assert (result.status, result.source) == ("ok", "mirror")
        assert expected[2] in rawstore.current_entry(settings.raw_dir, "neet_13563")["online_error"]
    bare = make_settings(raw_dir=tmp_path / "raw2", processed_dir=tmp_path / "p2", build_dir=tmp_path / "b2")
    result = fetch_dataset(bare, "neet_13563", spec, online=True, mirror=None, api=api)
    missing = rawstore.current_entry(bare.raw_dir, "neet_13563")
    assert result.status == "missing" and expected[2] in missing["reason"]
    assert missing["how_to_fetch"] == " + ".join("GET " + ssb.query_url("13563", q) for q in resolve_query(spec, bare))


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
    spec = catalogue["neet_13563"]
    spec["query"] = [spec["query"][1]]  # Norway only
    add_root(rsps)
    add_meta(rsps, "13563", "vs_ArbStatus2018niva4a")
    rsps.post(f"{API}/tables/13563/data", status=429, headers={"Retry-After": "0"}, body="", match=[DATA_PARAMS])
    post(
        rsps,
        "13563",
        ssb.post_body(resolve_query(spec, settings)[0]),
        subset(ssb_json("13563_data.json"), "Region", ["0"]),
    )

    entry = fetch_online(settings, "neet_13563", spec)  # api=None -> ssb.make_api()

    assert [c.response.status_code for c in data_posts(rsps, "13563")] == [429, 200]
    assert slept == [0.0] and entry["rows"] == 2


# --- 4. SSB 14288: F311…F320, alternatives from the labels, vs_FylkerFram2024 + vs_Landet ----------


def _projection_body(region: str, code: str, label: str) -> dict:
    """RECONSTRUCTED answer with SSB's values and labels from the staged 14288 file (Telemark and
    Hele landet, via evensrii/Telemark); codes F311…F320 and Personer/Personer1/Personer2 as
    verified in PROVENANCE addendum 4 (the code->label mapping is verified for 14746)."""
    m = pd.read_csv(MIRROR / MIRROR_14288)
    m = m[m["region"] == region]
    ages = [
        "0 år",
        "1-5 år",
        "6-12 år",
        "13-15 år",
        "16-19 år",
        "20-44 år",
        "45-66 år",
        "67-79 år",
        "80-89 år",
        "90 år eller eldre",
    ]
    alts = [
        ("Personer", "Hovedalternativet (MMMM)"),
        ("Personer1", "Lav nasjonal vekst (LLML)"),
        ("Personer2", "Høy nasjonal vekst (HHMH)"),
    ]
    years = sorted(m["år"].unique())
    v = m.set_index(["alder", "statistikkvariabel", "år"])["value"]
    dims = [
        ("Region", "region", [(code, label)]),
        ("Alder", "alder", [(f"F{311 + i}", a) for i, a in enumerate(ages)]),
        ("ContentsCode", "statistikkvariabel", alts),
        ("Tid", "år", [(str(y), str(y)) for y in years]),
    ]
    return jsonstat(dims, [int(v[(a, lab, y)]) for a in ages for _, lab in alts for y in years])


@needs_mirror
def test_projection_14288_online(settings, catalogue, rsps):
    spec = catalogue["projection_14288"]
    b_f, b_0 = (ssb.post_body(q) for q in resolve_query(spec, settings))
    assert b_f["selection"][0] == {"variableCode": "Region", "valueCodes": FYLKER, "codelist": "vs_FylkerFram2024"}
    assert b_0["selection"][0] == {"variableCode": "Region", "valueCodes": ["*"], "codelist": "vs_Landet"}
    assert b_f["selection"][1] == {"variableCode": "Alder", "valueCodes": ["*"], "codelist": "agg_Funksjonell4"}
    assert b_f["selection"][3] == {"variableCode": "Tid", "valueCodes": ["from(2024)"]}
    add_root(rsps)
    add_meta(rsps, "14288", "vs_FylkerFram2024", "agg_Funksjonell4", "vs_Landet")
    post(rsps, "14288", b_f, _projection_body("Telemark", "40", "Telemark"))
    post(rsps, "14288", b_0, _projection_body("Hele landet", "0", "Hele landet"))

    entry = fetch_online(settings, "projection_14288", spec, api=new_api())

    df = pd.read_csv(settings.raw_dir / entry["file"], dtype={"region_code": str, "age_group": str})
    assert list(df.columns) == list(schemas.schema("projection_14288").columns)
    assert set(df["alternative"]) == {"MMMM", "LLML", "HHMH"}
    assert set(df["age_group"]) == set(FUNKSJONELL4.values())
    assert set(df["region_code"]) == {"0", "40"}
    one = df.set_index(["region_code", "alternative", "year", "age_group"])["persons"]
    # equal to registered 07459 (PROVENANCE addendum 2): Norway 2024, 80-89 and 90+
    assert one[("0", "MMMM", 2024, "80-89")] == 210_751 and one[("0", "MMMM", 2024, "90+")] == 45_734
    assert len(df) == 2 * 3 * 27 * 10


def test_projection_alternative_must_be_in_the_label():
    body = jsonstat(
        [
            ("Region", "region", [("33", "Buskerud")]),
            ("Alder", "alder", [("F311", "0 år")]),
            ("ContentsCode", "statistikkvariabel", [("Personer", "Personer")]),
            ("Tid", "år", [("2024", "2024")]),
        ],
        [100],
    )
    with pytest.raises(ValueError, match="names none of the alternatives"):
        sources.get("projection_14288").tidy_online(ssb.jsonstat_frame(body, "d", "u"), {})
    body["dimension"]["Alder"]["category"] = {"index": {"000": 0}, "label": {"000": "0 år"}}
    with pytest.raises(ValueError, match=r"unexpected Alder code\(s\) \['000'\]; agg_Funksjonell4 has F311"):
        sources.get("projection_14288").tidy_online(ssb.jsonstat_frame(body, "d", "u"), {})


# --- 5. SSB 13563 (NEET) and 09429 (status symbols in the stored table) ------------------------


def test_neet_13563_online_fylker_and_norway(settings, catalogue, rsps):
    spec = catalogue["neet_13563"]
    b_f, b_0 = (ssb.post_body(q) for q in resolve_query(spec, settings))
    data = ssb_json("13563_data.json")  # RECONSTRUCTED counts (see README)
    add_root(rsps)
    add_meta(rsps, "13563", "agg_KommFylker", "vs_ArbStatus2018niva4a")
    post(rsps, "13563", b_f, subset(data, "Region", ["33"], {"33": "F-33"}))
    post(rsps, "13563", b_0, subset(data, "Region", ["0"]))

    entry = fetch_online(settings, "neet_13563", spec, api=new_api())

    df = pd.read_csv(settings.raw_dir / entry["file"], dtype={"region_code": str})
    assert list(df.columns) == list(schemas.schema("neet_13563").columns)
    got = {(r.region_code, r.age_group): r.neet_share for r in df.itertuples()}
    assert got == {("0", "15-29"): 8.3, ("0", "30-61"): 13.5, ("33", "15-29"): 8.6, ("33", "30-61"): 15.0}
    assert dict(zip(df["region_code"], df["region_name"], strict=False)) == {"0": "Hele landet", "33": "Buskerud"}


@needs_mirror
def test_utdanning_09429_keeps_status_symbols_in_the_stored_table(settings, catalogue, rsps):
    """RECONSTRUCTED answer: SSB's per cent values for two kommuner from the staged 09429 file;
    Nivaa 09a (not in that file) and Drammen's 11 are null with status ".." (no number, as SSB marks it)."""
    spec = catalogue["utdanning_09429"]
    (q,) = resolve_query(spec, settings)
    assert q["Nivaa"] == {"values": ["01", "02a", "11", "03a", "04a", "09a"]}
    assert q["ContentsCode"] == {"values": ["PersonerProsent"]}
    m = pd.read_csv(MIRROR / MIRROR_09429, dtype={"kommunenummer": str}).set_index("kommunenummer")
    cols = {"01": "grunnskole_pct", "02a": "vgs_pct", "11": "fagskole_pct", "03a": "uh_kort_pct", "04a": "uh_lang_pct"}
    levels = ["01", "02a", "11", "03a", "04a", "09a"]
    values, status = [], {}
    for k in ("3301", "3320"):
        for lev in levels:
            if lev in cols and not (k == "3301" and lev == "11"):
                values.append(float(m.loc[k, cols[lev]]))
            else:
                status[str(len(values))] = ".."
                values.append(None)
    body = jsonstat(
        [
            ("Region", "region", [("K-3301", "Drammen"), ("K-3320", "Flå")]),
            ("Nivaa", "nivå", [(lev, lev) for lev in levels]),
            ("Kjonn", "kjønn", [("0", "Begge kjønn")]),
            ("ContentsCode", "statistikkvariabel", [("PersonerProsent", "Personer 16 år og over (prosent)")]),
            ("Tid", "år", [("2024", "2024")]),
        ],
        values,
        status,
    )
    add_root(rsps)
    add_meta(rsps, "09429", "agg_KommGjeldende")
    post(rsps, "09429", ssb.post_body(q), body)

    entry = fetch_online(settings, "utdanning_09429", spec, api=new_api())

    df = rawstore.load(settings.raw_dir, "utdanning_09429")
    # stored in the mirror's shape (the notebooks read one shape whatever the route), plus SSB's symbols
    assert {"status", "andel_pst", "nivaa", "year", "region_code"} <= set(df.columns)
    by = df.set_index(["region_code", "nivaa"])
    assert by.loc[("3320", "01"), "andel_pst"] == 31.8  # Flå, SSB's per cent (PROVENANCE: 31.8)
    assert set(df["nivaa"]) == {"01", "02a", "11", "03a", "04a"}  # 09a (uoppgitt) is left out
    # a cell SSB answers with null and ".." stays in the table with its symbol, not as a number
    assert by.loc[("3301", "11"), "status"] == ".." and pd.isna(by.loc[("3301", "11"), "andel_pst"])
    shown = ssb.with_symbols(df["andel_pst"], df["status"].fillna(""))
    assert (shown[(df["region_code"] == "3301") & (df["nivaa"] == "11")] == "..").all()
    assert entry["rows"] == 10
    # the levekår indicator reads the share straight from PersonerProsent
    low = calc.levekaar_from_ssb(
        pd.DataFrame({"region_code": ["3301", "3320"], "period": ["2022-2024"] * 2, "value": [10.0, 12.0]}),
        df,
        pd.DataFrame(
            {"region_code": ["3301", "3320"], "period": ["2024"] * 2, "Landbakgrunn": ["X", "X"], "value": [20.0, 5.0]}
        ),
    )
    assert set(low["kommunenummer"]) == {"3301", "3320"}


def test_unknown_status_symbol_fails_validation(settings):
    body = jsonstat(
        [
            ("Region", "region", [("K-3301", "Drammen")]),
            ("ContentsCode", "statistikkvariabel", [("NettoInnland", "x")]),
            ("Tid", "år", [("2024", "2024")]),
        ],
        [None],
        {"0": "?"},
    )
    tidy = ssb.tidy_long(ssb.jsonstat_frame(body, "d", "u"), {})
    with pytest.raises(schemas.ValidationError, match="unknown SSB status symbol"):
        schemas.validate("flytting_09588", tidy, "u")


# --- 6. Udir: cohort ids, the JSON body, a body of the wrong shape --------------------------------

UDIR_DATA = "https://statistikkportalen.udir.no/api/rapportering/rest/v1/Statistikk/VGO/GjennomfoeringV/1/1/data"
# The request that produced the real recorded answer (api-responses/udir/README: the NMBU fetch script)
REAL_FILTER = (
    "EierformID(-10)_IndikatorID(-174)_KjoennID(-10)_ProgramomraadeID(-10)_"
    "TidID(201906_201806_201706_201606_201506_201406)_VisProsent(1)"
)


def real_udir_spec(catalogue) -> dict:
    spec = catalogue["gjennomforing_udir"]
    spec["query"]["params"] = {"radSti": "(-12)_(-12.*)", "filter": REAL_FILTER, "inkluderKoder": "true"}
    return spec


def test_udir_cohort_id():
    assert udir.cohort_id(2018) == "201806" and udir.cohort_id("201906") == "201906"
    with pytest.raises(ValueError, match="cohort"):
        udir.cohort_id("kull")


def test_udir_catalogue_request(settings, catalogue):
    (req,) = plan_requests("gjennomforing_udir", catalogue["gjennomforing_udir"], settings)
    assert req.method == "GET" and req.url.startswith(UDIR_DATA + "?radSti=(-12)_(-12.*)&filter=")
    assert "TidID(201806)" in req.url and "TidID(2018)" not in req.url and req.url.endswith("&inkluderKoder=true")


@needs_real
def test_udir_real_json_body(settings, catalogue, rsps):
    spec = real_udir_spec(catalogue)
    rsps.get(
        UDIR_DATA,
        json=real_json("udir", "GjennomfoeringV_1_1_data_fullfort_alle-program_kull2014-2019.json"),
        match=[
            matchers.query_param_matcher({"radSti": "(-12)_(-12.*)", "filter": REAL_FILTER, "inkluderKoder": "true"})
        ],
    )

    entry = fetch_online(settings, "gjennomforing_udir", spec)

    df = rawstore.load(settings.raw_dir, "gjennomforing_udir")
    assert list(df.columns) == udir.TIDY_COLUMNS
    v = df.set_index(["enhet_kode", "kull"])
    assert v.loc[("06", 2018), "verdi"] == 80.7 and v.loc[("06", 2018), "enhet_navn"] == "Buskerud ( - 2019)"
    assert v.loc[("I", 2018), "verdi"] == 82.1  # Hele landet
    assert pd.isna(v.loc[("17", 2018), "verdi"])  # Nord-Trøndelag ( - 2017): no number for 2018
    assert set(df["programomraade"]) == {"Alle utdanningsprogram"} and set(df["maal"]) == {"Prosent"}
    assert len(df) == 21 * 6 and entry["rows"] == 126
    assert entry["source"]["url"] == udir.query_url(resolve_query(spec, settings))


@needs_real
def test_udir_body_of_the_wrong_shape_fails_clearly(settings, catalogue, rsps):
    spec = real_udir_spec(catalogue)
    url = udir.query_url(resolve_query(spec, settings))
    # the UTF-16 CSV the old parser expected: refused, not decoded into a garbage table
    csv = "sep=\t\nFylkekode\t2018.Prosent\n06\t80,7\n".encode("utf-16")
    rsps.get(UDIR_DATA, body=csv, content_type="text/csv; charset=utf-16")
    with pytest.raises(ResponseShapeError) as exc:
        fetch_online(settings, "gjennomforing_udir", spec)
    assert "'gjennomforing_udir'" in str(exc.value) and url in str(exc.value) and "not JSON" in str(exc.value)
    # JSON of another shape (an SSB body)
    with pytest.raises(ResponseShapeError, match=r"'gjennomforing_udir'.*not Udir's report JSON.*metadata\.columns"):
        udir.read_report_json(real_json("ssb", "03024_data_v2_post_lang-no.json"), "gjennomforing_udir", url)
    body = real_json("udir", "GjennomfoeringV_1_1_data_fullfort_alle-program_kull2014-2019.json")
    body["rows"][0]["data"] = body["rows"][0]["data"][:3]
    with pytest.raises(ResponseShapeError, match=r"row 'Hele landet' has 3 data cells for 6 columns"):
        udir.read_report_json(body, "gjennomforing_udir", url)
    assert raw_files(settings) == []


# --- 7. check-online and fetch --dry-run, offline against recorded metadata ----------------------


def add_07459_check(rsps, config=None):
    add_root(rsps, config)
    rsps.get(f"{API}/tables/07459", json=real_json("ssb", "07459_table_v2.json"), match=[LANG])  # REAL
    add_meta(rsps, "07459", "agg_KommSummer", "agg_KommFylker")


@needs_real
def test_check_online_population_valid(settings, rsps):
    add_07459_check(rsps)
    checks = check_online(settings, only=["population_07459"], api=new_api())
    bad = [c for c in checks if not c.ok]
    assert bad == []
    table = next(c for c in checks if c.what == "table 07459")
    assert "last period 2026" in table.detail and "2026-02-25" in table.detail
    cells = [c.detail for c in checks if c.what == "cells"]
    assert cells == [
        "about 13 356 of at most 800 000",
        "about 11 130 of at most 800 000",
        "about 742 of at most 800 000",
    ]
    assert any(c.what == "variable Kjonn" and "eliminated" in c.detail for c in checks)


@needs_real
def test_check_online_flags_a_year_not_yet_published_and_plans_splits(settings, rsps):
    config = {**ssb_json("config.json"), "maxDataCells": 5000}
    add_07459_check(rsps, config)
    later = with_edition(settings, population_last_year=2027)
    checks = check_online(later, only=["population_07459"], api=new_api())
    bad = {(c.request, c.what): c.detail for c in checks if not c.ok}
    assert set(bad) == {(f"{i}/3", "variable Tid") for i in (1, 2, 3)}
    assert bad[("1/3", "variable Tid")] == "range(2020,2027): 2027 not among the codes (1986 … 2026)"

    checks = check_online(settings, only=["population_07459"], api=new_api())
    cells = {c.request: (c.ok, c.detail) for c in checks if c.what == "cells"}
    assert cells["1/3"] == (True, "about 13 356 of at most 5 000; sent as 3 requests of at most 4 452 cells")
    assert cells["2/3"] == (True, "about 11 130 of at most 5 000; sent as 3 requests of at most 4 452 cells")


@needs_real
def test_check_online_flags_a_query_that_cannot_be_split_below_max_cells(settings, rsps):
    add_07459_check(rsps, {**ssb_json("config.json"), "maxDataCells": 500})
    checks = check_online(settings, only=["population_07459"], api=new_api())
    bad = {(c.request, c.what): c.detail for c in checks if not c.ok}
    assert bad == {
        (f"{i}/3", "cells"): f"about {n} of at most 500; cannot be split below the limit"
        for i, n in ((1, "13 356"), (2, "11 130"), (3, "742"))
    }


@needs_real
def test_check_online_udir_against_the_real_filter_values(settings, catalogue, rsps):
    values = real_json("udir", "GjennomfoeringV_1_1_filterVerdier.json")
    rsps.get(UDIR_DATA.replace("/data", "/filterVerdier"), json=values)
    checks = check_online(settings, only=["gjennomforing_udir"])
    assert [c for c in checks if not c.ok] == []
    assert any(c.what == "filter TidID" and "201806 2018" in c.detail for c in checks)
    checks = check_online(with_edition(settings, gjennomforing_cohort=2021), only=["gjennomforing_udir"])
    (bad,) = [c for c in checks if not c.ok]
    assert bad.what == "filter TidID" and bad.detail.startswith("202106 not valid; valid: 201906 2019, 201806 2018")


def test_dry_run_prints_every_request_and_writes_nothing(settings, monkeypatch):
    from typer.testing import CliRunner

    from kunnskapsgrunnlag import cli

    monkeypatch.setattr(rawstore, "store_frame", lambda *a, **k: pytest.fail("dry-run wrote data"))
    reqs, errors = dry_run(settings)
    assert errors == []
    names = [r.dataset for r in reqs]
    assert names.count("population_07459") == 3 and names.count("gjennomforing_udir") == 1
    udir_sets = {n for n, spec in load_catalogue().items() if spec["provider"] == "udir"}
    assert all(r.method == "POST" and r.body["selection"] for r in reqs if r.dataset not in udir_sets)
    before = sorted(p.name for p in settings.raw_dir.rglob("*"))
    monkeypatch.setattr(cli, "_settings", lambda e, r, c: settings)
    res = CliRunner().invoke(cli.app, ["fetch", "--dry-run", "--dataset", "neet_13563"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    post_line = "POST https://data.ssb.no/api/pxwebapi/v2/tables/13563/data?lang=no&outputFormat=json-stat2"
    assert lines.count(post_line) == 2
    bodies = [json.loads(ln) for ln in lines if ln.startswith("{")]
    assert bodies == [ssb.post_body(q) for q in resolve_query(load_catalogue()["neet_13563"], settings)]
    assert sorted(p.name for p in settings.raw_dir.rglob("*")) == before


def test_fetch_all_passes_the_api_through(settings, catalogue, rsps):
    add_root(rsps)
    add_meta(rsps, "13563", "agg_KommFylker", "vs_ArbStatus2018niva4a")
    data = ssb_json("13563_data.json")
    b_f, b_0 = (ssb.post_body(q) for q in resolve_query(catalogue["neet_13563"], settings))
    post(rsps, "13563", b_f, subset(data, "Region", ["33"], {"33": "F-33"}))
    post(rsps, "13563", b_0, subset(data, "Region", ["0"]))
    results = fetch_all(settings, online=True, mirror=None, only=["neet_13563"], api=new_api())
    assert [(r.dataset, r.status, r.source) for r in results] == [("neet_13563", "ok", "online")]


@pytest.mark.online
@pytest.mark.skipif(not network_available(), reason="no network")
def test_check_online_live(tmp_path):  # pragma: no cover - needs SSB and Udir
    """The same checks against the live APIs: `pytest -m online` on a machine that is online."""
    s = make_settings(raw_dir=tmp_path / "raw", processed_dir=tmp_path / "p", build_dir=tmp_path / "b")
    if MIRROR.is_dir():
        fetch_dataset(s, "kommuner_2024", load_catalogue()["kommuner_2024"], online=False, mirror=MIRROR)
    bad = [c for c in check_online(s) if not c.ok]
    assert bad == [], "\n".join(f"{c.dataset} {c.request} {c.what}: {c.detail}" for c in bad)


@needs_real
def test_check_online_command_prints_one_table(settings, rsps, monkeypatch):
    from typer.testing import CliRunner

    from kunnskapsgrunnlag import cli

    add_07459_check(rsps)
    rsps.get(
        UDIR_DATA.replace("/data", "/filterVerdier"), json=real_json("udir", "GjennomfoeringV_1_1_filterVerdier.json")
    )
    monkeypatch.setattr(ssb, "make_api", lambda timeout=30: new_api())
    monkeypatch.setattr(cli, "_settings", lambda e, r, c: settings)
    monkeypatch.setenv("COLUMNS", "200")
    res = CliRunner().invoke(
        cli.app, ["check-online", "--dataset", "population_07459", "--dataset", "gjennomforing_udir"]
    )
    assert res.exit_code == 0, res.output
    assert "Online queries against the APIs' metadata" in res.output and "invalid" not in res.output
    assert "All 27 checks valid." in res.output  # config, table, 3 × (5 variables + cells), Udir: list + 6 filters

    later = with_edition(settings, population_last_year=2027)
    monkeypatch.setattr(cli, "_settings", lambda e, r, c: later)
    res = CliRunner().invoke(cli.app, ["check-online", "--dataset", "population_07459"])
    assert res.exit_code == 1
    assert "invalid" in res.output and "3 check(s) invalid" in res.output.replace("\n", " ")


# --- 8. Online routes of the 2026 report's Tables 2 and 3 ---------------------------------------


def test_tiltak_13563_online_gives_tabell2_by_label_and_age_bounds(settings, catalogue, rsps):
    """RECONSTRUCTED answer with synthetic counts (1, 2, 3, …: no real 13563 answer with these codes
    exists offline, so Tabell 2 is not back-tested online). What is tested: the requests, that the
    status is chosen by its label and the age groups by their bounds (20–66), and SSB's symbols."""
    spec = catalogue["tiltak_13563"]
    b_f, b_0 = (ssb.post_body(q) for q in resolve_query(spec, settings))
    assert b_f["selection"][1] == {
        "variableCode": "HovArbStyrkStatus",
        "codelist": "vs_ArbStatus2018niva2a",
        "valueCodes": ["A.01", "A.09", "U.01", "U.03", "U.04-U.05", "U.06-U.07", "U.90A"],
    }
    assert b_f["selection"][4] == {"variableCode": "Tid", "valueCodes": ["2024"]}
    status = [("U.01", "Deltakere på arbeidsmarkedstiltak"), ("A.01", "Sysselsatte")]
    ages = [
        ("15-19", "15-19 år"),
        ("20-29", "20-29 år"),
        ("30-61", "30-61 år"),
        ("62-66", "62-66 år"),
        ("67-74", "67-74 år"),
    ]

    def answer(code, label, sym=None):
        dims = [
            ("Region", "region", [(code, label)]),
            ("HovArbStyrkStatus", "prioritert arbeidsstyrkestatus", status),
            ("Alder", "alder", ages),
            ("ContentsCode", "statistikkvariabel", [("Bosatte", "Bosatte personer")]),
            ("Tid", "år", [("2024", "2024")]),
        ]
        values = list(range(1, 11))
        if sym:
            values[3] = None  # U.01, 62-66
        return jsonstat(dims, values, {"3": sym} if sym else None)

    add_root(rsps)
    add_meta(rsps, "13563", "agg_KommFylker", "vs_ArbStatus2018niva2a")
    post(rsps, "13563", b_f, answer("F-33", "Buskerud", ":"))
    post(rsps, "13563", b_0, answer("0", "Hele landet"))

    entry = fetch_online(settings, "tiltak_13563", spec, api=new_api())

    tidy = rawstore.load(settings.raw_dir, "tiltak_13563")
    assert entry["rows"] == 20 and {"HovArbStyrkStatus_label", "Alder", "status"} <= set(tidy.columns)
    t2 = tabell2_from_13563(tidy).set_index("region_code")
    assert t2.loc["0", "deltakere_20_66"] == 2 + 3 + 4  # 20-29, 30-61, 62-66 of U.01
    # a confidential cell stays visible
    assert pd.isna(t2.loc["33", "deltakere_20_66"]) and t2.loc["33", "status"] == ":"
    assert t2.loc["0", "region"] == "Hele landet" and t2.loc["33", "region"] == "Buskerud"


def test_tabell2_age_groups_must_tile_20_66():
    assert ages_within({"20-24": "20-24 år", "25-66": "25-66 år", "15-74": "15-74 år"}, 20, 66) == ["20-24", "25-66"]
    with pytest.raises(ValueError, match=r"do not add up to 20–66"):
        ages_within({"15-29": "15-29 år", "30-61": "30-61 år"}, 20, 66)


def test_flytting_09588_online_gives_tabell3(settings, catalogue, rsps):
    """RECONSTRUCTED answer carrying the report's printed 2024 values (config/published, SSB 07210)
    so the parser's output can be compared with tiltak_published's shape; the 09588 labels are assumed."""
    spec = catalogue["flytting_09588"]
    b_k, b_f = (ssb.post_body(q) for q in resolve_query(spec, settings))
    assert b_k["selection"] == [
        {"variableCode": "Region", "valueCodes": [f"K-{k}" for k in BUSKERUD], "codelist": "agg_KommGjeldende"},
        {"variableCode": "ContentsCode", "valueCodes": ["NettoInnland"]},
        {"variableCode": "Tid", "valueCodes": ["2024"]},
    ]
    pub = pd.read_csv(
        Path(__file__).resolve().parent.parent / "config" / "published" / "tabell3_flytting.csv",
        dtype={"region_code": str},
    )
    kom, fyl = pub[pub.nivaa == "kommune"], pub[pub.nivaa == "fylke"]

    def answer(rows, prefix):
        return jsonstat(
            [
                ("Region", "region", [(prefix + r.region_code, r.region) for r in rows.itertuples()]),
                ("ContentsCode", "statistikkvariabel", [("NettoInnland", "Innenlandsk nettoinnflytting")]),
                ("Tid", "år", [("2024", "2024")]),
            ],
            [int(v) for v in rows["netto_innenlands"]],
        )

    add_root(rsps)
    add_meta(rsps, "09588", "agg_KommGjeldende", "agg_KommFylker")
    post(rsps, "09588", b_k, answer(kom, "K-"))
    post(rsps, "09588", b_f, answer(fyl, "F-"))

    fetch_online(settings, "flytting_09588", spec, api=new_api())

    t3 = tabell3_from_09588(rawstore.load(settings.raw_dir, "flytting_09588"))
    got = t3.drop(columns="status").assign(netto_innenlands=lambda d: d["netto_innenlands"].astype(int))
    want = pub.assign(region=lambda d: d["region_code"].map(dict(zip(got["region_code"], got["region"], strict=False))))
    pd.testing.assert_frame_equal(
        got.sort_values("region_code").reset_index(drop=True),
        want.sort_values("region_code").reset_index(drop=True),
        check_dtype=False,
    )
    schemas.validate("flytting_published", got, "online")  # the published table's own invariants hold


@needs_mirror
def test_fetch_prints_the_resolved_queries(settings, monkeypatch):
    from typer.testing import CliRunner

    from kunnskapsgrunnlag import cli

    monkeypatch.setattr(cli, "_settings", lambda e, r, c: settings)
    monkeypatch.setenv("COLUMNS", "400")
    res = CliRunner().invoke(cli.app, ["fetch", "--offline", "--dataset", "boliger_06265"])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "Resolved online queries (edition 2026, region 33" in out
    assert (
        "boliger_06265: GET https://data.ssb.no/api/pxwebapi/v2/tables/06265/data?lang=no&outputFormat=json-stat2"
        "&valuecodes[Region]=" + ",".join(f"K-{k}" for k in BUSKERUD) + "&codelist[Region]=agg_KommSummer"
    ) in out


@needs_real
def test_every_real_recorded_answer_is_used_here():
    source = Path(__file__).read_text(encoding="utf-8")
    files = sorted(p.name for p in REAL.rglob("*.json"))
    assert len(files) >= 9
    assert [f for f in files if f not in source] == []


def test_edition_without_a_query_key_records_the_dataset_as_missing(settings):
    """An edition block without a key a query uses (e.g. a new block without `levekaar_year`):
    the dataset is missing with the reason, online and offline; nothing crashes."""
    params = {k: v for k, v in settings.edition_params.items() if k != "levekaar_year"}
    s = settings.__class__(**{**settings.__dict__, "edition_params": params})
    spec = load_catalogue()["lavinntekt_12944"]
    for online in (False, True):
        r = fetch_dataset(s, "lavinntekt_12944", spec, online=online, mirror=None, api=object())
        assert r.status == "missing"
        entry = rawstore.current_entry(s.raw_dir, "lavinntekt_12944")
        assert "{levekaar_year" in entry["how_to_fetch"] and "config/project.yml" in entry["how_to_fetch"]
    assert "spørringen kan ikke fylles ut" in entry["reason"]


def test_split_query_along_the_longest_literal_list():
    q = {
        "Region": {"codelist": "agg_KommSummer", "values": [f"K-{k}" for k in BUSKERUD]},
        "Alder": {"values": ["*"]},
        "Tid": {"values": ["range(2020,2026)"]},
    }
    parts = ssb.split_query(q, {"Region": 18, "Alder": 106, "Tid": 7}, 5000)
    assert [len(p["Region"]["values"]) for p in parts] == [6, 6, 6]
    assert sum((p["Region"]["values"] for p in parts), []) == q["Region"]["values"]
    assert all(p["Region"]["codelist"] == "agg_KommSummer" and p["Alder"] == q["Alder"] for p in parts)
    assert ssb.split_query(q, {"Region": 18, "Alder": 106, "Tid": 7}, 800_000) == [q]


@needs_mirror
def test_population_query_over_max_cells_is_split(settings, catalogue, rsps):
    spec = catalogue["population_07459"]
    spec["query"] = [spec["query"][0]]  # the kommune request: 18 × 106 × 7 = 13 356 cells
    add_root(rsps, {**ssb_json("config.json"), "maxDataCells": 5000})
    add_meta(rsps, "07459", "agg_KommSummer")
    sent = []

    def answer(request):
        body = json.loads(request.body)
        codes = [v[2:] for v in body["selection"][0]["valueCodes"]]
        sent.append(codes)
        return 200, {}, json.dumps(_mirror_body("municip", codes, "K-"))

    rsps.add_callback(responses.POST, f"{API}/tables/07459/data", callback=answer, match=[DATA_PARAMS])
    entry = fetch_online(settings, "population_07459", spec, api=new_api())
    assert [len(c) for c in sent] == [6, 6, 6] and sum(sent, []) == BUSKERUD
    assert entry["rows"] == 18 * 7 * 7


def test_udir_fylke_answer_is_stored_in_the_mirrors_shape():
    """The REAL recorded Udir answer (all programmes, kull 2014–2019) becomes exactly the table the
    offline mirror gives for gjennomforing_udir_fylke, so the notebook reads one shape either way."""
    from kunnskapsgrunnlag.sources import gjennomforing_udir_fylke as udir_fylke

    recorded = MIRROR / "api-responses/udir/GjennomfoeringV_1_1_data_fullfort_alle-program_kull2014-2019.json"
    body = json.loads(recorded.read_text(encoding="utf-8"))
    online = udir_fylke.tidy_online(udir.read_report_json(body, "gjennomforing_udir_fylke", "recorded"), {})
    schemas.validate("gjennomforing_udir_fylke", online)
    offline = udir_fylke.read_mirror(
        [MIRROR / "stats/udir_gjennomforing/udir_fullfort_5-6aar_alle_programmer_gamle_fylker_kull2014-2019.csv"], {}
    )
    key = ["fylke_kode_udir", "kull"]
    a = online.sort_values(key).reset_index(drop=True)
    b = offline.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        a[key + ["fylke_2024", "fullfort_pct"]], b[key + ["fylke_2024", "fullfort_pct"]], check_dtype=False
    )
    assert a.set_index(key).loc[("06", 2018), "fullfort_pct"] == 80.7  # old Buskerud, 2018-kullet
