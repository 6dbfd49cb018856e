"""Fault suite, data side (issue 9, items 4, 5 and 7): bad inputs and damaged raw data.

Every case runs the real CLI (typer's CliRunner, in-process) in a temporary copy of the project
whose raw store was fetched from a temporary copy of the mirror; only that copy is
modified, never ../shared. Each case asserts the exit code, a message naming the cause (dataset,
file, rule, values), that there is no traceback, and that data/raw and its manifest are
byte-identical afterwards — except the files kept aside in `<dataset>/rejected/` on a refusal —
unless the case is a recovery that is meant to change them.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kunnskapsgrunnlag import atomic, classification, cli, config, rawstore

ROOT = Path(__file__).resolve().parent.parent
POP = "stats/population_07459/ssb07459_folkemengde_1jan_2020-2026_land_fylke_kommune_aldersgrupper.csv"
NEET = "stats/fig4_neet/ssb13563_neet_andel_fylke_15-29_30-61_2024.csv"
GOOD_DROP = "periode,hendelse,antall,kilde\n1980-1989,storm,12,BiKT 2024 s. 9\n1980-1989,flom,3,BiKT 2024 s. 9\n"


def _clear_caches():
    config.load_project.cache_clear()
    config.load_catalogue.cache_clear()
    classification._kommuner_from_raw.cache_clear()


@pytest.fixture(scope="module")
def base(tmp_path_factory, mirror):
    """A project copy (config, notebooks, report) with a raw store fetched from a mirror copy."""
    base = tmp_path_factory.mktemp("faults")
    proj, mir = base / "proj", base / "mirror"
    for d in ("config", "notebooks", "report"):
        shutil.copytree(ROOT / d, proj / d)
    for f in ("_quarto.yml", "index.qmd"):
        shutil.copy2(ROOT / f, proj / f)
    (proj / "data" / "raw" / "manual").mkdir(parents=True)
    for spec in config.load_catalogue().values():  # only the files the catalogue reads
        for f in (spec.get("mirror") or {}).get("files", []):
            (mir / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(mirror / f, mir / f)
    _clear_caches()
    try:
        from kunnskapsgrunnlag.fetch import fetch_all

        with config.use_project(proj):
            fetch_all(config.make_settings(), online=False, mirror=mir)
    finally:
        _clear_caches()
    return base


@pytest.fixture
def proj(tmp_path, base, monkeypatch):
    """A fresh copy of the base project for one case; the current directory is in it."""
    shutil.copytree(base / "proj", tmp_path / "proj", symlinks=True)
    shutil.copytree(base / "mirror", tmp_path / "mirror")
    monkeypatch.chdir(tmp_path / "proj")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr(cli.console, "width", 400)  # keep long messages on one line for the asserts
    _clear_caches()
    yield tmp_path / "proj"
    _clear_caches()


def mirror_of(proj: Path) -> Path:
    return proj.parent / "mirror"


def raw(proj: Path) -> Path:
    return proj / "data" / "raw"


def snapshot(proj: Path) -> dict[str, bytes]:
    """Every file of data/raw (manifest included), except the files kept aside on a refusal."""
    r = raw(proj)
    return {
        p.relative_to(r).as_posix(): p.read_bytes()
        for p in sorted(r.rglob("*"))
        if p.is_file() and "rejected" not in p.relative_to(r).parts
    }


def manifest(proj: Path) -> dict:
    return json.loads((raw(proj) / "manifest.json").read_text())


def run(*args: str):
    """Invoke the CLI; return (exit code, output with whitespace collapsed)."""
    res = CliRunner().invoke(cli.app, list(args))
    out = res.output
    if os.environ.get("KG_SHOW_OUTPUT"):
        print(out)
    assert "Traceback" not in out, out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, " ".join(out.split())


def fetch(proj: Path, *extra: str):
    return run("fetch", "--offline", "--mirror", str(mirror_of(proj)), *extra)


def current(proj: Path, name: str) -> dict:
    return manifest(proj)["datasets"][name]["current"]


def rejected(proj: Path, name: str) -> list[Path]:
    return sorted((raw(proj) / name / "rejected").glob("*.csv"))


def edit_mirror_population(proj: Path, mutate) -> Path:
    f = mirror_of(proj) / POP
    df = pd.read_csv(f, dtype={"code": str, "personer": object})
    mutate(df).to_csv(f, index=False)
    return f


def assert_refused(proj, before, name, code, out):
    """A refusal: non-zero exit, dataset named, nothing changed but the copy kept aside."""
    assert code == 2, out
    assert f"{name}:" in out and "refused, nothing stored" in out and "stays current" in out
    assert snapshot(proj) == before
    files = rejected(proj, name)
    assert files and files[0].with_name(files[0].name + ".reason.txt").exists()


# --- 1. plausibility: a wrong vintage never becomes current ----------------------------------


def test_population_cut_to_half_its_rows_is_refused(proj):
    before = snapshot(proj)
    f = edit_mirror_population(proj, lambda d: d.head(len(d) // 2))
    code, out = fetch(proj)
    assert_refused(proj, before, "population_07459", code, out)
    assert f"population_07459: {f}: coverage: kommuner missing for 2024–2026: 3434 Lom, 3435 Vågå" in out
    assert "fylker missing" not in out  # the cut is in the kommune rows
    assert "invariant: kommuner do not sum to their fylke" in out


def test_population_without_drammen_is_refused(proj):
    before = snapshot(proj)
    f = edit_mirror_population(proj, lambda d: d[d["code"] != "3301"])
    code, out = fetch(proj)
    assert_refused(proj, before, "population_07459", code, out)
    assert f"population_07459: {f}: coverage: kommuner missing for 2020–2026: 3301 Drammen" in out
    # and Buskerud no longer adds up
    assert "invariant: kommuner do not sum to their fylke (tolerance 10): 33 2020 0-15: kommune sum" in out


def test_population_with_unknown_kommune_code_is_refused(proj):
    before = snapshot(proj)
    edit_mirror_population(proj, lambda d: d.assign(code=d["code"].replace({"3338": "3399"})))
    code, out = fetch(proj)
    assert_refused(proj, before, "population_07459", code, out)
    assert "coverage: unknown kommune code(s) for 2020–2026 (not a kommune in the 2024 classification): 3399" in out
    assert "3338 Nore og Uvdal" in out  # and the real one is missing


def test_population_count_of_9e18_is_refused(proj):
    before = snapshot(proj)

    def mutate(d):
        d.loc[(d["code"] == "3305") & (d["aar"] == 2026) & (d["aldersgruppe"] == "90+"), "personer"] = "9e18"
        return d

    edit_mirror_population(proj, mutate)
    code, out = fetch(proj)
    assert_refused(proj, before, "population_07459", code, out)
    assert "range: persons outside 0–10 000 000: 9 000 000 000 000 000 000 (3305 2026 90+" in out


def test_refused_dataset_does_not_stop_the_others(proj):
    """NEET changes legitimately while the population file is bad: NEET's new vintage is stored."""
    edit_mirror_population(proj, lambda d: d[d["code"] != "3301"])
    f = mirror_of(proj) / NEET
    f.write_text(f.read_text().replace("10.6", "10.7"))
    old_neet = current(proj, "neet_13563")["file"]
    old_pop = current(proj, "population_07459")["file"]
    code, out = fetch(proj)
    assert code == 2 and "1 dataset(s) not updated (population_07459)" in out
    assert current(proj, "neet_13563")["file"] != old_neet
    assert current(proj, "population_07459")["file"] == old_pop


