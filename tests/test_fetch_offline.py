"""Offline fetch: mirror import, manifest, immutability, missing datasets, bad input."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kunnskapsgrunnlag import rawstore
from kunnskapsgrunnlag.config import load_catalogue
from kunnskapsgrunnlag.fetch import fetch_all, fetch_dataset
from kunnskapsgrunnlag.schemas import ValidationError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_settings(tmp_path, fetched):
    """An empty raw store except for the boundary dataset: the kommune classification the
    coverage checks read (in a real fetch it is fetched first)."""
    from kunnskapsgrunnlag.config import make_settings

    raw = tmp_path / "raw"
    shutil.copytree(fetched.raw_dir / "kommuner_2024", raw / "kommuner_2024")
    man = rawstore.read_manifest(fetched.raw_dir)
    rawstore.write_manifest(raw, {"datasets": {"kommuner_2024": man["datasets"]["kommuner_2024"]}})
    return make_settings(raw_dir=raw, processed_dir=tmp_path / "processed", build_dir=tmp_path / "build")


def nothing_stored(settings, name) -> bool:
    """No vintage of `name` stored or current (a refused file is only kept aside in rejected/)."""
    folder = settings.raw_dir / name
    stored = [p for p in folder.glob("*") if p.is_file()] if folder.exists() else []
    return not stored and name not in rawstore.read_manifest(settings.raw_dir)["datasets"]


def test_mirror_fetch_writes_manifest_with_provenance(fetched, mirror):
    man = rawstore.read_manifest(fetched.raw_dir)["datasets"]
    from kunnskapsgrunnlag.editions import used_by_edition

    # every dataset the edition uses (a projection round it does not use is not fetched)
    assert set(man) == {n for n, s in load_catalogue().items() if used_by_edition(s, fetched.edition_params)}
    pop = man["population_07459"]["current"]
    assert pop["status"] == "ok" and pop["source"]["kind"] == "mirror"
    assert pop["source"]["mirror_files"][0].startswith(str(mirror))
    assert "07459" in pop["source"]["upstream"] and pop["licence"].startswith("NLOD")
    assert pop["rows"] == 18277 and pop["retrieved_at"] and pop["vintage"] == "2020-2026"
    assert rawstore.sha256_file(fetched.raw_dir / pop["file"]) == pop["sha256"]
    # the mirror's own checksum is recorded as upstream provenance
    assert pop["source"]["mirror_sha256"][0] == "58103afffe117faa130111b58ca4bbe9a24be5bd7e10d85bd8feeb9e88283b94"


def test_missing_datasets_recorded_with_exact_query(fetched):
    man = rawstore.read_manifest(fetched.raw_dir)["datasets"]
    syss = man["sysselsetting_07984"]["current"]
    assert syss["status"] == "missing"
    assert syss["how_to_fetch"].startswith("GET https://data.ssb.no/api/pxwebapi/v2/tables/07984/data?")
    assert "valuecodes[ContentsCode]=Sysselsatte" in syss["how_to_fetch"]
    drop = man["skadehendelser"]["current"]
    assert drop["status"] == "missing" and "data/raw/manual/skadehendelser.csv" in drop["how_to_fetch"]
    with pytest.raises(rawstore.MissingData):
        rawstore.load(fetched.raw_dir, "sysselsetting_07984")


def test_refetch_is_idempotent_and_never_overwrites(copy_raw, mirror):
    s = copy_raw
    before = {p: p.read_bytes() for p in s.raw_dir.rglob("*.csv")}
    fetch_all(s, online=False, mirror=mirror, only=["neet_13563", "levekaar_published"])
    after = {p: p.read_bytes() for p in s.raw_dir.rglob("*.csv")}
    assert before == after  # same content -> same files, nothing rewritten
    # a new vintage (different content) is written beside the old file
    entry = rawstore.store_frame(s.raw_dir, "neet_13563", pd.DataFrame({"x": [1]}), {"vintage": "2025"})
    files = sorted((s.raw_dir / "neet_13563").iterdir())
    assert len(files) == 2 and all(f in after or f.name == Path(entry["file"]).name for f in files)
    hist = rawstore.read_manifest(s.raw_dir)["datasets"]["neet_13563"]["history"]
    assert len(hist) == 2


def test_tampered_raw_file_is_detected_and_named(copy_raw):
    s = copy_raw
    entry = rawstore.current_entry(s.raw_dir, "neet_13563")
    path = s.raw_dir / entry["file"]
    path.write_text(path.read_text().replace("10.6", "9.6"))
    with pytest.raises(rawstore.RawDataError, match=str(path.name)):
        rawstore.load(s.raw_dir, "neet_13563")
    with pytest.raises(rawstore.RawDataError, match="sha256 mismatch"):
        rawstore.verify_all(s.raw_dir)
    assert path.exists()  # nothing deleted


def test_missing_now_keeps_earlier_good_file(copy_raw):
    s = copy_raw
    good = rawstore.current_entry(s.raw_dir, "neet_13563")
    spec = load_catalogue()["neet_13563"]
    r = fetch_dataset(s, "neet_13563", spec, online=False, mirror=None)
    assert r.status == "ok" and r.source == "earlier"
    assert rawstore.current_entry(s.raw_dir, "neet_13563") == good


def _published_variant(tmp_path, settings, name, mutate):
    """Run fetch for a `published` dataset whose file was mutated; return the raised error."""
    spec = dict(load_catalogue()[name])
    src = ROOT / spec["file"]
    df = pd.read_csv(src, dtype=str)
    bad = tmp_path / "config" / "published" / src.name
    bad.parent.mkdir(parents=True, exist_ok=True)
    mutate(df).to_csv(bad, index=False)
    spec["file"] = str(bad)
    with pytest.raises(ValidationError) as exc:
        fetch_dataset(settings, name, spec, online=False, mirror=None)
    assert nothing_stored(settings, name)
    assert list((settings.raw_dir / name / "rejected").glob("*.csv"))  # kept aside, with the reason
    return str(exc.value)


def test_published_file_missing_kommune(tmp_path, fresh_settings):
    msg = _published_variant(tmp_path, fresh_settings, "levekaar_published", lambda d: d[d.kommune != "Flå"])
    assert "levekaar_published" in msg and "tabell1_levekaar.csv" in msg
    assert "coverage: kommuner of fylke 33 missing: 3320 Flå" in msg


def test_published_file_duplicated_row(tmp_path, fresh_settings):
    msg = _published_variant(tmp_path, fresh_settings, "levekaar_published", lambda d: pd.concat([d, d.iloc[[3]]]))
    assert "kommunenummer" in msg and "3310" in msg


def test_published_file_non_numeric_cell(tmp_path, fresh_settings):
    def mutate(d):
        d.loc[2, "lav_inntekt"] = "1,25x"
        return d

    msg = _published_variant(tmp_path, fresh_settings, "levekaar_published", mutate)
    assert "'lav_inntekt'" in msg and "row 4" in msg and "1,25x" in msg


def test_flytting_invariant_violation_fails_loudly(tmp_path, fresh_settings):
    def mutate(d):
        d.loc[d.region == "Drammen", "netto_innenlands"] = "531"
        return d

    msg = _published_variant(tmp_path, fresh_settings, "flytting_published", mutate)
    assert "kommuner must sum to their fylke" in msg


def test_flytting_fylker_must_sum_to_zero(tmp_path, fresh_settings):
    def mutate(d):
        d.loc[d.region == "Oslo", "netto_innenlands"] = "-2160"
        return d

    msg = _published_variant(tmp_path, fresh_settings, "flytting_published", mutate)
    assert "sum to 0" in msg


def _drop(tmp_path, settings, name, text):
    spec = dict(load_catalogue()[name])
    drop = tmp_path / "drop.csv"
    drop.write_text(text, encoding="utf-8")
    spec["drop"] = str(drop)
    return fetch_dataset(settings, name, spec, online=False, mirror=None)


def test_file_drop_valid(tmp_path, fresh_settings):
    r = _drop(
        tmp_path,
        fresh_settings,
        "skadehendelser",
        "periode,hendelse,antall,kilde\n1980-1989,storm,12,BiKT 2024 s. 9\n1980-1989,flom,3,BiKT 2024 s. 9\n",
    )
    assert r.status == "ok" and r.source == "manual"
    df = rawstore.load(fresh_settings.raw_dir, "skadehendelser")
    assert df["antall"].tolist() == [12, 3]


@pytest.mark.parametrize(
    "name,text,expected",
    [
        ("skadehendelser", "periode,hendelse,kilde\n1980-1989,storm,x\n", "antall"),
        ("skadehendelser", "periode,hendelse,antall,kilde\n1980-1989,storm,-4,x\n", "must not be negative"),
        ("skadehendelser", "periode,hendelse,antall,kilde\n1980-1989,jordskjelv,4,x\n", "hendelse"),
        (
            "kollektivandel",
            "kommunenummer,verdi,enhet,kilde\n3399,12.5,prosent,kart\n",
            "unknown kommune code(s) (not a kommune of fylke 33 in the 2024 classification): 3399",
        ),
        (
            "kollektivandel",
            "kommunenummer,verdi,enhet,kilde\n3301,112.5,prosent,kart\n",
            "range: verdi outside 0–100: 112.5",
        ),
        ("skadehendelser", "periode,hendelse,antall,kilde\n", "no data rows (header only)"),
        (
            "arbeidsplasser_kollektiv",
            "kommunenummer,verdi,enhet,kilde\n3301,-1,arbeidsplasser,kart\n",
            "must not be negative",
        ),
    ],
)
def test_file_drop_bad_files_give_clear_errors(tmp_path, fresh_settings, name, text, expected):
    with pytest.raises(ValidationError) as exc:
        _drop(tmp_path, fresh_settings, name, text)
    assert name in str(exc.value) and "drop.csv" in str(exc.value) and expected in str(exc.value)
    assert nothing_stored(fresh_settings, name)


def test_unknown_dataset_and_missing_mirror(fresh_settings):
    with pytest.raises(KeyError, match="valid"):
        fetch_all(fresh_settings, online=False, mirror=None, only=["nope"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fetch_all(fresh_settings, online=False, mirror=Path("/nonexistent/mirror"))
