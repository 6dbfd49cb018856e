"""The raw store owns the manifest (kunnskapsgrunnlag/store.py): a typed manifest, every mutation
one method of `RawStore`, and `fetch/` never editing the manifest itself."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

from kunnskapsgrunnlag import rawstore, store
from kunnskapsgrunnlag.store import ManifestError, RawStore

PKG = Path(store.__file__).resolve().parent


def test_fetch_never_edits_the_manifest():
    """fetch/ decides where data comes from; only store.py writes the manifest."""
    writers = {"write_manifest", "_write", "add_event", "Manifest", "DatasetRecord", "Entry"}
    for path in sorted((PKG / "fetch").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names
        }
        assert not used & writers, (path.name, used & writers)
        assert "manifest.json" not in path.read_text(encoding="utf-8"), path.name


def test_rawstore_is_the_store():
    """The former module name still works for the runner, pipeline, cli and notebooks."""
    assert rawstore.read_manifest is store.read_manifest and rawstore.load is store.load


def test_every_mutation_is_a_method_and_the_manifest_is_typed(tmp_path):
    raw = RawStore(tmp_path / "raw")
    first = raw.store_frame("neet_13563", pd.DataFrame({"x": [1]}), {"vintage": "2024", "source": {"kind": "mirror"}})
    second = raw.store_frame("neet_13563", pd.DataFrame({"x": [2]}), {"vintage": "2025", "source": {"kind": "mirror"}})
    m = raw.manifest()
    assert isinstance(m, store.Manifest) and isinstance(m.datasets["neet_13563"].current, store.Entry)
    assert [h.vintage for h in m.datasets["neet_13563"].history] == ["2024", "2025"]
    assert raw.use("neet_13563", "2024")["sha256"] == first["sha256"]
    assert raw.manifest().datasets["neet_13563"].pinned.sha256 == first["sha256"]
    raw.use("neet_13563", "latest")
    rec = json.loads((tmp_path / "raw" / "manifest.json").read_text())["datasets"]["neet_13563"]
    assert "pinned" not in rec and rec["current"]["sha256"] == second["sha256"]
    assert [e["action"] for e in rec["events"]] == ["use", "use"]
    raw.record_restore("neet_13563", second["file"], "missing")
    assert raw.last_event("neet_13563")["was"] == "missing"
    assert raw.record_missing("neet_13563", "offline", "GET …") == raw.current_entry("neet_13563")  # data kept
    gone = raw.record_missing("sysselsetting_07984", "uten nett", "GET https://data.ssb.no/…")
    assert gone["status"] == "missing" and gone["how_to_fetch"].startswith("GET")


def test_drop_remove_is_a_store_method(tmp_path):
    raw = RawStore(tmp_path / "raw")
    drop = tmp_path / "raw" / "manual" / "skadehendelser.csv"
    drop.parent.mkdir(parents=True)
    drop.write_text("periode,hendelse,antall,kilde\n1980-1989,storm,1,x\n", encoding="utf-8")
    raw.store(
        "skadehendelser",
        drop.read_bytes(),
        ".csv",
        {"vintage": "x", "source": {"kind": "manual", "drop_sha256": store.sha256_file(drop)}},
    )
    said = raw.drop_remove(
        "skadehendelser",
        drop,
        "data/raw/manual/skadehendelser.csv",
        {"reason": "trukket tilbake", "how_to_fetch": "Fyll ut …"},
    )
    assert "skadehendelser is now missing" in said and not drop.exists()
    assert raw.current_entry("skadehendelser")["status"] == "missing"
    assert raw.last_event("skadehendelser")["drop"] == "data/raw/manual/skadehendelser.csv"


@pytest.mark.parametrize(
    "record, why",
    [
        (
            {"current": {"status": "maybe"}},
            "entry 'neet_13563' is not a dataset record (current.status: Input should be 'ok' or 'missing')",
        ),
        ({"history": "x"}, "entry 'neet_13563' is not a dataset record (history: Input should be a valid list)"),
        ("x", "entry 'neet_13563' is not a dataset record (the record: Input should be a valid dictionary"),
    ],
)
def test_a_manifest_that_is_not_typed_right_is_one_clear_error(tmp_path, record, why):
    (tmp_path / "manifest.json").write_text(json.dumps({"datasets": {"neet_13563": record}}))
    with pytest.raises(ManifestError) as exc:
        RawStore(tmp_path).manifest()
    assert why in str(exc.value) and "kunnskapsgrunnlag fetch --rebuild-manifest" in str(exc.value)