def test_header_only_drop_is_refused_and_the_good_drop_stays(proj):
    drop = raw(proj) / "manual" / "skadehendelser.csv"
    drop.write_text(GOOD_DROP, encoding="utf-8")
    assert fetch(proj)[0] == 0
    good = current(proj, "skadehendelser")
    assert good["status"] == "ok" and good["rows"] == 2
    before = snapshot(proj)
    drop.write_text("periode,hendelse,antall,kilde\n", encoding="utf-8")
    code, out = fetch(proj)
    before.pop("manual/skadehendelser.csv"), snapshot(proj).pop("manual/skadehendelser.csv")
    now = snapshot(proj)
    now.pop("manual/skadehendelser.csv")
    assert now == before
    assert code == 2 and f"skadehendelser: {drop}: rows: no data rows (header only)" in out
    assert "kunnskapsgrunnlag drop remove skadehendelser" in out
    assert current(proj, "skadehendelser") == good


# --- 2. unreadable inputs: one clear message naming dataset and file ------------------------


def test_latin1_drop_is_a_clear_message(proj):
    drop = raw(proj) / "manual" / "kollektivandel.csv"
    text = "kommunenummer,verdi,enhet,kilde\n3301,12.5,prosent,kartportal Buskerud, Tønsberg\n"
    drop.write_bytes(text.encode("latin-1"))
    before = snapshot(proj)
    code, out = fetch(proj)
    assert code == 2 and snapshot(proj) == before
    assert f"kollektivandel: {drop}: not UTF-8 text (byte 0xf8 on line 2" in out and "CSV UTF-8" in out


