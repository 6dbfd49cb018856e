"""Sections 3.6–3.10 and the Datakilder appendix: the 06265 extract (reader, schema, invariants),
the population-change map split at zero, notebooks fed an empty dataset or a region outside a
dataset's coverage (a note and «(data mangler)» variables, never a crash), and the appendix
computed from the records."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOLIGER_FILE = "stats/kommune_indikatorer_2024/ssb06265_boliger_andel_bygningstype_kommuner_2024.csv"


# --- SSB 06265: dwellings by building type --------------------------------------------------


@pytest.fixture(scope="module")
def boliger(mirror):
    from kunnskapsgrunnlag.sources.boliger_06265 import read_mirror as read_boliger_06265

    return read_boliger_06265([mirror / BOLIGER_FILE], {})


def test_06265_mirror_reader_is_valid_and_complete(boliger):
    from kunnskapsgrunnlag import schemas

    out = schemas.validate("boliger_06265", boliger.copy(), BOLIGER_FILE)
    assert out["region_code"].nunique() == 357  # every kommune, 2024 division
    assert set(out["building_type"]) == {"01", "02", "03", "04", "05", "999"}
    assert set(out["year"]) == {2024}  # SSB's 1 January 2024 stock
    assert out["dwellings"].isna().all()  # the mirror has shares only
    sums = out.groupby("region_code")["share_pct"].sum()
    assert ((sums - 100).abs() < 1e-6).all()
    # all 18 Buskerud kommuner (2024 codes 3301–3338) are there
    bus = set(out.loc[out["region_code"].str.startswith("33"), "region_code"])
    assert len(bus) == 18


def test_06265_values_match_the_mirror_file(boliger, mirror):
    raw = pd.read_csv(mirror / BOLIGER_FILE, dtype={"kommunenummer": str})
    drammen = raw.set_index("kommunenummer").loc["3301"]
    got = boliger[boliger["region_code"] == "3301"].set_index("building_type")["share_pct"]
    assert got["01"] == pytest.approx(drammen["enebolig_pct"])
    assert got["04"] == pytest.approx(drammen["boligblokk_pct"])


@pytest.mark.parametrize(
    "breakage, rule",
    [
        (lambda d: d.assign(share_pct=d["share_pct"].where(d.index != 0, d["share_pct"] + 5)), "sum to 100"),
        (lambda d: d[d["building_type"] != "05"], "all six building types"),
        (lambda d: d.assign(building_type=d["building_type"].replace({"999": "06"})), "isin"),
    ],
)
def test_06265_schema_rejects_broken_extracts(boliger, breakage, rule):
    from kunnskapsgrunnlag import schemas
    from kunnskapsgrunnlag.errors import ValidationError

    with pytest.raises(ValidationError, match="boliger_06265") as exc:
        schemas.validate("boliger_06265", breakage(boliger.copy()).reset_index(drop=True), "f.csv")
    assert rule in str(exc.value)


def test_06265_online_tidy_turns_counts_into_shares():
    from kunnskapsgrunnlag import schemas
    from kunnskapsgrunnlag.sources.boliger_06265 import tidy_online as tidy_boliger_06265

    counts = {"01": 600, "02": 100, "03": 100, "04": 150, "05": 20, "999": 30}
    raw = pd.DataFrame(
        [
            {"Region": "K-3301", "BygnType": t, "Tid": "2025", "ContentsCode": "Boliger", "value": v}
            for t, v in counts.items()
        ]
    )
    tidy = schemas.validate("boliger_06265", tidy_boliger_06265(raw, {}), "online")
    assert tidy.set_index("building_type").loc["01", "share_pct"] == pytest.approx(60.0)
    assert int(tidy["dwellings"].sum()) == 1000
    # a share that does not match its count is rejected
    bad = tidy.copy()
    bad.loc[0, "share_pct"] += 0.5
    bad.loc[1, "share_pct"] -= 0.5
    from kunnskapsgrunnlag.errors import ValidationError

    with pytest.raises(ValidationError, match="count over the kommune"):
        schemas.validate("boliger_06265", bad, "online")


# --- Figur 11: population change split at zero ------------------------------------------------


@pytest.mark.parametrize(
    "vals", [[-1.19, 0.3, 2.7, 9.24], [-3.09, -0.5, 6.83], [0.4, 5.08], [-11.1, -2.0], [-0.04, 0.04]]
)
def test_diverging_bins_split_at_zero(vals):
    from kunnskapsgrunnlag import maps

    bins = maps.diverging_bins(vals)
    assert bins == sorted(bins) and bins[-1] >= max(vals)
    if min(vals) <= 0:
        assert 0.0 in bins  # a class boundary exactly at zero
    import mapclassify

    yb = mapclassify.UserDefined(vals, bins=bins).yb
    for v, c in zip(vals, yb, strict=False):  # no class holds both a decline and a growth
        others = [w for w, d in zip(vals, yb, strict=False) if d == c]
        assert all((w <= 0) == (v <= 0) for w in others)


@pytest.mark.parametrize("bounds", ["round", "natural"])
def test_diverging_map_colours_match_the_sign(bounds):
    import matplotlib

    matplotlib.use("Agg")
    import geopandas as gpd
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from shapely.geometry import box

    from kunnskapsgrunnlag import maps

    vals = [-1.2, -0.1, 0.4, 2.7, 5.0, 9.2]
    gdf = gpd.GeoDataFrame(
        {"kommunenavn": list("ABCDEF"), "v": vals},
        geometry=[box(i, 0, i + 1, 1) for i in range(len(vals))],
        crs=maps.CRS,
    )
    fig, ax, classes = maps.diverging(gdf, "v", "Endring (%)", bounds=bounds)
    for c in classes:
        r, g, b = mcolors.to_rgb(c["farge"])
        assert (r > b) == (c["fortegn"] == "nedgang"), c
        assert (c["til"] <= 0) == (c["fortegn"] == "nedgang")
    assert sum(c["antall"] for c in classes) == len(vals)
    # the patches drawn: a kommune that grew is blue, one that shrank is red
    faces = ax.collections[0].get_facecolors()
    for v, fc in zip(vals, faces, strict=False):
        assert (fc[0] > fc[2]) == (v <= 0)
    plt.close(fig)


# --- notebooks fed missing data ----------------------------------------------------------------


def _run(name: str, settings, tmp_path: Path) -> tuple[dict, dict, str]:
    """Execute one notebook with papermill for `settings`; (variables, record, all text outputs)."""
    import papermill as pm

    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters=settings.notebook_parameters(),
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    variables = yaml.safe_load((Path(settings.build_dir) / "variables" / f"{name}.yml").read_text(encoding="utf-8"))
    record = json.loads((Path(settings.build_dir) / "records" / f"{name}.json").read_text(encoding="utf-8"))
    nb = json.loads(out.read_text(encoding="utf-8"))
    text = "\n".join(
        "".join(o.get("data", {}).get("text/markdown", "")) + "".join(o.get("text", ""))
        for c in nb["cells"]
        for o in c.get("outputs", [])
    )
    return variables, record, text


def _settings(raw_dir: Path, tmp_path: Path, region: str = "33", edition: int = 2026):
    from kunnskapsgrunnlag.config import make_settings

    return make_settings(
        edition=edition,
        region=region,
        raw_dir=raw_dir,
        processed_dir=tmp_path / "processed",
        build_dir=tmp_path / "build",
    )


def test_region_outside_coverage_shows_note_and_missing_variables(fetched, tmp_path):
    """kulturminneplan is transcribed for Buskerud only: for Telemark the figure is a note."""
    s = _settings(fetched.raw_dir, tmp_path, region="40")
    variables, record, text = _run("03_10_kulturverdier", s, tmp_path)
    kp = variables["kulturplan"]
    assert kp["n_vedtatt"] == kp["n_kommuner"] == "(data mangler)"
    assert kp["funn"] == "" and "Buskerud" not in kp["konklusjon"]
    # the map is left out of the report; the sentence in its place says why (the coverage note may name
    # the region the data cover)
    assert kp["figurtekst"].startswith("Ingen figur viser status for kulturminneplan i kommunene i Telemark")
    assert any(m["dataset"] == "kulturminneplan" and "Buskerud" in m["reason"] for m in record["missing"])
    assert "Data mangler: status for kulturminneplan i kommunene i Telemark" in text
    assert "valuecodes[" not in text and "fig-kulturminneplan" not in record["figure_data"]
    cap = record["captions"]["fig-kulturminneplan"]
    assert "Telemark" in cap["fig-cap"] and cap["fig-alt"].startswith("Data mangler")


def test_empty_dataset_shows_note_and_missing_variables(copy_raw, tmp_path):
    """An extract that holds no rows for the configuration is missing, never a crash."""
    from kunnskapsgrunnlag import rawstore

    empty = pd.DataFrame(
        columns=["region_code", "region_name", "year", "building_type", "building_type_name", "share_pct", "dwellings"]
    )
    rawstore.store_frame(copy_raw.raw_dir, "boliger_06265", empty, {"provider": "ssb", "vintage": "tom"})
    s = _settings(copy_raw.raw_dir, tmp_path)
    variables, record, text = _run("03_07_infrastruktur", s, tmp_path)
    b = variables["boliger"]
    assert b["hoyest_enebolig_kommune"] == b["n_kommuner"] == "(data mangler)"
    # the figure is left out of the report; this sentence stands in its place (issue 17)
    assert b["funn"] == "" and b["figurtekst"].startswith("Ingen figur viser boliger etter bygningstype i kommunene")
    assert [m["dataset"] for m in record["missing"]] == ["boliger_06265"]
    assert "Data mangler: boliger etter bygningstype i kommunene i Buskerud" in text
    assert not (Path(s.build_dir) / "figurdata" / "fig-boliger.csv").exists()


def test_boliger_figure_csv_is_exactly_what_is_drawn(fetched, tmp_path):
    s = _settings(fetched.raw_dir, tmp_path)
    variables, record, text = _run("03_07_infrastruktur", s, tmp_path)
    csv = Path(s.build_dir) / "figurdata" / "fig-boliger.csv"
    head = [ln for ln in csv.read_text(encoding="utf-8").splitlines() if ln.startswith("#")]
    assert any("SSB, tabell 06265" in h for h in head) and any("2026-33" in h for h in head)
    data = pd.read_csv(csv, comment="#")
    assert len(data) == 18 and set(data.columns) >= {"Kommune", "Enebolig", "Boligblokk"}
    assert ((data.drop(columns="Kommune").sum(axis=1) - 100).abs() < 0.05).all()
    # the sentences name the extremes the data has
    top = data.loc[data["Enebolig"].idxmax(), "Kommune"]
    assert variables["boliger"]["hoyest_enebolig_kommune"] == top and top in variables["boliger"]["funn"]
    # the figure cell has one output (the link is written into the staged report, not the notebook)
    assert "Last ned tallene (CSV)" not in json.dumps(json.loads((tmp_path / "03_07_infrastruktur.ipynb").read_text()))


def test_edition_2025_uses_its_own_years(fetched, tmp_path):
    """Edition 2025: population change to 1 January 2025; the 2026-only migration tables are missing."""
    s = _settings(fetched.raw_dir, tmp_path, edition=2025)
    variables, record, text = _run("03_09_attraktive", s, tmp_path)
    assert variables["befendring"]["til_aar"] == "2025"
    # the edition asks for 1 January 2019, which the data lack: the map starts at the first year they
    # have, and the text says so
    first = int(variables["befendring"]["fra_aar"])
    assert first >= s.edition_params["population_first_year"]
    if first != s.edition_params["population_first_year"]:
        assert str(s.edition_params["population_first_year"]) in variables["befendring"]["figurtekst"]
    assert variables["flytting"]["aar"] == "2023"
    assert variables["flytting"]["hoyest_kommune"] == "(data mangler)"
    assert any(m["dataset"] == "flytting_published" for m in record["missing"])
    data = pd.read_csv(Path(s.build_dir) / "figurdata" / "fig-befolkningsendring.csv", comment="#")
    assert "folkemengde_2025" in data.columns and "folkemengde_2026" not in data.columns


# --- the appendix ------------------------------------------------------------------------------


def test_embed_order_and_edition_numbers():
    from kunnskapsgrunnlag import appendix
    from kunnskapsgrunnlag.notebook import original_numbers

    order = [lab for _nb, lab in appendix.embed_order(ROOT)]
    nums = appendix.edition_numbers(ROOT)
    figs = [lab for lab in order if lab.startswith("fig-")]
    assert [nums[f] for f in figs] == [f"Figur {i}" for i in range(1, len(figs) + 1)]
    assert order.index("fig-boliger") < order.index("fig-befolkningsendring") < order.index("fig-kulturminneplan")
    # every figure/table of the published report has a counterpart embedded in this edition
    assert set(original_numbers()) <= set(nums)


def test_appendix_groups_follow_manifest_providers(fetched):
    """The appendix groups datasets on the same basis as the forord (notebook.data_status: manifest
    provider/status and catalogue coverage); a dataset a notebook found lacking is «delvis»."""
    from kunnskapsgrunnlag import appendix
    from kunnskapsgrunnlag.config import make_settings
    from kunnskapsgrunnlag.notebook import data_status

    s = make_settings(
        region="40", raw_dir=fetched.raw_dir, processed_dir=fetched.processed_dir, build_dir=fetched.build_dir
    )
    rec = appendix.Records(
        missing={
            "flytting_published": {
                "dataset": "flytting_published",
                "reason": "datagrunnlaget mangler tall for Telemark",
            }
        }
    )
    g = appendix.grunnlag(data_status(s), rec)
    assert "kulturminneplan" in g["mangler"]  # Buskerud only (coverage)
    assert "levekaar_published" in g["mangler"]  # Buskerud's kommuner only
    assert g["publisert"] == ["tiltak_published", "flytting_published"]  # all fylker, 2026
    assert g["delvis"] == ["flytting_published"]  # the kommune table lacks Telemark
    assert "boliger_06265" in g["beregnet"] and "skadehendelser" in g["mangler"]
    g25 = appendix.grunnlag(data_status(make_settings(edition=2025, raw_dir=fetched.raw_dir)), appendix.Records())
    assert g25["publisert"] == [] and {"tiltak_published", "flytting_published"} <= set(g25["mangler"])
    q = "GET https://x/data?lang=no&valuecodes[Region]=33&valuecodes[Tid]=top(1)"
    assert appendix.split_query(q, width=20).replace("\n  ", "") == q


@pytest.mark.slow  # runs several notebooks
def test_drawn_branches_with_delivered_files(copy_raw, tmp_path):
    """The figure branches run when the data exist: file drops (source line from the drop's own
    `kilde` column) and an online-shaped 07984 extract. Values are test fixtures, not report data."""
    from kunnskapsgrunnlag import rawstore

    raw = copy_raw.raw_dir
    skade = pd.DataFrame(
        [
            {"periode": p, "hendelse": h, "antall": n, "kilde": "Testkilde A, s. 3"}
            for p, base in [("1980-1989", 10), ("2013-2023", 40)]
            for h, n in [("storm", base), ("flom", base // 2), ("skred", base // 4)]
        ]
    )
    rawstore.store_frame(raw, "skadehendelser", skade, {"provider": "manual", "vintage": "test"})
    kom = [f"33{n:02d}" for n in (1, 3, 5, 10, 12)]
    for ds, unit in [("kollektivandel", "prosent"), ("arbeidsplasser_kollektiv", "arbeidsplasser")]:
        df = pd.DataFrame(
            {"kommunenummer": kom, "verdi": [5.0, 7.5, 3.0, 2.0, 6.0], "enhet": unit, "kilde": "Testkart, lag X (2025)"}
        )
        rawstore.store_frame(raw, ds, df, {"provider": "manual", "vintage": "test"})
    syss = pd.DataFrame(
        {
            "region_code": "33",
            "region_name": "Buskerud",
            "NACE2007": ["01-03", "45-47", "41-43"],
            "Kjonn": "0",
            "Alder": "15-74",
            "ContentsCode": "Sysselsatte",
            "period": "2024",
            "value": [3000, 20000, 15000],
        }
    )
    rawstore.store_frame(raw, "sysselsetting_07984", syss, {"provider": "ssb", "vintage": "test"})
    s = _settings(raw, tmp_path)

    v, rec, text = _run("03_06_samfunnssikkerhet", s, tmp_path)
    assert v["skade"]["hoyest_periode"] == "2013–2023" and v["skade"]["storst_okning"] == "storm"
    assert "Data mangler" not in text and rec["missing"] == []
    assert "Testkilde A" in open(Path(s.build_dir) / "figurdata" / "fig-skadehendelser.csv", encoding="utf-8").read()
    assert "Testkilde A" in rec["captions"]["fig-skadehendelser"]["fig-cap"]

    v, rec, text = _run("03_09_attraktive", s, tmp_path)
    assert "Testkart" in rec["captions"]["fig-kollektivandel"]["fig-cap"]
    assert {"fig-kollektivandel", "fig-arbeidsplasser"} <= set(rec["figure_data"])
    assert v["kollektiv"]["andel_mangler"] == v["kollektiv"]["arbeid_mangler"] == ""  # both maps drawn

    v, rec, text = _run("03_08_naering", s, tmp_path)
    assert v["syss"]["storste_naering"] == "45-47" and v["syss"]["storste_andel"] == "53"
    assert "fig-sysselsetting" in rec["figure_data"]