def test_empty_drop_is_a_clear_message(proj):
    drop = raw(proj) / "manual" / "arbeidsplasser_kollektiv.csv"
    drop.write_bytes(b"")
    before = snapshot(proj)
    code, out = fetch(proj)
    assert code == 2 and snapshot(proj) == before
    assert f"arbeidsplasser_kollektiv: {drop}: the file drop is empty (0 bytes)" in out


def test_semicolon_drop_is_a_clear_message_and_excel_bom_is_accepted(proj):
    drop = raw(proj) / "manual" / "skadehendelser.csv"
    drop.write_text(GOOD_DROP.replace(",", ";"), encoding="utf-8")
    before = snapshot(proj)
    code, out = fetch(proj)
    assert code == 2 and snapshot(proj) == before
    assert f"skadehendelser: {drop}: the columns are separated by semicolons" in out
    drop.write_text("\ufeff" + GOOD_DROP, encoding="utf-8")  # Excel's "CSV UTF-8" starts with a BOM
    code, out = fetch(proj)
    assert code == 0, out
    assert current(proj, "skadehendelser")["rows"] == 2


def test_mirror_file_with_a_missing_column_names_dataset_and_file(proj):
    """Was `Error: nivaa`."""
    f = mirror_of(proj) / POP
    f.write_text(f.read_text().replace("nivaa,", "level,", 1))
    before = snapshot(proj)
    code, out = fetch(proj)
    assert code == 2 and snapshot(proj) == before
    assert f"population_07459: {f}: column 'nivaa' not found (the header is: level,code,name,aar" in out
    assert "Error: nivaa" not in out


def test_catalogue_entry_without_provider_names_file_and_dataset(proj):
    """Was `Error: provider`."""
    cat = proj / "config" / "datasets.yml"
    cat.write_text(cat.read_text().replace('  provider: ssb\n  table: "13563"', '  table: "13563"', 1))
    before = snapshot(proj)
    code, out = fetch(proj)
    assert code == 2 and snapshot(proj) == before
    # (fetch's own check; a schema check of the catalogue, if it runs first, words it its own way)
    assert "config/datasets.yml" in out and "neet_13563" in out and "provider" in out
    assert "Error: provider" not in out


# --- 3. the raw store itself: manifest, permissions, disk -----------------------------------


def test_invalid_manifest_gives_one_message_with_what_to_do(proj):
    man = raw(proj) / "manifest.json"
    man.write_bytes(man.read_bytes()[:500])  # a cut write
    before = snapshot(proj)
    for args in (("fetch", "--offline"), ("status",), ("build", "--no-render")):
        code, out = run(*args)
        assert code == 2, (args, out)
        assert f"{man}: the raw-data manifest is not valid JSON (line" in out
        assert "manifest.json.bak" in out and "kunnskapsgrunnlag fetch --rebuild-manifest" in out
        assert snapshot(proj) == before


def test_manifest_backup_is_the_previous_valid_manifest(proj):
    """Each manifest write keeps the one before as manifest.json.bak; copying it back recovers."""
    before = (raw(proj) / "manifest.json").read_bytes()
    f = mirror_of(proj) / NEET
    f.write_text(f.read_text().replace("10.6", "10.7"))
    assert fetch(proj)[0] == 0
    assert (raw(proj) / "manifest.json.bak").read_bytes() == before
    (raw(proj) / "manifest.json").write_text("{")
    shutil.copy2(raw(proj) / "manifest.json.bak", raw(proj) / "manifest.json")
    assert run("status")[0] == 0


def test_rebuild_manifest_recovers_from_an_invalid_manifest(proj):
    man = raw(proj) / "manifest.json"
    good = manifest(proj)
    man.write_text('{"datasets": {"population_07459": ')
    (raw(proj) / "manifest.json.bak").unlink()  # no backup either: rebuild from the files alone
    code, out = fetch(proj, "--rebuild-manifest")
    assert code == 0, out
    assert "Rebuilt" in out
    new = manifest(proj)["datasets"]
    for name, rec in good["datasets"].items():  # the same data is current, with full provenance again
        assert new[name]["current"].get("sha256") == rec["current"].get("sha256"), name
        if rec["current"]["status"] == "ok":
            src, old = new[name]["current"]["source"], rec["current"]["source"]
            assert src["kind"] == old["kind"] and src.get("mirror_sha256") == old.get("mirror_sha256"), name
    assert list(raw(proj).glob("manifest.json.invalid-*"))  # the broken one is kept, not deleted
    assert run("status")[0] == 0


def test_read_only_raw_store_is_a_clear_message(proj, monkeypatch):
    (raw(proj) / "manual" / "skadehendelser.csv").write_text(GOOD_DROP, encoding="utf-8")
    before = snapshot(proj)

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    only_in_raw(proj, monkeypatch, atomic.tempfile, "mkstemp", denied)  # as root, chmod would not stop a write
    code, out = fetch(proj)
    assert code == 2
    assert "skadehendelser: cannot write" in out and "permission denied (is the folder read-only?)" in out
    assert f"make {raw(proj)} writable" in out
    assert snapshot(proj) == before


def test_disk_full_while_storing_changes_nothing(proj, monkeypatch):
    (raw(proj) / "manual" / "skadehendelser.csv").write_text(GOOD_DROP, encoding="utf-8")
    before = snapshot(proj)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    only_in_raw(proj, monkeypatch, atomic.os, "fsync", full)  # the write fails at the flush
    code, out = fetch(proj)
    assert code == 2 and "the disk is full" in out and "free some space" in out
    assert snapshot(proj) == before  # no half-written file, no temporary file left behind
    assert not list(raw(proj).rglob(".*.tmp"))


# --- 4. recovery paths ----------------------------------------------------------------------


def only_in_raw(proj, monkeypatch, module, name, fault):
    """Inject `fault` as module.name, only while a file under data/raw is written (other state
    files, e.g. a run lock under build/, are written normally)."""
    real = atomic.write_bytes

    def write_bytes(path, data):
        if raw(proj) in Path(path).resolve().parents:
            with monkeypatch.context() as m:
                m.setattr(module, name, fault)
                return real(path, data)
        return real(path, data)

    monkeypatch.setattr(atomic, "write_bytes", write_bytes)


def _tamper(proj, name="neet_13563") -> Path:
    path = raw(proj) / current(proj, name)["file"]
    path.chmod(0o644)
    path.write_text(path.read_text().replace("10.6", "9.6"))
    return path


@pytest.mark.slow  # runs the notebooks
def test_tampered_raw_file_is_restored_by_fetch_and_build_then_succeeds(proj):
    path = _tamper(proj)
    code, out = run("status")
    assert code == 1 and "TAMPERED" in out and f"{path}" in out and "kunnskapsgrunnlag fetch --mirror" in out
    code, out = run("build", "--only", "03_02_livsmestring", "--no-render")
    assert code == 2 and "sha256 mismatch for dataset 'neet_13563'" in out
    assert "to restore it from the offline mirror" in out
    code, out = fetch(proj)
    assert code == 0, out
    assert f"Restored neet_13563: restored {current(proj, 'neet_13563')['file']} from mirror (it was tampered" in out
    assert rawstore.sha256_file(path) == current(proj, "neet_13563")["sha256"]
    aside = list((path.parent / "tampered").iterdir())
    assert len(aside) == 1 and "9.6" in aside[0].read_text()  # the altered copy is kept, not destroyed
    assert manifest(proj)["datasets"]["neet_13563"]["events"][-1]["action"] == "restore"
    code, out = run("status")  # the altered copy is set aside, not a vintage: every stored file verifies
    assert code == 0 and "1 file(s) kept aside (never current): neet_13563/tampered/" in out
    code, out = run("build", "--only", "03_02_livsmestring", "--no-render")
    assert code == 0, out
    assert "1 ran" in out and "0 failed" in out


def test_deleted_raw_file_is_restored_by_fetch(proj):
    path = raw(proj) / current(proj, "population_07459")["file"]
    path.chmod(0o644)
    path.unlink()
    code, out = run("status")
    assert code == 1 and "MISSING" in out
    code, out = fetch(proj)
    assert code == 0 and "restored" in out and "(it was missing)" in out
    assert rawstore.sha256_file(path) == current(proj, "population_07459")["sha256"]
    ev = manifest(proj)["datasets"]["population_07459"]["events"][-1]
    assert ev["action"] == "restore" and ev["was"] == "missing"
    assert run("status")[0] == 0


def test_tampered_file_without_a_source_says_how_to_restore(proj):
    path = _tamper(proj)
    before = snapshot(proj)
    code, out = run("fetch", "--offline")  # no mirror: nothing to restore from
    assert code == 2 and snapshot(proj) == before
    assert f"neet_13563: the current raw file {path} is tampered and no source is available" in out
    # the hint names the mirror the file came from (the manifest records it)
    src = Path(current(proj, "neet_13563")["source"]["mirror_files"][0]).parents[2]
    assert f"kunnskapsgrunnlag fetch --mirror {src} --dataset neet_13563" in out


def test_drop_remove_withdraws_a_file_drop(proj):
    drop = raw(proj) / "manual" / "skadehendelser.csv"
    drop.write_text(GOOD_DROP, encoding="utf-8")
    assert fetch(proj)[0] == 0
    stored = current(proj, "skadehendelser")["file"]
    code, out = run("drop", "remove", "skadehendelser")
    assert code == 0 and "skadehendelser is now missing" in out
    assert not drop.exists()
    kept = list((drop.parent / "withdrawn").iterdir())
    assert len(kept) == 1 and kept[0].read_text() == GOOD_DROP  # moved, not deleted
    rec = manifest(proj)["datasets"]["skadehendelser"]
    assert rec["current"]["status"] == "missing" and rec["events"][-1]["action"] == "drop-remove"
    assert (raw(proj) / stored).exists()  # the stored vintage stays (use can bring it back)
    assert fetch(proj)[0] == 0 and current(proj, "skadehendelser")["status"] == "missing"


def test_drop_remove_of_a_refused_drop_keeps_the_good_one(proj):
    drop = raw(proj) / "manual" / "skadehendelser.csv"
    drop.write_text(GOOD_DROP, encoding="utf-8")
    assert fetch(proj)[0] == 0
    good = current(proj, "skadehendelser")
    drop.write_text("periode,hendelse,antall,kilde\n", encoding="utf-8")
    assert fetch(proj)[0] == 2
    code, out = run("drop", "remove", "skadehendelser")
    assert code == 0 and f"the current vintage {good['file']} stays current" in out
    assert fetch(proj)[0] == 0 and current(proj, "skadehendelser") == good


def test_drop_remove_of_a_non_drop_dataset_is_refused(proj):
    before = snapshot(proj)
    code, out = run("drop", "remove", "population_07459")
    assert code == 2 and snapshot(proj) == before
    assert "Error: population_07459 is not a file-drop dataset; file-drop datasets: arbeidsplasser_kollektiv" in out


def test_use_returns_a_dataset_to_an_earlier_vintage(proj):
    first = current(proj, "neet_13563")
    f = mirror_of(proj) / NEET
    f.write_text(f.read_text().replace("10.6", "10.7"))
    assert fetch(proj)[0] == 0
    second = current(proj, "neet_13563")
    assert second["sha256"] != first["sha256"]
    code, out = run("use", "neet_13563", first["sha256"][:10])
    assert code == 0 and f"now using {first['file']}" in out
    rec = manifest(proj)["datasets"]["neet_13563"]
    assert rec["current"]["sha256"] == first["sha256"] and rec["current"]["source"] == first["source"]
    assert rec["events"][-1]["action"] == "use" and rec["pinned"]["sha256"] == first["sha256"]
    code, out = fetch(proj)  # a pinned dataset is left as it is
    assert code == 0 and "pinned" in out and current(proj, "neet_13563")["sha256"] == first["sha256"]
    assert run("use", "neet_13563", "latest")[0] == 0
    assert current(proj, "neet_13563")["sha256"] == second["sha256"]
    assert "pinned" not in manifest(proj)["datasets"]["neet_13563"]


def test_use_with_an_unknown_vintage_lists_the_stored_ones(proj):
    before = snapshot(proj)
    code, out = run("use", "neet_13563", "1999")
    assert code == 2 and snapshot(proj) == before
    assert "neet_13563: no stored vintage '1999'. Stored: 2024 = neet_13563__2024__" in out


def test_status_verifies_every_file(proj):
    code, out = run("status")
    assert code == 0 and "sha256 ok" in out
    n = len([f for f in rawstore.verify_files(raw(proj))])
    assert f"{n} of {n} stored file(s) verified (sha256)" in out


# --- 5. the expectations themselves -----------------------------------------------------------


def _mirror_population(mirror):
    from kunnskapsgrunnlag import schemas
    from kunnskapsgrunnlag.sources import population_07459

    df = population_07459.read_mirror([mirror / POP], config.load_project()["regions"])
    return schemas.validate("population_07459", df)


def test_earlier_division_codes_before_2024_are_not_called_unknown(fetched, mirror):
    """SSB's API gives 2020–2023 on the codes of those years (Viken 30, …): only 2024+ is checked
    against the 2024 classification, and the note says so; the sums still hold."""
    from kunnskapsgrunnlag import schemas

    df = _mirror_population(mirror)
    old = df["year"] < 2024
    df.loc[old, "region_code"] = df.loc[old, "region_code"].str.replace(r"^33", "30", regex=True)
    notes = schemas.check_plausibility("population_07459", df, "x.csv", fetched.raw_dir, "2020-2026")
    assert notes == [
        "region coverage for 2020–2023 not checked (codes of an earlier division; "
        "the offline classification is the 2024 division)"
    ]
    df.loc[(df["year"] == 2024) & (df["region_code"] == "3301"), "region_code"] = "3001"
    with pytest.raises(schemas.PlausibilityError, match=r"coverage: kommuner missing for 2024: 3301 Drammen"):
        schemas.check_plausibility("population_07459", df, "x.csv", fetched.raw_dir, "2020-2026")


def test_without_classification_kommune_coverage_is_reported_not_checked(tmp_path, mirror):
    from kunnskapsgrunnlag import schemas

    df = _mirror_population(mirror)
    notes = schemas.check_plausibility("population_07459", df, "x.csv", tmp_path / "empty-raw", "2020-2026")
    assert len(notes) == 1
    assert notes[0].startswith("kommune coverage not checked: no kommune classification (kommuner_2024")


def test_boundary_dataset_needs_the_whole_division(mirror):
    from kunnskapsgrunnlag import schemas

    gj = json.loads((mirror / "geo" / "kommuner_2024_M.geojson").read_text())
    schemas.check_boundaries("kommuner_2024", json.dumps(gj).encode(), "k.geojson")  # passes
    gj["features"] = [f for f in gj["features"] if not f["properties"]["kommunenummer"].startswith("56")]
    with pytest.raises(schemas.PlausibilityError) as exc:
        schemas.check_boundaries("kommuner_2024", json.dumps(gj).encode(), "k.geojson")
    msg = str(exc.value)
    assert "kommuner_2024: k.geojson: coverage: 339 kommuner, at least 357 expected" in msg
    assert "fylker without kommuner: 56 Finnmark" in msg


def test_implausible_online_answer_is_refused_not_papered_over_by_the_mirror(proj, monkeypatch, mirror):
    from kunnskapsgrunnlag import fetch as fetch_mod
    from kunnskapsgrunnlag import pipeline

    url = "https://data.ssb.no/api/pxwebapi/v2/tables/07459/data?lang=no"
    answer = _mirror_population(mirror)
    answer = answer[answer["region_code"] != "3301"]

    def online(settings, name, spec, api=None):  # an API answer without Drammen
        meta = {**fetch_mod._base_meta(spec), "source": {"kind": "online", "url": url}}
        return fetch_mod._store_validated(settings, name, answer.copy(), meta, url)

    monkeypatch.setattr(fetch_mod, "fetch_online", online)
    monkeypatch.setattr(pipeline, "network_available", lambda *a, **k: True)
    before = snapshot(proj)
    code, out = run("fetch", "--mirror", str(mirror_of(proj)), "--dataset", "population_07459")
    assert_refused(proj, before, "population_07459", code, out)
    assert f"population_07459: {url}: coverage: kommuner missing for 2020–2026: 3301 Drammen" in out


# --- 6. the datasets of the last round: codes and geometries (issue 18, item 10) ----------------

UTD = "stats/kommune_indikatorer_2024/ssb09429_utdanningsniva_prosent_16pluss_kommuner_2024.csv"
GEO = "geo/kommuner_2024_M.geojson"


def test_unknown_kommune_code_in_education_is_refused_naming_the_code(proj):
    """Was: stored as the current vintage, then a notebook crashed on it."""
    before = snapshot(proj)
    old = current(proj, "utdanning_09429")
    f = mirror_of(proj) / UTD
    f.write_text(f.read_text(encoding="utf-8").replace("\n3338,", "\n3399,"), encoding="utf-8")
    code, out = fetch(proj)
    assert_refused(proj, before, "utdanning_09429", code, out)
    assert (
        f"utdanning_09429: {f}: coverage: unknown kommune code(s) for 2024 (not a kommune in the 2024 "
        "classification): 3399 Nore og Uvdal"
    ) in out
    assert "kommuner missing for 2024: 3338 Nore og Uvdal" in out
    assert current(proj, "utdanning_09429") == old


def _break_drammen(proj, how: str) -> Path:
    f = mirror_of(proj) / GEO
    gj = json.loads(f.read_text(encoding="utf-8"))
    feat = next(x for x in gj["features"] if x["properties"]["kommunenummer"] == "3301")
    ring = (
        feat["geometry"]["coordinates"][0]
        if feat["geometry"]["type"] == "Polygon"
        else feat["geometry"]["coordinates"][0][0]
    )
    if how == "unclosed":
        del ring[-1]  # a ring that does not close: GEOS cannot build it
    else:  # a polygon folded onto a line: no area left after repair
        feat["geometry"] = {"type": "Polygon", "coordinates": [[ring[0], ring[1], ring[0], ring[1], ring[0]]]}
    f.write_text(json.dumps(gj), encoding="utf-8")
    return f


@pytest.mark.parametrize(
    "how, why",
    [
        (
            "unclosed",
            "invalid geometry that cannot be read: feature 214 (3301 Drammen): IllegalArgumentException: "
            "Points of LinearRing do not form a closed linestring",
        ),
        ("line", "invalid geometry, not an area: feature 214 (3301 Drammen): Polygon without an area"),
    ],
)
def test_invalid_boundary_geometry_is_refused_naming_the_feature(proj, how, why):
    """Was: stored as current, reported as «unexpected error: GEOSException», six notebooks broken."""
    before = snapshot(proj)
    old = current(proj, "kommuner_2024")
    f = _break_drammen(proj, how)
    code, out = fetch(proj)
    assert code == 2, out
    assert f"kommuner_2024: {f}: geometry: {why}" in out
    assert "GEOSException" not in out and "unexpected error" not in out
    assert "kommuner_2024: refused, nothing stored: the current vintage" in out
    assert snapshot(proj) == before and current(proj, "kommuner_2024") == old
    aside = sorted((raw(proj) / "kommuner_2024" / "rejected").glob("*.geojson"))
    assert len(aside) == 1 and aside[0].read_bytes() == f.read_bytes()  # kept aside, never current


# --- 7. markup in a file drop is text (issue 18, item 13) -----------------------------------------

MARKUP = "**fet** [lenke](javascript:alert(1)) <b>rå</b> #set text(red) $x^2$ @ref"


@pytest.mark.slow
def test_markup_in_a_file_drop_is_verbatim_and_inert_in_html_and_pdf(tmp_path, mirror):
    """Was: a drop's `kilde` became live bold text and a live `javascript:` link in the HTML and PDF,
    and broken mathtext in a field made the notebook fail, blamed on the report's source file."""
    import csv
    import html as html_mod
    import re

    from pypdf import PdfReader

    from helpers import BOOK, PDF_NAME, copy_project
    from helpers import cli as run_cli

    proj = copy_project(tmp_path / "proj")
    drop = proj / "data" / "raw" / "manual" / "kollektivandel.csv"
    drop.parent.mkdir(parents=True, exist_ok=True)
    with open(drop, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kommunenummer", "verdi", "enhet", "kilde"])
        for k, v in (("3301", "12.5"), ("3303", "8.0")):
            w.writerow([k, v, r"prosent $\frac{", MARKUP])  # unbalanced mathtext in the legend title
    given = drop.read_bytes()
    p = run_cli(
        proj, "report", "--mirror", str(mirror), "--offline", "--jobs", "2", "--renderer", "pandoc", check=False
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert drop.read_bytes() == given  # the drop itself is untouched
    man = json.loads((proj / "data" / "raw" / "manifest.json").read_text())["datasets"]["kollektivandel"]["current"]
    stored = pd.read_csv(proj / "data" / "raw" / man["file"], dtype=str)
    assert set(stored["kilde"]) == {MARKUP}  # stored verbatim: the raw data is data

    pages = [p for p in (proj / BOOK).rglob("*.html") if "notebooks" not in p.parts]
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "<strong>fet</strong>" not in text and 'href="javascript' not in text and "<b>rå</b>" not in text
    caption = next(m for m in re.finditer(r"<figcaption>.*?</figcaption>", text, re.S) if "fet" in m.group(0))
    assert f"Kilde: {MARKUP}." in html_mod.unescape(re.sub(r"<[^>]+>", "", caption.group(0)))

    reader = PdfReader(proj / BOOK / PDF_NAME)
    pdf = " ".join(" ".join((pg.extract_text() or "").split()) for pg in reader.pages)
    assert f"Kilde: {MARKUP}." in pdf
    uris = [
        str((a.get_object().get("/A") or {}).get("/URI", "")) for pg in reader.pages for a in (pg.get("/Annots") or [])
    ]
    assert not any(u.lower().startswith("javascript") for u in uris)
